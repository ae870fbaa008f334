"""The connection to Zoom's WebSocket: one object, one public loop, never wrong about its state.

    idle -> authenticating -> connecting -> connected
         -> (reconnecting -> authenticating -> ...) | displaced | stopped | failed

`ZoomConnection.updates()` is an async generator that *is* the state machine: it authenticates,
connects, receives, and reports everything as typed values (`zoomtui.zoom.updates`). It runs one
phase at a time: between links (`_until_connected`: `_after_drop` when a link has just dropped,
then for each attempt the user's action and the wait before trying, `_authenticate`, and
`_open`, the socket and build_connection), then receiving until the link drops.

Its parts live beside it: the socket, opening and closing it (`zoomtui.zoom.zoomsocket`),
why a link ended, in words (`zoomtui.zoom.drops`), how a failure is answered, backoff
included (`zoomtui.zoom.retries`), and the two helper tasks that run while connected
(`zoomtui.zoom.keepers`): the heartbeat keeper (detects a dead link) and the token
keeper (renews the token before it expires, without dropping the connection).
They never touch the consumer directly; they interrupt the socket (the loop then sees a close
with a reason already chosen) or queue an update that the loop hands out after the next frame.

The receive path is kept lean on purpose: per frame it calls `recv(False)` (the
frame's UTF-8 as it came, see `ZoomSocket`), one clock read and one monotonic read,
one search per secret the connection holds (`HeldSecrets`: a frame that echoes one is
masked before anything sees it), `parse_text_frame()`, two counter stores and a `yield`.
No per-frame timeouts: the dead-link timer lives in the keeper.

Displaced by another consumer of the subscription, it does not reconnect by itself unless
the profile's `on_displaced` says so (`zoomtui.zoom.retries.Retries.displaced`): DISPLACED
waits for `request_connect()`, which takes the subscription back.

Nothing here prints or logs a token: the WebSocket URL is built at the last
moment and every reason and log message goes through `redact()`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed

from zoomtui.profilestate import FIRST_CONNECTION_NOTICE
from zoomtui.redaction import HeldSecrets, mask_id, redact
from zoomtui.settings import ConnectionSettings, DisplacedPolicy, SettingsError
from zoomtui.timefmt import duration_short
from zoomtui.zoom.auth import Token, TokenCache, TokenProvider
from zoomtui.zoom.control import INTERRUPTED, Action, LinkControl
from zoomtui.zoom.drops import Drop, classify_close
from zoomtui.zoom.frames import ConnectionStats, OtherFrames
from zoomtui.zoom.keepers import DEAD_AFTER_INTERVALS, NOT_WAITING, Heartbeats, renew_token_ahead
from zoomtui.zoom.protocol import ZoomEvent, parse_text_frame
from zoomtui.zoom.retries import TRANSPORT_HINT, FailureKind, Retries, Verdict
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, TokenInfo, Update
from zoomtui.zoom.zoomsocket import (
    OVERSIZE_FACTOR,
    NoBuildConnection,
    Refused,
    ZoomSocket,
    open_socket,
    parse_received,
    url_with_token,
    wait_for_build_connection,
)

# Imported by callers from here: the connection's public names, wherever they are defined.
__all__ = ["DEAD_AFTER_INTERVALS", "ConnectionStats", "FailureKind", "ZoomConnection"]

log = logging.getLogger(__name__)

S = ConnectionState
_INF = NOT_WAITING


@dataclass(slots=True)
class _Attempt:
    """What one attempt has got so far (None: the attempt ended before that)."""

    token: Token | None = None  # from `_authenticate`, for `_open`


@dataclass(slots=True)
class _Link:
    """The open link, from CONNECTED until `_after_drop` has let it go."""

    ws: ZoomSocket
    token: Token  # the token it was opened with
    closed_by: ConnectionClosed | None = None  # the close that ended the receive phase


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
        on_displaced: DisplacedPolicy | None = None,
        is_first_connection: Callable[[str], bool] | None = None,
        token_cache: TokenCache | None = None,
    ) -> None:
        """`token_cache`: where the connection's own provider shares tokens (None: nowhere).
        `on_displaced`: the policy after a displacement (default: the settings').
        `is_first_connection(profile)`: asked at the first CONNECTED; True adds to its
        reason that connecting may disconnect a consumer already using the subscription
        (the front end remembers, per profile, that it was said)."""
        self.settings = settings
        self._owns_tokens = tokens is None
        self.tokens = tokens or TokenProvider(settings, clock=clock, cache=token_cache)
        self._clock = clock
        self._mono = monotonic
        self._autoconnect = autoconnect
        self._open_timeout = open_timeout
        self._on_displaced = on_displaced if on_displaced is not None else settings.displaced_policy
        self._is_first_connection = is_first_connection
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
        self._retries = Retries(
            settings,
            rng=rng if rng is not None else random.Random(),
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            give_up_after=give_up_after,
            stable_after=stable_after,
            heartbeat_interval=self._interval,
        )
        self._want_up = False  # try to connect (False: stay STOPPED or FAILED until asked)
        self._delay = 0.0  # seconds to wait before the next attempt
        self._running = False
        self._control = LinkControl(close_timeout)  # actions, close(), the socket, its drop
        self._pending: deque[Update] = deque()  # updates from side tasks, handed out by the loop
        self._heartbeats = Heartbeats(self._interval, monotonic)
        self._link: _Link | None = None  # the open link (or the one that just dropped)
        self._frames = OtherFrames(self.stats, self._heartbeats, self._control.interrupt)
        self._up_since_mono = 0.0
        self._down_since: float | None = None
        self._down_reason = ""
        self._announced_token: Token | None = None
        self._rejected_token: Token | None = None
        self._ever_connected = False
        secret = settings.client_secret.reveal()
        basic = base64.b64encode(f"{settings.client_id}:{secret}".encode()).decode()
        self._held = HeldSecrets(secret, basic)  # and each token, as it comes

    # -- public ----------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._control.closed

    def request_connect(self) -> None:
        """Connect (from IDLE, STOPPED, FAILED or DISPLACED: that takes the subscription
        back from the other consumer); while waiting to retry, retry now."""
        self._control.post(Action.CONNECT, self._state)

    def request_disconnect(self) -> None:
        """Close the connection and stay STOPPED until `request_connect()`."""
        self._control.post(Action.DISCONNECT, self._state)

    def request_reconnect(self) -> None:
        """Drop the connection (if any) and connect again now, skipping any backoff wait."""
        self._control.post(Action.RECONNECT, self._state)

    async def close(self) -> None:
        """End `updates()` for good and release the socket and the HTTP client."""
        await self._control.close()
        await self._control.side_tasks.stop()
        if self._owns_tokens:
            await self.tokens.aclose()

    # -- the loop --------------------------------------------------------------------
    async def updates(self) -> AsyncIterator[Update]:
        """Run the connection and yield what happens, until `close()`.

        Two parts take turns: `_until_connected` runs the phases between links (after a
        drop, then attempt after attempt until one is CONNECTED), and the receive phase
        runs the link until it drops.  Receiving is written out here rather than in a
        method: handing each frame on from a nested generator would add an await per
        frame to the hot path.
        """
        self._begin()
        try:
            while True:
                async for out in self._until_connected():
                    yield out
                link = self._link
                if link is None:
                    break  # closed: the record is complete
                ws = link.ws

                # receive until the link drops: the hot path, keep it lean
                recv, clock, mono, parse = ws.recv, self._clock, self._mono, parse_text_frame
                heartbeats = self._heartbeats  # its dead-link timer counts only while we wait
                binary = ws.binary  # messages that came as binary frames (none, from Zoom)
                ordinal, max_bytes, st = ws.received, self._max_frame, self.stats
                pending, event_cls, on_other = self._pending, ZoomEvent, self._frames.take
                held = self._held  # secrets we hold, masked in a frame that echoes one
                try:
                    while True:
                        heartbeats.waiting_since = mono()
                        data = await recv(False)  # the UTF-8 as it came: see ZoomSocket
                        now = clock()
                        heartbeats.waiting_since = _INF
                        for probe in held.probes:
                            if probe in data:
                                data = held.scrub(data)
                                break
                        ordinal += 1
                        if binary:
                            item = parse_received(ws, data, ordinal, now, max_bytes)
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
                except Exception as exc:  # the link closed, or a bug: the socket goes
                    self._receive_ended(link, exc)
        finally:
            await self._release()

    async def _until_connected(self) -> AsyncIterator[Update]:
        """The phases between links: after a drop, then attempt after attempt (the user's
        action, the wait, `_authenticate`, `_open`) until one is CONNECTED (`_link`) or
        `close()` ends the record (the open gap and the final state)."""
        link = self._link
        if link is not None:  # its link has just dropped
            self._link = None
            async for out in self._after_drop(link):
                yield out
        while not self._control.closed:
            change = self._take_action()
            if change is not None:
                yield change
            if not await self._ready_to_try():
                continue
            attempt = _Attempt()
            async for out in self._authenticate(attempt):
                yield out
            async for out in self._open(attempt):
                yield out
            if self._link is not None:
                return
        for out in self._closing():
            yield out

    # -- the phases ------------------------------------------------------------------
    def _begin(self) -> None:
        if self._running:
            raise RuntimeError("updates() is already running for this connection")
        self._running = True
        self._want_up = self._autoconnect and self._control.action is None
        self._delay = 0.0
        self._link = None

    def _take_action(self) -> StateChanged | None:
        """The user's last action (connect, disconnect, reconnect), if any."""
        action = self._control.action
        if action is None:
            return None
        self._control.action = None
        if action is Action.DISCONNECT:
            self._want_up = False
            if self._state is not S.STOPPED:
                return self._change(S.STOPPED, "disconnected by you")
            return None
        if self._state in (S.FAILED, S.STOPPED, S.IDLE, S.DISPLACED):
            self._retries.reset()
        self.tokens.waive_wait()  # a person's connect or reconnect asks now, not in 10 min
        self._want_up = True
        self._delay = 0.0
        self.failure = None
        return None

    async def _ready_to_try(self) -> bool:
        """Wait while stopped or backing off; False when an action or close() cut the wait
        short (the loop then looks again)."""
        if not self._want_up:
            await self._control.wait(None)
            return False
        if self._delay > 0:
            if await self._control.wait(self._delay):
                return False
            self._delay = 0.0
        return True

    async def _authenticate(self, attempt: _Attempt) -> AsyncIterator[Update]:
        """Get an access token (a new one when Zoom refused the last): `attempt.token`."""
        if self._transport_refusal is not None:
            verdict = Verdict(
                self._transport_refusal, failure=FailureKind.CONFIG, hint=TRANSPORT_HINT
            )
            yield self._settle(verdict)
            return
        self._attempt += 1
        self.stats.attempts += 1
        refresh = self._rejected_token is not None
        yield self._change(S.AUTHENTICATING, self._auth_reason(refresh))
        r = await self._control.run_phase(
            self.tokens.refresh(self._rejected_token) if refresh else self.tokens.get()
        )
        if r is INTERRUPTED:
            return
        if isinstance(r, BaseException):
            yield self._settle(self._retries.auth_failed(r))
            return
        token: Token = r
        attempt.token = token
        self._rejected_token = None
        if token is not self._announced_token:
            yield self._token_info(token)

    async def _open(self, attempt: _Attempt) -> AsyncIterator[Update]:
        """Open the WebSocket and wait for build_connection: `_link`, once CONNECTED."""
        token = attempt.token
        if token is None:
            return
        yield self._change(S.CONNECTING, f"opening the WebSocket to {self._ws_host()}")
        r = await self._control.run_phase(self._handshake(token))
        if r is INTERRUPTED:
            return
        if isinstance(r, Refused):
            yield self._settle(self._retries.refused(r.envelope), token)
            return
        if isinstance(r, BaseException):
            yield self._settle(self._retries.open_failed(r, self._ws_host()), token)
            return
        ws, early = r
        control = self._control
        if control.closed or control.action in (Action.DISCONNECT, Action.RECONNECT):
            control.ws = ws
            await control.close_ws("closed", polite=True)
            return
        change = self._connected(ws)
        yield change
        if self._down_since is not None:
            yield self._gap(change.at)
        for item in early:
            yield item
        control.side_tasks.spawn(self._heartbeats.keep(ws, control.interrupt, self._clock))
        control.side_tasks.spawn(renew_token_ahead(self.tokens, self._clock, self._token_renewed))
        self._link = _Link(ws, token)

    def _connected(self, ws: ZoomSocket) -> StateChanged:
        """The link is up: CONNECTED, counted."""
        self._control.ws = ws
        self._control.drop = None
        self._heartbeats.sent.clear()
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
                f"build_connection accepted (subscription {mask_id(self.settings.subscription_id)})"
            )
            first = self._is_first_connection
            if first is not None and first(self.settings.profile):
                reason += f"; {FIRST_CONNECTION_NOTICE}"
        self._ever_connected = True
        return self._change(S.CONNECTED, reason, at=now)

    def _receive_ended(self, link: _Link, exc: Exception) -> None:
        """The receive loop ended: the link closed, or a bug (which must not kill the monitor)."""
        if isinstance(exc, ConnectionClosed):
            link.closed_by = exc
            return
        log.warning("receive loop error: %s", redact(f"{type(exc).__name__}: {exc}"))
        if self._control.drop is None:
            self._control.drop = Drop(f"internal error while receiving ({type(exc).__name__})")

    async def _after_drop(self, link: _Link) -> AsyncIterator[Update]:
        """The link is down: let it go, say why, open the gap, and choose what comes next."""
        ws, control = link.ws, self._control
        self._heartbeats.waiting_since = _INF
        await control.side_tasks.stop()
        pending = self._pending
        while pending:
            yield pending.popleft()
        if control.ws is ws:
            await control.close_ws("", polite=False)

        up_for = self._mono() - self._up_since_mono
        drop = control.drop
        control.drop = None
        oversize = None
        if drop is None:
            drop, oversize = classify_close(
                link.closed_by,
                ws_max_size=self._ws_max_size,
                clock=self._clock,
                healthy=self._heartbeats.healthy,
            )
        if oversize is not None:
            self.stats.malformed += 1
            yield oversize
        if control.closed:
            return  # quitting while connected is the end of the record, not a gap
        change = self._next_after_drop(drop, up_for, link.token)
        if change is not None:
            yield change

    def _next_after_drop(self, drop: Drop, up_for: float, token: Token) -> StateChanged | None:
        """RECONNECTING now or after a backoff, or DISPLACED (None: a disconnect, reported
        as STOPPED by the next pass)."""
        now = self._clock()
        self.stats.connected_since = None
        if self._down_since is None:
            self._down_since = drop.gap_start if drop.gap_start is not None else now
            self._down_reason = drop.reason
        action = self._control.action
        if action is Action.DISCONNECT:
            return None
        self._retries.link_lasted(up_for)
        if drop.refresh_token:
            self._rejected_token = token
        if drop.invalid_token:
            drop.immediate = self._retries.token_invalid()
        if action is not None:
            drop.immediate = True
        if drop.immediate:
            return self._settle(Verdict(drop.reason, retry_in=0.0))
        if drop.displaced:
            return self._settle(self._retries.displaced(drop, self._on_displaced))
        return self._settle(self._retries.after_failure(drop.reason))

    def _closing(self) -> Iterator[Update]:
        """closed: report the open gap and the final state."""
        now = self._clock()
        if self._down_since is not None:
            yield self._gap(now)
        if self._state not in (S.STOPPED, S.FAILED):
            yield self._change(S.STOPPED, "closed")

    async def _release(self) -> None:
        self._running = False
        control = self._control
        control.cancel_phase()
        await control.side_tasks.stop()
        if control.ws is not None:
            await control.close_ws("", polite=False)

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
        reason, hint = redact(reason), (redact(hint) if hint else "")
        self.stats.last_reason = reason
        if state in (S.FAILED, S.DISPLACED):  # a person has to decide
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
            gap_since=self._down_since,
        )

    def _settle(self, verdict: Verdict, token: Token | None = None) -> StateChanged:
        """Act on what a failed attempt leads to: FAILED, RECONNECTING after a delay, or
        DISPLACED (until a person acts, or a delay)."""
        if verdict.token_refused:
            self._rejected_token = token
        if verdict.displaced:
            waits = verdict.wait_for_person
            self._want_up, self._delay = not waits, verdict.retry_in
            retry_in = None if waits else verdict.retry_in
            return self._change(S.DISPLACED, verdict.reason, hint=verdict.hint, retry_in=retry_in)
        if verdict.failure is not None:
            self.failure = verdict.failure
            self._want_up, self._delay = False, 0.0
            return self._change(S.FAILED, verdict.reason, hint=verdict.hint)
        self._want_up, self._delay = True, verdict.retry_in
        return self._change(S.RECONNECTING, verdict.reason, retry_in=verdict.retry_in)

    def _gap(self, end: float) -> Gap:
        start = self._down_since if self._down_since is not None else end
        gap = Gap(start=min(start, end), end=end, reason=self._down_reason)
        self._down_since = None
        self._down_reason = ""
        self.stats.gaps += 1
        return gap

    def _token_info(self, token: Token) -> TokenInfo:
        self._announced_token = token
        self._held.hold(token.access_token.reveal())
        self.stats.token_expires_at = token.expires_at
        return TokenInfo(
            expires_at=token.expires_at,
            scopes=token.scopes,
            obtained_at=token.obtained_at,
            api_url=token.api_url,
            from_cache=token.from_cache,
        )

    def _token_renewed(self, token: Token) -> None:
        """The token keeper got a token: announce it if it is new."""
        if token is not self._announced_token:
            self._pending.append(self._token_info(token))
            log.info("access token renewed ahead of expiry; the connection stays up")

    def _auth_reason(self, refresh: bool) -> str:
        host = urlsplit(self.settings.oauth_url).netloc or "the token endpoint"
        if refresh:
            return f"getting a new access token from {host} (Zoom said the old one is invalid)"
        tok = self.tokens.token
        if self.tokens.is_fresh(tok):
            left = tok.expires_at - self._clock()
            return f"reusing the access token (expires in {duration_short(left)})"
        return f"getting an access token from {host}"

    def _ws_host(self) -> str:
        return urlsplit(self.settings.ws_url).netloc or self.settings.ws_url

    # -- connecting ------------------------------------------------------------------
    async def _handshake(self, token: Token) -> tuple[ZoomSocket, list[Update]] | Refused:
        """Handshake, then wait for build_connection, within one deadline for both
        (`open_timeout`), whatever the server trickles. Frames before it are kept, not lost."""
        ws: ZoomSocket | None = None
        try:
            async with asyncio.timeout(self._open_timeout):
                ws = await open_socket(
                    url_with_token(self.settings, token),
                    max_size=self._ws_max_size,
                    open_timeout=self._open_timeout,
                    close_timeout=self._close_timeout,
                )
                answer = await wait_for_build_connection(
                    ws,
                    timeout=self._open_timeout,
                    close_timeout=self._close_timeout,
                    max_bytes=self._max_frame,
                    clock=self._clock,
                    take=self._frames.take_early,
                    held=self._held,
                )
        except TimeoutError:
            if ws is None:
                raise  # the handshake itself timed out
            raise NoBuildConnection(self._open_timeout) from None  # the socket was aborted
        return answer if isinstance(answer, Refused) else (ws, answer)
