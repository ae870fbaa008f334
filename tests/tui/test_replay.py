"""`zoomtui replay`: a recorded session played back shows what live showed.

A session is recorded from the real app against the fake Zoom (events of the demo's
world, a cut and its gap, a malformed frame), then replayed through `replay_app` (what
the command runs): the event list holds the same rows, a filter selects the same rows,
the meeting tracker is the same, and the panel says REPLAY with the recorded time.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.archivekit import (
    CALM_HB,
    FAST,
    plan,
    row_key,
    screen_text,
    tracker_summary,
    traffic,
    visible_rows,
    wait_until,
)
from zoomtui.commands.replay import replay_app
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import ArchiveReader, archive_path
from zoomtui.monitor.eventlog import StateRow
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

FILTER = "type:meeting.participant_*"


@pytest.fixture
async def recorded(tmp_path: Path) -> dict:
    """One live session, recorded: what its event list and tracker showed at the end."""
    async with FakeZoom(host="127.0.0.1", port=0, oauth_port=0, seed=1, scenario=None) as fake:
        options = AppOptions(
            fake.settings(heartbeat_interval=CALM_HB, profile="rec"),
            profile="rec",
            connection=ConnectionOptions(FAST),
            archive=plan(tmp_path),
        )
        app = ZoomtuiApp(options)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
            for ev in traffic(60):
                await fake.inject(ev)
            await wait_until(pilot, lambda: app.status.events == 60, what="events")
            await fake.cut()
            await wait_until(
                pilot,
                lambda: app.status.reconnects == 1 and app.status.state is S.CONNECTED,
                what="reconnected",
            )
            await fake.send_malformed()
            for ev in traffic(60, seed=7):
                await fake.inject(ev)
            await wait_until(
                pilot,
                lambda: app.status.events == 120 and app.status.malformed == 1,
                what="the rest",
            )
            await pilot.pause()  # every widget has handled what was queued
            rows = visible_rows(app.event_log)
            app.event_view.apply_filter(FILTER)
            filtered = visible_rows(app.event_log)
            summary = tracker_summary(app.meetings)
    return {
        "reader": ArchiveReader(archive_path("rec", base=tmp_path)),
        "rows": rows,
        "filtered": filtered,
        "tracker": summary,
    }


def played_to_the_quit(app) -> bool:
    """The replay's last row is in the log: the record ends with the quit."""
    rows = visible_rows(app.event_log)
    return bool(rows) and rows[-1][:3] == ("state", "stopped", "zoomtui quit")


def without_quit(rows: list[tuple]) -> list[tuple]:
    """The record ends with the quit (live never showed its own quit)."""
    assert rows[-1][:3] == ("state", "stopped", "zoomtui quit")
    return rows[:-1]


async def test_instant_replay_shows_the_same_rows_filter_and_tracker(recorded: dict) -> None:
    app = replay_app(recorded["reader"], speed=None, title="rec")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.replay.finished, what="the replay to end")
        await wait_until(pilot, lambda: app.status.events == 120, what="every event")
        await wait_until(pilot, lambda: played_to_the_quit(app), what="the last row")
        assert without_quit(visible_rows(app.event_log)) == recorded["rows"]
        assert tracker_summary(app.meetings) == recorded["tracker"]
        assert app.status.gaps == 1 and app.status.malformed == 1 and app.status.reconnects == 1
        # the filter bar works the same on a replay
        await pilot.press("slash")
        await pilot.press(*FILTER)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.event_view.applied_filter == FILTER, what="filter")
        assert visible_rows(app.event_log) == recorded["filtered"]
        # the inspector opens on a replayed event
        app.event_view.focus()
        await pilot.press("G", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), what="inspector")


async def test_paced_replay_badge_recorded_time_pause_and_no_connection_keys(
    recorded: dict,
) -> None:
    reader = recorded["reader"]
    first, last = reader.time_range()
    app = replay_app(reader, speed=0.5, title="rec")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.replay.played > 5, what="some updates")
        assert not app.replay.finished  # (the recording lasts seconds: paced, it takes as long)
        # the panel: a REPLAY badge, and the recorded moment instead of now
        before = app.clock()  # the recorded clock runs on while the panel paints:
        app.panel.refresh_status()
        await pilot.pause()
        text = screen_text(app)
        after = app.clock()  # what it shows lies between the two readings
        assert "REPLAY" in text and "×0.5" in text
        assert first <= before <= after <= last + 1
        minutes = {time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) for t in (before, after)}
        assert any(m in text for m in minutes), (minutes, text)
        # connection keys have nothing to drive; space pauses and resumes
        assert not app.main.check_action("connect", ()) and not app.main.check_action(
            "reconnect", ()
        )
        await pilot.press("space")
        assert app.replay.paused
        played = app.replay.played
        # nothing plays while paused (a look over 0.3 s: a loaded machine can only make it
        # miss a bug, never fail a build that has none)
        await pilot.pause(0.3)
        assert app.replay.played == played
        assert "paused" in app.status.replay
        await pilot.press("space")
        assert not app.replay.paused
        await wait_until(pilot, lambda: app.replay.finished, what="the replay to end")
        await wait_until(pilot, lambda: played_to_the_quit(app), what="the last row")
        assert without_quit(visible_rows(app.event_log)) == recorded["rows"]
        assert tracker_summary(app.meetings) == recorded["tracker"]
        assert "ended" in app.status.replay
        # three counts on screen, each saying what it counts
        total = app.replay.total
        assert app.status.replay.endswith(f"{total:,} of {total:,} records")
        app.panel.refresh_status()
        counts = (f"events {app.status.events:,}", f"{app.event_log.total:,} rows")
        # the panel and the log's title paint on their own turns: wait for both
        await wait_until(
            pilot,
            lambda: all(c in screen_text(app) for c in counts),
            what=f"the counts {counts} on screen",
        )


async def test_a_window_replays_only_what_it_holds(recorded: dict) -> None:
    reader = recorded["reader"]
    events = [r for r in recorded["rows"] if r[0] == "event"]
    since = events[30][2]  # from the 31st event on
    app = replay_app(reader, since=since, speed=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.replay.finished, what="the replay to end")
        await wait_until(pilot, lambda: app.status.events == 90, what="the window's events")
        shown = [row_key(r) for r in app.event_log if isinstance(r, ZoomEvent)]
        assert shown == events[30:]
        # states before the window are not in it; the ones after are
        assert any(isinstance(r, StateRow) and r.state == "reconnecting" for r in app.event_log)
