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
from collections.abc import Callable, Iterable, Iterator

import orjson
from websockets.exceptions import ConnectionClosed

from zoomtui.fakezoom.connection import FakeConnection
from zoomtui.zoom.protocol import message_frame

#: frames sent per connection before yielding to the event loop at rate max, so heartbeats
#: and other connections still get answered during a flood
MAX_RATE_BATCH = 256

Prepared = tuple[str, str]  # (content JSON string, whole message frame)


def prepare(event: dict | str) -> Prepared:
    """Serialise once: the content string (kept by `sent_events`) and the frame around it."""
    content = event if isinstance(event, str) else orjson.dumps(event).decode()
    return content, message_frame(content)


class FrameSource:
    """Prepared frames from an iterator of events, serialised in chunks ahead of sending."""

    def __init__(self, events: Iterable[dict | str], limit: int | None = None) -> None:
        self._events: Iterator[dict | str] = iter(events)
        self._limit = limit
        self._buffer: list[Prepared] = []
        self._pos = 0
        self.taken = 0  # frames handed out so far (the index of the next one)
        self.exhausted = False

    def prefill(self, n: int | None = None) -> None:
        """Serialise up to `n` frames now (all remaining ones if `n` is None and there is a limit)."""
        want = n if n is not None else self._limit
        if want is None:
            return
        self._fill(want)

    def _fill(self, n: int) -> None:
        if self._pos:
            del self._buffer[: self._pos]
            self._pos = 0
        room = n - len(self._buffer)
        if self._limit is not None:
            room = min(room, self._limit - self.taken - len(self._buffer))
        for _ in range(max(room, 0)):
            try:
                ev = next(self._events)
            except StopIteration:
                break
            self._buffer.append(prepare(ev))

    def take(self, n: int) -> list[Prepared]:
        """Up to `n` next frames; an empty list once the stream is over."""
        if len(self._buffer) - self._pos < n:
            self._fill(max(n, 1024))
        chunk = self._buffer[self._pos : self._pos + n]
        self._pos += len(chunk)
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


class Pump:
    """Feeds a `FrameSource` to the connections chosen by `targets()`."""

    def __init__(
        self,
        source: FrameSource,
        rate: float | None,  # None = as fast as possible
        targets: Callable[[], list[FakeConnection]],
        connection_opened: asyncio.Event,
    ) -> None:
        self.source = source
        self.rate = rate
        self.targets = targets
        self.connection_opened = connection_opened  # set whenever a connection is accepted
        self.lost = 0  # paced events whose time came with no connection open
        self._anchor: float | None = None  # loop time of event 0 (paced mode)

    async def run(self) -> None:
        if self.rate is None:
            await self._run_max()
        else:
            await self._run_paced(self.rate)

    async def _wait_for_target(self) -> list[FakeConnection]:
        while True:
            conns = self.targets()
            if conns:
                return conns
            self.connection_opened.clear()
            await self.connection_opened.wait()

    async def _run_max(self) -> None:
        while True:
            conns = await self._wait_for_target()
            chunk = self.source.take(MAX_RATE_BATCH)
            if not chunk:
                return
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
            conns = self.targets()
            if not conns:
                self.lost += 1
                continue
            for conn in conns:
                await send_chunk(conn, chunk)
