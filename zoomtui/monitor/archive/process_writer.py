"""The writer in a child process (`zoomtui.monitor.archive.child`, at a lower CPU
priority): zoomtui's default.

`add()` keeps an event's frame and receive time, nothing else: the frame as the UTF-8
bytes it came in (the connection takes text frames undecoded).  Every `PACK_ROWS` (64)
events they are joined into one message that a feeder thread writes to the pipe every
`flush_interval` (80 ms).  The writer parses each frame again exactly as it was parsed
live (`parse_text_frame` of the same bytes and receive time) for the parsed columns, and
commits each batch in one transaction.  A report reader thread takes in what the writer
says (status, counts, answered flushes).

Why a process: measured on the ingest benchmark (`benchmarks/archive.py`), a writer
thread cost live ingest about 19 % however it was tuned, and even a thread that threw
its batches away cost 17 %: the rows it took from the event loop were freed on another
core and through the same GIL and allocator, and binding parameters held the GIL.  The
process costs about 10 % (BENCHMARKS.md).  It also changes what a hard kill loses: the
writer outlives a killed monitor, reads the pipe to its end and commits, so only what
the monitor had not yet handed over (at most one flush interval) is lost, however far
the writer had fallen behind in a flood.

A writer that dies is started again (after `WRITER_RESTART_FIRST`, twice as long after
each death in a row, up to `retry_interval`); what was added meanwhile is counted as
dropped and recorded in the archive as a gap.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from itertools import repeat, starmap
from pathlib import Path
from typing import Any

from zoomtui.monitor.archive.core import (
    THREAD_NICENESS,
    WRITER_NICENESS,
    Marker,
    WriterSettings,
    failure_message,
    lower_thread_priority,
)
from zoomtui.monitor.archive.pipe import (
    MSG_FLUSH,
    MSG_PRUNE,
    MSG_TICK,
    PACK_ROWS,
    TICK_INTERVAL,
    pack_control,
    pack_frames,
    pack_items,
    write_all,
)
from zoomtui.monitor.archive.records import (
    ARCHIVE_CONNECTION_ID,
    STATUS_CLOSED,
    STATUS_FAILED,
    STATUS_OPEN,
)
from zoomtui.monitor.archive.schema import open_for_writing
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import Gap, Notice, StateChanged, Update

#: a writer process that dies is started again after this many seconds, twice as long after
#: each death in a row (up to the archive's retry_interval); one that ran this long is not
#: counted as "in a row"
WRITER_RESTART_FIRST = 1.0
WRITER_STABLE_AFTER = 60.0
#: the module the writer process runs (never imported by the package: see its docstring)
WRITER_MODULE = "zoomtui.monitor.archive.child"
#: what the writer never needs (it never sees a secret: frames carry none)
_NOT_FOR_THE_WRITER = frozenset({"ZOOM_CLIENT_SECRET"})
#: updates other than events that are kept (heartbeats and token infos are live-only)
_KEPT = (MalformedFrame, StateChanged, Gap, Notice)


def _writer_command(args: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", WRITER_MODULE, json.dumps(args)]


def _child_env() -> dict[str, str]:
    """The writer process imports this zoomtui, wherever the monitor found it."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_THE_WRITER}
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class ProcessWriter:
    """An `ArchiveWriter` whose `WriterCore` runs in a child process (see the module
    docstring).  Raises OSError when no process can be started (the caller falls back to
    a `ThreadWriter`)."""

    def __init__(self, path: Path, settings: WriterSettings, clock: Callable[[], float]) -> None:
        self.path = path
        self.settings = settings
        self._clock = clock
        self._closing = False
        # what the writer last reported
        self._status: str = STATUS_OPEN
        self._error: str | None = None
        self._warning: str | None = None
        self._written = self._dropped = self._dropped_here = self._taken = 0
        self._cpu = 0.0
        self._check_file()
        proc = self._spawn_writer()
        self._proc: subprocess.Popen[bytes] = proc
        self._sent = 0  # updates packed into messages (for this writer)
        self._frames: deque[bytes] = deque()
        self._ats: deque[float] = deque()
        self._cid: str | None = None
        self._out: deque[tuple[int, list[bytes]]] = deque()
        self._lock = threading.Lock()
        self._markers: dict[int, Marker] = {}
        self._marker_ids = itertools.count(1)
        self._dead: str | None = None
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

    def _spawn_writer(self) -> subprocess.Popen[bytes]:
        args = {
            "path": str(self.path),
            "now": self._clock(),
            "niceness": WRITER_NICENESS,
            **self.settings.to_json(),
        }
        proc = subprocess.Popen(
            _writer_command(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_env(),
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        self._fd = proc.stdin.fileno()
        return proc

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
            if connection_id is not self._cid and connection_id != self._cid:
                with self._lock:  # a message holds the frames of one connection
                    self._pack_locked()
                    self._cid = connection_id
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
                self._out.append((1, pack_items([(update, connection_id)], self._clock())))
                self._sent += 1

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
            self._out.append((n, pack_frames(self._cid, taken, times, self._clock())))
            self._sent += n

    def _feed(self) -> None:
        """The feeder thread: every flush interval (or when asked), what is packed goes
        down the pipe; the rows add() left unpacked at a low rate are packed first."""
        out = self._out
        last_sent = time.monotonic()
        # Handing over can wait a moment for receiving events and drawing the screen (the
        # kernel copies ~70 MB/s here in a flood): measured, a little less cost to ingest.
        lower_thread_priority(THREAD_NICENESS)
        while True:
            closing = self._closing
            if not closing:
                self._feed_wake.wait(self.settings.flush_interval)
                self._feed_wake.clear()
                if self._dead is not None and time.monotonic() >= self._restart_at:
                    self._restart_writer()
            self._pack()
            if not out and time.monotonic() - last_sent >= TICK_INTERVAL:
                # the writer's clock is the monitor's (tests set their own): keep it current
                out.append((0, pack_control(MSG_TICK, 0, self._clock())))
            n = len(out)
            if n:
                last_sent = time.monotonic()
                messages = list(starmap(out.popleft, repeat((), n)))
                if self._dead is None:
                    try:
                        write_all(self._fd, [b for _count, bufs in messages for b in bufs])
                    except OSError as exc:  # the writer is gone
                        self._writer_gone(f"the pipe to it failed ({exc.strerror or exc})")
                if self._dead is not None:
                    lost = sum(count for count, _bufs in messages)
                    with self._lock:
                        self._dropped_here += lost
                        self._sent -= lost  # never reaches the writer: not pending either
                del messages
            if closing and not out:
                break
        with contextlib.suppress(OSError):
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the writer commits what it has, then exits

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
            for ident in report["done"]:
                marker = self._markers.pop(ident, None)
                if marker is not None:
                    marker.done.set()
        # The writer has exited: after close(), as it should; otherwise it died.
        if not self._closing or proc.poll() not in (0, None):
            with contextlib.suppress(Exception):
                proc.wait(5)
            detail = _last_line(proc.stderr.read() if proc.stderr is not None else b"")
            self._writer_gone(_exit_text(proc.returncode) + (f": {detail}" if detail else ""), proc)
        for marker in list(self._markers.values()):
            marker.done.set()
        self._markers.clear()

    def _writer_gone(self, why: str, proc: subprocess.Popen[bytes] | None = None) -> None:
        """The writer died (seen by its report reader, or by the feeder as a broken pipe)."""
        with self._lock:
            if self._dead is not None or (proc is not None and proc is not self._proc):
                return
            if not self._restarted_blind():  # else the same outage goes on
                self._died_at = self._clock()
                self._death = why
                self._dropped_at_death = self.dropped
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
        if old.poll() is None:  # a broken pipe, but the process is still there: end it
            with contextlib.suppress(Exception):
                old.kill()
                old.wait(5)
        self._reader.join(5)  # its last report read, its markers answered
        _close_pipes(old)
        try:
            proc = self._spawn_writer()
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
                reason=f"the archive writer stopped ({why}): {lost} updates were not kept",
            )
            self._out.appendleft((1, pack_items([(gap, ARCHIVE_CONNECTION_ID)], self._clock())))
            self._sent += 1
            self._gap_in_flight = True
            self._proc = proc
            self._started_at = time.monotonic()
            self._dead = None  # still "failed" until the new writer's first report
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
            self._out.append(
                (0, pack_control(MSG_PRUNE if retention else MSG_FLUSH, ident, self._clock()))
            )
        self._feed_wake.set()
        return marker.done.wait(timeout) and self._dead is None

    def close(self, timeout: float) -> None:
        """Hand over what is left, let the writer commit it and exit."""
        self._closing = True
        self._feed_wake.set()
        self._feeder.join(timeout)
        self._frames = deque(maxlen=0)  # from now on add() keeps nothing
        proc = self._proc  # after the feeder: it may have started a new writer
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        self._reader.join(5)
        _close_pipes(proc)
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
        return self._status

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def warning(self) -> str | None:
        return self._warning

    @property
    def written(self) -> int:
        return int(self._before["written"]) + self._written

    @property
    def dropped(self) -> int:
        return int(self._before["dropped"]) + self._dropped + self._dropped_here

    @property
    def cpu(self) -> float:
        return self._before["cpu"] + self._cpu


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Close our ends of a writer's pipes (the feeder closed stdin already, if it could)."""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"it was killed by {signal.Signals(-code).name}"
    return f"it exited with code {code}"


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else ""
