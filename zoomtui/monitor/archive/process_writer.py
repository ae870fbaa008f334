"""The writer in a child process (`zoomtui.monitor.archive.child`, at a lower CPU
priority): zoomtui's default.

`add()` keeps an event's frame and receive time, nothing else: the frame as the UTF-8
bytes it came in (the connection takes text frames undecoded).  Every `PACK_ROWS` (64)
events, `add()` itself hands them over: one message, written to the spool (see
`spool`) in one `writev`, which never waits for the writer.  A feeder thread hands over
what a quiet moment left behind every `flush_interval` (80 ms), and starts a writer
that died again.  The writer parses each frame again exactly as it was parsed live
(`parse_text_frame` of the same bytes and receive time) for the parsed columns, and
commits each batch in one transaction.  A report reader thread takes in what the writer
says (status, counts, answered flushes, how far it has read).

Why a process: measured on the ingest benchmark (`benchmarks/archive.py`), a writer
thread cost live ingest about 19 % however it was tuned, and even a thread that threw
its batches away cost 17 %: the rows it took from the event loop were freed on another
core and through the same GIL and allocator, and binding parameters held the GIL.  The
process costs about 10 % (BENCHMARKS.md).

What a hard kill of the monitor loses: the writer outlives it, reads the spool to its
end and commits, so only what the monitor had not handed over is lost: fewer than
`PACK_ROWS` events, and none older than one flush interval, at any rate and however far
the writer had fallen behind.

A writer that stops answering (stopped, or stuck on a disk) is reported once nothing
it was handed has moved for `stall_after` seconds; it may fall `backlog_max` bytes
behind, and what arrives beyond that is counted as dropped and recorded as a gap once
there is room again.  A writer that dies is started again (after
`WRITER_RESTART_FIRST`, twice as long after each death in a row, up to
`retry_interval`); what was added meanwhile is counted as dropped and recorded in the
archive as a gap.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import subprocess
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from itertools import repeat, starmap
from pathlib import Path

from zoomtui.monitor.archive.core import (
    THREAD_NICENESS,
    WRITER_NICENESS,
    Marker,
    WriterSettings,
    failure_message,
    lower_thread_priority,
    not_kept,
)
from zoomtui.monitor.archive.launch import WRITER_MODULE as WRITER_MODULE  # named here too
from zoomtui.monitor.archive.launch import child_env as _child_env
from zoomtui.monitor.archive.launch import close_pipes, exit_text, last_line
from zoomtui.monitor.archive.launch import writer_command as _writer_command
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
)
from zoomtui.monitor.archive.records import (
    ARCHIVE_CONNECTION_ID,
    STATUS_CLOSED,
    STATUS_FAILED,
    STATUS_OPEN,
)
from zoomtui.monitor.archive.schema import open_for_writing
from zoomtui.monitor.archive.searchindex import IndexBuild
from zoomtui.monitor.archive.spool import SpoolOut, open_spool_files
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import Gap, Notice, StateChanged, Update

#: a writer process that dies is started again after this many seconds, twice as long after
#: each death in a row (up to the archive's retry_interval); one that ran this long is not
#: counted as "in a row"
WRITER_RESTART_FIRST = 1.0
WRITER_STABLE_AFTER = 60.0
#: how far the writer may fall behind (bytes handed over, not yet read by it) before what
#: arrives is dropped: about 180,000 events of Zoom's size, minutes of a busy account
BACKLOG_MAX_BYTES = 128 << 20
#: a writer that has moved nothing it was handed for this long is reported as not answering
STALL_AFTER = 10.0
#: updates other than events that are kept (heartbeats and token infos are live-only)
_KEPT = (MalformedFrame, StateChanged, Gap, Notice, RosterSnapshot)
#: writers close() stopped waiting for: they finish by themselves (kept from the collector)
_LEFT_RUNNING: list[subprocess.Popen[bytes]] = []


class ProcessWriter:
    """An `ArchiveWriter` whose `WriterCore` runs in a child process (see the module
    docstring).  Raises OSError when no process can be started (the caller falls back to
    a `ThreadWriter`)."""

    def __init__(
        self,
        path: Path,
        settings: WriterSettings,
        clock: Callable[[], float],
        *,
        backlog_max: int = BACKLOG_MAX_BYTES,
        stall_after: float = STALL_AFTER,
    ) -> None:
        self.path = path
        self.settings = settings
        self._clock = clock
        self._backlog_max = backlog_max
        self._stall_after = stall_after
        self._closing = False
        # what the writer last reported
        self._status: str = STATUS_OPEN
        self._error: str | None = None
        self._warning: str | None = None
        self._written = self._dropped = self._dropped_here = self._taken = 0
        self._cpu = 0.0
        self._reports = 0
        self._index_build: IndexBuild | None = None
        self._check_file()
        self._lock = threading.Lock()
        proc, spool = self._spawn_writer()
        self._proc: subprocess.Popen[bytes] = proc
        self._spool = spool
        self._sent = 0  # updates handed over (to this writer)
        #: events handed over since the archive opened: beyond the reach of a kill
        self.handed = 0
        self._frames: deque[bytes] = deque()
        self._ats: deque[float] = deque()
        self._cid: str | None = None
        self._sub: str | None = None  # the hub subscription of the frames held (None: none)
        self._last_sent = time.monotonic()
        self._markers: dict[int, Marker] = {}
        self._marker_ids = itertools.count(1)
        self._dead: str | None = None
        # A writer not answering, updates dropped for want of room (from when, and why: for
        # the gap record), a writer close() left to finish: each is said while it lasts.
        self._not_answering = False
        self._progress: tuple[int, int, int] = (0, 0, 0)
        self._progress_at = time.monotonic()
        self._lost = 0
        self._lost_since = 0.0
        self._lost_why = ""
        self._left_running = ""
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
        self._feeder = threading.Thread(
            target=self._feed, name=f"zoomtui-archive-feed:{self.path.name}", daemon=True
        )
        self._feeder.start()
        self._start_reader(proc)

    def _check_file(self) -> None:
        """Open (create, migrate) the file here first: a problem is known, and shown, at once."""
        try:
            db, _rows = open_for_writing(self.path, self.settings.max_page_count)
            db.close()
        except (sqlite3.Error, OSError) as exc:
            self._status = STATUS_FAILED
            self._error = failure_message(self.path, exc, self.settings.retry_interval)

    def _spawn_writer(self) -> tuple[subprocess.Popen[bytes], SpoolOut]:
        fds = open_spool_files()
        args = {
            "path": str(self.path),
            "now": self._clock(),
            "niceness": WRITER_NICENESS,
            "spool": list(fds),
            **self.settings.to_json(),
        }
        try:
            proc = subprocess.Popen(
                _writer_command(args),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_child_env(),
                close_fds=True,
                pass_fds=fds,
            )
        except BaseException:
            SpoolOut(fds).close()
            raise
        assert proc.stdin is not None and proc.stdout is not None
        # The pipe to the writer carries nothing but wake-ups (and its end: the monitor
        # is gone): a wake-up it has not read yet need not be sent again.
        os.set_blocking(proc.stdin.fileno(), False)
        return proc, SpoolOut(fds)

    def _start_reader(self, proc: subprocess.Popen[bytes]) -> None:
        self._reader = threading.Thread(
            target=self._read_reports,
            args=(proc,),
            name=f"zoomtui-archive-reports:{self.path.name}",
            daemon=True,
        )
        self._reader.start()

    # -- the hot path -----------------------------------------------------------------------
    def add(self, update: Update, connection_id: str | None = None) -> None:
        """Queue one update for writing. Cheap, non-blocking, never raises."""
        if update.__class__ is ZoomEvent:
            sub = update.subscription_id
            if (connection_id is not self._cid and connection_id != self._cid) or (
                sub is not self._sub and sub != self._sub
            ):
                with self._lock:  # a message holds the frames of one connection and subscription
                    self._pack_locked()
                    self._cid, self._sub = connection_id, sub
            raw = update.stored_raw  # the UTF-8 as received (a hand-made event's may be text)
            if raw.__class__ is str:
                raw = raw.encode("utf-8", "surrogatepass")
            self._ats.append(update.received_at)
            frames = self._frames
            # after its time: _pack_locked counts frames (bytes by now: mypy does not
            # narrow on __class__, the cheapest test on this path)
            frames.append(raw)  # type: ignore[arg-type]
            if len(frames) >= PACK_ROWS:
                self._pack()
        elif update.__class__ in _KEPT:
            with self._lock:
                self._pack_locked()
                self._hand_over_locked(MSG_ITEMS, 1, items_payload([(update, connection_id)]), 1)

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
            payload = frames_payload(self._cid, taken, times, self._sub)
            self._hand_over_locked(MSG_EVENTS, n, payload, n)

    def _hand_over_locked(self, kind: int, count: int, payload: list[bytes], units: int) -> None:
        """Write one message (holding `units` updates) to the spool; or, when there is no
        writer or no room for updates, count them as dropped.  A marker always goes."""
        if self._dead is not None:
            self._dropped_here += units
            return
        spool = self._spool
        length = sum(map(len, payload))
        if units:
            # Once dropping, not again until half of it is read: one gap, not a gap a message.
            limit = self._backlog_max // 2 if self._lost else self._backlog_max
            if spool.held and spool.held + length > limit:
                self._lose_locked(units, behind=True)
                return
            if self._lost and not self._record_lost_locked():
                self._lose_locked(units)
                return
        try:
            spool.write(kind, count, self._clock(), payload, length)
        except OSError as exc:  # no memory for the spool: nothing to do but count
            self._lose_locked(units, why=f"could not be handed events ({exc})")
            return
        self._sent += units
        if kind == MSG_EVENTS:
            self.handed += units
        self._last_sent = time.monotonic()

    def _lose_locked(self, count: int, behind: bool = False, why: str = "") -> None:
        """Count `count` updates as dropped (the gap record says so once there is room)."""
        if not self._lost:
            self._lost_since = self._clock()
            self._lost_why = (
                "stopped answering" if self._not_answering else "fell behind" if behind else why
            )
        self._lost += count
        self._dropped_here += count

    def _record_lost_locked(self) -> bool:
        """Hand over the gap record for what was dropped. True if done."""
        gap = Gap(
            start=self._lost_since,
            end=self._clock(),
            reason=f"the archive writer {self._lost_why}: {not_kept(self._lost)}",
        )
        try:
            self._spool.write(
                MSG_ITEMS, 1, self._clock(), items_payload([(gap, ARCHIVE_CONNECTION_ID)])
            )
        except OSError:
            return False
        self._sent += 1
        self._lost = 0
        return True

    # -- the feeder thread ------------------------------------------------------------------
    def _feed(self) -> None:
        """Every flush interval (or when asked): hand over what add() left unpacked at a low
        rate, watch that the writer answers, start a dead one again."""
        # Handing over can wait a moment for receiving events and drawing the screen.
        lower_thread_priority(THREAD_NICENESS)
        while True:
            closing = self._closing
            if not closing:
                self._feed_wake.wait(self.settings.flush_interval)
                self._feed_wake.clear()
                if self._dead is not None and time.monotonic() >= self._restart_at:
                    self._restart_writer()
            with self._lock:
                self._pack_locked()
                if (
                    self._lost
                    and self._dead is None
                    and (self._spool.held <= self._backlog_max // 2)
                ):
                    self._record_lost_locked()
                if time.monotonic() - self._last_sent >= TICK_INTERVAL and self._dead is None:
                    # the writer's clock is the monitor's (tests set their own): keep it current
                    self._hand_over_locked(MSG_TICK, 0, [], 0)
            self._watch()
            if closing:
                break
        with contextlib.suppress(OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the writer reads the spool to its end, commits, exits

    def _watch(self) -> None:
        """Note when the writer has moved nothing it was handed for `stall_after` s."""
        now = time.monotonic()
        progress = (self._taken, self._spool.consumed, self._reports)
        waiting = self._sent > self._taken
        if progress != self._progress or not waiting or self._dead is not None:
            self._progress, self._progress_at = progress, now
            self._not_answering = False
        elif now - self._progress_at >= self._stall_after:
            self._not_answering = True

    def _trouble(self) -> str | None:
        """What is wrong with handing over (a dead writer says so itself), as the error."""
        if self._dead is not None:
            return None
        mb = f"{self._backlog_max / (1 << 20):g} MB"
        writer = f"The event archive writer for {self.path}"
        if self._not_answering:
            return (
                f"{writer} has not answered for {self._stall_after:g} s (stopped, or stuck "
                f"on the disk?): live events are still shown, and up to {mb} of them wait for "
                "it; beyond that they are not kept (a gap is recorded)."
            )
        if self._lost:
            if self._lost_why in ("fell behind", "stopped answering"):
                return (
                    f"{writer} is {mb} behind: live events are still shown, but until it "
                    "catches up they are not kept (a gap is recorded)."
                )
            return (
                f"{writer} {self._lost_why}: live events are still shown but not kept "
                "(a gap is recorded)."
            )
        return self._left_running or None

    # -- the report reader thread -------------------------------------------------------------
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
            self._warning = report.get("warning")
            self._written, self._dropped = report["written"], report["dropped"]
            self._taken, self._cpu = report["taken"], report["cpu"]
            self._spool.reading, self._spool.consumed = report["spool"]
            build = report.get("index")
            self._index_build = None if build is None else IndexBuild(*build)
            self._reports += 1
            for ident in report["done"]:
                marker = self._markers.pop(ident, None)
                if marker is not None:
                    marker.done.set()
        # The writer has exited: after close(), as it should; otherwise it died.
        if not self._closing or proc.poll() not in (0, None):
            with contextlib.suppress(Exception):
                proc.wait(5)
            detail = last_line(proc.stderr.read() if proc.stderr is not None else b"")
            self._writer_gone(exit_text(proc.returncode) + (f": {detail}" if detail else ""), proc)
        for marker in list(self._markers.values()):
            marker.done.set()
        self._markers.clear()

    # -- a writer that died -------------------------------------------------------------------
    def _writer_gone(self, why: str, proc: subprocess.Popen[bytes] | None = None) -> None:
        """The writer died (seen by its report reader)."""
        with self._lock:
            if self._dead is not None or (proc is not None and proc is not self._proc):
                return
            if not self._restarted_blind():  # else the same outage goes on
                self._died_at = self._lost_since if self._lost else self._clock()
                self._death = why
                # what was dropped before it died (it was behind) goes into the same gap
                self._dropped_at_death = self.dropped - self._lost
                self._lost = 0
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
            max(self.settings.retry_interval, WRITER_RESTART_FIRST),
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
        if old.poll() is None:  # its reports ended, but the process is still there: end it
            with contextlib.suppress(Exception):
                old.kill()
                old.wait(5)
        self._reader.join(5)  # its last report read, its markers answered
        close_pipes(old)
        try:
            proc, spool = self._spawn_writer()
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
                reason=f"the archive writer stopped ({why}): {not_kept(lost)}",
            )
            self._spool.close()
            self._spool, self._proc = spool, proc
            self._started_at = time.monotonic()
            self._dead = None  # still "failed" until the new writer's first report
            self._hand_over_locked(MSG_ITEMS, 1, items_payload([(gap, ARCHIVE_CONNECTION_ID)]), 1)
            self._gap_in_flight = True
        self._start_reader(proc)

    # -- control ----------------------------------------------------------------------------
    def request(self, *, retention: bool, timeout: float) -> bool:
        """Ask the writer to commit what it was handed (and apply the retention limits) and
        wait for its answer. True when it answered and is still there."""
        if self._closing or self._dead is not None:
            return False
        ident = next(self._marker_ids)
        marker = Marker(retention=retention, ident=ident)
        self._markers[ident] = marker
        with self._lock:
            self._pack_locked()
            self._hand_over_locked(MSG_PRUNE if retention else MSG_FLUSH, ident, [], 0)
            self._wake_writer()
        return marker.done.wait(timeout) and self._dead is None

    def _wake_writer(self) -> None:
        """Have the writer read the spool now rather than at its next flush interval."""
        stdin = self._proc.stdin
        with contextlib.suppress(OSError, ValueError):  # full (it has a wake-up), or gone
            assert stdin is not None
            os.write(stdin.fileno(), b"!")

    def close(self, timeout: float) -> None:
        """Hand over what is left, let the writer commit it and exit.  A writer that does
        not finish within `timeout` (or at once, when it has stopped answering) is left to
        finish by itself: it holds the spool, and commits it if it ever runs again."""
        self._closing = True
        self._feed_wake.set()
        self._feeder.join(timeout)
        self._frames = deque(maxlen=0)  # from now on add() keeps nothing
        proc = self._proc  # after the feeder: it may have started a new writer
        try:
            proc.wait(1.0 if self._not_answering else timeout)
        except subprocess.TimeoutExpired:
            _LEFT_RUNNING.append(proc)
            self._left_running = (
                f"The event archive writer for {self.path} was still committing when zoomtui "
                f"stopped waiting for it ({timeout:g} s): it finishes by itself."
            )
        else:
            self._reader.join(5)
            close_pipes(proc)
        with self._lock:
            self._spool.close()  # the writer has its own copies, if it is still there
        if self._status != STATUS_FAILED:
            self._status = STATUS_CLOSED

    # -- what the writer says (in its reports; the writers before it, if it was restarted) ----
    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def pending(self) -> int:
        return max(0, len(self._frames) + self._sent - self._taken)

    @property
    def status(self) -> str:
        return STATUS_FAILED if self._trouble() is not None else self._status

    @property
    def error(self) -> str | None:
        trouble = self._trouble()
        return trouble if trouble is not None else self._error

    @property
    def warning(self) -> str | None:
        return self._warning

    @property
    def index_build(self) -> IndexBuild | None:
        return self._index_build

    @property
    def written(self) -> int:
        return int(self._before["written"]) + self._written

    @property
    def dropped(self) -> int:
        return int(self._before["dropped"]) + self._dropped + self._dropped_here

    @property
    def cpu(self) -> float:
        return self._before["cpu"] + self._cpu
