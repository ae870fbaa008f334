"""`Archive`: an archive file open for writing (and reading), and the writer it uses.

A writer is one of two kinds behind one interface (`ArchiveWriter`), chosen once when
the archive opens: a `ProcessWriter` (the default: the `WriterCore` runs in a child
process) or a `ThreadWriter` (``writer="thread"``, ``ZOOMTUI_ARCHIVE_WRITER=thread``, or
where no process can be started: the same core in a thread of this process).
`Archive.add` is the writer's own `add`, bound when the archive opens, so the hot
ingest path pays for no extra call.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from zoomtui.monitor.archive.core import WriterSettings
from zoomtui.monitor.archive.paths import archive_path
from zoomtui.monitor.archive.process_writer import BACKLOG_MAX_BYTES, STALL_AFTER, ProcessWriter
from zoomtui.monitor.archive.reader import ArchiveReader
from zoomtui.monitor.archive.records import STATUS_OPEN
from zoomtui.monitor.archive.retention import Retention
from zoomtui.monitor.archive.searchindex import INDEX_CHUNK, IndexBuild
from zoomtui.monitor.archive.thread_writer import ThreadWriter
from zoomtui.zoom.updates import Update

#: how the writer runs: "process" (default) or "thread"; ZOOMTUI_ARCHIVE_WRITER overrides it
WRITER_ENV = "ZOOMTUI_ARCHIVE_WRITER"
WRITER_PROCESS, WRITER_THREAD = "process", "thread"


class AddUpdate(Protocol):
    def __call__(self, update: Update, connection_id: str | None = None, /) -> None: ...


class ArchiveWriter(Protocol):
    """What `Archive` needs of a writer: `ProcessWriter` and `ThreadWriter` are the two."""

    @property
    def pid(self) -> int | None:
        """The writer process (None: it runs in this one)."""

    def add(self, update: Update, connection_id: str | None = None, /) -> None:
        """Queue one update for writing. Cheap, non-blocking, never raises."""

    def request(self, *, retention: bool, timeout: float) -> bool:
        """Wait until what was added is committed (and, with `retention`, the limits
        applied). True when the writer answered in time."""

    def close(self, timeout: float) -> None:
        """Write what is queued and stop; from then on `add` keeps nothing."""

    @property
    def pending(self) -> int:
        """Updates added but not yet committed (or dropped)."""

    @property
    def status(self) -> str: ...

    @property
    def error(self) -> str | None: ...

    @property
    def warning(self) -> str | None:
        """Why the age limit is held back (see `retention`); None when it is not."""

    @property
    def index_build(self) -> IndexBuild | None:
        """The search index being built over many records (None: no build since the
        writer started; complete: it has caught up)."""

    @property
    def written(self) -> int: ...

    @property
    def dropped(self) -> int: ...

    @property
    def cpu(self) -> float:
        """CPU seconds the writing has used."""


def open_writer(
    path: Path,
    settings: WriterSettings,
    clock: Callable[[], float],
    writer: str | None,
    **process_options: Any,
) -> ArchiveWriter:
    """The writer `writer` (or ZOOMTUI_ARCHIVE_WRITER) asks for: a process where one can
    be started, else a thread.  `process_options` go to a `ProcessWriter`."""
    mode = writer or os.environ.get(WRITER_ENV) or WRITER_PROCESS
    if mode not in (WRITER_PROCESS, WRITER_THREAD):
        raise ValueError(f"writer must be {WRITER_PROCESS!r} or {WRITER_THREAD!r}, not {mode!r}")
    if mode == WRITER_PROCESS and sys.executable and not getattr(sys, "frozen", False):
        with contextlib.suppress(OSError):  # no child process here: the thread writer instead
            return ProcessWriter(path, settings, clock, **process_options)
    return ThreadWriter(path, settings, clock)


class Archive(ArchiveReader):
    """An archive file open for writing. See the package docstring.

    The writer runs in a child process (``writer="process"``, the default): the monitor
    keeps each event's frame (as received: UTF-8) and receive time for a moment and hands
    64 at a time over as one message written to the spool (one `writev`; a feeder thread
    hands over what a quiet moment leaves), so the writer's Python work (parsing, binding
    parameters, freeing rows) never competes for this process's GIL or its memory
    allocator, and what was handed over outlives a killed monitor.  `backlog_max_mb` is
    how far that writer may fall behind before what arrives is dropped (and recorded as a
    gap); `stall_after`, how long it may move nothing before it is reported as not
    answering.  ``writer="thread"`` (or ``ZOOMTUI_ARCHIVE_WRITER=thread``, or when a
    process cannot be started) runs the same writer in a thread of this process.
    """

    #: Queue one update for writing: cheap, non-blocking, never raises.  It is the writer's
    #: own `add`, bound once in __init__ (the hot ingest path: no call in between).
    add: AddUpdate

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
        backlog_max_mb: float = BACKLOG_MAX_BYTES / (1 << 20),
        stall_after: float = STALL_AFTER,
        search_index: bool = True,  # benchmarks: the write cost without the index
        index_chunk: int = INDEX_CHUNK,  # tests: a small archive indexed in many steps
    ) -> None:
        super().__init__(path, clock=clock)
        self.retention = retention if retention is not None else Retention()
        self.flush_interval = flush_interval
        self.batch_max = max(1, batch_max)
        self.retry_interval = retry_interval
        self._closing = False
        settings = WriterSettings(
            retention=self.retention,
            flush_interval=flush_interval,
            batch_max=self.batch_max,
            retry_interval=retry_interval,
            max_page_count=max_page_count,
            search_index=search_index,
            index_chunk=index_chunk,
        )
        self._writer = open_writer(
            self.path,
            settings,
            clock,
            writer,
            backlog_max=int(backlog_max_mb * (1 << 20)),
            stall_after=stall_after,
        )
        self.add = self._writer.add
        # A program that forgets close() still gets its last batch written.
        atexit.register(self.close)

    @classmethod
    def open(
        cls,
        profile: str = "default",
        *,
        demo: bool = False,
        base: Path | None = None,
        **options: Any,
    ) -> Archive:
        """The profile's archive (or the demo's), opened for writing. Never raises for
        disk or permission problems: see `status` and `error`."""
        return cls(archive_path(profile, demo=demo, base=base), **options)

    # -- control ------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Updates added but not yet committed (or dropped)."""
        return self._writer.pending

    @property
    def writer_pid(self) -> int | None:
        """The writer process (None in thread mode)."""
        return self._writer.pid

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything added so far is committed (or dropped, if failed).
        True when it was written."""
        return self._writer.request(retention=False, timeout=timeout) and self.status == STATUS_OPEN

    def run_retention(self, timeout: float = 60.0) -> bool:
        """Apply the retention limits now and wait for it (tests, a "prune" command)."""
        return self._writer.request(retention=True, timeout=timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, stop the writer, close the file. Idempotent."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        self._writer.close(timeout)

    # -- what the writer says -----------------------------------------------------------
    # (read-only views of the writer's state, where the reader has plain attributes)
    @property
    def status(self) -> str:  # type: ignore[override]
        return self._writer.status

    @property
    def error(self) -> str | None:  # type: ignore[override]
        return self._writer.error

    @property
    def warning(self) -> str | None:  # type: ignore[override]
        """None, or a sentence for the panel: the age limit is held back because the
        clock is far ahead of the archive (see `retention`).  Not a failure: events are
        archived all the same."""
        return self._writer.warning

    @property
    def index_build(self) -> IndexBuild | None:
        """The writer building the search index over many records (an archive of an
        older zoomtui upgraded in place, or what a flood left behind): how far it has
        come.  None when it has built none since the archive opened; complete once it
        has caught up (until the next build).  Searching meanwhile is exact: what the
        index does not cover yet is scanned."""
        return self._writer.index_build

    @property
    def written(self) -> int:
        """Rows committed since the archive opened."""
        return self._writer.written

    @property
    def dropped(self) -> int:
        """Updates not kept (the file could not be written, or its writer died) since the
        archive opened."""
        return self._writer.dropped

    @property
    def writer_cpu(self) -> float:
        """CPU seconds the writer has used (benchmarks: what the archive costs)."""
        return self._writer.cpu

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error,
            "warning": self.warning,
            "path": str(self.path),
            "written": self.written,
            "dropped": self.dropped,
            "pending": self.pending,
            "writer_cpu": self.writer_cpu,
        }
