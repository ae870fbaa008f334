"""The monitor over the hub (`zoomtui --hub`): the real app, fed by a `HubSource`, shows the
events a collector published and the collector's link as the collector reported it."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from tests.connhelpers import CALM_HB, meeting_event
from tests.hub.hubkit import Watch, collectors
from tests.hub.natsserver import RunningServer
from tests.waits import awaited, guard
from zoomtui.fakezoom import FakeZoom
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, HubChoice
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState


async def wait_until(pilot: Pilot[None], predicate: Callable[[], object], what: str) -> None:
    """Let the app run until `predicate()` holds (read again after every turn of the app)."""
    async with guard(what):
        while not predicate():
            await pilot.pause(0.02)


async def test_the_monitor_shows_what_the_hub_holds_then_live(hub_server: RunningServer) -> None:
    hub = HubSettings(url=hub_server.url)
    async with (
        FakeZoom() as fake,
        collectors(hub, fake.settings(heartbeat_interval=CALM_HB), Watch()),
    ):
        await awaited(fake.wait_for_connection(), "the collector's connection")
        for i in range(3):
            await fake.inject(meeting_event(i))
        source = HubSource(hub, since=0.0)
        app = ZoomtuiApp(AppOptions(HubChoice(source, hub.url)))
        async with app.run_test(size=(140, 40)) as pilot:
            log = app.session.event_log
            assert log is not None
            await wait_until(pilot, lambda: log.appended >= 4, "the history from the hub")
            await fake.inject(meeting_event(3))

            def names() -> list[str | None]:
                rows = list(log)
                return [r.participant_name for r in rows if isinstance(r, ZoomEvent)]

            await wait_until(pilot, lambda: "Ana 3" in names(), "the live event in the log")
            assert names() == ["Ana 0", "Ana 1", "Ana 2", "Ana 3"]
            # the collector's link, as the collector reported it
            assert app.status.state is ConnectionState.CONNECTED
        await source.close()
