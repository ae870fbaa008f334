"""Hydrated rosters in the real app against the fake Zoom: people nobody saw join (they were
in before the monitor started) are listed, marked as known from Zoom's API, and the log
says where the roster came from."""

from __future__ import annotations

from typing import Any

from tests.tui.test_meetings_ui import ANA, BO, T0, WEEKLY, connected, joined, panes
from tests.tui.test_meetings_ui import text_of as pane_text
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.rosterlines import RosterMark
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions


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
