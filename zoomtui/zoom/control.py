"""What reaches the connection's loop from outside it, and how that cuts the loop short.

The user's actions (connect, disconnect, reconnect) and `close()` come at any time, from
the same event loop.  An action wakes a wait between attempts, cancels the phase that is
running (getting a token, opening the socket), or closes the open socket with a reason
chosen first (a `Drop`), which the receive loop then reports.  The keepers interrupt the
socket the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable
from typing import Any

from websockets.asyncio.client import ClientConnection

from zoomtui.zoom.drops import Drop
from zoomtui.zoom.keepers import SideTasks
from zoomtui.zoom.updates import ConnectionState
from zoomtui.zoom.zoomsocket import close_quietly

S = ConnectionState
#: states in which a connect request is what the loop is doing already
_ON_THE_WAY_UP = (S.AUTHENTICATING, S.CONNECTING, S.CONNECTED)
#: what `LinkControl.run_phase` returns for a phase that an action cancelled
INTERRUPTED = object()


class Action(enum.Enum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"


class LinkControl:
    """The user's last action, `closed`, the open socket and why we close it, the phase an
    action may cancel, and the tasks beside the loop."""

    def __init__(self, close_timeout: float) -> None:
        self.action: Action | None = None  # taken by the loop at the start of a pass
        self.closed = False
        self.ws: ClientConnection | None = None  # the open socket
        self.drop: Drop | None = None  # why we are closing it, chosen before closing
        self.side_tasks = SideTasks()
        self._close_timeout = close_timeout
        self._wake = asyncio.Event()
        self._phase: asyncio.Future | None = None

    def post(self, action: Action, state: ConnectionState) -> None:
        """A user action: wake the loop and cut short what it is doing, if that is in the way."""
        if self.closed:
            return
        if action is Action.CONNECT and state in _ON_THE_WAY_UP:
            return  # already doing what the user wants
        self.action = action
        self._wake.set()
        if action is Action.CONNECT:
            return  # nothing to interrupt
        self.cancel_phase()
        if self.ws is not None and self.drop is None:
            if action is Action.DISCONNECT:
                self.interrupt("disconnected by you")
            else:
                self.interrupt("reconnecting at your request", immediate=True)

    async def close(self) -> None:
        """For good: wake the loop, cancel its phase, close the socket politely."""
        if not self.closed:
            self.closed = True
            self._wake.set()
            self.cancel_phase()
            await self.close_ws("closed", polite=True)

    async def wait(self, delay: float | None) -> bool:
        """Sleep `delay` seconds (None: forever); True when an action or close() cut it short."""
        if self.action is not None or self.closed:
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

    async def run_phase(self, aw: Awaitable[Any]) -> Any:
        """Run one phase as a task that a user action can cancel.

        Returns the result, the exception it raised, or `INTERRUPTED`.
        """
        task = asyncio.ensure_future(aw)
        self._phase = task
        try:
            await asyncio.wait((task,))
        finally:
            self._phase = None
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task.cancelled():
            return INTERRUPTED
        exc = task.exception()
        if exc is not None:
            return exc
        return task.result()

    def cancel_phase(self) -> None:
        if self._phase is not None and not self._phase.done():
            self._phase.cancel()

    def interrupt(
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
        if self.drop is None:
            self.drop = Drop(
                reason=reason,
                immediate=immediate,
                refresh_token=refresh_token,
                gap_start=gap_start,
                invalid_token=invalid_token,
            )
        ws = self.ws
        if ws is None:
            return
        if abort:
            ws.transport.abort()
        else:
            self.side_tasks.spawn(close_quietly(ws, self._close_timeout))

    async def close_ws(self, reason: str, *, polite: bool) -> None:
        """Let the open socket go (a reason, when given, unless one was chosen already)."""
        ws = self.ws
        if ws is None:
            return
        if reason and self.drop is None:
            self.drop = Drop(reason=reason)
        if self.ws is ws:
            self.ws = None
        if polite:
            await close_quietly(ws, self._close_timeout)
        else:
            ws.transport.abort()
