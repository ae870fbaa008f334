"""Two collectors for one subscription against the fake Zoom and a real nats-server: exactly
one connects; when it dies the other takes over once the lease lapses, and the takeover is in
the stream as a gap with its length."""

from __future__ import annotations

from tests.connhelpers import CALM_HB, meeting_event
from tests.hub.hubkit import Viewer, Watch, collectors, user_ids
from tests.hub.natsserver import RunningServer
from tests.waits import awaited
from zoomtui.fakezoom import FakeZoom
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.zoom.updates import Gap

#: short, so the takeover comes soon; long enough for a loaded machine to renew in time
LEASE_TTL = 2.0


async def test_one_collector_connects_and_the_other_takes_over_with_the_gap(
    hub_server: RunningServer,
) -> None:
    hub = HubSettings(url=hub_server.url, lease_ttl=LEASE_TTL)
    watch = Watch()
    async with FakeZoom() as fake:
        zoom = fake.settings(heartbeat_interval=CALM_HB)
        async with collectors(hub, zoom, watch, n=2) as (one, two):
            viewer = Viewer(HubSource(hub, since=0.0), watch)
            await awaited(fake.wait_for_connection(), "the first collector's connection")
            both = (one.collector, two.collector)
            await watch.until(
                lambda: (
                    sorted(c.state for c in both) == ["holding", "standby"]
                    and any(c.lease.other is not None for c in both)
                ),
                "one collector holding, the other standing by having seen it",
            )
            assert len(fake.accepted_connections) == 1
            holder, standby = (one, two) if one.collector.state == "holding" else (two, one)
            assert standby.collector.connections == 0
            for i in range(5):
                await fake.inject(meeting_event(i))
            await watch.until(lambda: len(viewer.events) == 5, "the five events through the hub")
            last_received = viewer.events[-1].received_at

            await holder.kill()
            await watch.until(
                lambda: standby.collector.takeovers, "the standby's takeover, with its gap"
            )
            assert len(fake.accepted_connections) == 2
            assert standby.collector.connections == 1
            (gap,) = standby.collector.takeovers
            assert gap.start >= last_received and gap.seconds > 0
            assert holder.link.holder in gap.reason and standby.link.holder in gap.reason

            for i in range(5, 8):
                await fake.inject(meeting_event(i))
            await watch.until(lambda: len(viewer.events) == 8, "the events after the takeover")
            assert user_ids(viewer.events) == [str(i) for i in range(8)]
            gaps = [u for u in viewer.updates if isinstance(u, Gap)]
            assert gaps == [gap]  # the viewers see the takeover, with its length
            await viewer.close()
