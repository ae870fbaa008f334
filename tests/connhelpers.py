"""Helpers for the connection-engine tests (test_connection, test_redaction, test_tail, test_doctor).

`Recorder` runs `ZoomConnection.updates()` in a task and keeps everything it yields, so a
test can fault the fake Zoom and then wait for the updates it expects.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import orjson

from tests.waits import HANG_GUARD, awaited, guard
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, Update

#: the heartbeat interval for tests about heartbeats and a dead link (1.5 intervals
#: without a frame): short, so that a silence is noticed soon, yet longer than a stall of a
#: loaded test process (a full garbage collection of a worker's heap, beside CPU hogs),
#: which the dead-link timer cannot tell from Zoom's silence
HB = 0.5
#: the heartbeat interval for every other test: Zoom's own 30 s.  The dead-link timer also
#: runs while this process is stalled, so with a short interval a loaded machine's stall
#: reads as Zoom's silence: the link is dropped, and the events in flight with it.
CALM_HB = 30.0


class ShiftedClock:
    """A clock (time.monotonic unless told otherwise), plus the seconds a test says have
    passed: for durations the code measures (how long a link stayed up, a Retry-After
    window) without sleeping them."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self.base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self.base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class MaxRandom(random.Random):
    """Full jitter turned off: every backoff is its ceiling, so the schedule is exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Recorder:
    """`sink`, when given, sees every update as it arrives (the reliability tests archive them)."""

    def __init__(
        self, conn: ZoomConnection, sink: Callable[[Update], object] | None = None
    ) -> None:
        self.conn = conn
        self.sink = sink
        self.items: list[Update] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        sink = self.sink
        async for u in self.conn.updates():
            if sink is not None:
                sink(u)
            self.items.append(u)
            self._changed.set()
        self._changed.set()

    async def wait_for(self, pred: Callable[[list[Update]], object], what: str = "updates"):
        """Wait until `pred(items)` is truthy (looked at again after each update); returns
        its value."""
        async with guard(what):
            while True:
                got = pred(self.items)
                if got:
                    return got
                if self.task.done():
                    self.task.result()  # re-raise a crash of the loop
                    raise AssertionError("updates() ended before the condition was met")
                self._changed.clear()
                await self._changed.wait()

    async def wait_state(self, state: ConnectionState, count: int = 1) -> StateChanged:
        def pred(items):
            hits = [u for u in items if isinstance(u, StateChanged) and u.state is state]
            return hits[count - 1] if len(hits) >= count else None

        return await self.wait_for(pred, f"{state.value} #{count}")

    async def close(self) -> None:
        await self.conn.close()
        await awaited(self.task, "updates() to end after close()")

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
            "object": {
                "id": "85746352415",
                "uuid": f"uuid-{i}==",
                "topic": "Weekly sync",
                "participant": {
                    "user_id": str(i),
                    "user_name": f"Ana {i}",
                    "email": f"ana{i}@example.com",
                },
            },
        },
    }


class ThreadedFake:
    """A FakeZoom on its own event loop in a thread, for commands that run `asyncio.run()`
    themselves (CliRunner).  `call(fn)` runs `fn(fake)` (a coroutine or not) on that loop."""

    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs
        self.fake = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = None
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> ThreadedFake:
        import threading

        from zoomtui.fakezoom import FakeZoom

        ready = threading.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with FakeZoom(**self.kwargs) as fake:  # type: ignore[arg-type]
                self.fake = fake
                ready.set()
                await self._stop.wait()

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        if not ready.wait(HANG_GUARD):
            raise RuntimeError("the fake Zoom did not start")
        return self

    def call(self, fn: Callable):
        async def run():
            r = fn(self.fake)
            return await r if asyncio.iscoroutine(r) else r

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(HANG_GUARD)

    def env(self, **changes: str) -> dict[str, str]:
        c = self.fake.credentials
        env = {
            "ZOOM_ACCOUNT_ID": c.account_id,
            "ZOOM_CLIENT_ID": c.client_id,
            "ZOOM_CLIENT_SECRET": c.client_secret,
            "ZOOM_SUBSCRIPTION_ID": c.subscription_id,
            "ZOOMTUI_OAUTH_URL": self.fake.oauth_url,
            "ZOOMTUI_WS_URL": self.fake.ws_url,
            "ZOOMTUI_API_URL": self.fake.api_url,
        }
        env.update(changes)
        return env

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(HANG_GUARD)
