"""An archive played back as if it were the connection (no Textual).

`ReplaySource` has the shape the TUI's connection bridge drives (`updates()`,
`request_connect/disconnect/reconnect()`, `close()`), so `zoomtui replay` is the same
app fed from another source: the same ingest path, filters, inspector, meeting
tracker and panes.  It yields the archived updates in recorded order, each one
exactly as stored (events are rebuilt with `parse_frame`, so a replayed event is a
live one), paced by the recorded times:

- `speed` N plays N recorded seconds per second; None plays everything at once
  (`--instant`);
- a silence longer than `max_idle` recorded-time-per-speed (overnight, between two
  runs) is cut to `max_idle` seconds, so a replay never sits idle for an hour;
- between two runs of zoomtui in the record, a gap says nothing was received
  (`recording.RunGaps`), as history on start does;
- `now()` is the recorded moment the replay has reached: the app's clock in replay,
  so the panel's ages and the meeting durations are those of the recording.

Reading (SQLite, parsing) runs in one thread of its own, a batch ahead of playback.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zoomtui.monitor.archive import ArchiveReader, Record
from zoomtui.monitor.recording import read_history
from zoomtui.zoom.updates import Update

#: records read per trip to the reading thread
REPLAY_BATCH = 512
#: the longest a paced replay waits between two updates (wall seconds)
MAX_IDLE = 3.0


class ReplaySource:
    """Archived updates from `reader` in [since, until), paced by their recorded times."""

    def __init__(
        self,
        reader: ArchiveReader,
        *,
        since: float | None = None,
        until: float | None = None,
        speed: float | None = 1.0,
        max_idle: float = MAX_IDLE,
        monotonic: Callable[[], float] = time.monotonic,
        batch: int = REPLAY_BATCH,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("the replay speed must be above 0")
        self.reader = reader
        self.since = since
        self.until = until
        #: recorded seconds per wall second; None: as fast as it can be read
        self.speed = speed
        self.max_idle = max_idle
        self._mono = monotonic
        self._batch = batch
        #: updates played so far, and how many the window holds (None until counted)
        self.played = 0
        self.total: int | None = None
        #: recorded time of the last update played (None: nothing yet)
        self.position: float | None = since
        self._position_wall = monotonic()
        self._next_at: float | None = None
        self.finished = False
        self.closed = False
        #: the archive could not be read: the message (the replay then ends)
        self.error: str | None = None
        self._running = asyncio.Event()
        self._running.set()
        self._paused_at: float | None = None
        self._wake = asyncio.Event()

    # -- the recorded clock ----------------------------------------------------------
    def now(self) -> float:
        """The recorded moment the replay has reached (between two updates it moves on
        at `speed`, never past the next one)."""
        pos = self.position
        if pos is None:
            return time.time()
        if self.speed is None or self.finished or self._paused_at is not None:
            return pos
        t = pos + (self._mono() - self._position_wall) * self.speed
        nxt = self._next_at
        return min(t, nxt) if nxt is not None and nxt >= pos else t

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    # -- the connection's shape ----------------------------------------------------------
    def request_connect(self) -> None:
        """Resume a paused replay."""
        if self._paused_at is not None:
            # paused time does not count against the pacing
            self._position_wall += self._mono() - self._paused_at
            self._paused_at = None
            self._running.set()

    def request_disconnect(self) -> None:
        """Pause the replay."""
        if self._paused_at is None and not self.finished:
            self._paused_at = self._mono()
            self._running.clear()
            self._wake.set()  # out of a pacing wait, into the pause

    def request_reconnect(self) -> None:
        self.request_connect()

    def toggle_pause(self) -> bool:
        """Pause or resume; True when now paused."""
        if self.paused:
            self.request_connect()
        else:
            self.request_disconnect()
        return self.paused

    async def close(self) -> None:
        self.closed = True
        self._running.set()
        self._wake.set()

    # -- playing -------------------------------------------------------------------------
    async def updates(self) -> AsyncIterator[Update]:
        """The archived updates in recorded order, paced. Ends at the end of the window
        (or on `close()`)."""
        loop = asyncio.get_running_loop()
        # One thread for every read: sqlite3 objects stay in the thread that made them.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoomtui-replay")
        chunks = read_history(self.reader, self.since, self.until, batch=self._batch)

        def next_chunk() -> list[Record] | None:
            return next(chunks, None)

        def count() -> int | None:
            with contextlib.suppress(Exception):
                return self.reader.count(None, self.since, self.until)
            return None

        try:
            self.total = await loop.run_in_executor(pool, count)
            pending: asyncio.Future[Any] = loop.run_in_executor(pool, next_chunk)
            pace: tuple[float, float] | None = None  # (recorded time, the wall time it played)
            while not self.closed:
                try:
                    chunk = await pending
                except Exception as exc:  # noqa: BLE001 - a damaged file ends the replay, said
                    self.error = str(exc) or type(exc).__name__
                    break
                if not chunk:
                    break
                pending = loop.run_in_executor(pool, next_chunk)  # read ahead while playing
                for record in chunk:
                    if self.closed:
                        break
                    at = record.at
                    if self.speed is not None:
                        pace = await self._until_due(at, self.speed, pace)
                    elif not self._running.is_set():
                        await self._running.wait()
                    if self.closed:
                        break
                    self.position = max(at, self.position or at)
                    self._position_wall = self._mono()
                    if record.seq >= 0:  # (not a gap put in between two runs)
                        self.played += 1
                    yield record.update
            self.finished = not self.closed
            self._next_at = None
        finally:
            # Closed in the reading thread, after any read still running there: the
            # generator's SQLite connection belongs to that thread.
            pool.submit(chunks.close)
            pool.shutdown(wait=False)

    async def _until_due(
        self, at: float, speed: float, pace: tuple[float, float] | None
    ) -> tuple[float, float]:
        """Wait (through pauses) until recorded time `at` is due at `speed`.  `pace`: the
        recorded time that played at a wall (monotonic) time, None before the first record;
        returns it as it is now (pauses and skipped silences move its wall time)."""
        base_at, base_wall = pace if pace is not None else (at, self._mono())
        self._next_at = at
        while not self.closed:
            if not self._running.is_set():
                paused_from = self._mono()
                await self._running.wait()
                base_wall += self._mono() - paused_from
            wait = base_wall + (at - base_at) / speed - self._mono()
            if wait > self.max_idle:  # a long silence: skip most of it
                base_wall -= wait - self.max_idle
                wait = self.max_idle
            if wait <= 0:
                break
            await self._sleep(wait)
        return base_at, base_wall

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
