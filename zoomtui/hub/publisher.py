"""The collector's sink: every update of one subscription to the hub, as it is received.

`HubPublisher` is a `SessionSink` that hears every raw update (`on_update`, before anything
is applied), encodes it (`wire.encode`) and queues it; one task of its own hands the queue
to JetStream with pipelined publishes (`js.publish_async`: many in flight, acknowledged as
they land), so a slow hub never slows the session.  The queue is bounded: what overflows is
counted (`dropped`), never waited for.  Each message carries its `Nats-Msg-Id`, so one
published twice is stored once (`duplicates` counts what the server said it dropped).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Any

from zoomtui.hub.wire import HubMessage, encode
from zoomtui.monitor.session import SessionSink
from zoomtui.redaction import redact
from zoomtui.zoom.updates import Update

log = logging.getLogger("zoomtui.hub.publisher")

#: messages waiting for the hub at most (about a minute of a busy account's events)
QUEUE_LIMIT = 100_000


class HubPublisher(SessionSink):
    """Publishes one subscription's updates under `prefix` (`zoom.<account>.<subscription>`)."""

    def __init__(self, js: Any, prefix: str, *, limit: int = QUEUE_LIMIT) -> None:
        self.js = js
        self.prefix = prefix
        self.limit = limit
        self._queue: collections.deque[HubMessage] = collections.deque()
        self._wake = asyncio.Event()
        self._pending: set[asyncio.Future[Any]] = set()
        #: messages handed to the hub, stored, dropped there as duplicates, failed, dropped
        #: here because the queue was full
        self.sent = 0
        self.stored = 0
        self.duplicates = 0
        self.failed = 0
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hub-publisher")

    def on_update(self, update: Update) -> None:
        message = encode(self.prefix, update)
        if message is None:
            return
        if len(self._queue) >= self.limit:
            self.dropped += 1
            return
        self._queue.append(message)
        self._wake.set()

    def publish(self, message: HubMessage) -> None:
        """Queue a message made elsewhere (a republish: its id makes it a duplicate)."""
        self._queue.append(message)
        self._wake.set()

    async def _run(self) -> None:
        queue, js = self._queue, self.js
        while True:
            while queue:
                message = queue.popleft()
                try:
                    future = await js.publish_async(
                        message.subject, message.payload, headers=message.headers
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - counted, said once
                    self._failed(exc)
                    continue
                self.sent += 1
                self._pending.add(future)
                future.add_done_callback(self._acked)
            self._wake.clear()
            await self._wake.wait()

    def _acked(self, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if future.cancelled():
            self.failed += 1
            return
        exc = future.exception()
        if exc is not None:
            self._failed(exc)
            return
        ack = future.result()
        if getattr(ack, "duplicate", False):
            self.duplicates += 1
        else:
            self.stored += 1

    def _failed(self, exc: BaseException) -> None:
        self.failed += 1
        if self.failed == 1:
            log.warning("publishing to the hub failed: %s", redact(str(exc)) or type(exc).__name__)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing waiting for its acknowledgement."""
        return not self._queue and not self._pending

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait (at most `timeout` seconds) until everything queued is acknowledged."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self.idle:
                    if self._queue:
                        self._wake.set()
                        await asyncio.sleep(0)
                    elif self._pending:
                        await asyncio.wait(set(self._pending))

    async def close(self, timeout: float = 5.0) -> None:
        await self.flush(timeout)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
