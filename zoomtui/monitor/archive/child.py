"""The event archive's writer process: ``python -m zoomtui.monitor.archive.child ARGS``.

`ProcessWriter` starts it (ARGS is a JSON object: the file, its `WriterSettings`, the
monitor's clock and the niceness) and talks to it over a pipe: messages in on stdin (see
`zoomtui.monitor.archive.pipe`), reports out on stdout, one JSON object per line.  It
runs the same `WriterCore` as thread mode, so every batch, failure, retry and retention
step behaves alike; what it changes is where the writing runs: in a process of its own
it never takes the monitor's GIL, and at a lower CPU priority it yields to receiving
events and drawing the screen (a backlog waits here, not in the monitor).

It ends when its stdin does: when the monitor closes the archive, exits, or is killed.
It commits what it has first, so a monitor killed outright loses only what it had not
yet handed over (at most one flush interval).  Ctrl-C and a closed terminal reach the
whole process group: the writer ignores them and lets the monitor decide; SIGTERM makes
it commit what it has and exit.

Nothing in the package imports this module: run with ``-m``, it must be imported once,
as ``__main__`` (its `WriterCore` and `EventFrames` come from the package, as everywhere).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from zoomtui.monitor.archive.core import Marker, WriterCore, WriterSettings
from zoomtui.monitor.archive.pipe import MSG_FLUSH, MSG_PRUNE, read_message, unpack


class _Stop(Exception):
    """SIGTERM: commit what has arrived and exit."""


def _stop(_signum: int, _frame: Any) -> None:
    raise _Stop


def _take_signals() -> None:
    """Leave Ctrl-C and a closed terminal to the monitor; SIGTERM stops (see `_Stop`)."""
    for name in ("SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)


def _be_nicer(niceness: int) -> None:
    if niceness > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(niceness)  # threads started from now on share it


class _Reporter:
    """Writes the writer's state to stdout, one JSON line per batch (from its thread)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._cpu0 = time.process_time()  # from here on: what the writing costs, not startup
        self.writer: WriterCore | None = None

    def __call__(self, markers: list[Marker]) -> None:
        w = self.writer
        if w is None:
            return
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
            }
        )
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._out.write(line.encode() + b"\n")
            self._out.flush()


def _serve(writer: WriterCore, inp: IO[bytes], set_now: Callable[[float], None]) -> None:
    """Hand what arrives on `inp` to `writer` until the pipe ends (or SIGTERM)."""
    try:
        while (message := read_message(inp)) is not None:
            kind, count, payload, now = message
            set_now(now)
            if kind in (MSG_FLUSH, MSG_PRUNE):
                writer.mark(Marker(retention=kind == MSG_PRUNE, ident=count))
            else:
                writer.put_many(unpack(kind, count, payload))
    except _Stop:
        pass


def main(argv: list[str] | None = None) -> int:
    args = json.loads((argv if argv is not None else sys.argv)[1])
    _take_signals()
    _be_nicer(int(args.get("niceness") or 0))

    # The monitor's clock (tests give it their own), as read with its last message: an
    # idle monitor sends a reading every second.
    now = [float(args["now"])]

    def set_now(value: float) -> None:
        now[0] = value

    report = _Reporter(sys.stdout.buffer)
    writer = WriterCore(
        Path(args["path"]),
        WriterSettings.from_json(args),
        clock=lambda: now[0],
        on_batch=report,
        lower_priority=False,
    )
    report.writer = writer
    report([])
    _serve(writer, sys.stdin.buffer, set_now)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # committing now
    writer.close()
    report([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
