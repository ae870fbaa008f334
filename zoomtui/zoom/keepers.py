"""The helpers that run beside the receive loop while a link is up, and the tasks they run in.

`Heartbeats.keep` sends Zoom's heartbeat every interval and aborts a link that stays
silent for 1.5 intervals (a silence while the monitor itself was stalled is not Zoom's: the
timer knows it woke late, and the link gets a heartbeat and a grace first); the receive loop tells it when it is waiting for a frame
(`waiting_since`), so the dead-link timer costs the hot path two attribute stores and
no timeout per frame.  `renew_token_ahead` gets a new access token before the old one
expires, without dropping the link.  Neither touches the consumer: they interrupt the
link (the loop then sees a close with a reason already chosen) or hand a value to the
connection, which queues it for the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from zoomtui.redaction import redact
from zoomtui.timefmt import duration_short
from zoomtui.zoom.auth import AuthError, RateLimited, Token, TokenProvider
from zoomtui.zoom.protocol import HEARTBEAT_REQUEST
from zoomtui.zoom.updates import Heartbeat

# One logger for the whole connection, whichever of its modules speaks.
log = logging.getLogger("zoomtui.zoom.connection")

#: how many heartbeat intervals without any frame mean the link is dead (ZoomNet: 45 s / 30 s)
DEAD_AFTER_INTERVALS = 1.5
NOT_WAITING = float("inf")
#: the dead-link timer waking this late (a fraction of the limit) means the monitor stalled
STALL_SLACK = 0.25
#: ...and the link then gets this long (a fraction of the limit) to prove itself alive
STALL_GRACE = 0.5


class Interrupt(Protocol):
    """Close the open link with a reason chosen first (`LinkControl.interrupt`)."""

    def __call__(
        self,
        reason: str,
        *,
        abort: bool = ...,
        gap_start: float | None = ...,
        refresh_token: bool = ...,
        invalid_token: bool = ...,
    ) -> None: ...


class Heartbeats:
    """The heartbeat requests sent on the open link, the answers to them, and the
    dead-link timer."""

    __slots__ = ("interval", "mono", "sent", "waiting_since")

    def __init__(self, interval: float, mono: Callable[[], float]) -> None:
        self.interval = interval
        self.mono = mono
        self.sent: deque[float] = deque()  # monotonic send times of unanswered heartbeats
        #: monotonic time the receive loop started waiting for a frame (NOT_WAITING: it isn't)
        self.waiting_since = NOT_WAITING

    def answered(self, at: float) -> Heartbeat | None:
        """A heartbeat answer came at `at`: its round trip, or None for one not asked for
        (that frame still proved the link alive)."""
        sent = self.sent
        if not sent:
            return None
        rtt = max(0.0, self.mono() - sent.popleft())
        sent.clear()  # one answer covers every older request
        return Heartbeat(rtt=rtt, at=at)

    def healthy(self) -> bool:
        """Heartbeats answered on time: a server close now is not our link's fault."""
        sent = self.sent
        return not sent or self.mono() - sent[0] < self.interval

    async def keep(
        self, ws: ClientConnection, interrupt: Interrupt, clock: Callable[[], float]
    ) -> None:
        """Heartbeat every interval; abort the socket after 1.5 intervals without a frame."""
        interval = self.interval
        limit = interval * DEAD_AFTER_INTERVALS
        mono = self.mono
        next_hb = mono()  # first heartbeat at once: an RTT on screen right away
        wake_at = next_hb
        grace_until = -NOT_WAITING
        try:
            while True:
                now = mono()
                if now - wake_at > limit * STALL_SLACK:
                    # This timer woke late: the monitor itself was stalled (a loaded
                    # machine, a long garbage collection), not Zoom.  What Zoom sent
                    # meanwhile may sit unread, and no heartbeat went out to be answered:
                    # the silence is ours.  Send one now and give the link a short grace.
                    grace_until = now + limit * STALL_GRACE
                    next_hb = min(next_hb, now)
                    log.debug(
                        "the monitor stalled for %s; the link gets a grace",
                        duration_short(now - wake_at),
                    )
                if now >= next_hb:
                    self.sent.append(now)
                    try:
                        await ws.send(HEARTBEAT_REQUEST)
                    except ConnectionClosed:
                        raise
                    except Exception as exc:  # without heartbeats this link cannot be trusted
                        interrupt(f"could not send a heartbeat ({type(exc).__name__})", abort=True)
                        return
                    next_hb = max(next_hb + interval, now + interval / 2)
                    now = mono()
                waiting_since = self.waiting_since
                if now - waiting_since >= limit and now >= grace_until:
                    silent = now - waiting_since
                    interrupt(
                        f"no frame from Zoom for {duration_short(silent)}",
                        abort=True,
                        gap_start=clock() - silent,
                    )
                    return
                wake_at = min(next_hb, max(waiting_since + limit, grace_until))
                await asyncio.sleep(max(0.0, wake_at - now))
        except ConnectionClosed:
            return


async def renew_token_ahead(
    tokens: TokenProvider, clock: Callable[[], float], renewed: Callable[[Token], None]
) -> None:
    """Renew the token ahead of expiry while connected; the socket stays up.  Each token
    got goes to `renewed` (the provider may hand back the one it has)."""
    while True:
        tok = tokens.token
        if tok is None:
            return
        wait = tokens.refresh_due_at(tok) - clock()
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        try:
            new = await tokens.get()
        except RateLimited as exc:
            await asyncio.sleep(max(1.0, exc.retry_after))
            continue
        except AuthError as exc:
            left = tok.expires_at - clock()
            log.warning("token renewal failed (%s); the connection stays up", exc.message)
            await asyncio.sleep(min(60.0, max(1.0, left / 4)))
            continue
        renewed(new)


class SideTasks:
    """The tasks beside the loop (the keepers, polite closes): started, forgotten when
    done, and all cancelled together when the link goes."""

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.append(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("side task failed: %s", redact(repr(task.exception())))

    async def stop(self) -> None:
        tasks = [t for t in self._tasks if not t.done()]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
