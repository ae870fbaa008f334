"""The event archive: what the monitor received, kept in SQLite.

Zoom never replays an event, so what zoomtui received is the only record an
on-call engineer has after a restart or when paged an hour later.  Every
update the connection reports is kept: each event frame (raw text, receive
time, connection id, plus parsed columns for querying), malformed frames
(raw bytes and the reason), connection state changes, gaps and notices.

Integration (the connection, `tail` and the TUI need only these calls)::

    from zoomtui.monitor.archive import Archive

    archive = Archive.open(profile)          # or Archive.open("demo", demo=True); never raises
    archive.add(update, connection_id)       # on the hot ingest path: one deque append
    archive.status, archive.error            # "open" | "failed" | "closed"; a sentence for the panel
    archive.close()                          # flush and join the writer (blocking, a few ms:
                                             # from async code, `await asyncio.to_thread(archive.close)`)

`add()` takes any `Update`; heartbeats and token infos are not kept.  The
`connection_id` is free text chosen by the caller (e.g. ``f"{run}:{attempt}"``)
so a replay can tell connections apart.

Writes happen in one writer thread: it wakes every `flush_interval`
(80 ms), takes what `add()` queued and commits it in one transaction.  Events
go to SQLite 128 rows per INSERT statement (``VALUES (...), (...), ...``)
rather than through `executemany`: the sqlite3 module releases the GIL around
every statement step, and while another thread runs Python each re-acquire
can wait for the 5 ms switch interval, which slowed a per-row writer to a few
thousand rows/s under load.  Multi-row statements take the GIL back 128 times
less often and keep the per-row work in C (parameter binding).  (A JSON
array per batch through ``json_each`` did the same with one statement but cost
2.5x the CPU per row in escaping and parsing.)  `add()` queues the event's
row (its columns, built in C), never the event itself: holding events until
the writer ran made the garbage collector walk their parsed bodies.

WAL with synchronous=NORMAL means a committed batch survives a killed
process; at most the last `flush_interval` of updates is at risk.

A disk or permission problem never raises into the caller: the archive goes
to status "failed" with a message saying what to do, keeps draining (and
counting) what it is given, and retries every `retry_interval`.  When it
recovers, the lost interval is recorded as a gap.

Retention (age, size, row count) runs in the writer thread in small chunks,
so even a large first clean-up never stalls writes.

Reading (`ArchiveReader`, and `Archive` itself): `iter_events()`,
`iter_updates()`, `iter_records()`, `count()`.  Events are rebuilt with
`parse_frame(raw, received_at)`, so a replayed event is exactly a live one.
Call `archive.flush()` first to read what was just added.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import math
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat, starmap
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from zoomtui.monitor.when import as_epoch
from zoomtui.zoom.protocol import Envelope, MalformedFrame, ZoomEvent, parse_frame
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
#: how much nicer (lower priority) the writer thread is than the rest of the process
WRITER_NICENESS = 10


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
    name = "".join(c if (c.isascii() and (c.isalnum() or c in "_-")) or (c == "." and i) else
                   f"%{ord(c):02X}" for i, c in enumerate(profile or "default"))
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


def migrate(db: sqlite3.Connection,
            migrations: list[Callable[[sqlite3.Connection], None]] | None = None) -> int:
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


def _lower_priority() -> None:
    """Run the calling thread (the writer) at a lower CPU priority, where the OS allows it.

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
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + WRITER_NICENESS)


# ---------------------------------------------------------------------------------
# rows

_EVENT_COLUMNS = ("connection_id", "at", "event", "event_ts", "meeting_uuid", "meeting_id", "participant_key",
                  "topic", "participant_name", "participant_email", "raw")
#: builds the row of an event in C: same order as _EVENT_COLUMNS after connection_id
_event_row = attrgetter("received_at", "name", "event_ts_ms", "meeting_uuid", "meeting_id",
                        "participant_key", "topic", "participant_name", "participant_email", "raw")
#: the same from the frame's slot: `raw` is a property (a released event keeps a frame that
#: is not ASCII as UTF-8 and decodes it on demand); a fresh event, the one add() gets, holds
#: text there, and the slot skips a Python call on the hot path
_event_row_fast = attrgetter("received_at", "name", "event_ts_ms", "meeting_uuid", "meeting_id",
                             "participant_key", "topic", "participant_name", "participant_email",
                             "_raw")
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

_INSERT_MALFORMED = ("INSERT INTO log (kind, connection_id, at, reason, raw) "
                     "VALUES ('malformed', ?, ?, ?, ?)")
_INSERT_STATE = ("INSERT INTO log (kind, connection_id, at, state, previous, reason, hint, "
                 "retry_in, attempt) VALUES ('state', ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_GAP = "INSERT INTO log (kind, connection_id, at, gap_start, reason) VALUES ('gap', ?, ?, ?, ?)"
_INSERT_NOTICE = "INSERT INTO log (kind, connection_id, at, reason, raw) VALUES ('notice', ?, ?, ?, ?)"

_SELECT = ("SELECT seq, kind, at, connection_id, raw, reason, state, previous, hint, retry_in, "
           "attempt, gap_start FROM log")


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
            update = StateChanged(state=ConnectionState(state), previous=ConnectionState(previous),
                                  reason=reason or "", at=at, hint=hint or "", retry_in=retry_in,
                                  attempt=attempt or 0)
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

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock

    @classmethod
    def open(cls, profile: str = "default", *, demo: bool = False, base: Path | None = None,
             clock: Callable[[], float] = time.time) -> ArchiveReader:
        return cls(archive_path(profile, demo=demo, base=base), clock=clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, status={self.status!r})"

    # -- connections --------------------------------------------------------------
    def _connect_ro(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise ArchiveError(f"There is no event archive at {self.path}: nothing has been "
                               "recorded there yet.")
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
            raise ArchiveError(f"The event archive at {self.path} was written by a newer zoomtui "
                               f"(schema {version}, this one reads {SCHEMA_VERSION}): upgrade zoomtui.")
        if version < SCHEMA_VERSION:
            db.close()
            if version == 0:
                raise ArchiveError(f"The event archive at {self.path} is empty (never written).")
            raise ArchiveError(f"The event archive at {self.path} uses an older schema "
                               f"({version}); open it once with the monitor to upgrade it.")
        return db

    def _bounds(self, since: Any, until: Any) -> tuple[float | None, float | None]:
        now = self._clock()
        return as_epoch(since, now), as_epoch(until, now)

    # -- queries ------------------------------------------------------------------
    def iter_records(self, since: Any = None, until: Any = None,
                     kinds: Iterable[str] | None = None) -> Iterator[Record]:
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
                raise ArchiveError(f"Reading the event archive at {self.path} failed: {exc}.") from None
        finally:
            db.close()

    def iter_updates(self, since: Any = None, until: Any = None) -> Iterator[Update]:
        """Events, malformed frames, state changes, gaps and notices, in time order, as the
        typed values the connection reported (each carries its recorded time)."""
        for record in self.iter_records(since, until):
            yield record.update

    def iter_events(self, since: Any = None, until: Any = None,
                    filter: str | EventFilter | None = None,  # noqa: A002 - the public name
                    limit: int | None = None) -> Iterator[ZoomEvent]:
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
# writing


class _Marker:
    """Queued behind updates: the writer answers it once everything before it is committed."""

    __slots__ = ("done", "retention")

    def __init__(self, retention: bool = False) -> None:
        self.done = threading.Event()
        self.retention = retention


def _failure_message(path: Path, exc: BaseException, retry: float) -> str:
    detail = str(exc).rstrip(".") or type(exc).__name__
    low = detail.lower()
    later = f"zoomtui tries again every {retry:g} s." if retry > 0 else "restart zoomtui to try again."
    shown = "Live events are still shown but not kept"
    if isinstance(exc, NewerSchemaError):
        return (f"The event archive {path} was written by a newer zoomtui ({detail}); "
                f"{shown.lower()}. Upgrade zoomtui or move the file aside.")
    if "full" in low or getattr(exc, "errno", None) == 28:
        return (f"The disk holding the event archive is full ({path}): {shown.lower()}. "
                f"Free some space or lower the archive size limit; {later}")
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (f"The event archive {path} is damaged ({detail}); {shown.lower()}. "
                "Move the file aside to start a new one.")
    if "locked" in low or "busy" in low:
        return (f"The event archive {path} is locked by another program ({detail}); "
                f"{shown.lower()}; {later}")
    return (f"The event archive cannot be written at {path} ({detail}): {shown.lower()}. "
            f"Check that the folder exists and is writable; {later}")


class Archive(ArchiveReader):
    """An archive file open for writing, with its writer thread. See the module docstring."""

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
    ) -> None:
        super().__init__(path, clock=clock)
        self.retention = retention if retention is not None else Retention()
        self.flush_interval = flush_interval
        self.batch_max = max(1, batch_max)
        self.retry_interval = retry_interval
        self._max_page_count = max_page_count
        self.status = STATUS_OPEN
        self.error = None
        #: rows committed, updates dropped while failed (both since open)
        self.written = 0
        self.dropped = 0
        self._dropped_in_gap = 0
        self._rows_per_statement = 64
        #: CPU seconds the writer thread has used (benchmarks: what the archive costs)
        self.writer_cpu = 0.0
        #: event rows (tuples of _EVENT_ROW_LEN) and (update, connection id) pairs, in order
        self._q: deque[tuple] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._lost_since: float | None = None
        self._retry_at = 0.0
        self._retention_due = 0.0  # monotonic; 0 = check as soon as the writer starts
        self._retention_busy = False
        self._db = self._open_writer()
        self._thread = threading.Thread(target=self._run, name=f"zoomtui-archive:{self.path.name}",
                                        daemon=True)
        self._thread.start()
        # A program that forgets close() still gets its last batch written.
        atexit.register(self.close)

    @classmethod
    def open(cls, profile: str = "default", *, demo: bool = False,  # type: ignore[override]
             base: Path | None = None, **options: Any) -> Archive:
        """The profile's archive (or the demo's), opened for writing. Never raises for
        disk or permission problems: see `status` and `error`."""
        return cls(archive_path(profile, demo=demo, base=base), **options)

    # -- the hot path ---------------------------------------------------------------
    def add(self, update: Update, connection_id: str | None = None) -> None:
        """Queue one update for writing. Cheap, non-blocking, never raises."""
        if update.__class__ is ZoomEvent:
            # The row, built in C, not the event: holding events (and their parsed
            # bodies) until the writer runs made the garbage collector walk them,
            # which cost live ingest more than all the SQLite work.
            row = _event_row_fast(update)
            if row[-1].__class__ is not str:  # released: the frame as text, as stored
                row = _event_row(update)
            self._q.append((connection_id,) + row)
        else:
            self._q.append((update, connection_id))

    # -- control ------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._q)

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything added so far is committed (or dropped, if failed).
        True when it was written."""
        return self._request(_Marker(), timeout) and self.status == STATUS_OPEN

    def run_retention(self, timeout: float = 60.0) -> bool:
        """Apply the retention limits now and wait for it (tests, a "prune" command)."""
        return self._request(_Marker(retention=True), timeout)

    def _request(self, marker: _Marker, timeout: float) -> bool:
        if not self._thread.is_alive():
            return False
        self._q.append((marker, None))
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, stop the writer, close the file. Idempotent."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        # From now on add() goes to a deque that keeps nothing.
        self._q = deque(maxlen=0)
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA optimize")
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self.status != STATUS_FAILED:
            self.status = STATUS_CLOSED

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "path": str(self.path),
                "written": self.written, "dropped": self.dropped, "pending": len(self._q),
                "writer_cpu": self.writer_cpu}

    # -- opening --------------------------------------------------------------------
    def _open_writer(self) -> sqlite3.Connection | None:
        db = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Names and e-mail addresses of meeting participants: owner-only file.
                # (SQLite gives its -wal and -shm files the same mode.)
                with contextlib.suppress(FileExistsError):  # another zoomtui was quicker
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                 timeout=5.0)
            if self._max_page_count is not None:
                db.execute(f"PRAGMA max_page_count = {int(self._max_page_count):d}")
            fresh = db.execute("PRAGMA user_version").fetchone()[0] == 0 and not db.execute(
                "SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
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
            self._rows_per_statement = rows
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._fail(exc)
            return None
        return db

    def _fail(self, exc: BaseException) -> None:
        self.error = _failure_message(self.path, exc, self.retry_interval)
        self.status = STATUS_FAILED
        if self._lost_since is None:
            self._lost_since = self._clock()
        self._retry_at = time.monotonic() + self.retry_interval

    # -- the writer thread ------------------------------------------------------------
    def _run(self) -> None:
        _lower_priority()
        q = self._q
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
                    self._write(batch)
                except Exception as exc:  # a bug must not kill the thread (and grow the queue)
                    self._fail(exc)
                    self._discard(batch)
                n -= take
            self.writer_cpu = time.thread_time()
            if self._closing and not q:
                return
            if self._db is not None and self.status == STATUS_OPEN:
                now = time.monotonic()
                if self._retention_busy or now >= self._retention_due:
                    self._retention_busy = self._retention_step()
                    if not self._retention_busy:
                        self._retention_due = now + self.retention.interval

    def _write(self, batch: list[tuple]) -> None:
        if self.status == STATUS_FAILED and not self._may_retry():
            self._discard(batch)
            return
        db = self._db
        assert db is not None
        markers: list[_Marker] = []
        rows = 0
        event_row = _EVENT_ROW_LEN
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                run: list[tuple] = []
                for item in batch:
                    if len(item) == event_row:  # an event's row, from add()
                        run.append(item)
                        continue
                    if run:
                        rows += self._insert_events(db, run)
                        run = []
                    update, cid = item
                    if type(update) is _Marker:
                        markers.append(update)
                    else:
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
            markers = [item[0] for item in batch if type(item[0]) is _Marker]
            lost = len(batch) - len(markers)
            self.dropped += lost
            self._dropped_in_gap += lost
        else:
            self.written += rows
            if self.status == STATUS_FAILED:  # recovered
                self.status, self.error = STATUS_OPEN, None
                self._lost_since = None
                self._dropped_in_gap = 0
        for marker in markers:
            if marker.retention and self.status == STATUS_OPEN:
                while self._retention_step():
                    pass
            marker.done.set()

    def _insert_events(self, db: sqlite3.Connection, rows: list[tuple]) -> int:
        # Statements of 128, 64, ..., 1 rows: any batch is a few of them, all kept
        # prepared in sqlite3's statement cache.
        execute, flat, sql = db.execute, chain.from_iterable, _insert_events_sql
        total, i, size = len(rows), 0, self._rows_per_statement
        while i < total:
            while size > total - i:
                size //= 2
            chunk = rows[i:i + size]
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
            db.execute(_INSERT_STATE, (cid, update.at, str(update.state), str(update.previous),
                                       update.reason, update.hint, update.retry_in, update.attempt))
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

    def _discard(self, batch: list[tuple]) -> None:
        for item in batch:
            if type(item[0]) is _Marker:
                item[0].done.set()
            else:
                self.dropped += 1
                self._dropped_in_gap += 1

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
            cur = db.execute("DELETE FROM log WHERE seq IN (SELECT seq FROM log ORDER BY at, seq "
                             "LIMIT ?)", (n,))
        else:
            cur = db.execute("DELETE FROM log WHERE seq IN (SELECT seq FROM log WHERE at < ? "
                             "ORDER BY at, seq LIMIT ?)", (before, n))
        return cur.rowcount

