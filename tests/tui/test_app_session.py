"""The app is a front end over a `MonitorSession`: a sink subscribed to `app.session`
hears every update the panes show, in the order the connection reported them."""

from __future__ import annotations

from tests.archivekit import traffic
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.session import SessionSink
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import StateChanged, Update


class Heard(SessionSink):
    def __init__(self) -> None:
        self.raw: list[Update] = []
        self.events: list[ZoomEvent] = []
        self.states: list[S] = []

    def on_update(self, update: Update) -> None:
        self.raw.append(update)

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        assert live
        self.events.append(event)

    def on_state(self, change: StateChanged, live: bool) -> None:
        self.states.append(change.state)


async def test_a_sink_on_the_apps_session_hears_what_the_log_shows(fake: FakeZoom, tui) -> None:
    app = ZoomtuiApp(
        AppOptions(fake.settings(heartbeat_interval=30), connection=ConnectionOptions(tui.FAST))
    )
    sink = Heard()
    app.session.subscribe(sink)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        for ev in traffic(40):
            await fake.inject(ev)
        await tui.wait_until(pilot, lambda: app.status.events == 40, what="the events")
        shown = [r for r in app.event_log if type(r) is ZoomEvent]
        assert sink.events == shown and len(shown) == 40
        assert S.CONNECTED in sink.states
        # raw: every update, before it was applied (events in the same order)
        assert [u for u in sink.raw if type(u) is ZoomEvent] == shown
        assert app.session.sink_errors == {}
