"""History on start: recent updates from the archive, read in a thread, handed to the app
in batches.

The reading thread (`load_history`, run as a Textual thread worker) posts one
`HistoryBatch` at a time and waits until the app has taken it (applied it to its
`MonitorSession`, `apply_history`) before reading on: the app's message queue never
fills with history, so keys and live updates keep their turn however large the archive.
`HistoryDone` always follows, even after an error, so the session never holds live rows
forever (`end_history`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.message import Message

from zoomtui.monitor.archive import (
    KIND_EVENT,
    KIND_GAP,
    KIND_MALFORMED,
    KIND_STATE,
    ArchiveReader,
    Record,
)
from zoomtui.monitor.recording import HistoryTracker, read_history
from zoomtui.timefmt import minutes_or_hours
from zoomtui.words import counted

#: what history shows (notices were toasts when they came: not repeated)
HISTORY_KINDS = (KIND_EVENT, KIND_MALFORMED, KIND_STATE, KIND_GAP)

#: live updates that may wait behind the history before it is cut short.  A flood of
#: 15-20k events/s reaches it in a second or two (live first, and their memory bounded:
#: they were unbounded, 2.7 GB after 100 s); a calm stream never does.
HOLD_LIMIT = 20_000
#: how long the panel says the history was cut short (the log's line scrolls away)
CUT_NOTE_SECONDS = 60.0


def hold_limit_for(log_limit: int) -> int:
    """How many live updates may wait, for an event log of `log_limit` rows: at most
    half of it, so that when they are applied the history and the line saying where it
    stopped stay in the log above them."""
    return max(1, min(HOLD_LIMIT, log_limit // 2))


class HistoryBatch(Message, bubble=False):
    """Archived records, oldest first. The app sets `taken` once it has applied them."""

    def __init__(self, records: list[Record]) -> None:
        super().__init__()
        self.records = records
        self.taken = threading.Event()


class HistoryDone(Message, bubble=False):
    """The history is complete (or could not be read: `error`)."""

    def __init__(self, seen: HistoryTracker, until: float, error: str | None) -> None:
        super().__init__()
        self.seen = seen
        self.until = until
        self.error = error


def load_history(
    post: Callable[[Message], object],
    reader: ArchiveReader,
    since: float | None,
    until: float,
    cancelled: Callable[[], bool],
) -> None:
    """Read [since, until) from `reader` and post it (blocking: a thread worker's body)."""
    seen = HistoryTracker()
    error: str | None = None
    try:
        for chunk in read_history(reader, since, until, seen=seen, kinds=HISTORY_KINDS):
            batch = HistoryBatch(chunk)
            post(batch)
            # One batch in flight: wait for the app (and give up if it is going away).
            while not batch.taken.wait(0.1):
                if cancelled():
                    return
            if cancelled():
                return
    except Exception as exc:  # noqa: BLE001 - a damaged archive is a message, not a crash
        error = str(exc) or type(exc).__name__
    finally:
        if not cancelled():
            post(HistoryDone(seen, until, error))


def loading_words(read: int, window: float, held: int) -> str:
    """The panel's line while the history loads: live events wait behind it, so without
    this line the panel reads "events 0" and "last event –" under a flood (a link that
    looks dead) for as long as a big archive takes to read."""
    words = f"history: {counted(read, 'record')} read from the last {minutes_or_hours(window)}"
    if held:
        words += f" · {counted(held, 'live update')} waiting behind it"
    return words
