"""Helpers for the connection-engine tests (test_connection, test_redaction, test_tail, test_doctor).

`Recorder` runs `ZoomConnection.updates()` in a task and keeps everything it yields, so a
test can fault the fake Zoom and then wait for the updates it expects.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import orjson

from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, Update

#: short enough to keep tests fast, long enough that a busy 2-core CI box does not see a
#: dead link where there is none (1.5 intervals without a frame)
HB = 0.2


class MaxRandom(random.Random):
    """Full jitter turned off: every backoff is its ceiling, so the schedule is exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Recorder:
    def __init__(self, conn: ZoomConnection) -> None:
        self.conn = conn
        self.items: list[Update] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for u in self.conn.updates():
            self.items.append(u)
            self._changed.set()
        self._changed.set()

    async def wait_for(self, pred: Callable[[list[Update]], object], timeout: float = 10.0):
        """Wait until `pred(items)` is truthy; returns its value."""
        async with asyncio.timeout(timeout):
            while True:
                got = pred(self.items)
                if got:
                    return got
                if self.task.done():
                    self.task.result()  # re-raise a crash of the loop
                    raise AssertionError("updates() ended before the condition was met")
                self._changed.clear()
                await self._changed.wait()

    async def wait_state(self, state: ConnectionState, count: int = 1, timeout: float = 10.0) -> StateChanged:
        def pred(items):
            hits = [u for u in items if isinstance(u, StateChanged) and u.state is state]
            return hits[count - 1] if len(hits) >= count else None

        return await self.wait_for(pred, timeout)

    async def close(self) -> None:
        await self.conn.close()
        async with asyncio.timeout(10):
            await self.task

    # -- views -------------------------------------------------------------------
    @property
    def states(self) -> list[StateChanged]:
        return [u for u in self.items if isinstance(u, StateChanged)]

    def state_names(self) -> list[str]:
        return [u.state.value for u in self.states]

    @property
    def events(self) -> list[ZoomEvent]:
        return [u for u in self.items if isinstance(u, ZoomEvent)]

    @property
    def gaps(self) -> list[Gap]:
        return [u for u in self.items if isinstance(u, Gap)]

    def of(self, cls: type) -> list:
        return [u for u in self.items if isinstance(u, cls)]


def content_of(event: ZoomEvent) -> str:
    """The `content` string of the frame an event came in (what the fake records)."""
    return orjson.loads(event.raw)["content"]


def meeting_event(i: int) -> dict:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1706123456789 + i,
        "payload": {
            "account_id": "demo-account-0001",
            "object": {"id": "85746352415", "uuid": f"uuid-{i}==", "topic": "Weekly sync",
                       "participant": {"user_id": str(i), "user_name": f"Ana {i}",
                                       "email": f"ana{i}@example.com"}},
        },
    }
