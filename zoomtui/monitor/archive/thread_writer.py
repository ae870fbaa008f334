"""The writer in a thread of the monitor: the fallback where no process can be started
(or with ``writer="thread"`` / ``ZOOMTUI_ARCHIVE_WRITER=thread``).

`add()` makes an event's row (in C) and appends it to the `WriterCore`'s queue; the
core's thread commits it.  Simple, but measured on the ingest benchmark
(`benchmarks/archive.py`) it cost live ingest about 19 %, the writer process about 10 %
(see `process_writer` for why).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zoomtui.monitor.archive.core import Marker, WriterCore, WriterSettings
from zoomtui.monitor.archive.records import event_row
from zoomtui.monitor.archive.searchindex import IndexBuild
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import Update


class ThreadWriter:
    """An `ArchiveWriter` whose `WriterCore` runs in a thread of this process."""

    #: no process of its own
    pid: int | None = None

    def __init__(self, path: Path, settings: WriterSettings, clock: Callable[[], float]) -> None:
        self._core = WriterCore(path, settings, clock=clock)
        self._q: deque[Any] = self._core.queue

    # -- the hot path -----------------------------------------------------------------------
    def add(self, update: Update, connection_id: str | None = None) -> None:
        """Queue one update for writing. Cheap, non-blocking, never raises."""
        if update.__class__ is ZoomEvent:
            self._q.append((connection_id,) + event_row(update))
        else:
            self._q.append((update, connection_id))

    # -- control ----------------------------------------------------------------------------
    def request(self, *, retention: bool, timeout: float) -> bool:
        return self._core.request(Marker(retention=retention), timeout)

    def close(self, timeout: float) -> None:
        self._core.close(timeout)
        self._q = deque(maxlen=0)  # from now on add() keeps nothing

    # -- what the writer says ---------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._core.queue)

    @property
    def status(self) -> str:
        return self._core.status

    @property
    def error(self) -> str | None:
        return self._core.error

    @property
    def warning(self) -> str | None:
        return self._core.warning

    @property
    def index_build(self) -> IndexBuild | None:
        return self._core.index_build

    @property
    def written(self) -> int:
        return self._core.written

    @property
    def dropped(self) -> int:
        return self._core.dropped

    @property
    def cpu(self) -> float:
        return self._core.cpu
