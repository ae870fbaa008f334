"""Typed messages from the connection worker to the app.

The worker (`zoomtui.tui.worker.ConnectionBridge`) turns a source's `Update` stream
into these; the app applies what they carry to its `MonitorSession`.  Rows (events,
malformed frames, gaps) are batched per frame, so a flood is a handful of
`RowsArrived` messages a second, never one message per event; consecutive batches
still queued merge into one (`can_replace`).  Every other update travels alone in an
`UpdateArrived` (`message_for`); a newer heartbeat or token report supersedes a queued
older one.  State changes are never merged: each one is shown (and each may toast).
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.message import Message

from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import Gap, Heartbeat, Notice, StateChanged, TokenInfo, Update

#: what a batch carries, in arrival order (gaps sit between the events they separate; a
#: hydration between the events that came before and after it)
BatchRow = ZoomEvent | MalformedFrame | Gap | RosterSnapshot


class ZoomMessage(Message, bubble=False):
    """Base of everything the connection worker posts (to the app, which owns the models)."""


class RowsArrived(ZoomMessage):
    """Events, malformed frames and gaps received since the last batch, in order."""

    def __init__(self, rows: list[BatchRow], flushed_at: float) -> None:
        super().__init__()
        # A list of chunks, so merging queued batches is O(chunks), not a copy of every row.
        self.chunks: list[list[BatchRow]] = [rows]
        self.flushed_at = flushed_at

    @property
    def rows(self) -> Iterator[BatchRow]:
        for chunk in self.chunks:
            yield from chunk

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)

    def can_replace(self, message: Message) -> bool:
        # Called on the older queued message with the next one: fold our rows in front of
        # the newer batch's, so the app ingests both at once (one repaint) and keeps order.
        if isinstance(message, RowsArrived):
            message.chunks[:0] = self.chunks
            return True
        return False


class UpdateArrived(ZoomMessage):
    """One update that is not a row; `update` is what the app applies."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class StateUpdated(UpdateArrived):
    """The connection changed state (connected, reconnecting with a reason, failed with a hint...)."""

    def __init__(self, change: StateChanged) -> None:
        super().__init__(change)
        self.change = change


class HeartbeatAnswered(UpdateArrived):
    """A heartbeat answer and its round trip. Only the newest one matters."""

    def __init__(self, heartbeat: Heartbeat) -> None:
        super().__init__(heartbeat)
        self.heartbeat = heartbeat

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HeartbeatAnswered)


class TokenObtained(UpdateArrived):
    """A token was obtained or refreshed (expiry and scopes; never the token itself)."""

    def __init__(self, info: TokenInfo) -> None:
        super().__init__(info)
        self.info = info

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TokenObtained)


class NoticeReceived(UpdateArrived):
    """A well-formed frame that is neither an event nor a heartbeat: shown, never fatal."""

    def __init__(self, notice: Notice) -> None:
        super().__init__(notice)
        self.notice = notice


def message_for(update: Update) -> UpdateArrived | None:
    """The message that carries a (non-row) update to the app; None for a kind it does
    not know (a newer engine may report more)."""
    if isinstance(update, StateChanged):
        return StateUpdated(update)
    if isinstance(update, Heartbeat):
        return HeartbeatAnswered(update)
    if isinstance(update, TokenInfo):
        return TokenObtained(update)
    if isinstance(update, Notice):
        return NoticeReceived(update)
    return None
