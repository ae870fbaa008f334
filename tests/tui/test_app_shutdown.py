"""Quitting with worker messages still queued: they are ignored, never a crash report.

The connection worker keeps posting (state changes, batches, heartbeats) until it is
cancelled, which happens after Textual has started shutting the app down: the screens
are gone by then, and a handler that touches the footer or the panel would raise
(`ScreenStackError: No screens on stack` from `refresh_bindings`, seen on quit).  The app
ignores worker messages once it is exiting.  Also: the app's garbage-collector policy is
in place while it runs and undone when it stops.
"""

from __future__ import annotations

import asyncio
import gc

from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.gcpolicy import YOUNG_THRESHOLD, GcPolicy
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.messages import HeartbeatAnswered, RowsArrived, StateUpdated, TokenObtained
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.zoom.protocol import parse_frame
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, StateChanged, TokenInfo


def flood_of_late_messages(app: ZoomtuiApp, n: int = 200) -> None:
    """What a worker posts in its last moments: state changes, batches, heartbeats."""
    states = [S.RECONNECTING, S.CONNECTED, S.STOPPED, S.FAILED]
    now = app.clock()
    for i in range(n):
        state = states[i % len(states)]
        app.post_message(
            StateUpdated(
                StateChanged(
                    state=state, previous=S.CONNECTED, reason=f"late {i}", at=now, attempt=i
                )
            )
        )
        frame = (
            '{"module":"message","content":"{\\"event\\":\\"meeting.started\\",'
            '\\"event_ts\\":1,\\"payload\\":{\\"object\\":{\\"uuid\\":\\"u' + str(i) + '==\\"}}}"}'
        )
        rows = [parse_frame(frame, now), Gap(start=now - 1, end=now, reason="late")]
        app.post_message(RowsArrived(rows, now))  # type: ignore[arg-type]
        app.post_message(HeartbeatAnswered(Heartbeat(rtt=0.01, at=now)))
        app.post_message(
            TokenObtained(TokenInfo(expires_at=now + 3600, scopes=(), obtained_at=now))
        )


async def test_messages_arriving_while_quitting_are_ignored(fake: FakeZoom, tui) -> None:
    app = ZoomtuiApp(
        AppOptions(fake.settings(heartbeat_interval=30), connection=ConnectionOptions(tui.FAST))
    )

    async def worker_to_the_end() -> None:
        # Like the connection worker: it posts until it is cancelled, which is after the
        # screens are gone (leaving `run_test` shuts the app down from this task).
        while app._running or app.screen_stack:
            flood_of_late_messages(app, 2)
            await asyncio.sleep(0)

    async with app.run_test() as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        appended = app.event_log.appended
        poster = asyncio.create_task(worker_to_the_end())
        # quitting while the app is taking the flood in
        await tui.wait_until(
            pilot, lambda: app.event_log.appended > appended, what="the flood taken in"
        )
    poster.cancel()
    assert app.return_code in (None, 0)
    assert not app._exit_renderables  # no crash report


async def test_a_message_after_exit_changes_nothing(fake: FakeZoom, tui) -> None:
    app = ZoomtuiApp(
        AppOptions(fake.settings(heartbeat_interval=30), connection=ConnectionOptions(tui.FAST))
    )
    async with app.run_test() as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        appended = app.event_log.appended
        app.exit()
        assert app.exiting
        flood_of_late_messages(app, 5)
        await pilot.pause()  # whatever the app still handles, it has handled the flood
        assert app.event_log.appended == appended  # nothing reached the models
        assert app.status.state is S.CONNECTED
    assert not app._exit_renderables


async def test_the_gc_policy_is_the_apps_while_it_runs(fake: FakeZoom, tui) -> None:
    before = gc.get_threshold()
    app = ZoomtuiApp(
        AppOptions(fake.settings(heartbeat_interval=30), connection=ConnectionOptions(tui.FAST))
    )
    async with app.run_test() as pilot:
        await tui.wait_until(pilot, lambda: app.gc_policy.installed, what="the gc policy")
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0  # the app as started is out of every collection
        # a second app in the same process (tests do this) leaves the first in charge
        assert GcPolicy().install() is False
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
