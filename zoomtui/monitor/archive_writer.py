"""The event archive's writer process: ``python -m zoomtui.monitor.archive_writer ARGS``.

`Archive` starts it (ARGS is a JSON object: the file, its limits, the monitor's clock)
and talks to it over a pipe: messages in on stdin (see the pipe section of
`zoomtui.monitor.archive`), reports out on stdout, one JSON object per line.  It runs
the same `_Writer` as thread mode, so every batch, failure, retry and retention step
behaves alike; what it changes is where the writing runs: in a process of its own
it never takes the monitor's GIL, and at a lower CPU priority it yields to receiving
events and drawing the screen (a backlog waits here, not in the monitor).

It ends when its stdin does: when the monitor closes the archive, exits, or is killed.
It commits what it has first, so a monitor killed outright loses only what it had not
yet handed over (at most one flush interval).  Ctrl-C and a closed terminal reach the
whole process group: the writer ignores them and lets the monitor decide; SIGTERM makes
it commit what it has and exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from zoomtui.monitor.archive import (
    _HEADER,
    MSG_FLUSH,
    MSG_PRUNE,
    Retention,
    _Marker,
    _Writer,
    unpack,
)


class _Stop(Exception):
    """SIGTERM: commit what has arrived and exit."""


def _stop(_signum: int, _frame: Any) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    args = json.loads((argv if argv is not None else sys.argv)[1])
    for name in ("SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    niceness = int(args.get("niceness") or 0)
    if niceness > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(niceness)  # threads started from now on share it

    # The monitor's clock (tests give it their own), as read with its last message: an
    # idle monitor sends a reading every second.
    now = float(args["now"])

    def clock() -> float:
        return now

    cpu0 = time.process_time()  # from here on: what the writing costs, not starting Python
    out = sys.stdout.buffer
    out_lock = threading.Lock()
    writer: _Writer | None = None

    def report(markers: list[_Marker]) -> None:
        w = writer
        if w is None:
            return
        line = json.dumps(
            {
                "status": w.status,
                "error": w.error,
                "written": w.written,
                "dropped": w.dropped,
                "taken": w.taken,
                "cpu": time.process_time() - cpu0,
                "done": [m.ident for m in markers],
            }
        )
        with out_lock, contextlib.suppress(OSError, ValueError):
            out.write(line.encode() + b"\n")
            out.flush()

    writer = _Writer(
        Path(args["path"]),
        retention=Retention(**args["retention"]),
        clock=clock,
        flush_interval=float(args["flush_interval"]),
        batch_max=int(args["batch_max"]),
        retry_interval=float(args["retry_interval"]),
        max_page_count=args.get("max_page_count"),
        on_batch=report,
        lower_priority=False,
    )
    report([])
    inp = sys.stdin.buffer
    size = _HEADER.size
    try:
        while True:
            header = inp.read(size)
            if len(header) < size:
                break  # the monitor closed the archive, exited or was killed
            kind, count, length, now = _HEADER.unpack(header)
            payload = inp.read(length) if length else b""
            if len(payload) < length:
                break
            if kind in (MSG_FLUSH, MSG_PRUNE):
                writer.mark(_Marker(retention=kind == MSG_PRUNE, ident=count))
            else:
                writer.put_many(unpack(kind, count, payload))
    except _Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # committing now
    writer.close()
    report([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
