"""The event archive's writer process: ``python -m zoomtui.monitor.archive.child ARGS``.

`ProcessWriter` starts it (ARGS is a JSON object: the file, its `WriterSettings`, the
monitor's clock, the niceness and the two spool files it inherits) and talks to it
through the spool (`zoomtui.monitor.archive.spool`: the messages of
`zoomtui.monitor.archive.messages`) and a pipe on stdin that carries only wake-ups;
reports go out on stdout, one JSON object per line.  It runs the same `WriterCore` as
thread mode, so every batch, failure, retry and retention step behaves alike; what it
changes is where the writing runs: in a process of its own it never takes the monitor's
GIL, and at a lower CPU priority it yields to receiving events and drawing the screen (a
backlog waits in the spool, not in the monitor).

It ends when its stdin does: when the monitor closes the archive, exits, or is killed.
It reads the spool to its end and commits all of it first, however long that takes, so
a monitor killed outright loses only what it had not yet handed over.  Ctrl-C and a
closed terminal reach the whole process group: the writer ignores them and lets the
monitor decide; SIGTERM makes it commit what was handed over and exit.

Nothing in the package imports this module: run with ``-m``, it must be imported once,
as ``__main__`` (its `WriterCore` and `EventFrames` come from the package, as everywhere).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from zoomtui.monitor.archive.core import Marker, WriterCore, WriterSettings
from zoomtui.monitor.archive.messages import MSG_FLUSH, MSG_PRUNE, unpack
from zoomtui.monitor.archive.spool import SpoolIn

#: set by SIGTERM: commit what was handed over and exit
_stopping = threading.Event()


def _take_signals() -> int:
    """Leave Ctrl-C and a closed terminal to the monitor; SIGTERM stops (`_stopping`).
    Returns a file descriptor that becomes readable when a signal arrives."""
    for name in ("SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: _stopping.set())
    readable, writable = _wake_pipe()
    signal.set_wakeup_fd(writable)  # wakes the wait at once, not at its next timeout
    return readable


def _wake_pipe() -> tuple[int, int]:
    """A pipe that carries only wake-ups: neither end ever blocks (a full pipe already
    holds one)."""
    readable, writable = os.pipe()
    os.set_blocking(readable, False)
    os.set_blocking(writable, False)
    return readable, writable


def _say_room(fd: int) -> None:
    """From the writer thread, after every batch: what it took is committed (see `_serve`)."""
    with contextlib.suppress(OSError):  # full: the serve loop has a wake-up waiting
        os.write(fd, b".")


def _be_nicer(niceness: int) -> None:
    if niceness > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(niceness)  # threads started from now on share it


class _Reporter:
    """Writes the writer's state to stdout, one JSON line per batch (from its thread)."""

    def __init__(self, out: IO[bytes], spool: SpoolIn) -> None:
        self._out = out
        self._spool = spool
        self._lock = threading.Lock()
        self._cpu0 = time.process_time()  # from here on: what the writing costs, not startup
        self.writer: WriterCore | None = None

    def __call__(self, markers: list[Marker]) -> None:
        w = self.writer
        if w is None:
            return
        build = w.index_build
        line = json.dumps(
            {
                "status": w.status,
                "error": w.error,
                "warning": w.warning,
                "written": w.written,
                "dropped": w.dropped,
                "taken": w.taken,
                "cpu": time.process_time() - self._cpu0,
                "done": [m.ident for m in markers],
                "spool": [self._spool.file, self._spool.consumed],
                "index": None if build is None else [build.indexed, build.total],
            }
        )
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._out.write(line.encode() + b"\n")
            self._out.flush()


def _serve(
    writer: WriterCore,
    wake_fds: tuple[int, int, int],
    spool: SpoolIn,
    set_now: Callable[[float], None],
) -> None:
    """Hand what the spool holds to `writer` until the monitor is gone (the pipe from it
    ends) or SIGTERM, then all that is left in it.  While the monitor is there,
    the writer's queue is kept to two batches: the rest of a backlog waits in the spool,
    where the monitor sees it and bounds it.

    Held back at that limit, the loop has the writer commit at once (a full queue need
    not wait for the flush interval) and reads on as soon as the writer says it has
    (`wake_fds[2]`, after every batch).  Waiting for the next flush interval instead
    held a flood to two batches an interval, and with a long interval a flush behind
    more than two batches of events was never answered."""
    queued = 0  # updates put in the writer's queue
    limit = 2 * writer.batch_max
    ended = False
    drained = [False]  # the last read found the spool empty
    writer.backlog = lambda: not drained[0]
    while not ended:
        ended = _wait(wake_fds, writer.flush_interval) or _stopping.is_set()
        while ended or queued - writer.taken < limit:
            message = spool.read()
            drained[0] = message is None
            if message is None:
                break
            kind, count, payload, now = message
            set_now(now)
            if kind in (MSG_FLUSH, MSG_PRUNE):
                writer.mark(Marker(retention=kind == MSG_PRUNE, ident=count))
            else:
                items = unpack(kind, count, payload)
                queued += count if items else 0
                writer.put_many(items)
        if not drained[0]:  # held back: the spool holds more than the queue may
            writer.wake()


def _wait(fds: tuple[int, ...], timeout: float) -> bool:
    """Wait for a wake-up on the pipe from the monitor (`fds[0]`) or on one of the others
    (a signal: `signal.set_wakeup_fd`; the writer has committed a batch), at most
    `timeout` seconds.  True when the pipe from the monitor has ended."""
    ready, _, _ = select.select(fds, [], [], timeout)
    for fd in fds[1:]:
        if fd in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(fd, 4096)
    return fds[0] in ready and os.read(fds[0], 4096) == b""


def main(argv: list[str] | None = None) -> int:
    args = json.loads((argv if argv is not None else sys.argv)[1])
    signalled = _take_signals()
    _be_nicer(int(args.get("niceness") or 0))

    # The monitor's clock (tests give it their own), as read with its last message: an
    # idle monitor sends a reading every second.
    now = [float(args["now"])]

    def set_now(value: float) -> None:
        now[0] = value

    spool = SpoolIn(args["spool"])
    report = _Reporter(sys.stdout.buffer, spool)
    room, say_room = _wake_pipe()

    def batch_done(markers: list[Marker]) -> None:
        report(markers)
        _say_room(say_room)

    writer = WriterCore(
        Path(args["path"]),
        WriterSettings.from_json(args),
        clock=lambda: now[0],
        on_batch=batch_done,
        lower_priority=False,
    )
    report.writer = writer
    report([])
    _serve(writer, (sys.stdin.fileno(), signalled, room), spool, set_now)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # committing now
    writer.close(timeout=None)  # all of it, however long: nobody else will
    report([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
