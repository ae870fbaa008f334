"""Retention: how much history an archive keeps, and the pass that deletes the rest.

`Retention` holds the limits (age, size, row count); `Pruner` applies them to an open
file one chunk at a time, so the writer commits events between chunks and even a large
first clean-up never stalls writes.

The age limit never trusts a wall clock that disagrees with the archive.  A clock
stepped forward (a bad NTP step, a VM resumed a month later) would otherwise make the
pass the writer runs when it opens delete most of the archive at once.  So the age is
measured from the archive's own time: the newest record in the file when the writer
opened it, moved on by the time that has passed since, as the system's boot clock counts
it (a clock that counts a laptop's sleep, and no clock steps).  The wall clock is trusted
as long as it is at most a tenth of the age limit (3 days of 30) ahead of that.  Further
ahead, zoomtui cannot tell a clock that jumped from a long pause, so the records the wall
clock alone would expire are kept and `Pruner.warning` says so; at the next start the
archive holds what this run recorded under the new clock, agrees with it, and the limit
applies as the clock says.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from zoomtui.monitor.archive.searchindex import merge_index_step, unindexed_bytes

#: bytes given back to the disk per retention step
_VACUUM_BYTES = 1 << 20
#: how far (as a share of the age limit) the wall clock may run ahead of the archive's own
#: time before the age limit stops trusting it
CLOCK_LEAD_SHARE = 0.1
DAY = 86400.0


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


def boot_clock() -> float:
    """Seconds since boot, counting time asleep where the system can (Linux); never steps."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        try:
            return time.clock_gettime(boottime)
        except OSError:
            pass
    return time.monotonic()


def _days(seconds: float) -> str:
    days = seconds / DAY
    shown = f"{days:.0f}" if days >= 10 else f"{days:.1f}".removesuffix(".0")
    return f"{shown} day{'' if shown == '1' else 's'}"


class Pruner:
    """Applies `retention` to the archive open as `db`, a chunk per `step()`.

    The size limit counts the search index too.  Its full-text part keeps a deleted row's
    entries (beside a delete marker) until its segments are merged, so deleting rows
    makes it larger at first: a pass that measured after each chunk would see the file
    stay over the limit and go on deleting, the newest rows too.  So a pass measures,
    deletes the rows the excess is worth in one go (a chunk per step), merges the index
    (a chunk per step, `merge_index_step`), and only then measures again.  It also counts
    what the index of rows not yet indexed will take (`search_index`: the writer builds
    it), so the file stays under the limit once they are.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        retention: Retention,
        clock: Callable[[], float],
        boot: Callable[[], float] = boot_clock,
        search_index: bool = False,
    ) -> None:
        self.retention = retention
        self._clock = clock
        self._boot = boot
        self._search_index = search_index
        #: why the age limit is not applied as the wall clock says (None: it is)
        self.warning: str | None = None
        # The archive's own time: its newest record now, moved on by the boot clock.
        wall = clock()
        newest = db.execute("SELECT max(at) FROM log").fetchone()[0]
        self._anchor = wall if newest is None else min(wall, float(newest))
        self._boot0 = boot()
        #: rows the size limit still has to delete before the file is measured again
        self._size_excess = 0
        #: a delete took rows out of the index since its last merge (unknown when the
        #: file opens: an earlier run may have left delete markers)
        self._index_changed = True
        #: a merge of the index's segments is under way / has ended since this pass
        #: last deleted for size
        self._merging = False
        self._merged = False

    def age_cutoff(self, max_age_days: float) -> float:
        """Records before this time are older than the age limit (and `warning` is set
        when the wall clock alone would put the cut later)."""
        age = max_age_days * DAY
        wall = self._clock()
        archive_now = self._anchor + (self._boot() - self._boot0)
        lead = wall - archive_now
        if lead <= CLOCK_LEAD_SHARE * age:
            self.warning = None
            return wall - age
        self.warning = (
            f"The clock is {_days(lead)} ahead of the newest record in the event archive "
            "(a clock that jumped and a long pause look alike): records it calls older than "
            f"{_days(age)} are kept until the archive's own time reaches that age. If the "
            "clock is right, they go the next time zoomtui starts."
        )
        return archive_now - age

    def step(self, db: sqlite3.Connection) -> bool:
        """Delete one chunk of what the limits exclude (or merge one chunk of the index,
        or give one chunk of pages back).  True when more is left to do.
        Raises sqlite3.Error."""
        r = self.retention
        chunk = max(1, r.chunk)
        if r.max_age_days is not None and (
            self._delete_oldest(db, chunk, self.age_cutoff(r.max_age_days)) == chunk
        ):
            return True
        if r.max_rows is not None:
            excess = db.execute("SELECT count(*) FROM log").fetchone()[0] - r.max_rows
            if excess > 0:
                self._delete_oldest(db, min(excess, chunk))
                return True  # the next step checks again, then gives the pages back
        if r.max_size_mb is not None and self._size_step(db, chunk, r.max_size_mb * 1024 * 1024):
            return True
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        if free:
            # Give deleted pages back to the disk, a few at a time.  executescript:
            # each step frees one page, and execute() would stop after the first.
            pages = max(1, _VACUUM_BYTES // db.execute("PRAGMA page_size").fetchone()[0])
            db.executescript(f"PRAGMA incremental_vacuum({pages:d});")
            return bool(free > pages)
        return False

    def _size_step(self, db: sqlite3.Connection, chunk: int, limit: float) -> bool:
        """One step of the size limit: delete, merge or measure.  True when more is left."""
        if self._size_excess > 0:
            deleted = self._delete_oldest(db, min(chunk, self._size_excess))
            self._size_excess = self._size_excess - deleted if deleted else 0
            return True
        if self._merging:
            self._merging = merge_index_step(db, start=False)
            self._merged = not self._merging
            return True
        used = float(_used_bytes(db))
        if self._search_index:
            used += unindexed_bytes(db)
        if used <= limit:
            self._merged = False  # the pass is over: the next one merges first again
            return False
        if self._index_changed and not self._merged:
            # What deletes left in the index may be all of the excess: merge, then measure.
            self._index_changed = False
            self._merging = merge_index_step(db, start=True)
            self._merged = not self._merging
            return True
        rows = db.execute("SELECT count(*) FROM log").fetchone()[0]
        if not rows:
            self._merged = False
            return False
        # Down to 90 % of the limit, so the next check has room to spare.  A row's bytes
        # are its share of what the file holds beyond its empty tables, the index's
        # included (merged, or still to be built).
        per_row = max(1.0, (used - _empty_bytes(db)) / rows)
        self._size_excess = max(1, math.ceil((used - 0.9 * limit) / per_row))
        self._merged = False
        return True

    def _delete_oldest(self, db: sqlite3.Connection, n: int, before: float | None = None) -> int:
        """Delete the `n` oldest rows (of those received `before`); how many went."""
        changes = db.total_changes
        deleted = _delete_oldest(db, n, before)
        # The trigger's changes count too: more than the rows themselves, the index changed.
        if db.total_changes - changes > deleted:
            self._index_changed = True
        return deleted


def _empty_bytes(db: sqlite3.Connection) -> int:
    """What the file takes with no rows: the header page and a root page per table and
    index (the full-text index's own tables included)."""
    roots = db.execute("SELECT count(*) FROM sqlite_master WHERE rootpage > 0").fetchone()[0]
    return int((1 + roots) * db.execute("PRAGMA page_size").fetchone()[0])


def _used_bytes(db: sqlite3.Connection) -> int:
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - free) * page_size)


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
