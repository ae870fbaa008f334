"""The meetings pane and participant panel, in the real app against the fake Zoom.

A quiet fake (nothing is sent unless a test injects it), a real token request, a real
WebSocket; the test plays Zoom by injecting events and reads the panes as a user would
(their part of the screen as text).  Every wait is on a condition the app shows.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widget import Widget

from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.filters import quote_value
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions, FirstRunOptions
from zoomtui.tui.widgets.meetings_pane import MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantList, ParticipantPanel
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

# two meetings with different numbers, uuids with the characters Zoom uses (+ / =)
WEEKLY = {"uuid": "wk+/Sync1w==", "id": "85746352415", "topic": "Weekly sync"}
DESIGN = {"uuid": "dz//Rev2Q3d==", "id": "91234567890", "topic": "Design review [Q3]"}

T0 = int(time.time()) - 600  # Zoom's times in these tests: ten minutes ago onwards


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(int(t), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ev(
    name: str, meeting: dict, ts: float, *, participant: dict | None = None, **extra: Any
) -> dict:
    obj: dict[str, Any] = {
        **meeting,
        "host_id": "host1",
        "type": 2,
        "start_time": iso(T0),
        "duration": 60,
        **extra,
    }
    if participant is not None:
        obj["participant"] = participant
    return {
        "event": name,
        "event_ts": int(ts * 1000),
        "payload": {"account_id": "acc", "object": obj},
    }


def person(pu: str | None, name: str | None, email: str, user_id: str, zoom_id: str = "") -> dict:
    p: dict[str, Any] = {"user_id": user_id, "id": zoom_id, "email": email}
    if name is not None:
        p["user_name"] = name
    if pu is not None:
        p["participant_uuid"] = pu
    return p


def joined(meeting: dict, who: dict, t: float, ts: float | None = None) -> dict:
    return ev(
        "meeting.participant_joined",
        meeting,
        t if ts is None else ts,
        participant={**who, "join_time": iso(t)},
    )


def left(
    meeting: dict, who: dict, t: float, reason: str = "left the meeting.", ts: float | None = None
) -> dict:
    name = who.get("user_name", "someone")
    return ev(
        "meeting.participant_left",
        meeting,
        t if ts is None else ts,
        participant={
            **who,
            "leave_time": iso(t),
            "leave_reason": f"{name} left the meeting.<br>Reason: {reason}",
        },
    )


ANA = person("pu-ana-A", "Ana Souza", "ana.souza@example.com", "16778241", "uidAna")
BO = person("pu-bo-A", "Bo Lindqvist", "bo.lindqvist@example.com", "16778242", "uidBo")
CHIDI = person("pu-chidi-D", "Chidi Okonkwo", "chidi@example.com", "16778243", "uidChidi")
TRAP = person("pu-trap-D", "[bold]Zoë[/bold]", "markup.trap@example.com", "16778244", "uidTrap")


# -- helpers -------------------------------------------------------------------------------
def app_for(fake: FakeZoom, tui: Any) -> ZoomtuiApp:
    return ZoomtuiApp(
        AppOptions(
            fake.settings(heartbeat_interval=tui.CALM_HB), connection=ConnectionOptions(tui.FAST)
        )
    )


def crop(line: str, x: int, width: int) -> str:
    """The cells x..x+width of a screen line (wide characters count as two cells)."""
    out, pos = [], 0
    for ch in line:
        w = cell_len(ch)
        if pos >= x and pos + w <= x + width:
            out.append(ch)
        pos += w
    return "".join(out)


def text_of(tui: Any, app: ZoomtuiApp, widget: Widget) -> str:
    """What the user reads in this widget's part of the screen."""
    r = widget.region
    lines = tui.screen_text(app).splitlines()[r.y : r.y + r.height]
    return "\n".join(crop(line, r.x, r.width).rstrip() for line in lines)


def panes(app: ZoomtuiApp) -> tuple[MeetingsPane, ParticipantPanel]:
    return app.query_one(MeetingsPane), app.query_one(ParticipantPanel)


async def play(pilot: Any, tui: Any, fake: FakeZoom, *events: dict) -> None:
    """Zoom sends these; wait until the app took them in and both panes show them."""
    app = pilot.app
    expected = app.status.events + len(events)
    for e in events:
        await fake.inject(e)
    await tui.wait_until(pilot, lambda: app.status.events >= expected, what="the events")
    meetings, people = panes(app)
    await tui.wait_until(
        pilot, lambda: meetings.up_to_date and people.up_to_date, what="the panes to catch up"
    )
    await pilot.pause()


async def connected(pilot: Any, tui: Any) -> None:
    app = pilot.app
    await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")


def in_section(panel_text: str) -> list[str]:
    """The lines of the 'In the meeting' section."""
    out, inside = [], False
    for line in panel_text.splitlines():
        body = line.strip("│ ")
        if body.startswith("In the meeting"):
            inside = True
            continue
        if inside and body.startswith("●"):
            out.append(body)
        elif inside:
            break
    return out


def check_counts_agree(tui: Any, app: ZoomtuiApp) -> None:
    """The list, the summary and the 'In' section all say what the tracker says."""
    meetings, people = panes(app)
    m = people.meeting
    assert m is not None
    listed = text_of(tui, app, meetings)
    topic_line = next(line for line in listed.splitlines() if m.topic and m.topic in line)
    if m.is_live:
        assert f"{m.current_count} in" in topic_line
    shown = text_of(tui, app, people)
    assert f"{m.current_count} in · peak {m.peak_count}" in shown
    inside = [p for p in m.participants.values() if p.is_in]
    assert len(inside) == m.current_count
    if m.current_count:
        assert f"In the meeting · {m.current_count}" in shown
        assert len(in_section(shown)) == m.current_count


# -- tests -----------------------------------------------------------------------------------
async def test_two_concurrent_meetings_show_the_right_people(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        assert "No meetings yet" in text_of(tui, app, meetings)
        await play(
            pilot,
            tui,
            fake,
            ev("meeting.started", WEEKLY, T0),
            ev("meeting.started", DESIGN, T0 + 5, start_time=iso(T0 + 5)),
            joined(WEEKLY, ANA, T0 + 10),
            joined(WEEKLY, BO, T0 + 11),
            joined(DESIGN, CHIDI, T0 + 12),
            joined(DESIGN, TRAP, T0 + 13),
        )
        await pilot.press("m")
        assert app.focused is meetings
        listed = text_of(tui, app, meetings)
        # live meetings, the most recently started first; names and topics are data
        assert listed.index("Design review [Q3]") < listed.index("Weekly sync")
        assert "2 live" in listed
        # the cursor starts on the first meeting: its people, and only its people
        shown = text_of(tui, app, people)
        assert "Design review [Q3]" in shown
        assert "Chidi Okonkwo" in shown and "[bold]Zoë[/bold]" in shown
        assert "Ana Souza" not in shown and "Bo Lindqvist" not in shown
        check_counts_agree(tui, app)

        await pilot.press("down")
        await tui.wait_until(pilot, lambda: people.meeting_uuid == WEEKLY["uuid"], what="weekly")
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert "Ana Souza" in shown and "Bo Lindqvist" in shown
        assert "Chidi" not in shown and "Zoë" not in shown
        check_counts_agree(tui, app)

        # Bo drops off; Ana stays; the panel follows as the fake Zoom plays it
        await play(pilot, tui, fake, left(WEEKLY, BO, T0 + 60, "lost connection, network issue."))
        shown = text_of(tui, app, people)
        assert in_section(shown) and "Ana Souza" in in_section(shown)[0]
        assert not any("Bo Lindqvist" in line for line in in_section(shown))
        assert "Left · 1" in shown
        bo_line = next(line for line in shown.splitlines() if "Bo Lindqvist" in line)
        assert "○" in bo_line and "network" in bo_line
        assert "1 in · peak 2 · 1 left" in shown
        check_counts_agree(tui, app)

        # the design review ends: it moves below the live one, and nobody is in it any more
        await play(
            pilot,
            tui,
            fake,
            left(DESIGN, CHIDI, T0 + 90, "Host ended the meeting."),
            left(DESIGN, TRAP, T0 + 90, "Host ended the meeting."),
            ev("meeting.ended", DESIGN, T0 + 90, end_time=iso(T0 + 90)),
        )
        listed = text_of(tui, app, meetings)
        assert listed.index("Weekly sync") < listed.index("Design review [Q3]")
        assert "1 live · 1 ended" in listed
        design_line = next(line for line in listed.splitlines() if "Design review" in line)
        assert "○" in design_line and "peak 2" in design_line
        await pilot.press("down")
        await tui.wait_until(pilot, lambda: people.meeting_uuid == DESIGN["uuid"], what="design")
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert "0 in · peak 2 · 2 left" in shown
        assert "In the meeting" not in shown
        assert "Chidi Okonkwo" in shown and "ended" in shown
        check_counts_agree(tui, app)


async def test_a_late_left_after_a_rejoin_keeps_the_person_in(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        rejoined = {**ANA, "user_id": "16778299"}  # Zoom gives a new user_id each session
        await play(
            pilot,
            tui,
            fake,
            ev("meeting.started", WEEKLY, T0),
            joined(WEEKLY, ANA, T0 + 10),
            joined(WEEKLY, BO, T0 + 12),
            # Ana's network drops at +30 and she is back at +34; Zoom sends the
            # `left` of her first session after the rejoin (stamped before it)
            joined(WEEKLY, rejoined, T0 + 34),
            left(WEEKLY, ANA, T0 + 30, "lost connection, network issue.", ts=T0 + 31),
        )
        await pilot.press("m", "enter")
        assert app.focused is people.participant_list
        shown = text_of(tui, app, people)
        inside = in_section(shown)
        assert len(inside) == 2
        ana = next(line for line in inside if "Ana Souza" in line)
        assert "↻1" in ana  # one rejoin, and still in
        assert "Left" not in shown
        assert "2 in · peak 2 · 0 left" in shown
        # by join time the latest stay counts: Ana came back last, so she is listed last
        assert "Bo Lindqvist" in inside[0] and "Ana Souza" in inside[1]
        await pilot.press("down")
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert people.selected is not None and people.selected.name == "Ana Souza"
        assert "rejoined 1×" in shown and "in since" in shown
        check_counts_agree(tui, app)
        # the log shows the events as they came, the late `left` last
        names = [r.name for r in app.event_log if isinstance(r, ZoomEvent)]
        assert names[-1] == "meeting.participant_left"


async def test_enter_on_a_participant_filters_the_log_to_exactly_their_events(
    fake: FakeZoom, tui
) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        anabel = person(
            "pu-anabel-A", "Anabel Souza", "anabel@example.com", "16778250", "uidAnabel"
        )
        ana_in_design = {**ANA, "participant_uuid": "pu-ana-D", "user_id": "16778260"}
        ana_no_name = {k: v for k, v in ANA.items() if k != "user_name"}  # Zoom omits it at times
        ana_back = {**ANA, "user_id": "16778270"}
        events = [
            ev("meeting.started", WEEKLY, T0),
            ev("meeting.started", DESIGN, T0 + 1),
            joined(WEEKLY, ANA, T0 + 10),
            joined(WEEKLY, anabel, T0 + 11),  # a name that contains hers
            joined(DESIGN, ana_in_design, T0 + 12),  # the same Zoom user in the other meeting
            joined(WEEKLY, BO, T0 + 13),
            left(WEEKLY, ana_no_name, T0 + 20),
            joined(WEEKLY, ana_back, T0 + 25),
        ]
        await play(pilot, tui, fake, *events)
        # to the weekly sync's people, then down to Ana (she came back last: listed last)
        await pilot.press("m")
        for _ in range(3):
            if meetings.cursor_key == WEEKLY["uuid"]:
                break
            await pilot.press("down")
        await pilot.press("enter")
        await tui.wait_until(pilot, lambda: people.meeting_uuid == WEEKLY["uuid"], what="weekly")
        for _ in range(4):
            if people.selected is not None and people.selected.name == "Ana Souza":
                break
            await pilot.press("down")
        assert people.selected is not None and people.selected.name == "Ana Souza"
        await pilot.press("enter")
        await pilot.pause()
        expected_filter = f"meeting:{quote_value(WEEKLY['uuid'])} user:pu-ana-A"
        assert app.event_view.applied_filter == expected_filter
        assert app.filter_bar.text == expected_filter  # the user sees what is applied
        log = app.event_log
        shown = [log.visible(i) for i in range(log.visible_count)]
        want = [
            e
            for e in app.event_log
            if isinstance(e, ZoomEvent)
            and e.meeting_uuid == WEEKLY["uuid"]
            and e.participant_key == "pu-ana-A"
        ]
        assert [e.name for e in want] == [
            "meeting.participant_joined",
            "meeting.participant_left",
            "meeting.participant_joined",
        ]
        assert shown == want  # exactly hers: not Anabel's, not her other meeting's
        # the participant list keeps the focus: l widens the log to the whole meeting
        assert app.focused is people.participant_list
        await pilot.press("l")
        await pilot.pause()
        shown = [log.visible(i) for i in range(log.visible_count)]
        assert shown == [
            e for e in log if isinstance(e, ZoomEvent) and e.meeting_uuid == WEEKLY["uuid"]
        ]
        assert len(shown) == 6


async def test_the_panes_show_one_moment_while_events_keep_arriving(fake: FakeZoom, tui) -> None:
    """Rows drawn after a rebuild (a scroll, the clock tick) come from the same moment as
    the counts above them, not from the tracker's newer state: the panes never disagree
    with themselves, however events interleave with repaints."""
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        await play(
            pilot,
            tui,
            fake,
            ev("meeting.started", WEEKLY, T0),
            joined(WEEKLY, ANA, T0 + 5),
            joined(WEEKLY, BO, T0 + 6),
        )
        await pilot.press("m", "enter")
        check_counts_agree(tui, app)
        # hold the panes' refresh (their timers), let Zoom end the meeting, then repaint
        meetings._timer.pause()  # type: ignore[union-attr]
        people._timer.pause()  # type: ignore[union-attr]
        expected = app.status.events + 3
        for e in (
            left(WEEKLY, ANA, T0 + 60, "Host ended the meeting."),
            left(WEEKLY, BO, T0 + 60, "Host ended the meeting."),
            ev("meeting.ended", WEEKLY, T0 + 60, end_time=iso(T0 + 60)),
        ):
            await fake.inject(e)
        await tui.wait_until(pilot, lambda: app.status.events >= expected, what="the events")
        assert app.meetings.get(WEEKLY["uuid"]).current_count == 0  # type: ignore[union-attr]
        meetings.refresh()
        people.participant_list.refresh()
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert "2 in · peak 2 · 0 left" in shown
        assert len(in_section(shown)) == 2  # the rows of that moment, not "○ left" under "In"
        assert "○" not in shown
        assert "2 in" in text_of(tui, app, meetings)
        meetings._timer.resume()  # type: ignore[union-attr]
        people._timer.resume()  # type: ignore[union-attr]
        await tui.wait_until(
            pilot, lambda: meetings.up_to_date and people.up_to_date, what="the panes to catch up"
        )
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert "0 in · peak 2 · 2 left" in shown and "In the meeting" not in shown
        assert "1 ended" in text_of(tui, app, meetings)
        check_counts_agree(tui, app)


async def test_waiting_room_and_data_problems_are_shown(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        ghost = person("pu-ghost-A", "Gus Ghost", "gus@example.com", "16778290", "uidGus")
        waiting = {**CHIDI, "participant_uuid": "pu-chidi-A", "date_time": iso(T0 + 8)}
        await play(
            pilot,
            tui,
            fake,
            # no meeting.started: monitoring began after it (or it was lost)
            joined(WEEKLY, ANA, T0 + 5),
            ev("meeting.participant_joined_waiting_room", WEEKLY, T0 + 8, participant=waiting),
            left(WEEKLY, ghost, T0 + 9),
        )  # left, with no join ever seen
        # The start was not seen: Gus was in before we listened; that is no data problem.
        listed = text_of(tui, app, meetings)
        assert "⚠ start not seen" in listed and "problem" not in listed
        await pilot.press("m", "enter")
        shown = text_of(tui, app, people)
        assert "1 in · peak 1 · 1 waiting · 1 left" in shown
        assert "Waiting · 1" in shown
        chidi = next(line for line in shown.splitlines() if "Chidi Okonkwo" in line)
        assert "◌" in chidi and "waiting room" in chidi
        assert "⚠ start not seen" in shown and "left without join" not in shown
        gus = next(line for line in shown.splitlines() if "Gus Ghost" in line)
        assert "○" in gus and "⚠" not in gus
        for _ in range(3):
            if people.selected is not None and people.selected.name == "Gus Ghost":
                break
            await pilot.press("down")
        await pilot.pause()
        assert "was in before we listened (no join seen)" in text_of(tui, app, people)
        # The start arrives late: the meeting was watched from its start after all, so a
        # leave with no join is a data problem (a join was lost), and said as one.
        await play(pilot, tui, fake, ev("meeting.started", WEEKLY, T0))
        listed = text_of(tui, app, meetings)
        assert "start not seen" not in listed and "⚠ 1 problem" in listed
        shown = text_of(tui, app, people)
        assert "⚠ left without join" in shown
        gus = next(line for line in shown.splitlines() if "Gus Ghost" in line)
        assert "○" in gus and "⚠" in gus
        # the detail of a flagged person says what is wrong (the summary says it too)
        assert people.selected is not None and people.selected.name == "Gus Ghost"
        assert shown.count("⚠ left without join") == 2 and "before we listened" not in shown
        # admitted: out of the waiting room, into the meeting
        await play(
            pilot,
            tui,
            fake,
            ev(
                "meeting.participant_admitted",
                WEEKLY,
                T0 + 20,
                participant={**waiting, "date_time": iso(T0 + 20)},
            ),
        )
        shown = text_of(tui, app, people)
        assert "2 in · peak 2 · 1 left" in shown and "Waiting" not in shown
        check_counts_agree(tui, app)
        # l on the meetings list filters the log to the meeting too
        await pilot.press("escape", "l")
        await pilot.pause()
        assert app.event_view.applied_filter == f"meeting:{quote_value(WEEKLY['uuid'])}"


async def test_sort_and_find_in_the_participant_panel(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot, tui)
        meetings, people = panes(app)
        zed = person("pu-zed-A", "Zed Adams", "zed@example.com", "16778281", "uidZed")
        await play(
            pilot,
            tui,
            fake,
            ev("meeting.started", WEEKLY, T0),
            joined(WEEKLY, zed, T0 + 5),
            joined(WEEKLY, BO, T0 + 6),
            joined(WEEKLY, ANA, T0 + 7),
        )
        await pilot.press("m", "enter")

        def order() -> list[str]:
            return [line.split("  ")[0] for line in in_section(text_of(tui, app, people))]

        assert [n[2:].strip() for n in order()] == ["Zed Adams", "Bo Lindqvist", "Ana Souza"]
        assert "by join time" in text_of(tui, app, people)
        await pilot.press("s")
        await pilot.pause()
        assert [n[2:].strip() for n in order()] == ["Ana Souza", "Bo Lindqvist", "Zed Adams"]
        assert "by name" in text_of(tui, app, people)
        # f opens the find box; typing narrows the list, enter goes back to it
        await pilot.press("f", *"lindq")
        assert app.focused is people.find_input
        await tui.wait_until(pilot, lambda: people.up_to_date, what="the find")
        await pilot.pause()
        shown = text_of(tui, app, people)
        assert "In the meeting · 1 of 3" in shown
        assert "Bo Lindqvist" in shown and "Ana Souza" not in shown
        assert "3 in · peak 3" in shown  # the summary is the meeting's, not the find's
        await pilot.press("enter")
        assert app.focused is people.participant_list
        # escape backs out one layer at a time: participants -> meetings -> events
        await pilot.press("escape")
        assert app.focused is meetings
        await pilot.press("escape")
        assert app.focused is app.event_view


async def test_m_goes_to_the_meetings_and_again_hides_the_column(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot, tui)
        side = app.query_one("#side")
        meetings, _ = panes(app)
        await pilot.press("m")
        assert app.focused is meetings and side.display
        await pilot.press("m")
        await pilot.pause()
        assert app.focused is app.event_view
        assert not meetings.region  # hidden: the log has the whole width
        assert app.event_view.region.width == 100
        await pilot.press("m")
        await pilot.pause()
        assert app.focused is meetings and meetings.region


def test_the_help_lists_the_pane_keys() -> None:
    app = ZoomtuiApp(AppOptions(first_run=FirstRunOptions(reason="none")))
    sections = dict(app.help_sections())
    keys = {b.key for b in sections["Participants"]}  # type: ignore[union-attr]
    assert {"enter", "l", "s", "f"} <= keys
    assert ParticipantList.BINDINGS and MeetingsPane.BINDINGS


# -- SVG snapshot (pytest-textual-snapshot) -------------------------------------------------
_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


def _screenshots() -> Any:
    name = "zoomtui_screenshots"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Join times are shown in local time: pin it, so every machine renders the same."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_participant_panel_snapshot_at_100x30(snap_compare, utc) -> None:
    """The demo (fixed seed, still clock, rate max) at the smallest size we design for,
    with the webinar's participants open: the scene scripts/screenshots.py renders at
    160x48 for the README."""
    shots = _screenshots()
    assert snap_compare(shots.demo_app(), run_before=shots.meetings_scene, terminal_size=(100, 30))
