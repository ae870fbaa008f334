"""The writer core: commits queued updates to the archive file, from a thread of its own,
and applies the retention limits.

The same `WriterCore` runs in the writer process (`zoomtui.monitor.archive.child`, fed
from the spool) or in a thread of the monitor (`ThreadWriter`, fed by `Archive.add`), so
every batch, failure, retry and retention step behaves alike.

Events go to SQLite 128 rows per INSERT statement (``VALUES (...), (...), ...``)
rather than through `executemany`: fewer statements and the per-row work in C.
WAL with synchronous=NORMAL means a committed batch survives a killed process.

A disk or permission problem never raises into the caller: the writer goes to status
"failed" with a message saying what to do, keeps draining (and counting) what it is
given, and retries every `retry_interval`.  When it recovers, the lost interval is
recorded as a gap.  Retention (age, size, row count) runs in small chunks between
batches, so even a large first clean-up never stalls writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from itertools import chain, repeat, starmap
from pathlib import Path
from typing import Any

from zoomtui.monitor.archive.messages import EventFrames
from zoomtui.monitor.archive.records import (
    ARCHIVE_CONNECTION_ID,
    EVENT_ROW_LEN,
    INSERT_GAP,
    INSERT_MALFORMED,
    INSERT_NOTICE,
    INSERT_ROSTER,
    INSERT_STATE,
    STATUS_CLOSED,
    STATUS_FAILED,
    STATUS_OPEN,
    insert_events_sql,
    scrub,
)
from zoomtui.monitor.archive.retention import Pruner, Retention
from zoomtui.monitor.archive.schema import ForeignFileError, NewerSchemaError, open_for_writing
from zoomtui.monitor.archive.searchindex import (
    BUILD_SHOWN_FROM_CHUNKS,
    INDEX_CHUNK,
    IndexBuild,
    index_build,
    index_step,
)
from zoomtui.zoom.protocol import MalformedFrame
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import Gap, Notice, StateChanged

#: event rows inserted at a time when frames are made into rows (bounds the writer's memory)
_RUN_MAX = 1024

#: flush intervals between looks for rows to index, once the index has caught up
_INDEX_EVERY = 4

#: how much nicer (lower priority) the writer process is than the monitor: in a flood it
#: falls behind and catches up afterwards, its backlog held as bytes in its own memory.
#: Not 19: beside busy processes at 0 a nice-19 writer gets about 1.5 % of a CPU and was
#: starved for minutes (its work at 5,000 events/s is about 6 %); at 10 it gets about 10 %
#: and the monitor still comes first.  Ingest cost measured the same (15.9 % vs 15.1 %);
#: measured again beside other work (load 4-12), 19 came out a few points lower (pooled
#: pairs 10 % vs 16 %, within the noise) only by taking no CPU at all during the flood,
#: the same starvation, with the event loop's CPU per event unchanged (BENCHMARKS.md).
WRITER_NICENESS = 10
#: the same for the threads that write (thread mode) or hand over (process mode) in the
#: monitor itself: a thread holding the GIL must not wait long for a CPU (measured: 19
#: made the thread writer worse, 10 did not)
THREAD_NICENESS = 10


@dataclass(frozen=True, slots=True)
class WriterSettings:
    """How a writer writes: the same for a writer thread and the writer process."""

    retention: Retention
    flush_interval: float
    batch_max: int
    retry_interval: float
    max_page_count: int | None = None  # tests: simulate a full disk
    #: build the search index behind the writes (off: benchmarks measure the rows alone)
    search_index: bool = True
    #: event rows indexed per step (tests: a small archive built in many steps)
    index_chunk: int = INDEX_CHUNK

    def to_json(self) -> dict[str, Any]:
        """As JSON values (for the writer process's arguments)."""
        return asdict(self)

    @classmethod
    def from_json(cls, args: dict[str, Any]) -> WriterSettings:
        """What `to_json` gave (extra keys are ignored)."""
        return cls(
            retention=Retention(**args["retention"]),
            flush_interval=float(args["flush_interval"]),
            batch_max=int(args["batch_max"]),
            retry_interval=float(args["retry_interval"]),
            max_page_count=args.get("max_page_count"),
            search_index=bool(args.get("search_index", True)),
            index_chunk=int(args.get("index_chunk", INDEX_CHUNK)),
        )


def lower_thread_priority(niceness: int = THREAD_NICENESS) -> None:
    """Run the calling thread at a lower CPU priority, where the OS allows it.

    Writing is background work that may lag (its queue is drained later, and by close());
    on a busy machine the CPU should go to receiving events and the UI first.  Measured on
    2 shared cores with the fake Zoom flooding from the other: the writer's SQLite work
    (about 4 us per event, outside the GIL) took that CPU from ingest, a fifth of its rate.
    On an idle core it changes nothing.  Linux gives each thread its own nice value
    (setpriority on the thread id); elsewhere this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)


class Marker:
    """Queued behind updates: the writer answers it once everything before it is committed."""

    __slots__ = ("done", "ident", "retention")

    def __init__(self, retention: bool = False, ident: int = 0) -> None:
        self.done = threading.Event()
        self.retention = retention
        self.ident = ident


def failure_message(path: Path, exc: BaseException, retry: float) -> str:
    detail = str(exc).rstrip(".") or type(exc).__name__
    low = detail.lower()
    later = (
        f"zoomtui tries again every {retry:g} s." if retry > 0 else "restart zoomtui to try again."
    )
    shown = "Live events are still shown but not kept"
    if isinstance(exc, NewerSchemaError):
        return (
            f"The event archive {path} was written by a newer zoomtui ({detail}); "
            f"{shown.lower()}. Upgrade zoomtui or move the file aside."
        )
    if isinstance(exc, ForeignFileError):
        return (
            f"The file {path} is not a zoomtui event archive ({detail}); zoomtui leaves it as "
            f"it is, and {shown.lower()}. Move it aside and zoomtui starts a new archive "
            f"there; {later}"
        )
    if "full" in low or getattr(exc, "errno", None) == 28:
        return (
            f"The disk holding the event archive is full ({path}): {shown.lower()}. "
            f"Free some space or lower the archive size limit; {later}"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (
            f"The event archive {path} is damaged ({detail}); {shown.lower()}. "
            "Move the file aside to start a new one."
        )
    if "locked" in low or "busy" in low:
        return (
            f"The event archive {path} is locked by another program ({detail}); "
            f"{shown.lower()}; {later}"
        )
    return (
        f"The event archive cannot be written at {path} ({detail}): {shown.lower()}. "
        f"Check that the folder exists and is writable; {later}"
    )


def not_kept(lost: int) -> str:
    """The end of a gap's reason: "1 update was not kept", "1744 updates were not kept"
    (no thousands separator: the archive's words stay as they were recorded)."""
    return f"{lost} update was not kept" if lost == 1 else f"{lost} updates were not kept"


def tally(batch: list[Any]) -> tuple[int, list[Marker]]:
    """(updates in `batch`, its markers)."""
    units = 0
    markers = []
    for item in batch:
        if type(item) is EventFrames:
            units += item.count
        elif type(item[0]) is Marker:
            markers.append(item[0])
        else:
            units += 1
    return units, markers


class WriterCore:
    """Commits what is queued to the file, from its own thread.

    Its `queue` holds event rows (tuples of `EVENT_ROW_LEN`: connection id, then the
    columns of `records.event_row`), `EventFrames` (events as the writer process receives
    them), ``(update, connection_id)`` pairs and markers.  It wakes every
    `flush_interval`, takes what is queued and commits it in one transaction.  In the
    writer process the spool the monitor writes feeds it; in thread mode, `ThreadWriter.add`
    appends to `queue` itself.  `on_batch(markers)` (if given) is called after every batch
    and every retention step, from the writer thread.
    """

    def __init__(
        self,
        path: Path,
        settings: WriterSettings,
        *,
        clock: Callable[[], float],
        on_batch: Callable[[list[Marker]], None] | None = None,
        lower_priority: bool = True,
    ) -> None:
        self.path = path
        self.retention = settings.retention
        self._clock = clock
        self.flush_interval = settings.flush_interval
        self.batch_max = max(1, settings.batch_max)
        self.retry_interval = settings.retry_interval
        self._max_page_count = settings.max_page_count
        self._on_batch = on_batch
        self._lower_priority = lower_priority
        self.status = STATUS_OPEN
        self.error: str | None = None
        #: rows committed, updates dropped while failed, updates taken off the queue
        self.written = 0
        self.dropped = 0
        self.taken = 0
        self._dropped_in_gap = 0
        self._rows_per_statement = 64
        #: CPU seconds the writer thread has used
        self.cpu = 0.0
        #: what is waiting to be written (thread mode: `ThreadWriter.add` appends here)
        self.queue: deque[Any] = deque()
        #: whether more is waiting to be queued (the writer process: in the spool); the
        #: search index is built only when nothing is
        self.backlog: Callable[[], bool] = lambda: False
        self._wake = threading.Event()
        self._closing = False
        self._lost_since: float | None = None
        self._retry_at = 0.0
        self._retention_due = 0.0  # monotonic; 0 = check as soon as the writer starts
        self._retention_busy = False
        self._index_due = 0.0  # monotonic: when to look for rows to index again
        self._index_busy = settings.search_index  # until a step finds nothing left to index
        self._search_index = settings.search_index
        self._index_chunk = max(1, settings.index_chunk)
        #: the search index being built over many records (`_note_build`): None until a
        #: build starts, complete once the index has caught up
        self.index_build: IndexBuild | None = None
        self._pruner: Pruner | None = None
        self._db = self._open_writer()
        self._thread = threading.Thread(
            target=self._run, name=f"zoomtui-archive:{path.name}", daemon=True
        )
        self._thread.start()

    # -- feeding and control ------------------------------------------------------------
    def put_many(self, items: Iterable[Any]) -> None:
        self.queue.extend(items)

    def wake(self) -> None:
        """Commit what is queued now rather than at the next flush interval (the writer
        process: its queue is full and the spool holds more)."""
        self._wake.set()

    def mark(self, marker: Marker) -> None:
        """Queue `marker`; it is answered (marker.done set) once what precedes it is committed."""
        self.queue.append((marker, None))
        self._wake.set()

    def request(self, marker: Marker, timeout: float) -> bool:
        if not self._thread.is_alive():
            return False
        self.mark(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued and stop (`timeout` None: however long that takes).  A
        writer thread still busy after `timeout` is left to finish (with its file) if the
        process lives on."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            return
        self.queue = deque(maxlen=0)
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA optimize")
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self.status != STATUS_FAILED:
            self.status = STATUS_CLOSED

    # -- opening ------------------------------------------------------------------------
    def _open_writer(self) -> sqlite3.Connection | None:
        db = None
        try:
            db, self._rows_per_statement = open_for_writing(self.path, self._max_page_count)
            self._pruner = Pruner(db, self.retention, self._clock, search_index=self._search_index)
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._fail(exc)
            return None
        return db

    def _fail(self, exc: BaseException) -> None:
        self.error = failure_message(self.path, exc, self.retry_interval)
        self.status = STATUS_FAILED
        if self._lost_since is None:
            self._lost_since = self._clock()
        self._retry_at = time.monotonic() + self.retry_interval

    # -- the writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        if self._lower_priority:
            lower_thread_priority()
        q = self.queue
        report = self._on_batch
        while True:
            if not self._closing:
                busy = self._retention_busy or self._index_busy
                self._wake.wait(0.005 if busy else self.flush_interval)
                self._wake.clear()
            n = len(q)
            while n > 0:
                take = min(n, self.batch_max)
                # popleft one by one (add() may append meanwhile), driven from C
                batch = list(starmap(q.popleft, repeat((), take)))
                try:
                    markers = self._write(batch)
                except Exception as exc:  # a bug must not kill the thread (and grow the queue)
                    self._fail(exc)
                    markers = self._discard(batch)
                del batch
                n -= take
                if report is not None:
                    report(markers)
                for marker in markers:
                    marker.done.set()
            self.cpu = time.thread_time()
            if self._closing and not q:
                return
            if self._db is not None and self.status == STATUS_OPEN:
                now = time.monotonic()
                if self._retention_busy or now >= self._retention_due:
                    self._retention_busy = self._retention_step()
                    if not self._retention_busy:
                        self._retention_due = now + self.retention.interval
                    if report is not None:
                        report([])
                elif self._search_index and (self._index_busy or now >= self._index_due):
                    # Indexing comes last: only once what was given is committed and
                    # retention is done (a flood is written first, indexed after).
                    self._index_busy = not q and not self.backlog() and self._index_step()
                    if not self._index_busy:
                        self._index_due = now + self.flush_interval * _INDEX_EVERY

    def _write(self, batch: list[Any]) -> list[Marker]:
        """Commit `batch`; the markers in it, to answer once the caller has reported."""
        if self.status == STATUS_FAILED and not self._may_retry():
            return self._discard(batch)
        db = self._db
        assert db is not None
        markers: list[Marker] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows, units = self._insert_batch(db, batch, markers)
                if self.status == STATUS_FAILED:
                    rows += self._record_own_gap(db)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError, ValueError, OverflowError) as exc:
            self._fail(exc)
            # the loop may not have reached them
            lost, markers = tally(batch)
            self.dropped += lost
            self._dropped_in_gap += lost
            self.taken += lost
        else:
            self.written += rows
            self.taken += units
            if self.status == STATUS_FAILED:  # recovered
                self.status, self.error = STATUS_OPEN, None
                self._lost_since = None
                self._dropped_in_gap = 0
        for marker in markers:
            if marker.retention and self.status == STATUS_OPEN:
                while self._retention_step():
                    pass
        return markers

    def _insert_batch(
        self, db: sqlite3.Connection, batch: list[Any], markers: list[Marker]
    ) -> tuple[int, int]:
        """Insert `batch` (in the open transaction); its markers go to `markers`.  Returns
        (rows written, updates taken)."""
        rows = units = 0
        event_row = EVENT_ROW_LEN
        run: list[Any] = []
        for item in batch:
            if type(item) is EventFrames:  # from the monitor: rows made here
                run.extend(item.rows())
                units += item.count
                if len(run) >= _RUN_MAX:
                    rows += self._insert_events(db, run)
                    run = []
                continue
            if len(item) == event_row:  # an event's row
                run.append(item)
                units += 1
                continue
            if run:
                rows += self._insert_events(db, run)
                run = []
            update, cid = item
            if type(update) is Marker:
                markers.append(update)
            else:
                units += 1
                rows += self._insert_other(db, update, cid)
        if run:
            rows += self._insert_events(db, run)
        return rows, units

    def _insert_events(self, db: sqlite3.Connection, rows: list[Any]) -> int:
        # Statements of 128, 64, ..., 1 rows: any batch is a few of them, all kept
        # prepared in sqlite3's statement cache.
        execute, flat, sql = db.execute, chain.from_iterable, insert_events_sql
        total, i, size = len(rows), 0, self._rows_per_statement
        while i < total:
            while size > total - i:
                size //= 2
            chunk = rows[i : i + size]
            try:
                execute(sql(size), [*flat(chunk)])
            except UnicodeEncodeError:  # a lone surrogate (hand-made events only): scrubbed
                execute(sql(size), [*map(scrub, flat(chunk))])
            i += size
        return total

    @staticmethod
    def _insert_other(db: sqlite3.Connection, update: Any, cid: str | None) -> int:
        kind = type(update)
        if kind is MalformedFrame:
            raw = update.raw
            if isinstance(raw, str):  # hand-made; parse_frame always gives bytes
                raw = raw.encode("utf-8", "surrogatepass")
            db.execute(INSERT_MALFORMED, (cid, update.received_at, update.reason, bytes(raw)))
        elif kind is StateChanged:
            db.execute(
                INSERT_STATE,
                (
                    cid,
                    update.at,
                    str(update.state),
                    str(update.previous),
                    update.reason,
                    update.hint,
                    update.retry_in,
                    update.attempt,
                    update.gap_since,
                ),
            )
        elif kind is Gap:
            db.execute(INSERT_GAP, (cid, update.end, update.start, update.reason))
        elif kind is Notice:
            env = update.envelope
            db.execute(INSERT_NOTICE, (cid, env.received_at, update.text, env.raw))
        elif kind is RosterSnapshot:
            row = (cid, update.at, update.since, update.problem, update.to_json())
            db.execute(INSERT_ROSTER, row)
        else:  # Heartbeat, TokenInfo: live-only information
            return 0
        return 1

    def _may_retry(self) -> bool:
        if self._closing and self._db is None:
            return False
        if not self._closing and time.monotonic() < self._retry_at:
            return False
        self._retry_at = time.monotonic() + self.retry_interval
        if self._db is None:
            lost_since = self._lost_since
            self._db = self._open_writer()
            if self._db is None:
                return False
            self._lost_since = lost_since
        return True

    def _discard(self, batch: list[Any]) -> list[Marker]:
        lost, markers = tally(batch)
        self.dropped += lost
        self._dropped_in_gap += lost
        self.taken += lost
        return markers

    def _record_own_gap(self, db: sqlite3.Connection) -> int:
        """After a failure, say in the record itself which interval is missing."""
        if not self._dropped_in_gap or self._lost_since is None:
            return 0
        reason = f"the archive could not be written: {not_kept(self._dropped_in_gap)}"
        db.execute(INSERT_GAP, (ARCHIVE_CONNECTION_ID, self._clock(), self._lost_since, reason))
        return 1

    # -- retention --------------------------------------------------------------------
    def _retention_step(self) -> bool:
        """Delete one chunk of what the limits exclude. True when more is left to do."""
        db, pruner = self._db, self._pruner
        if db is None or pruner is None:
            return False
        try:
            return pruner.step(db)
        except sqlite3.Error as exc:
            self._fail(exc)
        return False

    # -- the search index -------------------------------------------------------------
    def _index_step(self) -> bool:
        """Index one chunk of rows not yet in the search index. True when more are left."""
        db = self._db
        if db is None:
            return False
        try:
            more = index_step(db, self._index_chunk)
            self._note_build(db, more)
        except sqlite3.Error as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                return False  # another zoomtui's writer is at it: the next check goes on
            self._fail(exc)
            return False
        return more

    def _note_build(self, db: sqlite3.Connection, more: bool) -> None:
        """After an indexing step: keep `index_build` up to date while many records wait
        (a step that indexed a whole chunk looks how many), complete once none does, and
        report when its whole percent moves (the reports are how the writer process
        says it; a writer thread's is read as it is)."""
        before = self.index_build
        building = before is not None and not before.complete
        if not more and not building:
            return  # the usual look behind the writes: a chunk or less, no build
        build = index_build(db)
        if (
            not building
            and build.total - build.indexed < BUILD_SHOWN_FROM_CHUNKS * self._index_chunk
        ):
            return  # over in a moment: not worth saying
        if not more:
            build = IndexBuild(build.total, build.total)  # caught up with what was written
        self.index_build = build
        if self._on_batch is not None and (before is None or build.percent != before.percent):
            self._on_batch([])

    @property
    def warning(self) -> str | None:
        """Why the age limit is not applied as the wall clock says (see `retention`)."""
        return self._pruner.warning if self._pruner is not None else None
