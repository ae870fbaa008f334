"""Turning a scenario into frames on the wire, at a rate or as fast as possible.

The scenario is a pure generator of event dicts (`scenario.py`); this module
serialises them ahead of time into `(content, frame)` pairs and pushes them to
the open connections.  The stream belongs to the subscription, not to a
connection, like Zoom's: it starts with the first accepted connection,
continues across reconnects and restarts, and in paced mode an event whose
time comes while no connection is open is lost (Zoom does not replay).  At
rate "max" nothing is lost: the pump waits for a connection instead.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson
from websockets.exceptions import ConnectionClosed

from zoomtui.fakezoom.connection import FakeConnection
from zoomtui.zoom.protocol import message_frame

#: frames sent per connection before yielding to the event loop at rate max, so heartbeats
#: and other connections still get answered during a flood
MAX_RATE_BATCH = 256

#: how long before its first event is prepared an endless flood's world began (seconds): the
#: opening's quirks (a rejoin among them) get a millisecond each, not one between them all
FLOOD_HEAD_START = 0.1

Prepared = tuple[str, str]  # (content JSON string, whole message frame)


def prepare(event: dict | str) -> Prepared:
    """Serialise once: the content string (kept by `sent_events`) and the frame around it."""
    content = event if isinstance(event, str) else orjson.dumps(event).decode()
    return content, message_frame(content)


class FrameSource:
    """Prepared frames from an iterator of events, serialised in chunks ahead of sending."""

    def __init__(self, events: Iterable[dict | str], limit: int | None = None) -> None:
        self.bounded = limit is not None
        self._events: Iterator[dict | str] = itertools.islice(events, limit)
        self._ready: deque[Prepared] = deque()
        self.taken = 0  # frames handed out so far (the index of the next one)
        self.exhausted = False

    @property
    def ready(self) -> int:
        """Frames serialised and not sent yet."""
        return len(self._ready)

    def _prepare(self, n: int) -> int:
        """Serialise up to `n` more frames; how many there were."""
        before = len(self._ready)
        self._ready.extend(map(prepare, itertools.islice(self._events, n)))
        return len(self._ready) - before

    async def prefill(self, chunk: int = 4096) -> None:
        """Serialise every frame of a bounded stream now, yielding to the loop between chunks
        (a large flood takes seconds to prepare; the loop must keep serving meanwhile)."""
        if self.bounded:
            while self._prepare(chunk):
                await asyncio.sleep(0)

    def take(self, n: int) -> list[Prepared]:
        """Up to `n` next frames; an empty list once the stream is over."""
        ready = self._ready
        if len(ready) < n:
            self._prepare(max(n - len(ready), 1024))
        chunk = [ready.popleft() for _ in range(min(n, len(ready)))]
        self.taken += len(chunk)
        if not chunk:
            self.exhausted = True
        return chunk


async def send_chunk(conn: FakeConnection, chunk: list[Prepared]) -> None:
    """Send prepared frames to one connection in a tight loop (the hot path at rate max)."""
    if conn.silent or not conn.open:
        return
    send = conn.ws.send
    sent = 0
    try:
        for _content, frame in chunk:
            await send(frame)
            sent += 1
    except ConnectionClosed:
        pass
    finally:
        conn.frames_sent += sent
        conn.record_sent(chunk[:sent] if sent < len(chunk) else chunk)
        conn.activity()


class Pump:
    """Feeds a `FrameSource` to the connections chosen by `targets()`."""

    def __init__(
        self,
        source: FrameSource,
        rate: float | None,  # None = as fast as possible
        targets: Callable[[], list[FakeConnection]],
        on_activity: Callable[[], None] = lambda: None,
        on_handed: Callable[[list[str]], None] = lambda contents: None,
    ) -> None:
        self.source = source
        # told the contents of the events whose time came, sent or lost (Zoom's own state)
        self._handed = on_handed
        self.rate = rate
        self.targets = targets
        self._on_activity = on_activity  # told when an event is lost and when the stream ends
        self._connection_opened = asyncio.Event()
        self.lost = 0  # paced events whose time came with no connection open
        self._anchor: float | None = None  # loop time of event 0 (paced mode)

    async def run(self) -> None:
        if self.rate is None:
            # bounded floods are serialised up front, so sending is all that is left
            await self.source.prefill()
            await self._run_max()
        else:
            await self._run_paced(self.rate)
        self._on_activity()

    def connection_opened(self) -> None:
        """Wake the pump: a connection was accepted."""
        self._connection_opened.set()

    async def _wait_for_target(self) -> list[FakeConnection]:
        while True:
            conns = self.targets()
            if conns:
                return conns
            self._connection_opened.clear()
            await self._connection_opened.wait()

    async def _run_max(self) -> None:
        while True:
            conns = await self._wait_for_target()
            chunk = self.source.take(MAX_RATE_BATCH)
            if not chunk:
                return
            self._handed([content for content, _frame in chunk])
            for conn in conns:
                await send_chunk(conn, chunk)
            await asyncio.sleep(0)  # let heartbeats and the other side of the loop run

    async def _run_paced(self, rate: float) -> None:
        loop = asyncio.get_running_loop()
        if self._anchor is None:
            await self._wait_for_target()
            self._anchor = loop.time() - self.source.taken / rate
        while True:
            index = self.source.taken
            chunk = self.source.take(1)
            if not chunk:
                return
            delay = self._anchor + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif index % MAX_RATE_BATCH == 0:
                await asyncio.sleep(0)  # running late (or a huge rate): still let the loop breathe
            self._handed([chunk[0][0]])
            conns = self.targets()
            if not conns:
                self.lost += 1
                self._on_activity()
                continue
            for conn in conns:
                await send_chunk(conn, chunk)


def play_scenario(
    scenario: str | None,
    seed: int,
    clock: Callable[[], float],
    samples_dir: Path,
    rate: float | None,
    spacing: float = 1000.0,
    bounded: bool = False,
) -> Iterator[dict | str]:
    """The events a named scenario sends, in order (`rate` None: a flood, `spacing` events
    per second apart at most; an endless one is also stamped never past `clock`)."""
    if scenario == "samples":
        from zoomtui.fakezoom.samples import sample_contents

        yield from sample_contents(samples_dir)
        return
    if scenario == "shapes":
        from zoomtui.fakezoom.shapes import shapes_events

        start = clock()
        if rate is None:  # all sent at once: its last slot at the clock, none after it
            start -= (sum(1 for _ in shapes_events(start)) - 1) / spacing
        yield from shapes_events(start, rate=rate or spacing)
        return
    from zoomtui.fakezoom.scenario import scenario_events

    # A generator, so the clock is read when the first event is prepared: at the first
    # accepted connection when paced (event_ts then matches the send time), at start()
    # for a bounded flood (prepared up front; 1 ms apart, the spacing is nominal: the
    # screenshots and benchmarks replay it byte for byte).  An endless flood goes out far
    # faster than `spacing`: stamped by the schedule alone it would run minutes ahead of
    # every clock, so it is stamped by the clock too, from a world that began
    # FLOOD_HEAD_START earlier (its opening's quirks then keep a millisecond each).
    # Paced above one event a millisecond, events share milliseconds as a flood's do: the
    # same crowd keeps anyone from coming or going twice in one.
    if rate is None and not bounded:
        yield from scenario_events(seed, clock() - FLOOD_HEAD_START, rate=spacing, clock=clock)
    else:
        crowd = rate is not None and rate > 1000.0
        yield from scenario_events(seed, clock(), rate=rate or spacing, crowd=crowd)
