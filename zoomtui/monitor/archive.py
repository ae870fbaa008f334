"""The event archive: what the monitor received, kept in SQLite.

Zoom never replays an event, so what zoomtui received is the only record an
on-call engineer has after a restart or when paged an hour later.  Every
update the connection reports is kept: each event frame (raw text, receive
time, connection id, plus parsed columns for querying), malformed frames
(raw bytes and the reason), connection state changes, gaps and notices.

Integration (the connection, `tail` and the TUI need only these calls)::

    from zoomtui.monitor.archive import Archive

    archive = Archive.open(profile)          # or Archive.open("demo", demo=True); never raises
    archive.add(update, connection_id)       # on the hot ingest path: two deque appends
    archive.status, archive.error            # "open" | "failed" | "closed"; a sentence for the panel
    archive.close()                          # flush and stop the writer (blocking, a few ms:
                                             # from async code, `await asyncio.to_thread(archive.close)`)

`add()` takes any `Update`; heartbeats and token infos are not kept.  The
`connection_id` is free text chosen by the caller (e.g. ``f"{run}:{attempt}"``)
so a replay can tell connections apart.

Where the writing runs.  The writer is a child process
(`zoomtui.monitor.archive_writer`, started by `Archive`, at a lower CPU priority).
`add()` keeps an event's frame and receive time, nothing else: the frame as the UTF-8
bytes it came in (the connection takes text frames undecoded).  Every 64 events they are
joined into one message that a feeder thread writes to the pipe every `flush_interval`
(80 ms).  The writer parses each frame again exactly as it was parsed live
(`parse_text_frame` of the same bytes and receive time) for the parsed columns, and
commits each batch in one transaction.  Why a process: measured on the ingest benchmark
(`benchmarks/archive.py`), a writer thread cost live ingest about 19 % however it was
tuned, and even a thread that threw its batches away cost 17 %: the rows it took from
the event loop were freed on another core and through the same GIL and allocator, and
binding parameters held the GIL.  The process costs about 10 % (BENCHMARKS.md).  It also
changes what a hard kill loses: the writer outlives a killed monitor, reads the pipe to
its end and commits, so only what the monitor had not yet handed over (at most one flush
interval) is lost, however far the writer had fallen behind in a flood.  A writer that
dies is started again (after 1 s, twice as long after each death in a row, up to
`retry_interval`); what was added meanwhile is counted as dropped and recorded in the
archive as a gap.  ``writer="thread"`` (or ``ZOOMTUI_ARCHIVE_WRITER=thread``, or where
no process can be started) runs the same writer in a thread instead.

Events go to SQLite 128 rows per INSERT statement (``VALUES (...), (...), ...``)
rather than through `executemany`: fewer statements and the per-row work in C.

WAL with synchronous=NORMAL means a committed batch survives a killed
process; at most the last `flush_interval` of updates is at risk.

A disk or permission problem never raises into the caller: the archive goes
to status "failed" with a message saying what to do, keeps draining (and
counting) what it is given, and retries every `retry_interval`.  When it
recovers, the lost interval is recorded as a gap.

Retention (age, size, row count) runs in the writer in small chunks,
so even a large first clean-up never stalls writes.

Reading (`ArchiveReader`, and `Archive` itself): `iter_events()`,
`iter_updates()`, `iter_records()`, `count()`.  Events are rebuilt with
`parse_frame(raw, received_at)`, so a replayed event is exactly a live one.
Call `archive.flush()` first to read what was just added.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import itertools
import json
import math
import os
import pickle
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat, starmap
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from zoomtui.monitor.when import as_epoch
from zoomtui.zoom.protocol import Envelope, MalformedFrame, ZoomEvent, parse_frame, parse_text_frame
from zoomtui.zoom.updates import ConnectionState, Gap, Notice, StateChanged, Update

APP_NAME = "zoomtui"
DEMO_FILENAME = "demo.sqlite3"
#: real profiles live in a sub-folder so no profile name (not even "demo") can meet the demo file
PROFILES_DIRNAME = "archive"

STATUS_OPEN = "open"
STATUS_FAILED = "failed"
STATUS_CLOSED = "closed"
STATUS_READ_ONLY = "read-only"

KIND_EVENT = "event"
KIND_MALFORMED = "malformed"
KIND_STATE = "state"
KIND_GAP = "gap"
KIND_NOTICE = "notice"

#: bytes given back to the disk per retention step
_VACUUM_BYTES = 1 << 20

#: the connection id of gaps the archive records about itself (it could not write)
ARCHIVE_CONNECTION_ID = "archive"
#: how much nicer (lower priority) the writer process is than the monitor: in a flood it
#: falls behind and catches up afterwards, its backlog held as bytes in its own memory
WRITER_NICENESS = 19
#: the same for the threads that write (thread mode) or hand over (process mode) in the
#: monitor itself: a thread holding the GIL must not wait long for a CPU (measured: 19
#: made the thread writer worse, 10 did not)
THREAD_NICENESS = 10


class ArchiveError(Exception):
    """Reading an archive failed (missing, damaged, newer). Writes never raise."""


class EventFilter(Protocol):
    def matches(self, event: ZoomEvent) -> bool: ...


@dataclass(frozen=True, slots=True)
class Retention:
    """How much history to keep. None = no limit of that kind."""

    max_age_days: float | None = 30.0
    max_size_mb: float | None = 1024.0
    max_rows: int | None = None
    #: seconds between checks (the first runs when the archive opens)
    interval: float = 60.0
    #: rows deleted per transaction: the writer flushes events between chunks
    chunk: int = 2000


@dataclass(frozen=True, slots=True)
class Record:
    """One stored update with its bookkeeping."""

    seq: int
    at: float  # receive time (events, malformed, notices), change time (states), end (gaps)
    connection_id: str | None
    update: Update


# ---------------------------------------------------------------------------------
# where archives live


def data_dir() -> Path:
    # Called through the module so tests and platforms can redirect it.
    return Path(platformdirs.user_data_dir(APP_NAME))


def archive_path(profile: str = "default", *, demo: bool = False, base: Path | None = None) -> Path:
    """The archive file of a profile (``<data>/archive/<profile>.sqlite3``) or of the
    demo (``<data>/demo.sqlite3``, so demo data never mixes with real data)."""
    root = Path(base) if base is not None else data_dir()
    if demo:
        return root / DEMO_FILENAME
    return root / PROFILES_DIRNAME / f"{_safe_name(profile)}.sqlite3"


def _safe_name(profile: str) -> str:
    # Profile names are checked by the config, but a file name must never climb
    # out of the folder whatever it is given: anything unusual is %-escaped.
    name = "".join(
        c if (c.isascii() and (c.isalnum() or c in "_-")) or (c == "." and i) else f"%{ord(c):02X}"
        for i, c in enumerate(profile or "default")
    )
    return name[:120]


# ---------------------------------------------------------------------------------
# schema


def _schema_v1(db: sqlite3.Connection) -> None:
    # One table for every kind: its rowid is the order the connection reported
    # things in, which makes replay exact and retention one DELETE.  The views
    # give each kind its own name for people querying the file by hand.
    db.execute("""
        CREATE TABLE log (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            at REAL NOT NULL,
            connection_id TEXT,
            event TEXT,
            event_ts INTEGER,
            meeting_uuid TEXT,
            meeting_id TEXT,
            participant_key TEXT,
            topic TEXT,
            participant_name TEXT,
            participant_email TEXT,
            raw BLOB,
            reason TEXT,
            state TEXT,
            previous TEXT,
            hint TEXT,
            retry_in REAL,
            attempt INTEGER,
            gap_start REAL
        )""")
    db.execute("CREATE INDEX log_at ON log(at)")
    db.execute("""CREATE VIEW events AS SELECT seq, at AS received_at, connection_id, event,
        event_ts, meeting_uuid, meeting_id, participant_key, topic, participant_name,
        participant_email, raw FROM log WHERE kind = 'event'""")
    db.execute("""CREATE VIEW malformed AS SELECT seq, at AS received_at, connection_id, reason,
        raw FROM log WHERE kind = 'malformed'""")
    db.execute("""CREATE VIEW states AS SELECT seq, at, connection_id, state, previous, reason,
        hint, retry_in, attempt FROM log WHERE kind = 'state'""")
    db.execute("""CREATE VIEW gaps AS SELECT seq, gap_start AS start, at AS "end", connection_id,
        reason FROM log WHERE kind = 'gap'""")
    db.execute("""CREATE VIEW notices AS SELECT seq, at AS received_at, connection_id, reason,
        raw FROM log WHERE kind = 'notice'""")


#: Schema migrations, in order. `PRAGMA user_version` is how many have run.
#: To change the schema, append a function; never edit one that has shipped.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_schema_v1]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(sqlite3.DatabaseError):
    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version}, this zoomtui knows {SCHEMA_VERSION}")
        self.version = version


def migrate(
    db: sqlite3.Connection, migrations: list[Callable[[sqlite3.Connection], None]] | None = None
) -> int:
    """Bring `db` (in autocommit mode) to the newest schema, one transaction per step.
    Returns the version reached. Raises `NewerSchemaError` for a file from a newer zoomtui."""
    steps = MIGRATIONS if migrations is None else migrations
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(steps):
        raise NewerSchemaError(version)
    for step in range(version, len(steps)):
        db.execute("BEGIN IMMEDIATE")
        try:
            steps[step](db)
            db.execute(f"PRAGMA user_version = {step + 1:d}")  # an int we computed, not input
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(steps)


def _lower_priority(niceness: int = THREAD_NICENESS) -> None:
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


# ---------------------------------------------------------------------------------
# rows

_EVENT_COLUMNS = (
    "connection_id",
    "at",
    "event",
    "event_ts",
    "meeting_uuid",
    "meeting_id",
    "participant_key",
    "topic",
    "participant_name",
    "participant_email",
    "raw",
)
#: builds the row of an event in C: same order as _EVENT_COLUMNS after connection_id (`raw`
#: is the frame as text: events off the network keep it as the UTF-8 they came in)
_event_row = attrgetter(
    "received_at",
    "name",
    "event_ts_ms",
    "meeting_uuid",
    "meeting_id",
    "participant_key",
    "topic",
    "participant_name",
    "participant_email",
    "raw",
)
_EVENT_ROW_LEN = len(_EVENT_COLUMNS)
#: most rows per multi-row INSERT (a power of two), if SQLite allows that many parameters.
#: Measured: 128 costs the least CPU per row (1024-row statements cost 50 % more, single
#: rows 20 % more) while handing the GIL over only once per 128 rows.
_ROWS_PER_STATEMENT = 128


@functools.cache
def _insert_events_sql(n: int) -> str:
    """An INSERT of `n` event rows as `Archive.add` queues them."""
    one = f"('event', {', '.join('?' * len(_EVENT_COLUMNS))})"
    return f"INSERT INTO log (kind, {', '.join(_EVENT_COLUMNS)}) VALUES " + ", ".join([one] * n)


_INSERT_MALFORMED = (
    "INSERT INTO log (kind, connection_id, at, reason, raw) VALUES ('malformed', ?, ?, ?, ?)"
)
_INSERT_STATE = (
    "INSERT INTO log (kind, connection_id, at, state, previous, reason, hint, "
    "retry_in, attempt) VALUES ('state', ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_GAP = (
    "INSERT INTO log (kind, connection_id, at, gap_start, reason) VALUES ('gap', ?, ?, ?, ?)"
)
_INSERT_NOTICE = (
    "INSERT INTO log (kind, connection_id, at, reason, raw) VALUES ('notice', ?, ?, ?, ?)"
)

_SELECT = (
    "SELECT seq, kind, at, connection_id, raw, reason, state, previous, hint, retry_in, "
    "attempt, gap_start FROM log"
)


def _scrub(value: Any) -> Any:
    # SQLite text must be UTF-8: a lone surrogate (only a hand-made event can hold one;
    # parse_frame refuses them) becomes "?" rather than failing the whole batch.
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _record_from_row(row: tuple) -> Record | None:
    seq, kind, at, cid, raw, reason, state, previous, hint, retry_in, attempt, gap_start = row
    update: Any
    if kind == KIND_EVENT:
        update = parse_frame(raw, at)
    elif kind == KIND_MALFORMED:
        data = raw if isinstance(raw, bytes) else str(raw or "").encode("utf-8", "surrogatepass")
        update = MalformedFrame(raw=data, reason=reason or "", received_at=at)
    elif kind == KIND_STATE:
        try:
            update = StateChanged(
                state=ConnectionState(state),
                previous=ConnectionState(previous),
                reason=reason or "",
                at=at,
                hint=hint or "",
                retry_in=retry_in,
                attempt=attempt or 0,
            )
        except ValueError:  # a state a newer zoomtui knows: skip rather than fail a replay
            return None
    elif kind == KIND_GAP:
        update = Gap(start=gap_start if gap_start is not None else at, end=at, reason=reason or "")
    elif kind == KIND_NOTICE:
        env = parse_frame(raw, at)
        if not isinstance(env, Envelope):
            return None
        update = Notice(envelope=env, text=reason or "")
    else:
        return None
    return Record(seq=seq, at=at, connection_id=cid, update=update)


# ---------------------------------------------------------------------------------
# reading


class ArchiveReader:
    """Read access to an archive file. Each query uses its own read-only connection,
    so reading never blocks (or is blocked by) the writer, in this process or another."""

    status = STATUS_READ_ONLY
    error: str | None = None

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path)
        self._clock = clock

    @classmethod
    def open(
        cls,
        profile: str = "default",
        *,
        demo: bool = False,
        base: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> ArchiveReader:
        return cls(archive_path(profile, demo=demo, base=base), clock=clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, status={self.status!r})"

    # -- connections --------------------------------------------------------------
    def _connect_ro(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise ArchiveError(
                f"There is no event archive at {self.path}: nothing has been recorded there yet."
            )
        uri = self.path.resolve().as_uri()
        db = None
        try:
            try:
                db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=5.0)
                version = db.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.OperationalError:
                # A WAL archive in a folder we cannot write (copied off a box, a
                # read-only mount): SQLite cannot create its -shm file, so read the
                # file as a snapshot instead.
                if db is not None:
                    db.close()
                db = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=5.0)
                version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise ArchiveError(f"Cannot read the event archive at {self.path}: {exc}.") from None
        if version > SCHEMA_VERSION:
            db.close()
            raise ArchiveError(
                f"The event archive at {self.path} was written by a newer zoomtui "
                f"(schema {version}, this one reads {SCHEMA_VERSION}): upgrade zoomtui."
            )
        if version < SCHEMA_VERSION:
            db.close()
            if version == 0:
                raise ArchiveError(f"The event archive at {self.path} is empty (never written).")
            raise ArchiveError(
                f"The event archive at {self.path} uses an older schema "
                f"({version}); open it once with the monitor to upgrade it."
            )
        return db

    def _bounds(self, since: Any, until: Any) -> tuple[float | None, float | None]:
        now = self._clock()
        return as_epoch(since, now), as_epoch(until, now)

    # -- queries ------------------------------------------------------------------
    def iter_records(
        self, since: Any = None, until: Any = None, kinds: Iterable[str] | None = None
    ) -> Iterator[Record]:
        """Stored updates in time order (then arrival order) with seq, time, connection id.

        `since`/`until`: epoch seconds, a datetime, or text for `parse_when`
        (``"2h"``, ISO 8601).  A gap is included when it overlaps the window.
        """
        lo, hi = self._bounds(since, until)
        where: list[str] = []
        params: list[Any] = []
        # Only constant SQL fragments are joined here; every value is a parameter.
        if kinds is not None:
            kinds = list(kinds)
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params.extend(kinds)
        if lo is not None:
            where.append("at >= ?")
            params.append(lo)
        if hi is not None:
            where.append("(at < ? OR (kind = 'gap' AND gap_start < ?))")
            params.extend((hi, hi))
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY at, seq"
        db = self._connect_ro()
        try:
            try:
                cursor = db.execute(sql, params)
                while rows := cursor.fetchmany(512):
                    for row in rows:
                        record = _record_from_row(row)
                        if record is not None:
                            yield record
            except sqlite3.Error as exc:
                raise ArchiveError(
                    f"Reading the event archive at {self.path} failed: {exc}."
                ) from None
        finally:
            db.close()

    def iter_updates(self, since: Any = None, until: Any = None) -> Iterator[Update]:
        """Events, malformed frames, state changes, gaps and notices, in time order, as the
        typed values the connection reported (each carries its recorded time)."""
        for record in self.iter_records(since, until):
            yield record.update

    def iter_events(
        self,
        since: Any = None,
        until: Any = None,
        filter: str | EventFilter | None = None,  # noqa: A002 - the public name
        limit: int | None = None,
    ) -> Iterator[ZoomEvent]:
        """Events in time order, rebuilt with `parse_frame`. `filter` is filter-language
        text (raises `FilterError`) or anything with `matches(event)`."""
        flt = _compile(filter)
        if limit is not None and limit <= 0:
            return
        # zoomtui's Filter has a faster entry point for rows known to be events
        matches = getattr(flt, "matches_event", None) or getattr(flt, "matches", None)
        n = 0
        for record in self.iter_records(since, until, kinds=(KIND_EVENT,)):
            ev = record.update
            if not isinstance(ev, ZoomEvent):
                continue
            if matches is not None and not matches(ev):
                continue
            yield ev
            n += 1
            if limit is not None and n >= limit:
                return

    def count(self, kind: str | None = KIND_EVENT, since: Any = None, until: Any = None) -> int:
        """How many rows of `kind` (None: all kinds) are stored in the window."""
        lo, hi = self._bounds(since, until)
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if lo is not None:
            where.append("at >= ?")
            params.append(lo)
        if hi is not None:
            where.append("at < ?")
            params.append(hi)
        sql = "SELECT count(*) FROM log" + (" WHERE " + " AND ".join(where) if where else "")
        db = self._connect_ro()
        try:
            return db.execute(sql, params).fetchone()[0]
        except sqlite3.Error as exc:
            raise ArchiveError(f"Reading the event archive at {self.path} failed: {exc}.") from None
        finally:
            db.close()

    def time_range(self) -> tuple[float, float] | None:
        """(first, last) receive time stored, or None when empty."""
        db = self._connect_ro()
        try:
            lo, hi = db.execute("SELECT min(at), max(at) FROM log").fetchone()
        finally:
            db.close()
        return None if lo is None else (lo, hi)

    def close(self) -> None:
        """Nothing to release: every query closes its own connection."""


def _compile(flt: str | EventFilter | None) -> EventFilter | None:
    if flt is None or (isinstance(flt, str) and not flt.strip()):
        return None
    if isinstance(flt, str):
        from zoomtui.monitor.filters import compile_filter  # raises FilterError on bad text

        return compile_filter(flt)
    return flt


# ---------------------------------------------------------------------------------
# writing: the writer core (in the writer process, or in a thread of this one)


class _Marker:
    """Queued behind updates: the writer answers it once everything before it is committed."""

    __slots__ = ("done", "ident", "retention")

    def __init__(self, retention: bool = False, ident: int = 0) -> None:
        self.done = threading.Event()
        self.retention = retention
        self.ident = ident


def _failure_message(path: Path, exc: BaseException, retry: float) -> str:
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


def open_for_writing(
    path: Path, max_page_count: int | None = None
) -> tuple[sqlite3.Connection, int]:
    """Open (create, migrate) the archive file for writing: (connection, rows per INSERT).
    Raises sqlite3.Error or OSError."""
    db = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Names and e-mail addresses of meeting participants: owner-only file.
            # (SQLite gives its -wal and -shm files the same mode.)
            with contextlib.suppress(FileExistsError):  # another zoomtui was quicker
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        if max_page_count is not None:
            db.execute(f"PRAGMA max_page_count = {int(max_page_count):d}")
        fresh = (
            db.execute("PRAGMA user_version").fetchone()[0] == 0
            and not db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
        )
        if fresh:
            # Both must precede the first table.  Incremental auto-vacuum lets retention
            # give pages back to the disk; 16 KB pages (for ~1 KB rows) cut the
            # writer's CPU per event by about a fifth against the default 4 KB.
            db.execute("PRAGMA page_size = 16384")
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("PRAGMA journal_mode = WAL").fetchone()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA journal_size_limit = 67108864")
        migrate(db)
        # Rows per statement within SQLite's parameter limit (32766 since 3.32, 999
        # before): fewer statements, fewer GIL hand-overs per batch.
        limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        rows = _ROWS_PER_STATEMENT
        while rows > 1 and rows * _EVENT_ROW_LEN > limit:
            rows //= 2
    except BaseException:
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        raise
    return db, rows


#: event rows inserted at a time when frames are made into rows (bounds the writer's memory)
_RUN_MAX = 1024


class _Frames:
    """Event frames as the monitor handed them over (a MSG_EVENTS payload).  The writer
    makes rows of them a message at a time, as it inserts them, so a backlog waits here as
    compact bytes.  Each frame is parsed again, exactly as it was live (`parse_text_frame`
    of the same bytes and receive time), for the parsed columns."""

    __slots__ = ("count", "payload")

    def __init__(self, count: int, payload: bytes) -> None:
        self.count = count
        self.payload = payload

    def rows(self) -> list[tuple]:
        p, n = self.payload, self.count
        (size,) = _U32.unpack_from(p, 0)
        at = 4
        cid = None if size == _NO_CID else p[at : at + size].decode("utf-8", "surrogatepass")
        at += 0 if size == _NO_CID else size
        times = array("d")
        times.frombytes(p[at : at + 8 * n])
        at += 8 * n
        lengths = array("I")
        lengths.frombytes(p[at : at + 4 * n])
        at += 4 * n
        data = memoryview(p)
        rows = []
        head = (cid,)
        for received, length in zip(times, lengths, strict=True):
            frame = data[at : at + length].tobytes()
            at += length
            ev = parse_text_frame(frame, received)
            if ev.__class__ is ZoomEvent:
                rows.append(head + _event_row(ev))
            else:  # a hand-made event whose frame is not a valid one: kept, unindexed
                text = frame.decode("utf-8", "surrogatepass")
                rows.append((cid, received, None, None, None, None, None, None, None, None, text))
        return rows


def _tally(batch: list[Any]) -> tuple[int, list[_Marker]]:
    """(updates in `batch`, its markers)."""
    units = 0
    markers = []
    for item in batch:
        if type(item) is _Frames:
            units += item.count
        elif type(item[0]) is _Marker:
            markers.append(item[0])
        else:
            units += 1
    return units, markers


class _Writer:
    """Commits what is queued to the file, from its own thread.

    The queue holds event rows (tuples of `_EVENT_ROW_LEN`: connection id, then the
    columns of `_event_row`), `_Frames` (events as the writer process receives them),
    ``(update, connection_id)`` pairs and markers.  It wakes
    every `flush_interval`, takes what is queued and commits it in one transaction.
    In the writer process the pipe from the monitor feeds it; in thread mode,
    `Archive.add` does.  `on_batch(markers)` (if given) is called after every batch and
    every retention step, from the writer thread.
    """

    def __init__(
        self,
        path: Path,
        *,
        retention: Retention,
        clock: Callable[[], float],
        flush_interval: float,
        batch_max: int,
        retry_interval: float,
        max_page_count: int | None,
        on_batch: Callable[[list[_Marker]], None] | None = None,
        lower_priority: bool = True,
    ) -> None:
        self.path = path
        self.retention = retention
        self._clock = clock
        self.flush_interval = flush_interval
        self.batch_max = max(1, batch_max)
        self.retry_interval = retry_interval
        self._max_page_count = max_page_count
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
        self._q: deque[Any] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._lost_since: float | None = None
        self._retry_at = 0.0
        self._retention_due = 0.0  # monotonic; 0 = check as soon as the writer starts
        self._retention_busy = False
        self._db = self._open_writer()
        self._thread = threading.Thread(
            target=self._run, name=f"zoomtui-archive:{path.name}", daemon=True
        )
        self._thread.start()

    # -- feeding and control ------------------------------------------------------------
    def put_many(self, items: Iterable[Any]) -> None:
        self._q.extend(items)

    def mark(self, marker: _Marker) -> None:
        """Queue `marker`; it is answered (marker.done set) once what precedes it is committed."""
        self._q.append((marker, None))
        self._wake.set()

    def request(self, marker: _Marker, timeout: float) -> bool:
        if not self._thread.is_alive():
            return False
        self.mark(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        self._q = deque(maxlen=0)
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
        try:
            db, self._rows_per_statement = open_for_writing(self.path, self._max_page_count)
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)
            return None
        return db

    def _fail(self, exc: BaseException) -> None:
        self.error = _failure_message(self.path, exc, self.retry_interval)
        self.status = STATUS_FAILED
        if self._lost_since is None:
            self._lost_since = self._clock()
        self._retry_at = time.monotonic() + self.retry_interval

    # -- the writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        if self._lower_priority:
            _lower_priority()
        q = self._q
        report = self._on_batch
        while True:
            if not self._closing:
                self._wake.wait(0.005 if self._retention_busy else self.flush_interval)
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

    def _write(self, batch: list[Any]) -> list[_Marker]:
        """Commit `batch`; the markers in it, to answer once the caller has reported."""
        if self.status == STATUS_FAILED and not self._may_retry():
            return self._discard(batch)
        db = self._db
        assert db is not None
        markers: list[_Marker] = []
        rows = units = 0
        event_row = _EVENT_ROW_LEN
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                run: list[Any] = []
                for item in batch:
                    if type(item) is _Frames:  # from the monitor: rows made here
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
                    if type(update) is _Marker:
                        markers.append(update)
                    else:
                        units += 1
                        rows += self._insert_other(db, update, cid)
                if run:
                    rows += self._insert_events(db, run)
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
            lost, markers = _tally(batch)
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

    def _insert_events(self, db: sqlite3.Connection, rows: list[Any]) -> int:
        # Statements of 128, 64, ..., 1 rows: any batch is a few of them, all kept
        # prepared in sqlite3's statement cache.
        execute, flat, sql = db.execute, chain.from_iterable, _insert_events_sql
        total, i, size = len(rows), 0, self._rows_per_statement
        while i < total:
            while size > total - i:
                size //= 2
            chunk = rows[i : i + size]
            try:
                execute(sql(size), [*flat(chunk)])
            except UnicodeEncodeError:  # a lone surrogate (hand-made events only): scrubbed
                execute(sql(size), [*map(_scrub, flat(chunk))])
            i += size
        return total

    @staticmethod
    def _insert_other(db: sqlite3.Connection, update: Any, cid: str | None) -> int:
        kind = type(update)
        if kind is MalformedFrame:
            raw = update.raw
            if isinstance(raw, str):  # hand-made; parse_frame always gives bytes
                raw = raw.encode("utf-8", "surrogatepass")
            db.execute(_INSERT_MALFORMED, (cid, update.received_at, update.reason, bytes(raw)))
        elif kind is StateChanged:
            db.execute(
                _INSERT_STATE,
                (
                    cid,
                    update.at,
                    str(update.state),
                    str(update.previous),
                    update.reason,
                    update.hint,
                    update.retry_in,
                    update.attempt,
                ),
            )
        elif kind is Gap:
            db.execute(_INSERT_GAP, (cid, update.end, update.start, update.reason))
        elif kind is Notice:
            env = update.envelope
            db.execute(_INSERT_NOTICE, (cid, env.received_at, update.text, env.raw))
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

    def _discard(self, batch: list[Any]) -> list[_Marker]:
        lost, markers = _tally(batch)
        self.dropped += lost
        self._dropped_in_gap += lost
        self.taken += lost
        return markers

    def _record_own_gap(self, db: sqlite3.Connection) -> int:
        """After a failure, say in the record itself which interval is missing."""
        if not self._dropped_in_gap or self._lost_since is None:
            return 0
        reason = f"the archive could not be written: {self._dropped_in_gap} updates were not kept"
        db.execute(_INSERT_GAP, (ARCHIVE_CONNECTION_ID, self._clock(), self._lost_since, reason))
        return 1

    # -- retention --------------------------------------------------------------------
    def _retention_step(self) -> bool:
        """Delete one chunk of what the limits exclude. True when more is left to do."""
        db = self._db
        r = self.retention
        if db is None:
            return False
        chunk = max(1, r.chunk)
        try:
            if r.max_age_days is not None:
                cutoff = self._clock() - r.max_age_days * 86400.0
                if self._delete_oldest(db, chunk, cutoff) == chunk:
                    return True
            if r.max_rows is not None:
                excess = db.execute("SELECT count(*) FROM log").fetchone()[0] - r.max_rows
                if excess > 0:
                    self._delete_oldest(db, min(excess, chunk))
                    return True  # the next step checks again, then gives the pages back
            if r.max_size_mb is not None:
                page_size = db.execute("PRAGMA page_size").fetchone()[0]
                pages = db.execute("PRAGMA page_count").fetchone()[0]
                free = db.execute("PRAGMA freelist_count").fetchone()[0]
                used = (pages - free) * page_size
                limit = r.max_size_mb * 1024 * 1024
                if used > limit:
                    rows = db.execute("SELECT count(*) FROM log").fetchone()[0]
                    if rows:
                        # Down to 90 % of the limit, so the next check has room to spare.
                        want = math.ceil((used - 0.9 * limit) / (used / rows))
                        self._delete_oldest(db, min(chunk, max(1, want)))
                        return True
            free = db.execute("PRAGMA freelist_count").fetchone()[0]
            if free:
                # Give deleted pages back to the disk, a few at a time.  executescript:
                # each step frees one page, and execute() would stop after the first.
                pages = max(1, _VACUUM_BYTES // db.execute("PRAGMA page_size").fetchone()[0])
                db.executescript(f"PRAGMA incremental_vacuum({pages:d});")
                return free > pages
        except sqlite3.Error as exc:
            self._fail(exc)
        return False

    @staticmethod
    def _delete_oldest(db: sqlite3.Connection, n: int, before: float | None = None) -> int:
        if before is None:
            cur = db.execute(
                "DELETE FROM log WHERE seq IN (SELECT seq FROM log ORDER BY at, seq LIMIT ?)", (n,)
            )
        else:
            cur = db.execute(
                "DELETE FROM log WHERE seq IN (SELECT seq FROM log WHERE at < ? "
                "ORDER BY at, seq LIMIT ?)",
                (before, n),
            )
        return cur.rowcount


# ---------------------------------------------------------------------------------
# the pipe to the writer process
#
# Every message is a header (`_HEADER`: type, count, payload length, the monitor's clock)
# and a payload:
#   MSG_EVENTS  count event frames of one connection: u32 length of the connection id
#               (0xFFFFFFFF: none) and its UTF-8, count f64 receive times, count u32 frame
#               lengths, the frames one after the other, as received (UTF-8; native
#               byte order)
#   MSG_ITEMS   count (update, connection id) pairs, pickled: what is not an event
#   MSG_FLUSH   answer marker `count` once everything before it is committed
#   MSG_PRUNE   the same, after applying the retention limits
#   MSG_TICK    nothing: the monitor's clock, sent when it has been idle for a second
# The writer reports on its stdout, one JSON object per line: status, error, written,
# dropped, taken, cpu, done (marker numbers answered).

MSG_EVENTS, MSG_ITEMS, MSG_FLUSH, MSG_PRUNE, MSG_TICK = 1, 2, 3, 4, 5
#: an idle monitor sends its clock this often (seconds)
TICK_INTERVAL = 1.0
_HEADER = struct.Struct("<BIId")
_U32 = struct.Struct("<I")
#: events per MSG_EVENTS message: few enough that the frames the monitor holds (and copies
#: into the message) stay in its CPU cache, enough that packing them is a few C calls per
#: 64 events
PACK_ROWS = 64
#: the connection id length that says "no connection id"
_NO_CID = 0xFFFFFFFF
#: a writer process that dies is started again after this many seconds, twice as long after
#: each death in a row (up to the archive's retry_interval); one that ran this long is not
#: counted as "in a row"
WRITER_RESTART_FIRST = 1.0
WRITER_STABLE_AFTER = 60.0
#: how the writer runs: "process" (default) or "thread"; ZOOMTUI_ARCHIVE_WRITER overrides it
WRITER_ENV = "ZOOMTUI_ARCHIVE_WRITER"
WRITER_PROCESS, WRITER_THREAD = "process", "thread"


def pack_frames(cid: str | None, frames: list[bytes], times: array, now: float) -> list[bytes]:
    """The MSG_EVENTS message, as one buffer: the frames' UTF-8 as received, side by side
    (both processes run on this machine: native byte order).

    Joined here, in the monitor, on purpose: copying 64 frames (~45 KB) costs less than
    what it saves. Measured on the ingest benchmark, handing the frames over one buffer
    each cost live ingest 11-12 %, joined 7-9 %: the frames are freed at once, while
    they are still in the cache, and the feeder thread takes the GIL to hand over and
    free one object per 64 events rather than one per event."""
    n = len(frames)
    lengths = array("I", map(len, frames))
    name = b"" if cid is None else cid.encode("utf-8", "surrogatepass")
    size = _NO_CID if cid is None else len(name)
    payload = 4 + len(name) + 12 * n + sum(lengths)
    return [
        b"".join(
            [
                _HEADER.pack(MSG_EVENTS, n, payload, now),
                _U32.pack(size),
                name,
                times.tobytes(),
                lengths.tobytes(),
                *frames,
            ]
        )
    ]


def pack_items(items: list[Any], now: float) -> list[bytes]:
    data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return [_HEADER.pack(MSG_ITEMS, len(items), len(data), now), data]


def unpack(kind: int, count: int, payload: bytes) -> list[Any]:
    """What a message carries, as `_Writer` items (the writer process's side)."""
    if kind == MSG_EVENTS:
        return [_Frames(count, payload)]
    if kind == MSG_ITEMS:
        return pickle.loads(payload)  # noqa: S301 - our own pipe, from the process that started us
    return []


def _write_all(fd: int, buffers: list[bytes]) -> None:
    """Write every buffer to `fd` (blocking; the GIL is released while the kernel copies)."""
    writev = getattr(os, "writev", None)
    if writev is None:  # Windows
        data = memoryview(b"".join(buffers))
        while data:
            data = data[os.write(fd, data) :]
        return
    i = 0
    limit = 512  # well under IOV_MAX everywhere
    while i < len(buffers):
        group = buffers[i : i + limit]
        done = writev(fd, group)
        total = sum(map(len, group))
        if done < total:  # a partial write: finish the rest buffer by buffer
            for buf in group:
                if done >= len(buf):
                    done -= len(buf)
                    continue
                view = memoryview(buf)[done:]
                done = 0
                while view:
                    view = view[os.write(fd, view) :]
        i += limit


def _writer_command(args: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", "zoomtui.monitor.archive_writer", json.dumps(args)]


#: what the writer never needs (it never sees a secret: frames carry none)
_NOT_FOR_THE_WRITER = frozenset({"ZOOM_CLIENT_SECRET"})


def _child_env() -> dict[str, str]:
    """The writer process imports this zoomtui, wherever the monitor found it."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_THE_WRITER}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


# ---------------------------------------------------------------------------------
# the archive, open for writing


class Archive(ArchiveReader):
    """An archive file open for writing. See the module docstring.

    The writer runs in a child process (``writer="process"``, the default): the monitor
    keeps each event's frame (as received: UTF-8) and receive time for a moment, joins 64
    at a time into one message (a few C calls) and a feeder thread hands the messages over
    a pipe, so the writer's Python work (parsing, binding parameters, freeing rows) never
    competes for this process's GIL or its memory allocator.  ``writer="thread"`` (or
    ``ZOOMTUI_ARCHIVE_WRITER=thread``, or when a process cannot be started) runs the same
    writer in a thread of this process.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention: Retention | None = None,
        clock: Callable[[], float] = time.time,
        flush_interval: float = 0.08,
        batch_max: int = 20_000,
        retry_interval: float = 30.0,
        max_page_count: int | None = None,  # tests: simulate a full disk
        writer: str | None = None,
    ) -> None:
        super().__init__(path, clock=clock)
        self.retention = retention if retention is not None else Retention()
        self.flush_interval = flush_interval
        self.batch_max = max(1, batch_max)
        self.retry_interval = retry_interval
        self._max_page_count = max_page_count
        self._closing = False
        self._core: _Writer | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # process mode: what the writer last reported
        self._status, self._error = STATUS_OPEN, None
        self._written = self._dropped = self._dropped_here = self._taken = 0
        self._cpu = 0.0
        mode = writer or os.environ.get(WRITER_ENV) or WRITER_PROCESS
        if mode not in (WRITER_PROCESS, WRITER_THREAD):
            raise ValueError(
                f"writer must be {WRITER_PROCESS!r} or {WRITER_THREAD!r}, not {mode!r}"
            )
        if mode == WRITER_PROCESS and sys.executable and not getattr(sys, "frozen", False):
            self._start_process()
        if self._proc is None:
            self._start_thread()
        # A program that forgets close() still gets its last batch written.
        atexit.register(self.close)

    @classmethod
    def open(
        cls,
        profile: str = "default",
        *,
        demo: bool = False,  # type: ignore[override]
        base: Path | None = None,
        **options: Any,
    ) -> Archive:
        """The profile's archive (or the demo's), opened for writing. Never raises for
        disk or permission problems: see `status` and `error`."""
        return cls(archive_path(profile, demo=demo, base=base), **options)

    def _core_options(self) -> dict[str, Any]:
        return {
            "retention": self.retention,
            "flush_interval": self.flush_interval,
            "batch_max": self.batch_max,
            "retry_interval": self.retry_interval,
            "max_page_count": self._max_page_count,
        }

    # -- thread mode ------------------------------------------------------------------------
    def _start_thread(self) -> None:
        self._core = _Writer(self.path, clock=self._clock, **self._core_options())
        self._q = self._core._q
        self.add = self._add_to_thread  # type: ignore[method-assign]

    def _add_to_thread(self, update: Update, connection_id: str | None = None) -> None:
        if update.__class__ is ZoomEvent:
            self._q.append((connection_id,) + _event_row(update))
        else:
            self._q.append((update, connection_id))

    # -- process mode ---------------------------------------------------------------------
    def _start_process(self) -> None:
        # Open (create, migrate) the file here first: a problem is known, and shown, at once.
        try:
            db, _rows = open_for_writing(self.path, self._max_page_count)
            db.close()
        except (sqlite3.Error, OSError) as exc:
            self._status = STATUS_FAILED
            self._error = _failure_message(self.path, exc, self.retry_interval)
        try:
            proc = self._spawn_writer()
        except OSError:
            return  # no child process here: the thread writer instead
        self._proc = proc
        self._sent = 0  # updates packed into messages (for this writer)
        self._frames: deque[bytes] = deque()
        self._ats: deque[float] = deque()
        self._cid: str | None = None
        self._out: deque[tuple[int, list[bytes]]] = deque()
        self._lock = threading.Lock()
        self._markers: dict[int, _Marker] = {}
        self._marker_ids = itertools.count(1)
        self._dead: str | None = None
        # A writer that dies is started again (see _restart_writer): what the ones before
        # it did, and when the next try is due.
        self._before = {"written": 0, "dropped": 0, "cpu": 0.0}
        self._died_at = 0.0  # the monitor's clock when the writer was found gone
        self._death = ""  # why
        self._gap_in_flight = False  # a restarted writer was handed the gap record first
        self._dropped_at_death = 0
        self._restart_at = 0.0  # time.monotonic()
        self._deaths = 0  # in a row: each waits twice as long, up to retry_interval
        self._started_at = time.monotonic()
        self._feed_wake = threading.Event()
        self.add = self._add_to_process  # type: ignore[method-assign]
        self._feeder = threading.Thread(
            target=self._feed, name=f"zoomtui-archive-feed:{self.path.name}", daemon=True
        )
        self._feeder.start()
        self._start_reader(proc)

    def _spawn_writer(self) -> subprocess.Popen[bytes]:
        options = self._core_options()
        options["retention"] = dataclasses.asdict(self.retention)
        args = {
            "path": str(self.path),
            "now": self._clock(),
            "niceness": WRITER_NICENESS,
            **options,
        }
        proc = subprocess.Popen(
            _writer_command(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        self._fd = proc.stdin.fileno()
        return proc

    def _start_reader(self, proc: subprocess.Popen[bytes]) -> None:
        self._reader = threading.Thread(
            target=self._read_reports,
            args=(proc,),
            name=f"zoomtui-archive-reports:{self.path.name}",
            daemon=True,
        )
        self._reader.start()

    def _add_to_process(self, update: Update, connection_id: str | None = None) -> None:
        if update.__class__ is ZoomEvent:
            if connection_id is not self._cid and connection_id != self._cid:
                with self._lock:  # a message holds the frames of one connection
                    self._pack_locked()
                    self._cid = connection_id
            raw = update._raw  # the UTF-8 as received (a hand-made event's may be text)
            if raw.__class__ is str:
                raw = raw.encode("utf-8", "surrogatepass")
            self._ats.append(update.received_at)
            frames = self._frames
            frames.append(raw)  # after its time: _pack_locked counts frames
            if len(frames) >= PACK_ROWS:
                self._pack()
        elif update.__class__ in _KEPT:
            with self._lock:
                self._pack_locked()
                self._out.append((1, pack_items([(update, connection_id)], self._clock())))
                self._sent += 1

    def _pack(self) -> None:
        with self._lock:
            self._pack_locked()

    def _pack_locked(self) -> None:
        frames = self._frames
        n = len(frames)
        if n:
            # popleft one by one (add() may append meanwhile), driven from C
            taken = list(starmap(frames.popleft, repeat((), n)))
            times = array("d", starmap(self._ats.popleft, repeat((), n)))
            self._out.append((n, pack_frames(self._cid, taken, times, self._clock())))
            self._sent += n

    def _feed(self) -> None:
        """The feeder thread: every flush interval (or when asked), what is packed goes
        down the pipe; the rows add() left unpacked at a low rate are packed first."""
        out = self._out
        last_sent = time.monotonic()
        # Handing over can wait a moment for receiving events and drawing the screen (the
        # kernel copies ~70 MB/s here in a flood): measured, a little less cost to ingest.
        _lower_priority(THREAD_NICENESS)
        while True:
            closing = self._closing
            if not closing:
                self._feed_wake.wait(self.flush_interval)
                self._feed_wake.clear()
                if self._dead is not None and time.monotonic() >= self._restart_at:
                    self._restart_writer()
            self._pack()
            if not out and time.monotonic() - last_sent >= TICK_INTERVAL:
                # the writer's clock is the monitor's (tests set their own): keep it current
                out.append((0, [_HEADER.pack(MSG_TICK, 0, 0, self._clock())]))
            n = len(out)
            if n:
                last_sent = time.monotonic()
                messages = list(starmap(out.popleft, repeat((), n)))
                if self._dead is None:
                    try:
                        _write_all(self._fd, [b for _count, bufs in messages for b in bufs])
                    except OSError as exc:  # the writer is gone
                        self._writer_gone(f"the pipe to it failed ({exc.strerror or exc})")
                if self._dead is not None:
                    lost = sum(count for count, _bufs in messages)
                    with self._lock:
                        self._dropped_here += lost
                        self._sent -= lost  # never reaches the writer: not pending either
                del messages
            if closing and not out:
                break
        with contextlib.suppress(OSError):
            assert self._proc is not None and self._proc.stdin is not None
            self._proc.stdin.close()  # the writer commits what it has, then exits

    def _read_reports(self, proc: subprocess.Popen[bytes]) -> None:
        """The report reader thread (one per writer): the writer's status, counts and
        answered markers."""
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            if proc is not self._proc:
                continue  # a writer already replaced (it outlived the wait for it)
            if self._dead is None:
                self._status, self._error = report["status"], report["error"]
            self._written, self._dropped = report["written"], report["dropped"]
            self._taken, self._cpu = report["taken"], report["cpu"]
            for ident in report["done"]:
                marker = self._markers.pop(ident, None)
                if marker is not None:
                    marker.done.set()
        # The writer has exited: after close(), as it should; otherwise it died.
        if not self._closing or proc.poll() not in (0, None):
            with contextlib.suppress(Exception):
                proc.wait(5)
            detail = _last_line(proc.stderr.read() if proc.stderr is not None else b"")
            self._writer_gone(_exit_text(proc.returncode) + (f": {detail}" if detail else ""), proc)
        for marker in list(self._markers.values()):
            marker.done.set()
        self._markers.clear()

    def _writer_gone(self, why: str, proc: subprocess.Popen[bytes] | None = None) -> None:
        """The writer died (seen by its report reader, or by the feeder as a broken pipe)."""
        with self._lock:
            if self._dead is not None or (proc is not None and proc is not self._proc):
                return
            if not self._restarted_blind():  # else the same outage goes on
                self._died_at = self._clock()
                self._death = why
                self._dropped_at_death = self.dropped
            if proc is not None:  # its reports are all read: what it never took is lost
                self._settle_lost()
            if time.monotonic() - self._started_at >= WRITER_STABLE_AFTER:
                self._deaths = 0
            self._mark_dead(why)

    def _settle_lost(self) -> None:
        """Count what a dead writer never took as dropped (but for our own gap record)."""
        self._dropped_here += max(0, self._sent - self._taken - self._restarted_blind())
        self._sent = self._taken

    def _restarted_blind(self) -> bool:
        """Whether the writer now gone was started again after a death and never took a
        thing, not even the gap record it was handed first."""
        return self._gap_in_flight and self._taken == 0

    def _mark_dead(self, why: str) -> None:
        self._deaths += 1
        wait = min(
            WRITER_RESTART_FIRST * 2 ** (self._deaths - 1),
            max(self.retry_interval, WRITER_RESTART_FIRST),
        )
        self._restart_at = time.monotonic() + wait
        self._dead = why
        self._status = STATUS_FAILED
        then = (
            "what it had not committed is lost."
            if self._closing
            else f"live events are still shown but not kept. zoomtui starts it again in {wait:g} s."
        )
        self._error = f"The event archive writer for {self.path} stopped ({why}): {then}"
        self._feed_wake.set()

    def _restart_writer(self) -> None:
        """In the feeder thread: start a new writer after one died. Whatever the dead one had
        not committed is counted as dropped, and the new one's first record is the gap."""
        old, why = self._proc, self._death
        assert old is not None
        if old.poll() is None:  # a broken pipe, but the process is still there: end it
            with contextlib.suppress(Exception):
                old.kill()
                old.wait(5)
        self._reader.join(5)  # its last report read, its markers answered
        _close_pipes(old)
        try:
            proc = self._spawn_writer()
        except OSError as exc:
            with self._lock:  # still dead: the next try waits longer
                self._mark_dead(f"{why}; starting it again failed: {exc.strerror or exc}")
            return
        with self._lock:
            self._settle_lost()
            for key, value in (
                ("written", self._written),
                ("dropped", self._dropped),
                ("cpu", self._cpu),
            ):
                self._before[key] += value
            self._sent = self._taken = self._written = self._dropped = 0
            self._cpu = 0.0
            lost = self.dropped - self._dropped_at_death
            gap = Gap(
                start=self._died_at,
                end=self._clock(),
                reason=f"the archive writer stopped ({why}): {lost} updates were not kept",
            )
            self._out.appendleft((1, pack_items([(gap, ARCHIVE_CONNECTION_ID)], self._clock())))
            self._sent += 1
            self._gap_in_flight = True
            self._proc = proc
            self._started_at = time.monotonic()
            self._dead = None  # still "failed" until the new writer's first report
        self._start_reader(proc)

    # -- the hot path -----------------------------------------------------------------------
    def add(self, update: Update, connection_id: str | None = None) -> None:
        """Queue one update for writing. Cheap, non-blocking, never raises.

        (Each archive binds the version for its writer in place of this one.)"""
        if self._core is not None:
            self._add_to_thread(update, connection_id)
        else:
            self._add_to_process(update, connection_id)

    # -- control ------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Updates added but not yet committed (or dropped)."""
        if self._core is not None:
            return len(self._core._q)
        return max(0, len(self._frames) + self._sent - self._taken)

    @property
    def writer_pid(self) -> int | None:
        """The writer process (None in thread mode)."""
        return self._proc.pid if self._proc is not None else None

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything added so far is committed (or dropped, if failed).
        True when it was written."""
        return self._request(retention=False, timeout=timeout) and self.status == STATUS_OPEN

    def run_retention(self, timeout: float = 60.0) -> bool:
        """Apply the retention limits now and wait for it (tests, a "prune" command)."""
        return self._request(retention=True, timeout=timeout)

    def _request(self, *, retention: bool, timeout: float) -> bool:
        if self._core is not None:
            return self._core.request(_Marker(retention=retention), timeout)
        if self._closing or self._dead is not None:
            return False
        ident = next(self._marker_ids)
        marker = _Marker(retention=retention, ident=ident)
        self._markers[ident] = marker
        with self._lock:
            self._pack_locked()
            self._out.append(
                (0, [_HEADER.pack(MSG_PRUNE if retention else MSG_FLUSH, ident, 0, self._clock())])
            )
        self._feed_wake.set()
        return marker.done.wait(timeout) and self._dead is None

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, stop the writer, close the file. Idempotent."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        if self._core is not None:
            self._core.close(timeout)
            self._q = deque(maxlen=0)  # from now on add() keeps nothing
            return
        self._feed_wake.set()
        self._feeder.join(timeout)
        self._frames = deque(maxlen=0)  # from now on add() keeps nothing
        proc = self._proc  # after the feeder: it may have started a new writer
        assert proc is not None
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        self._reader.join(5)
        _close_pipes(proc)
        if self._status != STATUS_FAILED:
            self._status = STATUS_CLOSED

    # What the writer says: its own attributes in thread mode, its reports in process mode.
    @property
    def status(self) -> str:  # type: ignore[override]
        return self._core.status if self._core is not None else self._status

    @property
    def error(self) -> str | None:  # type: ignore[override]
        return self._core.error if self._core is not None else self._error

    @property
    def written(self) -> int:
        """Rows committed since the archive opened."""
        if self._core is not None:
            return self._core.written
        return self._before["written"] + self._written

    @property
    def dropped(self) -> int:
        """Updates not kept (the file could not be written, or its writer died) since the
        archive opened."""
        if self._core is not None:
            return self._core.dropped
        return self._before["dropped"] + self._dropped + self._dropped_here

    @property
    def writer_cpu(self) -> float:
        """CPU seconds the writer has used (benchmarks: what the archive costs)."""
        if self._core is not None:
            return self._core.cpu
        return self._before["cpu"] + self._cpu

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error,
            "path": str(self.path),
            "written": self.written,
            "dropped": self.dropped,
            "pending": self.pending,
            "writer_cpu": self.writer_cpu,
        }


_KEPT = (MalformedFrame, StateChanged, Gap, Notice)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Close our ends of a writer's pipes (the feeder closed stdin already, if it could)."""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"it was killed by {signal.Signals(-code).name}"
    return f"it exited with code {code}"


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else ""
