"""The bridge from a source (`UpdateSource`) to the app: runs in a Textual async worker.

`ConnectionBridge.run()` iterates the source's one loop, hands each update to `observe`
(the session's raw tap: the archive), and posts typed messages (`zoomtui.tui.messages`)
to the app, which applies them to its `MonitorSession`.  It only batches and posts:

- events, malformed frames and gaps are rows: collected in a batch and flushed
  ~50 ms after the first one arrives, or at once when the batch is big, so a flood
  is a few messages per frame and never floods the queue; a gap closes a reconnect,
  so it is flushed at once, together with the state change around it;
- any other update first flushes the pending rows, then goes alone (`message_for`):
  the app gets every update in the order the source yielded it;
- every exception is caught here.  Textual's crash screen prints locals, and
  a local here may hold a token or the token-bearing WebSocket URL: the
  error is shown instead as a redacted FAILED state with a hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from textual.message import Message

from zoomtui.monitor.source import UpdateSource
from zoomtui.redaction import redact
from zoomtui.tui.messages import BatchRow, RowsArrived, StateUpdated, message_for
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, Update

log = logging.getLogger("zoomtui.tui.worker")

#: flush a batch this long after its first row (about three frames at 60 Hz)
FLUSH_INTERVAL = 0.05
#: flush at once when a batch reaches this many rows
MAX_BATCH = 2000
#: give the app's loop a turn after this many updates in a row (the socket may have
#: thousands of frames buffered; reading them without yielding would freeze the UI)
YIELD_EVERY = 200

CRASH_HINT = (
    "This is a bug in zoomtui, not in your setup. Press c to connect again; "
    "if it keeps happening, run `zoomtui doctor` and report the message above."
)


class ConnectionBridge:
    """Posts a source's updates to `post` (normally `app.post_message`) as Messages, after
    handing each one to `observe` (normally `MonitorSession.observe`)."""

    def __init__(
        self,
        connection: UpdateSource,
        post: Callable[[Message], object],
        *,
        observe: Callable[[Update], None] | None = None,
        clock: Callable[[], float] = time.time,
        flush_interval: float = FLUSH_INTERVAL,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.connection = connection
        self._post = post
        self._observe = observe
        self._clock = clock
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._pending: list[BatchRow] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._state = ConnectionState.IDLE
        self.batches_posted = 0

    @property
    def state(self) -> ConnectionState:
        return self._state

    # -- the worker body -------------------------------------------------------------
    async def run(self) -> None:
        """Iterate the connection until it is closed; never raises (except cancellation)."""
        try:
            await self._pump()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - anything from the network stack ends here
            self._fail(exc)
        finally:
            self.flush()
            await self._close_quietly()

    async def _pump(self) -> None:
        observe = self._observe
        since_yield = 0
        async for update in self.connection.updates():
            if observe is not None:
                observe(update)
            self._route(update)
            since_yield += 1
            if since_yield >= YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)

    def _route(self, update: Update) -> None:
        """Batch it, or flush and post it alone: the only question asked of an update."""
        # Rows first: they are nearly every update.
        if isinstance(update, (ZoomEvent, MalformedFrame)):
            self._add(update)
        elif isinstance(update, Gap | RosterSnapshot):
            # Rare, and it closes a reconnect: show it together with the state change.
            self._add(update)
            self.flush()
        else:
            self.flush()  # what came before it is shown before it
            if isinstance(update, StateChanged):
                self._state = update.state
            message = message_for(update)
            if message is not None:
                self._post(message)
            else:  # a newer engine may report more: ignore, never crash
                log.debug("ignored update of type %s", type(update).__name__)

    def deliver(self, update: Update) -> None:
        """An update from beside the source (a hydration), in order with the source's own:
        to the raw tap, then batched or posted like them."""
        if self._observe is not None:
            self._observe(update)
        self._route(update)

    # -- batching --------------------------------------------------------------------
    def _add(self, row: BatchRow) -> None:
        pending = self._pending
        pending.append(row)
        if len(pending) >= self._max_batch:
            self.flush()
        elif self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._flush_interval, self.flush)

    def flush(self) -> None:
        """Post the pending rows now (no-op when there are none)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self.batches_posted += 1
        self._post(RowsArrived(rows, self._clock()))

    # -- failure ---------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        # Only the type and the redacted message: never a traceback (locals, URLs).
        text = redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
        log.error("connection worker stopped: %s", text)
        self.flush()
        previous, self._state = self._state, ConnectionState.FAILED
        self._post(
            StateUpdated(
                StateChanged(
                    state=ConnectionState.FAILED,
                    previous=previous,
                    reason=f"unexpected error: {text}",
                    at=self._clock(),
                    hint=CRASH_HINT,
                )
            )
        )

    async def _close_quietly(self) -> None:
        close = getattr(self.connection, "close", None)
        if close is None:
            return
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(close(), timeout=2.0)
