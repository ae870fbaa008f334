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
    """Applies `retention` to the archive open as `db`, a chunk per `step()`."""

    def __init__(
        self,
        db: sqlite3.Connection,
        retention: Retention,
        clock: Callable[[], float],
        boot: Callable[[], float] = boot_clock,
    ) -> None:
        self.retention = retention
        self._clock = clock
        self._boot = boot
        #: why the age limit is not applied as the wall clock says (None: it is)
        self.warning: str | None = None
        # The archive's own time: its newest record now, moved on by the boot clock.
        wall = clock()
        newest = db.execute("SELECT max(at) FROM log").fetchone()[0]
        self._anchor = wall if newest is None else min(wall, float(newest))
        self._boot0 = boot()

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
        """Delete one chunk of what the limits exclude. True when more is left to do.
        Raises sqlite3.Error."""
        r = self.retention
        chunk = max(1, r.chunk)
        if r.max_age_days is not None and (
            _delete_oldest(db, chunk, self.age_cutoff(r.max_age_days)) == chunk
        ):
            return True
        if r.max_rows is not None:
            excess = db.execute("SELECT count(*) FROM log").fetchone()[0] - r.max_rows
            if excess > 0:
                _delete_oldest(db, min(excess, chunk))
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
                    _delete_oldest(db, min(chunk, max(1, want)))
                    return True
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        if free:
            # Give deleted pages back to the disk, a few at a time.  executescript:
            # each step frees one page, and execute() would stop after the first.
            pages = max(1, _VACUUM_BYTES // db.execute("PRAGMA page_size").fetchone()[0])
            db.executescript(f"PRAGMA incremental_vacuum({pages:d});")
            return bool(free > pages)
        return False


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
