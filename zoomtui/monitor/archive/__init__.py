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
    archive.warning                          # None, or a sentence: the age limit held back
    archive.index_build                      # None, or how far a search index build has come
    archive.close()                          # flush and stop the writer (blocking, a few ms:
                                             # from async code, `await asyncio.to_thread(archive.close)`)

`add()` takes any `Update`; heartbeats and token infos are not kept.  The
`connection_id` is free text chosen by the caller (e.g. ``f"{run}:{attempt}"``)
so a replay can tell connections apart.

Reading (`ArchiveReader`, and `Archive` itself): `iter_events()`,
`iter_updates()`, `iter_records()`, `count()`; `search(filter)` (what `iter_events`
does for zoomtui's own filter), `explain_search()`, `index_progress()`.  Events are rebuilt with
`parse_frame(raw, received_at)`, so a replayed event is exactly a live one.
Call `archive.flush()` first to read what was just added.

A disk or permission problem never raises into the caller: the archive goes to status
"failed" with a message saying what to do, keeps counting what it is given, retries,
and records the lost interval as a gap when it recovers.  So does a writer that stops
answering (the backlog waiting for it is bounded) and one that dies (it is started
again).  WAL with synchronous=NORMAL means a committed batch survives a killed process,
and a killed monitor loses only what it had not handed to its writer process: under
`PACK_ROWS` (64) events, none older than one flush interval (80 ms).

Where each part lives (every public name is importable from this package):

- `paths`: where archive files live (`data_dir`, `archive_path`).
- `schema`: the table, its migrations (`migrate`, `NewerSchemaError`), opening the
  file for writing (never a file of another program: `ForeignFileError`).
- `records`: the rows of each kind of update, written and read back (`Record`,
  `KIND_*`), the statuses and `ArchiveError`.
- `reader`: `ArchiveReader`, the queries.
- `core`: `WriterCore`, the batch writer, in its own thread.
- `searchindex`: the search index (event names, meeting ids, a trigram full-text index)
  and `index_step`, which the writer runs behind the writes (and which upgrades an
  archive of schema 1 in place, resumably); `search`: the planner, a filter as SQL over
  the index where it can be, every row then checked with the filter itself.
- `retention`: the limits (`Retention`) and the pass that applies them (`Pruner`), which
  never trusts a wall clock that disagrees with the archive.
- `messages`: the messages from the monitor to the writer process (`frames_payload`, ...).
- `spool`: where the monitor hands them over: files the kernel holds for both processes,
  so a killed monitor loses only what it had not handed over yet.
- `child`: the writer process (``python -m zoomtui.monitor.archive.child``); `launch`:
  starting it, and telling how it ended.
- `process_writer`, `thread_writer`: the two kinds of writer, `ProcessWriter` (the
  default: the core in a child process, at a lower CPU priority; why, and what a hard
  kill loses, is in its module) and `ThreadWriter` (the fallback: the core in a
  thread of this process).
- `writable`: `Archive`, which picks the writer once, when it opens.
"""

from zoomtui.monitor.archive.core import (
    THREAD_NICENESS,
    WRITER_NICENESS,
    WriterCore,
    WriterSettings,
)
from zoomtui.monitor.archive.messages import (
    MSG_EVENTS,
    MSG_FLUSH,
    MSG_ITEMS,
    MSG_PRUNE,
    MSG_TICK,
    PACK_ROWS,
    TICK_INTERVAL,
    frames_payload,
    items_payload,
    unpack,
)
from zoomtui.monitor.archive.paths import (
    APP_NAME,
    DEMO_FILENAME,
    PROFILES_DIRNAME,
    archive_path,
    data_dir,
)
from zoomtui.monitor.archive.process_writer import (
    BACKLOG_MAX_BYTES,
    STALL_AFTER,
    WRITER_RESTART_FIRST,
    WRITER_STABLE_AFTER,
    ProcessWriter,
)
from zoomtui.monitor.archive.reader import ArchiveReader, EventFilter
from zoomtui.monitor.archive.records import (
    ARCHIVE_CONNECTION_ID,
    KIND_EVENT,
    KIND_GAP,
    KIND_MALFORMED,
    KIND_NOTICE,
    KIND_STATE,
    STATUS_CLOSED,
    STATUS_FAILED,
    STATUS_OPEN,
    STATUS_READ_ONLY,
    ArchiveError,
    Record,
)
from zoomtui.monitor.archive.retention import CLOCK_LEAD_SHARE, Pruner, Retention
from zoomtui.monitor.archive.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ForeignFileError,
    NewerSchemaError,
    foreign_reason,
    migrate,
    open_for_writing,
)
from zoomtui.monitor.archive.thread_writer import ThreadWriter
from zoomtui.monitor.archive.writable import (
    WRITER_ENV,
    WRITER_PROCESS,
    WRITER_THREAD,
    Archive,
    ArchiveWriter,
)

__all__ = [
    "APP_NAME",
    "ARCHIVE_CONNECTION_ID",
    "BACKLOG_MAX_BYTES",
    "CLOCK_LEAD_SHARE",
    "DEMO_FILENAME",
    "KIND_EVENT",
    "KIND_GAP",
    "KIND_MALFORMED",
    "KIND_NOTICE",
    "KIND_STATE",
    "MIGRATIONS",
    "MSG_EVENTS",
    "MSG_FLUSH",
    "MSG_ITEMS",
    "MSG_PRUNE",
    "MSG_TICK",
    "PACK_ROWS",
    "PROFILES_DIRNAME",
    "SCHEMA_VERSION",
    "STALL_AFTER",
    "STATUS_CLOSED",
    "STATUS_FAILED",
    "STATUS_OPEN",
    "STATUS_READ_ONLY",
    "THREAD_NICENESS",
    "TICK_INTERVAL",
    "WRITER_ENV",
    "WRITER_NICENESS",
    "WRITER_PROCESS",
    "WRITER_RESTART_FIRST",
    "WRITER_STABLE_AFTER",
    "WRITER_THREAD",
    "Archive",
    "ArchiveError",
    "ArchiveReader",
    "ArchiveWriter",
    "EventFilter",
    "ForeignFileError",
    "NewerSchemaError",
    "ProcessWriter",
    "Pruner",
    "Record",
    "Retention",
    "ThreadWriter",
    "WriterCore",
    "WriterSettings",
    "archive_path",
    "data_dir",
    "migrate",
    "open_for_writing",
    "foreign_reason",
    "frames_payload",
    "items_payload",
    "unpack",
]
