"""Reading an archive: `ArchiveReader` (and `Archive`, which is one).

Each query opens its own read-only connection, so reading never blocks (or is blocked
by) the writer, in this process or another.  Call `Archive.flush()` first to read what
was just added.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from zoomtui.monitor.archive.paths import archive_path
from zoomtui.monitor.archive.records import (
    KIND_EVENT,
    STATUS_READ_ONLY,
    ArchiveError,
    Record,
    record_from_row,
    select_records,
)
from zoomtui.monitor.archive.schema import SCHEMA_VERSION, foreign_reason, subscription_column
from zoomtui.monitor.archive.search import plan_search, run_plan
from zoomtui.monitor.archive.searchindex import IndexProgress, index_progress
from zoomtui.monitor.filters import Filter, compile_filter
from zoomtui.monitor.when import as_epoch
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import Update


class EventFilter(Protocol):
    def matches(self, event: ZoomEvent) -> bool: ...


class ArchiveReader:
    """Read access to an archive file. Each query uses its own read-only connection,
    so reading never blocks (or is blocked by) the writer, in this process or another."""

    status = STATUS_READ_ONLY
    error: str | None = None
    warning: str | None = None

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
        try:
            foreign = foreign_reason(db)
        except sqlite3.Error as exc:
            db.close()
            raise ArchiveError(f"Cannot read the event archive at {self.path}: {exc}.") from None
        if foreign is not None:
            db.close()
            raise ArchiveError(
                f"The file {self.path} is not a zoomtui event archive ({foreign}); "
                "zoomtui leaves it as it is."
            )
        if version == 0:
            db.close()
            raise ArchiveError(f"The event archive at {self.path} is empty (never written).")
        # An older schema (1: no search index yet; 2: no subscriptions) reads the same: its
        # log table is the one every version has, a search scans what the index does not
        # cover, and its events carry no subscription.
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
        clause = " WHERE " + " AND ".join(where) if where else ""
        db = self._connect_ro()
        try:
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                sql = f"{select_records(subscription_column(version))}{clause} ORDER BY at, seq"
                cursor = db.execute(sql, params)
                while rows := cursor.fetchmany(512):
                    for row in rows:
                        record = record_from_row(row)
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
        if isinstance(flt, Filter) and not flt.is_empty:
            # zoomtui's own filter: answered from the search index where it can be
            yield from self.search(flt, since, until, limit)
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

    def search(
        self,
        flt: str | Filter,
        since: Any = None,
        until: Any = None,
        limit: int | None = None,
    ) -> Iterator[ZoomEvent]:
        """The events `flt` (filter-language text, or a compiled `Filter`) matches, in time
        order: the same events `iter_events` gives a scan, found through the search index
        where the filter allows (`search.plan_search`).  Raises `FilterError` on bad
        text, `ArchiveError` when the archive cannot be read."""
        compiled = flt if isinstance(flt, Filter) else compile_filter(flt)
        lo, hi = self._bounds(since, until)
        db = self._connect_ro()
        try:
            try:
                db.execute("BEGIN")  # one snapshot: the plan's progress mark and the rows
                plan = plan_search(db, compiled)
                yield from run_plan(db, plan, lo, hi, limit)
            except sqlite3.Error as exc:
                raise ArchiveError(
                    f"Searching the event archive at {self.path} failed: {exc}."
                ) from None
        finally:
            db.close()

    def explain_search(self, flt: str | Filter) -> list[str]:
        """How `search(flt)` would answer, in lines for people: what is indexed, what is
        scanned."""
        compiled = flt if isinstance(flt, Filter) else compile_filter(flt)
        db = self._connect_ro()
        try:
            db.execute("BEGIN")
            return plan_search(db, compiled).explain()
        except sqlite3.Error as exc:
            raise ArchiveError(f"Reading the event archive at {self.path} failed: {exc}.") from None
        finally:
            db.close()

    def index_progress(self) -> IndexProgress:
        """How much of the archive the search index covers."""
        db = self._connect_ro()
        try:
            return index_progress(db)
        except sqlite3.Error as exc:
            raise ArchiveError(f"Reading the event archive at {self.path} failed: {exc}.") from None
        finally:
            db.close()

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
        return compile_filter(flt)  # raises FilterError on bad text
    return flt
