"""Hydrated rosters in the real app against the fake Zoom: people nobody saw join (they were
in before the monitor started) are listed, marked as known from Zoom's API, and the log
says where the roster came from."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.tui.test_meetings_ui import (
    ANA,
    BO,
    CHIDI,
    DESIGN,
    T0,
    WEEKLY,
    connected,
    ev,
    iso,
    joined,
    left,
    panes,
    play,
)
from tests.tui.test_meetings_ui import text_of as pane_text
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.rosterlines import RosterMark
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.zoom.rosters import TRIGGER_GAP
from zoomtui.zoom.updates import ConnectionState as S


async def test_people_in_before_the_start_show_with_their_origin(fake: FakeZoom, tui: Any) -> None:
    # Zoom's state before the monitor starts: nobody hears these, the Dashboard knows them.
    await fake.inject(joined(WEEKLY, ANA, T0 + 10))
    await fake.inject(joined(WEEKLY, BO, T0 + 11))
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        await tui.wait_until(
            pilot, lambda: app.meetings.get(WEEKLY["uuid"]) is not None, what="the hydration"
        )
        await tui.wait_until(
            pilot, lambda: meetings.up_to_date and people.up_to_date, what="the panes"
        )
        await pilot.press("m")
        await pilot.pause()
        listed = pane_text(tui, app, meetings)
        assert "Weekly sync" in listed and "api " in listed and "2 in" in listed
        shown = pane_text(tui, app, people)
        ana = next(line for line in shown.splitlines() if "Ana Souza" in line)
        assert "api " in ana
        assert "from Zoom's API at" in shown  # the selected person's details say it in full
        marks = [r for r in app.event_log if isinstance(r, RosterMark)]
        assert marks and "roster from Zoom's API" in marks[0].text
        assert len(fake.dashboard.calls_to("/participants")) == 1


async def test_after_a_gap_the_inferred_changes_are_marked_even_in_a_narrow_pane(
    fake: FakeZoom, tui: Any
) -> None:
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(120, 40)) as pilot:
        await connected(pilot, tui)
        await tui.wait_until(pilot, lambda: app.session.last_roster is not None, what="roster")
        await play(pilot, tui, fake, joined(WEEKLY, ANA, T0 + 10), joined(WEEKLY, BO, T0 + 11))
        await play(pilot, tui, fake, joined(DESIGN, CHIDI, T0 + 12))
        await fake.stop()  # the link is cut; meanwhile Bo leaves and the design review ends
        await tui.wait_until(pilot, lambda: app.status.state is S.RECONNECTING, what="cut")
        now = time.time()
        await fake.inject(left(WEEKLY, BO, now))
        await fake.inject(ev("meeting.ended", DESIGN, now, end_time=iso(now)))
        await fake.start()

        def after_the_gap() -> bool:
            roster = app.session.last_roster
            return roster is not None and roster.trigger == TRIGGER_GAP

        await tui.wait_until(pilot, after_the_gap, what="the roster after the gap")
        meetings, people = panes(app)
        await tui.wait_until(
            pilot, lambda: meetings.up_to_date and people.up_to_date, what="the panes"
        )
        await pilot.press("m")
        await pilot.pause()
        listed = pane_text(tui, app, meetings).splitlines()
        at = next(i for i, line in enumerate(listed) if "Design review" in line)
        # the end was not seen: the row says it was inferred, before any lesser detail
        assert "≈ ended in gap" in listed[at + 1], listed[at : at + 2]
        # the live meeting is the first row, and its people are shown: Bo left in the gap
        assert people.meeting is not None and people.meeting.topic == "Weekly sync"
        shown = pane_text(tui, app, people)
        bo = next(line for line in shown.splitlines() if "○ Bo Lindqv" in line)
        assert "≈ left in gap" in bo
        # Ana, selected, was seen joining: beside people known from Zoom's API, she says so
        assert "Ana Souza · ana.souza@example.com" in shown and "seen live" in shown


async def test_a_missing_scope_is_said_once_and_stays_in_the_panel(
    fake: FakeZoom, tui: Any
) -> None:
    fake.dashboard.scope_granted = False
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        await tui.wait_until(
            pilot, lambda: "⚠ rosters: no roster from Zoom's API" in tui.screen_text(app), what="it"
        )
        said = app.status.roster_problem
        assert "dashboard_meetings:read:admin" in said and "hydrate = false" in said
        # a gap, after which a hydration is normally asked for: nothing is asked, nothing
        # said again, and the panel still says why the rosters are the events' only
        await fake.close(code=1011, reason="maintenance")
        await tui.wait_until(pilot, lambda: app.status.gaps == 1, what="the gap closed")
        await app.sources.hydrator.wait_idle()
        await pilot.pause()
        marks = [r for r in app.event_log if isinstance(r, RosterMark)]
        assert len(marks) == 1 and marks[0].text.startswith("no roster from Zoom's API")
        assert len(fake.dashboard.calls) == 1
        assert app.status.roster_problem == said
        assert "⚠ rosters: no roster from Zoom's API" in tui.screen_text(app)
        # the live monitor goes on as before
        await play(pilot, tui, fake, joined(WEEKLY, ANA, T0 + 10))
        assert app.meetings.get(WEEKLY["uuid"]) is not None


async def test_a_leave_before_the_first_roster_is_someone_in_before_we_listened(
    fake: FakeZoom, tui: Any
) -> None:
    # The monitor starts mid-meeting; Bo leaves after it connected and before Zoom's API
    # answered: nobody saw him join, and that is normal, not a data problem.
    await fake.inject(joined(WEEKLY, ANA, T0 + 10))
    await fake.inject(joined(WEEKLY, BO, T0 + 11))
    fake.dashboard.hold()
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        await fake.wait_until(lambda: fake.dashboard.held_now >= 1)
        await play(pilot, tui, fake, left(WEEKLY, BO, time.time()))
        meetings, people = panes(app)
        listed = pane_text(tui, app, meetings)
        assert "⚠ start not seen" in listed and "problem" not in listed
        fake.dashboard.release()
        await tui.wait_until(pilot, lambda: app.session.last_roster is not None, what="roster")
        await tui.wait_until(
            pilot, lambda: meetings.up_to_date and people.up_to_date, what="the panes"
        )
        await pilot.press("m", "enter")
        await pilot.pause()
        listed = pane_text(tui, app, meetings)
        assert "1 in" in listed and "problem" not in listed
        for _ in range(3):
            if people.selected is not None and people.selected.name == "Bo Lindqvist":
                break
            await pilot.press("down")
        await pilot.pause()
        shown = pane_text(tui, app, people)
        bo = next(line for line in shown.splitlines() if "Bo Lindqv" in line)
        assert "○" in bo and "⚠" not in bo
        assert "left without join" not in shown
        assert "was in before we listened (no join seen)" in shown


@pytest.mark.parametrize("width", [80, 120, 160, 200])
async def test_the_roster_problem_is_one_line_in_the_panel_at_any_width(
    fake: FakeZoom, tui: Any, width: int
) -> None:
    # The whole sentence (what failed, what to change) is three or four rows at 150
    # columns: the panel keeps a few words on one line, the rest is in the toast, the
    # line's tooltip and the log's roster row.
    fake.dashboard.scope_granted = False
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(width, 40)) as pilot:
        await connected(pilot, tui)
        await tui.wait_until(pilot, lambda: app.status.roster_problem != "", what="the problem")
        app.panel.refresh_status()
        # the panel's line is laid out on a later turn: wait for a screen that shows it
        await tui.screen_shows(pilot, app, "⚠ rosters:", what="the roster line")
        said = app.status.roster_problem
        assert "dashboard_meetings:read:admin" in said and len(said) > 200
        line = app.panel.query_one("#roster-line")
        assert line.region.height == 1 and line.tooltip == said
        shown = [row for row in tui.screen_text(app).splitlines() if "⚠ rosters:" in row]
        assert len(shown) == 1 and "no roster from Zoom's API (scope missing)" in shown[0]
        below = tui.screen_text(app).splitlines()[line.region.y + 1]
        assert "dashboard" not in below and "scope" not in below
        if width >= 120:
            assert "what to change: the log (type:roster)" in shown[0]
        toasts = [n.message for n in app._notifications]
        assert said in toasts
        marks = [r for r in app.event_log if isinstance(r, RosterMark)]
        assert [m.text for m in marks] == [said]
