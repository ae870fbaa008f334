"""The connection to Zoom's WebSocket: one object, one public loop, never wrong about its state.

    idle -> authenticating -> connecting -> connected
         -> (reconnecting -> authenticating -> ...) | stopped | failed

`ZoomConnection.updates()` is an async generator that *is* the state machine:
it authenticates, connects, receives, and reports everything as typed values
(`zoomtui.zoom.updates`).  Two small helper tasks run beside it while
connected: the keeper (sends heartbeats, detects a dead link) and the token
keeper (renews the token before it expires, without dropping the connection).
They never touch the consumer directly; they interrupt the socket (the loop
then sees a close with a reason already chosen) or queue an update that the
loop hands out after the next frame.

The receive path is kept lean on purpose: per frame it calls `recv(False)` (the
frame's UTF-8 as it came, see `_ZoomSocket`), one clock read and one monotonic read,
`parse_text_frame()`, two counter stores and a `yield`.  No per-frame timeouts: the
dead-link timer lives in the keeper.

Nothing here prints or logs a token: the WebSocket URL is built at the last
moment and every reason and log message goes through `redact()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.frames import Opcode

from zoomtui import __version__
from zoomtui.redaction import mask_id, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.zoom.auth import (
    AuthError,
    CredentialsRejected,
    RateLimited,
    Token,
    TokenProvider,
)
from zoomtui.zoom.protocol import (
    HEARTBEAT_REQUEST,
    KIND_BUILD_CONNECTION,
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    Envelope,
    MalformedFrame,
    Parsed,
    ZoomEvent,
    parse_frame,
    parse_text_frame,
)
from zoomtui.zoom.updates import (
    ConnectionState,
    Gap,
    Heartbeat,
    Notice,
    StateChanged,
    TokenInfo,
    Update,
)

log = logging.getLogger(__name__)

S = ConnectionState
_INF = float("inf")
#: websockets closes the socket itself (code 1009) above its max_size; we let it accept
#: this much more than our own limit so an oversize frame becomes a MalformedFrame report
#: and the stream goes on.  Beyond it, the close is reported as a malformed frame too.
OVERSIZE_FACTOR = 4
#: how many heartbeat intervals without any frame mean the link is dead (ZoomNet: 45 s / 30 s)
DEAD_AFTER_INTERVALS = 1.5
USER_AGENT = f"zoomtui/{__version__}"

TRANSPORT_HINT = (
    "Use https:// and wss:// URLs (Zoom's are), or --insecure-transport for a "
    "test server you trust."
)

SUBSCRIPTION_HINT = (
    "Check the subscription id: in the Zoom App Marketplace open your Server-to-Server OAuth "
    "app > Feature > Event Subscriptions, pick the WebSocket subscription and copy its id; "
    "also check that the subscription belongs to this app and account."
)


class FailureKind(enum.StrEnum):
    """Why the connection is FAILED (what a person has to look at)."""

    CREDENTIALS = "credentials"  # the token endpoint rejected the credentials
    SUBSCRIPTION = "subscription"  # Zoom refused the subscription id (or the connection)
    CONFIG = "config"  # the URL or another setting is wrong
    GAVE_UP = "gave_up"  # `give_up_after` failed attempts in a row


@dataclass(slots=True)
class ConnectionStats:
    """Counters for status bars and benchmarks. Mutated in place by the connection."""

    events: int = 0
    malformed: int = 0
    notices: int = 0
    heartbeats: int = 0
    attempts: int = 0  # connection attempts started
    connects: int = 0  # times CONNECTED was reached
    reconnects: int = 0  # connects after the first
    gaps: int = 0
    last_event_at: float | None = None
    last_heartbeat: Heartbeat | None = None
    connected_since: float | None = None
    token_expires_at: float | None = None
    last_reason: str = ""

    @property
    def last_rtt(self) -> float | None:
        hb = self.last_heartbeat
        return hb.rtt if hb is not None else None


class _Action(enum.Enum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"


@dataclass(slots=True)
class _Drop:
    """Why the open socket is being closed by us (set before we close it)."""

    reason: str
    immediate: bool = False  # reconnect without backoff
    refresh_token: bool = False
    gap_start: float | None = None  # when events may have started to be lost
    invalid_token: bool = False


_INTERRUPTED = object()


def fmt_seconds(s: float) -> str:
    """`45 s`, `0.3 s`, `2 min`: short and human."""
    if s >= 120:
        return f"{s / 60:.0f} min"
    if s >= 10 or float(s).is_integer():
        return f"{s:.0f} s"
    return f"{s:.2g} s"


class _ZoomSocket(ClientConnection):
    """The client connection, told to hand over every message as the bytes that came in
    (``recv(decode=False)``): a text frame's UTF-8 is parsed as it is, kept by the event and
    handed to the archive without being decoded and encoded again.  Taken that way, a
    binary frame would look like a text one, so this remembers which messages were binary
    (Zoom sends none; one that comes is shown as such, not parsed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = 0  # messages whose first frame has come in
        self.received = 0  # messages handed out before the receive loop (build_connection)
        self.binary: deque[int] = deque()  # the ordinals of those that are binary

    def process_event(self, event: Any) -> None:
        ClientConnection.process_event(self, event)
        op = getattr(event, "opcode", None)
        if op is _TEXT:
            self.started += 1
        elif op is _BINARY:
            self.started += 1
            self.binary.append(self.started)

    def was_binary(self, ordinal: int) -> bool:
        """Whether the `ordinal`-th message received (counting from 1) was binary.  Asked
        in order, and only while `binary` is not empty."""
        b = self.binary
        while b and b[0] < ordinal:
            b.popleft()
        if b and b[0] == ordinal:
            b.popleft()
            return True
        return False


_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY


def _parse_received(
    ws: _ZoomSocket, data: bytes, ordinal: int, now: float, max_bytes: int
) -> Parsed:
    """A received message, text or (rarely) binary."""
    if ws.binary and ws.was_binary(ordinal):
        return parse_frame(data, now, max_bytes)
    return parse_text_frame(data, now, max_bytes)


class ZoomConnection:
    """One subscription's WebSocket, with reconnects, heartbeats, gaps and honest states."""

    def __init__(
        self,
        settings: ConnectionSettings,
        tokens: TokenProvider | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        stable_after: float = 60.0,
        autoconnect: bool = True,
        give_up_after: int | None = None,
        open_timeout: float = 10.0,
        close_timeout: float = 2.0,
    ) -> None:
        self.settings = settings
        self._owns_tokens = tokens is None
        self.tokens = tokens if tokens is not None else TokenProvider(settings, clock=clock)
        self._clock = clock
        self._mono = monotonic
        self._rng = rng if rng is not None else random.Random()
        self._base = backoff_base
        self._cap = backoff_cap
        self._stable_after = stable_after
        self._autoconnect = autoconnect
        self._give_up_after = give_up_after
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        self._interval = settings.heartbeat_interval
        self._max_frame = settings.max_frame_bytes
        self._ws_max_size = settings.max_frame_bytes * OVERSIZE_FACTOR + 65536
        # Every front end checks this first; the engine refuses too, so no caller can send
        # the secret or the token in clear text to another machine by forgetting to.
        try:
            settings.check_transport()
            self._transport_refusal: str | None = None
        except SettingsError as exc:
            self._transport_refusal = str(exc)

        self.stats = ConnectionStats()
        #: why the connection is FAILED (None otherwise)
        self.failure: FailureKind | None = None
        self._state = S.IDLE
        self._attempt = 0
        self._failures = 0  # consecutive failed attempts (drives the backoff)
        self._invalid_streak = 0  # consecutive invalid-token answers
        self._action: _Action | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._running = False
        self._phase_task: asyncio.Future | None = None
        self._ws: ClientConnection | None = None
        self._drop: _Drop | None = None
        self._side_tasks: list[asyncio.Task] = []
        self._pending: deque[Update] = deque()  # updates from side tasks, handed out by the loop
        self._hb_sent: deque[float] = deque()  # monotonic send times of unanswered heartbeats
        self._last_rx = _INF  # monotonic time we started waiting for a frame (INF: not waiting)
        self._up_since_mono = 0.0
        self._down_since: float | None = None
        self._down_reason = ""
        self._announced_token: Token | None = None
        self._rejected_token: Token | None = None
        self._ever_connected = False

    # -- public ----------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._closed

    def request_connect(self) -> None:
        """Connect (from IDLE, STOPPED or FAILED); while waiting to retry, retry now."""
        self._post(_Action.CONNECT)

    def request_disconnect(self) -> None:
        """Close the connection and stay STOPPED until `request_connect()`."""
        self._post(_Action.DISCONNECT)

    def request_reconnect(self) -> None:
        """Drop the connection (if any) and connect again now, skipping any backoff wait."""
        self._post(_Action.RECONNECT)

    async def close(self) -> None:
        """End `updates()` for good and release the socket and the HTTP client."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._cancel_phase()
            await self._close_ws("closed", polite=True)
        await self._stop_side_tasks()
        if self._owns_tokens:
            await self.tokens.aclose()

    # -- the loop --------------------------------------------------------------------
    async def updates(self) -> AsyncIterator[Update]:  # noqa: C901 - the state machine, in one place
        """Run the connection and yield what happens, until `close()`."""
        if self._running:
            raise RuntimeError("updates() is already running for this connection")
        self._running = True
        want_up = self._autoconnect and self._action is None
        delay = 0.0
        try:
            while not self._closed:
                # 1. user actions
                action = self._action
                if action is not None:
                    self._action = None
                    if action is _Action.DISCONNECT:
                        want_up = False
                        if self._state is not S.STOPPED:
                            yield self._change(S.STOPPED, "disconnected by you")
                    else:
                        if self._state in (S.FAILED, S.STOPPED, S.IDLE):
                            self._failures = 0
                            self._invalid_streak = 0
                        want_up = True
                        delay = 0.0
                        self.failure = None
                if not want_up:
                    await self._wait(None)
                    continue
                if delay > 0:
                    if await self._wait(delay):
                        continue  # an action or close() came first: re-evaluate
                    delay = 0.0

                if self._transport_refusal is not None:
                    out, want_up, delay = self._fail(
                        FailureKind.CONFIG, self._transport_refusal, TRANSPORT_HINT
                    )
                    yield out
                    continue

                # 2. authenticating
                self._attempt += 1
                self.stats.attempts += 1
                refresh = self._rejected_token is not None
                yield self._change(S.AUTHENTICATING, self._auth_reason(refresh))
                r = await self._interruptible(
                    self.tokens.refresh(self._rejected_token) if refresh else self.tokens.get()
                )
                if r is _INTERRUPTED:
                    continue
                if isinstance(r, BaseException):
                    out, want_up, delay = self._auth_failed(r)
                    yield out
                    continue
                token: Token = r
                self._rejected_token = None
                if token is not self._announced_token:
                    yield self._token_info(token)

                # 3. connecting
                yield self._change(S.CONNECTING, f"opening the WebSocket to {self._ws_host()}")
                r = await self._interruptible(self._open(token))
                if r is _INTERRUPTED:
                    continue
                if isinstance(r, _Refused):
                    out, want_up, delay = self._refused(r, token)
                    yield out
                    continue
                if isinstance(r, BaseException):
                    out, want_up, delay = self._open_failed(r, token)
                    yield out
                    continue
                ws, early = r
                if self._closed or self._action in (_Action.DISCONNECT, _Action.RECONNECT):
                    self._ws = ws
                    await self._close_ws("closed", polite=True)
                    continue

                # 4. connected
                self._ws = ws
                self._drop = None
                self._hb_sent.clear()
                self._up_since_mono = self._mono()
                now = self._clock()
                st = self.stats
                st.connects += 1
                st.connected_since = now
                if self._ever_connected:
                    st.reconnects += 1
                    reason = "reconnected: build_connection accepted"
                else:
                    reason = (
                        f"build_connection accepted (subscription "
                        f"{mask_id(self.settings.subscription_id)})"
                    )
                self._ever_connected = True
                yield self._change(S.CONNECTED, reason, at=now)
                if self._down_since is not None:
                    yield self._gap(now)
                for item in early:
                    yield item
                self._start_side_tasks(ws)

                # 5. receiving: the hot path. Keep it lean.
                recv = ws.recv
                clock = self._clock
                mono = self._mono
                parse = parse_text_frame
                binary = ws.binary  # messages that came as binary frames (none, from Zoom)
                ordinal = ws.received
                max_bytes = self._max_frame
                pending = self._pending
                event_cls = ZoomEvent
                on_other = self._on_other_frame
                closed_exc: ConnectionClosed | None = None
                try:
                    while True:
                        self._last_rx = mono()  # the dead-link timer counts only while we wait
                        data = await recv(False)  # the UTF-8 as it came: see _ZoomSocket
                        now = clock()
                        self._last_rx = _INF
                        ordinal += 1
                        if binary:
                            item = _parse_received(ws, data, ordinal, now, max_bytes)
                        else:
                            item = parse(data, now, max_bytes)
                        if item.__class__ is event_cls:
                            st.events += 1
                            st.last_event_at = now
                            yield item
                        else:
                            other = on_other(item, now)
                            if other is not None:
                                yield other
                        while pending:
                            yield pending.popleft()
                except ConnectionClosed as exc:
                    closed_exc = exc
                except Exception as exc:  # a bug must not kill the monitor; the socket goes
                    log.warning("receive loop error: %s", redact(f"{type(exc).__name__}: {exc}"))
                    if self._drop is None:
                        self._drop = _Drop(f"internal error while receiving ({type(exc).__name__})")
                self._last_rx = _INF
                await self._stop_side_tasks()
                while pending:
                    yield pending.popleft()
                if self._ws is ws:
                    await self._close_ws("", polite=False)

                # 6. dropped: why, and what next
                up_for = self._mono() - self._up_since_mono
                drop = self._drop
                self._drop = None
                oversize = None
                if drop is None:
                    drop, oversize = self._classify_close(closed_exc)
                if oversize is not None:
                    self.stats.malformed += 1
                    yield oversize
                if self._closed:
                    break  # quitting while connected is the end of the record, not a gap
                now = self._clock()
                self.stats.connected_since = None
                if self._down_since is None:
                    self._down_since = drop.gap_start if drop.gap_start is not None else now
                    self._down_reason = drop.reason
                if self._action is _Action.DISCONNECT:
                    continue  # step 1 reports STOPPED
                if up_for >= self._stable_after:
                    self._failures = 0
                if up_for >= self._interval:
                    self._invalid_streak = 0
                if drop.refresh_token:
                    self._rejected_token = token
                if drop.invalid_token:
                    self._invalid_streak += 1
                    drop.immediate = self._invalid_streak <= 1
                if self._action is not None:
                    drop.immediate = True
                if drop.immediate:
                    delay = 0.0
                    yield self._change(S.RECONNECTING, drop.reason, retry_in=0.0)
                else:
                    out, want_up, delay = self._retry_after_failure(drop.reason)
                    yield out

            # closed: report the open gap and the final state
            now = self._clock()
            if self._down_since is not None:
                yield self._gap(now)
            if self._state not in (S.STOPPED, S.FAILED):
                yield self._change(S.STOPPED, "closed")
        finally:
            self._running = False
            self._cancel_phase()
            await self._stop_side_tasks()
            if self._ws is not None:
                await self._close_ws("", polite=False)

    # -- state helpers ---------------------------------------------------------------
    def _change(
        self,
        state: ConnectionState,
        reason: str,
        *,
        hint: str = "",
        retry_in: float | None = None,
        at: float | None = None,
    ) -> StateChanged:
        prev = self._state
        self._state = state
        reason = redact(reason)
        hint = redact(hint) if hint else ""
        self.stats.last_reason = reason
        if state is S.FAILED:
            log.warning("connection %s -> %s: %s", prev, state, reason)
        else:
            log.info("connection %s -> %s: %s", prev, state, reason)
        return StateChanged(
            state=state,
            previous=prev,
            reason=reason,
            at=self._clock() if at is None else at,
            hint=hint,
            retry_in=retry_in,
            attempt=self._attempt,
        )

    def _gap(self, end: float) -> Gap:
        start = self._down_since if self._down_since is not None else end
        gap = Gap(start=min(start, end), end=end, reason=self._down_reason)
        self._down_since = None
        self._down_reason = ""
        self.stats.gaps += 1
        return gap

    def _token_info(self, token: Token) -> TokenInfo:
        self._announced_token = token
        self.stats.token_expires_at = token.expires_at
        return TokenInfo(
            expires_at=token.expires_at, scopes=token.scopes, obtained_at=token.obtained_at
        )

    def _backoff(self) -> float:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(n-1)))."""
        self._failures += 1
        ceiling = min(self._cap, self._base * (2 ** min(self._failures - 1, 62)))
        return self._rng.uniform(0.0, ceiling)

    def _retry_after_failure(
        self,
        reason: str,
        *,
        at_least: float = 0.0,
    ) -> tuple[StateChanged, bool, float]:
        """RECONNECTING with the next backoff delay, or FAILED once we give up."""
        delay = max(at_least, self._backoff())
        if self._give_up_after is not None and self._failures >= self._give_up_after:
            self.failure = FailureKind.GAVE_UP
            return (
                self._change(
                    S.FAILED,
                    f"gave up after {self._failures} failed attempts in a row; last: {reason}",
                    hint="Press connect to try again, or check the network and Zoom's status page.",
                ),
                False,
                0.0,
            )
        return self._change(S.RECONNECTING, reason, retry_in=delay), True, delay

    def _fail(self, kind: FailureKind, reason: str, hint: str) -> tuple[StateChanged, bool, float]:
        self.failure = kind
        return self._change(S.FAILED, reason, hint=hint), False, 0.0

    def _auth_reason(self, refresh: bool) -> str:
        host = urlsplit(self.settings.oauth_url).netloc or "the token endpoint"
        if refresh:
            return f"getting a new access token from {host} (Zoom said the old one is invalid)"
        tok = self.tokens.token
        if self.tokens.is_fresh(tok):
            left = tok.expires_at - self._clock()  # type: ignore[union-attr]
            return f"reusing the access token (expires in {fmt_seconds(left)})"
        return f"getting an access token from {host}"

    def _auth_failed(self, exc: BaseException) -> tuple[StateChanged, bool, float]:
        if isinstance(exc, CredentialsRejected):
            return self._fail(FailureKind.CREDENTIALS, exc.message, exc.hint)
        if isinstance(exc, RateLimited):
            return self._retry_after_failure(exc.message, at_least=exc.retry_after)
        if isinstance(exc, AuthError):
            return self._retry_after_failure(exc.message)
        log.debug("token request failed: %s", redact(f"{type(exc).__name__}: {exc}"))
        return self._retry_after_failure(f"token request failed ({type(exc).__name__})")

    def _ws_host(self) -> str:
        return urlsplit(self.settings.ws_url).netloc or self.settings.ws_url

    # -- waiting and interrupting ----------------------------------------------------
    def _post(self, action: _Action) -> None:
        if self._closed:
            return
        if action is _Action.CONNECT and self._state in (
            S.AUTHENTICATING,
            S.CONNECTING,
            S.CONNECTED,
        ):
            return  # already doing what the user wants
        self._action = action
        self._wake.set()
        if action is _Action.CONNECT:
            return  # nothing to interrupt
        self._cancel_phase()
        if self._ws is not None and self._drop is None:
            if action is _Action.DISCONNECT:
                self._interrupt("disconnected by you")
            else:
                self._interrupt("reconnecting at your request", immediate=True)

    async def _wait(self, delay: float | None) -> bool:
        """Sleep `delay` seconds (None: forever); True when an action or close() cut it short."""
        if self._action is not None or self._closed:
            return True
        self._wake.clear()
        if delay is None:
            await self._wake.wait()
            return True
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    async def _interruptible(self, aw: Awaitable[Any]) -> Any:
        """Run one phase as a task that a user action can cancel.

        Returns the result, the exception it raised, or `_INTERRUPTED`.
        """
        task = asyncio.ensure_future(aw)
        self._phase_task = task
        try:
            await asyncio.wait((task,))
        finally:
            self._phase_task = None
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task.cancelled():
            return _INTERRUPTED
        exc = task.exception()
        if exc is not None:
            return exc
        return task.result()

    def _cancel_phase(self) -> None:
        if self._phase_task is not None and not self._phase_task.done():
            self._phase_task.cancel()

    def _interrupt(
        self,
        reason: str,
        *,
        immediate: bool = False,
        refresh_token: bool = False,
        abort: bool = False,
        gap_start: float | None = None,
        invalid_token: bool = False,
    ) -> None:
        """Close the open socket with a reason chosen by us; the receive loop reports it."""
        if self._drop is None:
            self._drop = _Drop(
                reason=reason,
                immediate=immediate,
                refresh_token=refresh_token,
                gap_start=gap_start,
                invalid_token=invalid_token,
            )
        ws = self._ws
        if ws is None:
            return
        if abort:
            ws.transport.abort()
        else:
            self._spawn(self._close_ws_quietly(ws))

    async def _close_ws_quietly(self, ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(self._close_timeout + 0.5):
                await ws.close()
        except Exception:
            ws.transport.abort()

    async def _close_ws(self, reason: str, *, polite: bool) -> None:
        ws = self._ws
        if ws is None:
            return
        if reason and self._drop is None:
            self._drop = _Drop(reason=reason)
        if self._ws is ws:
            self._ws = None
        if polite:
            await self._close_ws_quietly(ws)
        else:
            ws.transport.abort()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._side_tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task) -> None:
        with contextlib.suppress(ValueError):
            self._side_tasks.remove(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("side task failed: %s", redact(repr(task.exception())))

    def _start_side_tasks(self, ws: ClientConnection) -> None:
        self._spawn(self._keeper(ws))
        self._spawn(self._token_keeper())

    async def _stop_side_tasks(self) -> None:
        tasks = [t for t in self._side_tasks if not t.done()]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t

    # -- connecting ------------------------------------------------------------------
    def _url(self, token: Token) -> str:
        base = self.settings.ws_url
        query = urlencode(
            {
                "subscriptionId": self.settings.subscription_id,
                "access_token": token.access_token.reveal(),
            }
        )
        return f"{base}{'&' if '?' in base else '?'}{query}"

    async def _open(self, token: Token) -> tuple[_ZoomSocket, list[Update]] | _Refused:
        """Handshake, then wait for build_connection. Frames before it are kept, not lost."""
        ws = await connect(
            self._url(token),
            # HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, as httpx does (a proxy
            # sees only CONNECT host:port; with wss:// the URL and its token stay in TLS)
            proxy=True,
            ping_interval=None,  # Zoom uses its own heartbeat, not WebSocket pings
            max_size=self._ws_max_size,
            open_timeout=self._open_timeout,
            close_timeout=self._close_timeout,
            user_agent_header=USER_AGENT,
            create_connection=_ZoomSocket,
        )
        early: list[Update] = []
        try:
            async with asyncio.timeout(self._open_timeout):
                while True:
                    data = await ws.recv(False)
                    now = self._clock()
                    ws.received += 1
                    item = _parse_received(ws, data, ws.received, now, self._max_frame)
                    if isinstance(item, Envelope):
                        if item.kind == KIND_INVALID_TOKEN or (
                            item.kind == KIND_BUILD_CONNECTION and item.success is False
                        ):
                            await self._close_quietly(ws)
                            return _Refused(item)
                        if item.kind == KIND_BUILD_CONNECTION:
                            return ws, early
                    if isinstance(item, ZoomEvent):
                        self.stats.events += 1
                        self.stats.last_event_at = now
                        early.append(item)
                    else:
                        other = self._on_other_frame(item, now)
                        if other is not None:
                            early.append(other)
        except TimeoutError:
            await self._close_quietly(ws)
            raise _NoBuildConnection(self._open_timeout) from None
        except BaseException:
            ws.transport.abort()
            raise

    async def _close_quietly(self, ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(self._close_timeout + 0.5):
                await ws.close()
        except Exception:
            ws.transport.abort()

    def _open_error_reason(self, exc: BaseException) -> str:
        host = self._ws_host()
        if isinstance(exc, _NoBuildConnection):
            return f"no build_connection answer from {host} within {fmt_seconds(exc.seconds)}"
        if isinstance(exc, ConnectionClosed):
            return f"{host} closed the connection before build_connection ({_close_text(exc)})"
        if isinstance(exc, InvalidStatus):
            return f"{host} refused the WebSocket handshake (HTTP {exc.response.status_code})"
        if isinstance(exc, TimeoutError):
            return f"the WebSocket handshake with {host} timed out"
        if isinstance(exc, InvalidURI):
            return f"the WebSocket URL is not valid ({host})"
        if isinstance(exc, InvalidHandshake):
            return f"the WebSocket handshake with {host} failed: {redact(exc)}"
        if isinstance(exc, OSError):
            what = exc.strerror or str(exc) or type(exc).__name__
            return f"could not connect to {host}: {redact(what)}"
        log.debug("connect failed: %s", redact(f"{type(exc).__name__}: {exc}"))
        return f"could not connect to {host} ({type(exc).__name__})"

    def _open_failed(self, exc: BaseException, token: Token) -> tuple[StateChanged, bool, float]:
        reason = self._open_error_reason(exc)
        if isinstance(exc, InvalidStatus):
            status = exc.response.status_code
            if status in (401, 403):  # the handshake itself refused the token
                return self._token_refused(token, reason)
            if status == 404:
                src = self.settings.sources.get("ws_url")
                where = f" (ws_url from {src})" if src else ""
                return self._fail(
                    FailureKind.CONFIG,
                    reason,
                    f"Nothing answers at that WebSocket path{where}: check the "
                    "WebSocket URL (Zoom's is wss://ws.zoom.us/ws).",
                )
        if isinstance(exc, InvalidURI):
            return self._fail(FailureKind.CONFIG, reason, "Check the WebSocket URL setting.")
        return self._retry_after_failure(reason)

    def _token_refused(self, token: Token, reason: str) -> tuple[StateChanged, bool, float]:
        """New token and reconnect at once; back off if the fresh token is refused too."""
        self._rejected_token = token
        self._invalid_streak += 1
        if self._invalid_streak <= 1:
            return self._change(S.RECONNECTING, reason, retry_in=0.0), True, 0.0
        return self._retry_after_failure(reason)

    def _refused(self, r: _Refused, token: Token) -> tuple[StateChanged, bool, float]:
        env = r.envelope
        text = env.content_text
        low = text.lower()
        if env.kind == KIND_INVALID_TOKEN or "token" in low:
            return self._token_refused(
                token, f'Zoom refused the access token ("{text}"); getting a new one'
            )
        sub = mask_id(self.settings.subscription_id)
        src = self.settings.sources.get("subscription_id")
        where = f" (from {src})" if src else ""
        if "subscription" in low:
            reason = f'Zoom refused subscription {sub}{where}: "{text}"'
        else:
            reason = f'Zoom refused the connection to subscription {sub}{where}: "{text}"'
        return self._fail(FailureKind.SUBSCRIPTION, reason, SUBSCRIPTION_HINT)

    # -- connected: frames other than events, heartbeats, token renewal ---------------
    def _on_other_frame(
        self, item: Envelope | MalformedFrame | ZoomEvent, now: float
    ) -> Update | None:
        st = self.stats
        if isinstance(item, MalformedFrame):
            st.malformed += 1
            return item
        if not isinstance(item, Envelope):  # pragma: no cover - events never get here
            return item
        kind = item.kind
        if kind == KIND_HEARTBEAT:
            sent = self._hb_sent
            if not sent:
                return None  # an answer we did not ask for: the frame still proved the link alive
            rtt = max(0.0, self._mono() - sent.popleft())
            sent.clear()  # one answer covers every older request
            hb = Heartbeat(rtt=rtt, at=now)
            st.heartbeats += 1
            st.last_heartbeat = hb
            return hb
        if kind == KIND_INVALID_TOKEN:
            self._interrupt(
                f'Zoom says the access token is invalid ("{item.content_text}"); getting a new one',
                refresh_token=True,
                invalid_token=True,
            )
            return None
        st.notices += 1
        if kind == KIND_BUILD_CONNECTION:
            text = f"build_connection again ({item.content_text})"
        elif item.success is False:
            text = f"Zoom reported an error in module {item.module!r}: {item.content_text}"
        else:
            text = f"unknown module {item.module!r}"
        return Notice(envelope=item, text=redact(text))

    async def _keeper(self, ws: ClientConnection) -> None:
        """Heartbeat every interval; abort the socket after 1.5 intervals without a frame."""
        interval = self._interval
        limit = interval * DEAD_AFTER_INTERVALS
        mono = self._mono
        next_hb = mono()  # first heartbeat at once: an RTT on screen right away
        try:
            while True:
                now = mono()
                if now >= next_hb:
                    self._hb_sent.append(now)
                    try:
                        await ws.send(HEARTBEAT_REQUEST)
                    except ConnectionClosed:
                        raise
                    except Exception as exc:  # without heartbeats this link cannot be trusted
                        self._interrupt(
                            f"could not send a heartbeat ({type(exc).__name__})", abort=True
                        )
                        return
                    next_hb = max(next_hb + interval, now + interval / 2)
                    now = mono()
                waiting_since = self._last_rx
                if now - waiting_since >= limit:
                    silent = now - waiting_since
                    self._interrupt(
                        f"no frame from Zoom for {fmt_seconds(silent)}",
                        abort=True,
                        gap_start=self._clock() - silent,
                    )
                    return
                await asyncio.sleep(max(0.0, min(next_hb, waiting_since + limit) - now))
        except ConnectionClosed:
            return

    async def _token_keeper(self) -> None:
        """Renew the token ahead of expiry while connected; the socket stays up."""
        tokens = self.tokens
        while True:
            tok = tokens.token
            if tok is None:
                return
            wait = tokens.refresh_due_at(tok) - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                new = await tokens.get()
            except RateLimited as exc:
                await asyncio.sleep(max(1.0, exc.retry_after))
                continue
            except AuthError as exc:
                left = tok.expires_at - self._clock()
                log.warning("token renewal failed (%s); the connection stays up", exc.message)
                await asyncio.sleep(min(60.0, max(1.0, left / 4)))
                continue
            if new is not self._announced_token:
                self._pending.append(self._token_info(new))
                log.info("access token renewed ahead of expiry; the connection stays up")

    # -- closes ----------------------------------------------------------------------
    def _healthy(self) -> bool:
        """Heartbeats answered on time: a server close now is not our link's fault."""
        sent = self._hb_sent
        return not sent or self._mono() - sent[0] < self._interval

    def _classify_close(self, exc: ConnectionClosed | None) -> tuple[_Drop, MalformedFrame | None]:
        if exc is None:
            return _Drop("the connection ended"), None
        sent, rcvd = exc.sent, exc.rcvd
        if sent is not None and sent.code == 1009 and not exc.rcvd_then_sent:
            now = self._clock()
            limit = self._ws_max_size
            bad = MalformedFrame(
                raw=b"", received_at=now, reason=f"frame over {limit:,} bytes: too large to receive"
            )
            return _Drop(f"Zoom sent a frame over {limit:,} bytes; reconnecting"), bad
        if rcvd is None:
            return _Drop(f"connection lost without a close frame ({_close_text(exc)})"), None
        text = f"server closed the connection ({_close_text(exc)})"
        # A healthy link closed on purpose by the server: 1000, or any code without a reason
        # (1001 "going away" is a server shutting down or restarting, not a displacement).
        if self._healthy() and rcvd.code != 1001 and (rcvd.code == 1000 or not rcvd.reason):
            text += "; possibly displaced by another connection on this subscription"
        return _Drop(text), None


@dataclass(slots=True)
class _Refused:
    envelope: Envelope


class _NoBuildConnection(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no build_connection within {seconds} s")
        self.seconds = seconds


def _close_text(exc: ConnectionClosed) -> str:
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "1006"
    return f"{int(frame.code)}: {redact(frame.reason)}" if frame.reason else f"{int(frame.code)}"
