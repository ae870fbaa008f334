"""Helpers for the hub's end-to-end tests: collectors and viewers run as tasks, and a way to
wait for what they report (each sets one shared `asyncio.Event` on every change)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from tests.connhelpers import meeting_event
from tests.waits import HANG_GUARD, awaited, until
from zoomtui.hub.client import LinkChange
from zoomtui.hub.collector import HubLink, SubscriptionCollector
from zoomtui.hub.publisher import HubPublisher
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.hub.subjects import subscription_prefix
from zoomtui.settings import ConnectionSettings
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame
from zoomtui.zoom.updates import Update


class Watch:
    """One event every collector and viewer of a test sets when something changed."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()

    async def until(self, predicate: Callable[[], object], what: str) -> None:
        await until(predicate, self.changed, what)


class Running:
    """A collector running as a task (on its own hub connection, as in its own process)."""

    def __init__(self, link: HubLink, collector: SubscriptionCollector) -> None:
        self.link = link
        self.collector = collector
        self.task = asyncio.get_running_loop().create_task(collector.run())

    async def kill(self) -> None:
        """As a crash: the task cancelled, its hub link cut, the lease left to lapse."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.link.nc.close()

    async def stop(self) -> None:
        if not self.task.done():
            await self.collector.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.link.close()


@contextlib.asynccontextmanager
async def collectors(
    hub: HubSettings, zoom: ConnectionSettings, watch: Watch, n: int = 1, **kwargs: Any
) -> AsyncIterator[list[Running]]:
    running: list[Running] = []
    try:
        for _ in range(n):
            link = await HubLink.open(hub)
            collector = SubscriptionCollector(link, zoom, changed=watch.changed, **kwargs)
            running.append(Running(link, collector))
        yield running
    finally:
        for r in running:
            with contextlib.suppress(Exception):
                await r.stop()


class Viewer:
    """A `HubSource` read into a list by a task of its own."""

    def __init__(self, source: HubSource, watch: Watch) -> None:
        self.source = source
        self.watch = watch
        self.updates: list[Update] = []
        self.done = False
        told = source.on_link

        def link(change: LinkChange) -> None:
            if told is not None:
                told(change)
            watch.changed.set()

        source.on_link = link
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for update in self.source.updates():
                self.updates.append(update)
                self.watch.changed.set()
        finally:
            self.done = True
            self.watch.changed.set()

    @property
    def events(self) -> list[ZoomEvent]:
        return [u for u in self.updates if isinstance(u, ZoomEvent)]

    async def ready(self) -> None:
        """Its consumer is in place: what is published from now on reaches it."""
        caught_up = asyncio.ensure_future(self.source.caught_up.wait())
        try:
            await awaited(
                asyncio.wait({caught_up, self.task}, return_when=asyncio.FIRST_COMPLETED),
                "the viewer's consumer",
            )
        finally:
            caught_up.cancel()

    async def close(self) -> None:
        await self.source.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def user_ids(events: list[ZoomEvent]) -> list[str]:
    """Which `meeting_event(i)` each event is (its participant's user id)."""
    return [str(e.body["payload"]["object"]["participant"]["user_id"]) for e in events]


async def publish_names(hub: HubSettings, names: list[str], rounds: int = 1) -> list[ZoomEvent]:
    """`meeting_event(i)` renamed to each of `names`, `rounds` times, published alternately
    under subscriptions "Sub-One" (even i) and "Sub-Two" (odd i); the events published."""
    link = await HubLink.open(hub)
    try:
        one = HubPublisher(link.js, subscription_prefix("acct-1", "Sub-One"))
        two = HubPublisher(link.js, subscription_prefix("acct-2", "Sub-Two"))
        for publisher in (one, two):
            publisher.start()
        published: list[ZoomEvent] = []
        for _ in range(rounds):
            for name in names:
                i = len(published)
                body = meeting_event(i) | {"event": name}
                event = parse_frame(message_frame(body), 1_700_000_000.0 + i)
                assert isinstance(event, ZoomEvent)
                (one if i % 2 == 0 else two).on_update(event)
                published.append(event)
        for publisher in (one, two):
            await awaited(publisher.close(timeout=HANG_GUARD), "the events stored")
        assert one.stored + two.stored == len(published)
        return published
    finally:
        await link.close()
