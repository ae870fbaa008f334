"""Asking the archive for a filter's events from the monitor: the reading thread.

`search_pages` is the body of a Textual thread worker.  It reads `ArchiveReader.search()`
(its own read-only connection: the writer and the event loop never wait for it) and
posts the events a page at a time (`SearchPage`), waiting until the screen has taken
each page before reading on, so the message queue never fills with results however many
there are, and keys and live events keep their turn.  `SearchEnded` always follows: the
search ran out of events, was stopped, reached the limit, or failed (the error said).

Stopping (`SearchStop.stop()`) is seen between two events and interrupts a query that is
still looking for the next one (SQLite's `interrupt()`, safe from another thread): a
scan of an archive with nothing to find stops at once, not minutes later.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from zoomtui.monitor.archive import ArchiveReader
from zoomtui.zoom.protocol import ZoomEvent

#: events per page at most (a page is one message and one repaint)
PAGE_SIZE = 500
#: a page that is not full is posted once it has waited this long (seconds), so a slow
#: search (a scan finding an event now and then) still shows what it found
PAGE_WAIT = 0.1
#: the results kept at most: past this the search stops and says to narrow the filter
RESULT_LIMIT = 100_000

#: how a search ended
DONE, STOPPED, LIMIT, FAILED = "done", "stopped", "limit", "failed"


class SearchPage(Message, bubble=False):
    """Events the archive matched, in time order.  The screen sets `taken` once it has
    added them."""

    def __init__(self, events: list[ZoomEvent]) -> None:
        super().__init__()
        self.events = events
        self.taken = threading.Event()


class SearchEnded(Message, bubble=False):
    """The search is over: `how` is DONE, STOPPED, LIMIT or FAILED (`error` says why)."""

    def __init__(self, how: str, error: str | None = None) -> None:
        super().__init__()
        self.how = how
        self.error = error


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What to ask, and how: the archive file, the filter text, the page size."""

    path: Path
    filter_text: str
    page_size: int = PAGE_SIZE
    limit: int = RESULT_LIMIT
    #: called in the reading thread after each page was taken, with the number of pages
    #: posted so far (tests hold the search between two pages here)
    between_pages: Callable[[int], None] | None = None
    #: a page that is not full is posted once it has waited this long (tests that count
    #: pages make it endless: on a busy machine 0.1 s can pass between two results)
    page_wait: float = PAGE_WAIT


class _InterruptibleReader(ArchiveReader):
    """An `ArchiveReader` that keeps the connection of the query it runs, so another thread
    can interrupt it.  (`_connect_ro` is the reader's one place a connection is made.)"""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.db: sqlite3.Connection | None = None

    def _connect_ro(self) -> sqlite3.Connection:
        self.db = super()._connect_ro()
        return self.db


class SearchStop:
    """Stops a running search from the UI thread."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._reader: _InterruptibleReader | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        self._stopped.set()
        reader = self._reader
        db = None if reader is None else reader.db
        if db is not None:
            # a query still looking for its next row gives up now (closed meanwhile: it ended)
            with contextlib.suppress(sqlite3.Error):
                db.interrupt()


def search_pages(
    post: Callable[[Message], object], request: SearchRequest, stop: SearchStop
) -> None:
    """Search the archive and post what it finds (blocking: a thread worker's body)."""
    reader = stop._reader = _InterruptibleReader(request.path)
    how, error = DONE, None
    pages = 0
    try:
        page: list[ZoomEvent] = []
        found = 0
        posted_at = time.monotonic()
        for event in reader.search(request.filter_text, limit=request.limit):
            if stop.stopped:
                break
            page.append(event)
            found += 1
            if len(page) >= request.page_size or time.monotonic() - posted_at >= request.page_wait:
                pages += 1
                if not _hand_over(post, page, stop):
                    break
                page = []
                if request.between_pages is not None:
                    request.between_pages(pages)
                posted_at = time.monotonic()
        if page and not stop.stopped:
            _hand_over(post, page, stop)
        if stop.stopped:
            how = STOPPED
        elif found >= request.limit:
            how = LIMIT
    except Exception as exc:  # noqa: BLE001 - a damaged archive is a message, not a crash
        if stop.stopped:
            how = STOPPED  # (the interrupted query says "interrupted")
        else:
            how, error = FAILED, str(exc) or type(exc).__name__
    finally:
        post(SearchEnded(how, error))


def _hand_over(
    post: Callable[[Message], object], events: list[ZoomEvent], stop: SearchStop
) -> bool:
    """Post one page and wait until it is taken; False when the search was stopped."""
    message = SearchPage(events)
    post(message)
    while not message.taken.wait(0.1):
        if stop.stopped:
            return False
    return not stop.stopped
