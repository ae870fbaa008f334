"""The archive file's schema, its migrations, and opening the file for writing.

One table, `log`, for every kind of update (see `records` for what each kind fills in),
with a view per kind for people querying the file by hand; since schema 2, the search
index's tables beside it (`searchindex`); since schema 3, each event's subscription (the
hub subscription it came through: `sub:` finds it in the archive).  `PRAGMA user_version`
counts the migrations that have run; a file from a newer zoomtui is refused
(`NewerSchemaError`), and so is a SQLite file of another program (`ForeignFileError`):
neither is ever changed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from zoomtui.monitor.archive.records import EVENT_ROW_LEN, ROWS_PER_STATEMENT
from zoomtui.monitor.archive.searchindex import create_search_index


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


def _schema_v2(db: sqlite3.Connection) -> None:
    # The search index (`searchindex`): its tables start empty, so this step is instant
    # on any archive; the writer fills them behind the writes, resumably.
    create_search_index(db)


def _schema_v3(db: sqlite3.Connection) -> None:
    # The subscription an event came through, as a hub names it (`ZoomEvent.subscription_id`;
    # NULL for the rows before, and for an event that carried none).  Adding a column with
    # no default rewrites no row: instant on any archive.  (Added only when missing: a file
    # made at this schema and marked older, as tests make them, is upgraded all the same.)
    columns = {row[1] for row in db.execute("PRAGMA table_info(log)")}
    if "subscription_id" not in columns:
        db.execute("ALTER TABLE log ADD COLUMN subscription_id TEXT")
    db.execute("DROP VIEW IF EXISTS events")
    db.execute("""CREATE VIEW events AS SELECT seq, at AS received_at, connection_id, event,
        event_ts, meeting_uuid, meeting_id, participant_key, topic, participant_name,
        participant_email, raw, subscription_id FROM log WHERE kind = 'event'""")


#: Schema migrations, in order. `PRAGMA user_version` is how many have run.
#: To change the schema, append a function; never edit one that has shipped.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_schema_v1, _schema_v2, _schema_v3]
SCHEMA_VERSION = len(MIGRATIONS)
#: the first schema whose `log` has the `subscription_id` column
SUBSCRIPTION_SCHEMA = 3


def subscription_column(version: int) -> str:
    """The SQL of an event row's subscription in a file of schema `version` (a constant:
    NULL in the files before the column)."""
    return "subscription_id" if version >= SUBSCRIPTION_SCHEMA else "NULL"


#: the columns of `log` that every version of the schema has
LOG_COLUMNS = frozenset(
    {
        "seq", "kind", "at", "connection_id", "event", "event_ts", "meeting_uuid", "meeting_id",
        "participant_key", "topic", "participant_name", "participant_email", "raw", "reason",
        "state", "previous", "hint", "retry_in", "attempt", "gap_start",
    }
)  # fmt: skip


class ForeignFileError(sqlite3.DatabaseError):
    """The file is a SQLite database, but not a zoomtui archive: never written into."""


def foreign_reason(db: sqlite3.Connection) -> str | None:
    """Why the database open as `db` is not a zoomtui archive (None: it is one, an empty
    file, or one from a newer zoomtui, which `NewerSchemaError` is about)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        return None
    tables = sorted(
        name
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    )
    if version == 0:  # zoomtui sets the version in the transaction that makes its tables
        if not tables:
            return None
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        return f"it holds table{'s' if len(tables) > 1 else ''} of its own: {shown}"
    columns = {row[1] for row in db.execute("PRAGMA table_info(log)")}
    if not columns:
        return "it has no table named log"
    missing = sorted(LOG_COLUMNS - columns)
    if missing:
        return f"its log table has no column {', '.join(missing[:5])}"
    return None


class NewerSchemaError(sqlite3.DatabaseError):
    """The file was written by a newer zoomtui: it is read by none older, and never changed."""

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
        # Whose file it is, before anything below changes it (WAL mode stays with a file).
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(version)
        foreign = foreign_reason(db)
        if foreign is not None:
            raise ForeignFileError(foreign)
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
        rows = ROWS_PER_STATEMENT
        while rows > 1 and rows * EVENT_ROW_LEN > limit:
            rows //= 2
    except BaseException:
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()
        raise
    return db, rows
