"""A "production consumer": another client of the fake's subscription, started on demand.

Zoom allows one connection per subscription (PROTOCOL.md section 2): when a second
connection opens, the first is closed.  The consumer plays the integration that already
uses the subscription when zoomtui connects, so the displacement policy can be tested
end to end: it connects to the same subscription as any client would (knocking the
current connection off), sends Zoom's heartbeat, reads whatever it is sent, and, with
`reconnect`, connects again by itself when it is knocked off (a fight, as two clients
that both reconnect have).

It runs on the fake's event loop.  Its connections carry a query parameter of the fake's
own (`CONSUMER_QUERY`, which Zoom would ignore), so the fake can say which of its
connections are the consumer's (`FakeConnection.consumer`).  Its tokens are issued
without HTTP (`TokenIssuer.issue`): they never appear in `token_requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from zoomtui.fakezoom.connection import FakeConnection
from zoomtui.zoom.protocol import HEARTBEAT_REQUEST

if TYPE_CHECKING:
    from zoomtui.fakezoom.server import FakeZoom

#: the query parameter that marks a consumer's connection (its value: name and attempt)
CONSUMER_QUERY = "fakezoom_consumer"
#: the pause before trying again after an attempt that was not accepted (the fake is down,
#: or refused it): never a busy loop, whatever `reconnect_delay` says
RETRY_PAUSE = 0.25
_OPEN_TIMEOUT = 5.0


class ConsumerError(Exception):
    """The consumer's first connection was not accepted."""


class ProductionConsumer:
    """Another consumer of one subscription of `fake` (see the module docstring).

    `start()` connects and returns once the fake has accepted it; `stop()` is the
    consumer leaving: it closes its connection politely and connects no more.
    """

    def __init__(
        self,
        fake: FakeZoom,
        *,
        reconnect: bool = False,
        reconnect_delay: float = 0.0,
        heartbeat_interval: float = 30.0,
        subscription_id: str | None = None,
        name: str = "production",
    ) -> None:
        if not (math.isfinite(reconnect_delay) and reconnect_delay >= 0):
            raise ValueError(
                f"reconnect_delay must be a number of seconds >= 0, not {reconnect_delay!r}"
            )
        if not (math.isfinite(heartbeat_interval) and heartbeat_interval > 0):
            raise ValueError(
                f"heartbeat_interval must be a number of seconds > 0, not {heartbeat_interval!r}"
            )
        self.fake = fake
        self.name = name
        #: connect again by itself when knocked off, after `reconnect_delay` seconds
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.heartbeat_interval = heartbeat_interval
        self.subscription_id = (
            fake.credentials.subscription_id if subscription_id is None else subscription_id
        )
        #: its accepted connections on the fake, oldest first
        self.connections: list[FakeConnection] = []
        #: times the fake closed it because a newer connection opened on the subscription
        self.displaced = 0
        #: attempts made (accepted or not)
        self.attempts = 0
        #: frames it received (build_connection frames not counted), and heartbeat answers
        self.frames_received = 0
        self.heartbeats_answered = 0
        self._token: str | None = None
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._changed = asyncio.Event()

    # -- what it is doing ---------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Started and not stopped (it may be between connections)."""
        return self._task is not None and not self._task.done()

    @property
    def connected(self) -> bool:
        """Its newest connection is open on the fake."""
        return bool(self.connections) and self.connections[-1].open and self._ws is not None

    def status(self) -> dict[str, object]:
        """What the control endpoint answers about it."""
        return {
            "name": self.name,
            "running": self.running,
            "connected": self.connected,
            "connections": len(self.connections),
            "displaced": self.displaced,
            "heartbeats_answered": self.heartbeats_answered,
            "reconnect": self.reconnect,
            "reconnect_delay": self.reconnect_delay,
        }

    async def wait_for(self, condition: Callable[[], object], timeout: float = 5) -> None:
        """Until `condition()` holds (it is looked at whenever the consumer's state changes)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_connections(self, n: int, timeout: float = 5) -> FakeConnection:
        """Its `n`-th accepted connection (1-based)."""
        await self.wait_for(lambda: len(self.connections) >= n, timeout)
        return self.connections[n - 1]

    async def wait_displaced(self, n: int = 1, timeout: float = 5) -> None:
        """Until it has been knocked off `n` times."""
        await self.wait_for(lambda: self.displaced >= n, timeout)

    # -- start and stop -----------------------------------------------------------------
    async def start(self, timeout: float = 5) -> FakeConnection:
        """Connect; returns its connection once the fake has accepted it (`ConsumerError`
        when the first attempt was not accepted and it does not reconnect)."""
        if self.running:
            raise RuntimeError(f"the {self.name} consumer is already running")
        self._stopping = False
        have = len(self.connections)
        self._task = asyncio.create_task(self._run(), name=f"fakezoom-consumer-{self.name}")
        await self.wait_for(lambda: len(self.connections) > have or not self.running, timeout)
        if len(self.connections) == have:
            raise ConsumerError(f"the {self.name} consumer's connection was not accepted")
        return self.connections[-1]

    async def stop(self) -> None:
        """Leave: close the connection politely (1000) and connect no more."""
        self._stopping = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._changed.set()

    # -- the loop -----------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while not self._stopping:
                accepted = await self._connect_once()
                self._changed.set()
                if self._stopping or not self.reconnect:
                    return
                await asyncio.sleep(
                    self.reconnect_delay if accepted else max(self.reconnect_delay, RETRY_PAUSE)
                )
        finally:
            self._ws = None
            self._changed.set()

    async def _connect_once(self) -> bool:
        """One connection, from the handshake until it closes; True when it was accepted."""
        self.attempts += 1
        # numbered over every consumer of this name on the fake: a consumer started after
        # another one stopped must not take that one's old connection for its own
        others = (c for c in self.fake.consumers if c is not self and c.name == self.name)
        number = self.attempts + sum(c.attempts for c in others)  # (no await since: unique)
        tag = f"{self.name}-{number}"
        if self._token is None or not self.fake.issuer.is_valid(self._token):
            self._token = self.fake.issue_token()
        url = self.fake.ws_url_for(self._token, self.subscription_id)
        url += "&" + urlencode({CONSUMER_QUERY: tag})
        conn: FakeConnection | None = None
        try:
            async with connect(url, ping_interval=None, open_timeout=_OPEN_TIMEOUT) as ws:
                first = await ws.recv()
                if not _accepted(first):
                    self._token = None  # refused: a new token next time
                    return False
                conn = next((c for c in reversed(self.fake.connections) if c.consumer == tag), None)
                if conn is None:  # not this fake's connection: nothing to follow
                    return False
                self._ws = ws
                self.connections.append(conn)
                self._changed.set()
                await self._serve(ws)
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake):
            pass
        finally:
            self._ws = None
        if conn is not None and conn.ended_by == "displaced":
            self.displaced += 1
        return conn is not None

    async def _serve(self, ws: ClientConnection) -> None:
        """Heartbeats out, everything in read and dropped, until the connection closes."""
        beat = asyncio.create_task(self._heartbeats(ws))
        try:
            with contextlib.suppress(ConnectionClosed):
                async for frame in ws:
                    self.frames_received += 1
                    if _module(frame) == "heartbeat":
                        self.heartbeats_answered += 1
                    self._changed.set()
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await beat

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            await ws.send(HEARTBEAT_REQUEST)
            await asyncio.sleep(self.heartbeat_interval)


def _envelope(frame: str | bytes) -> dict:
    try:
        env = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return {}
    return env if isinstance(env, dict) else {}


def _module(frame: str | bytes) -> object:
    return _envelope(frame).get("module")


def _accepted(frame: str | bytes) -> bool:
    env = _envelope(frame)
    return env.get("module") == "build_connection" and env.get("success") is True


# -- the control endpoint's `POST /fakezoom/consumer` ----------------------------------------
CONSUMER_ACTIONS = ("start", "stop", "status")
#: the options `start` takes over HTTP, and their bounds in seconds
_NUMBER_OPTIONS = {"reconnect_delay": (0.0, 3600.0), "heartbeat_interval": (0.01, 3600.0)}


def _bad(reason: str) -> tuple[int, dict]:
    return 400, {"error": "invalid_request", "reason": reason}


def _start_options(data: dict) -> dict[str, object] | str:
    """The checked options of a `start` (a str: why they are not usable)."""
    options: dict[str, object] = {}
    reconnect = data.get("reconnect", False)
    if not isinstance(reconnect, bool):
        return "'reconnect' must be true or false"
    options["reconnect"] = reconnect
    for key, (low, high) in _NUMBER_OPTIONS.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"'{key}' must be a number of seconds"
        if not (math.isfinite(value) and low <= value <= high):
            return f"'{key}' must be from {low:g} to {high:g} seconds"
        options[key] = float(value)
    return options


async def consumer_action(fake: FakeZoom, data: dict) -> tuple[int, dict]:
    """`{"action": "start" | "stop" | "status", ...}` on the fake's production consumer:
    the HTTP status and the answer (`{"consumer": its status, or null}`)."""
    action = data.get("action")
    if action not in CONSUMER_ACTIONS:
        return _bad(f"'action' must be one of {', '.join(CONSUMER_ACTIONS)}")
    unknown = sorted(str(k) for k in data if k not in ("action", "reconnect", *_NUMBER_OPTIONS))
    if unknown:
        return _bad(f"unknown field(s): {', '.join(unknown)}")
    if action != "start" and len(data) > 1:
        return _bad("options go with 'start' only")
    current = fake.consumers[-1] if fake.consumers else None
    if action == "stop" and current is not None:
        await current.stop()
    if action != "start":
        return 200, {"consumer": current.status() if current is not None else None}
    if current is not None and current.running:
        return 409, {
            "error": "already_running",
            "reason": "a production consumer is running: stop it first",
            "consumer": current.status(),
        }
    options = _start_options(data)
    if isinstance(options, str):
        return _bad(options)
    try:
        consumer = await fake.start_consumer(**options)
    except (ConsumerError, TimeoutError):
        return 502, {
            "error": "not_accepted",
            "reason": "the fake did not accept the consumer's connection",
            "consumer": fake.consumers[-1].status(),
        }
    return 200, {"consumer": consumer.status()}
