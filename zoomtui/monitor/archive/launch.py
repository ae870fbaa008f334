"""Starting the writer process, and telling how it ended (for `ProcessWriter`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

#: the module the writer process runs (never imported by the package: see its docstring)
WRITER_MODULE = "zoomtui.monitor.archive.child"
#: what the writer never needs (it never sees a secret: frames carry none)
_NOT_FOR_THE_WRITER = frozenset({"ZOOM_CLIENT_SECRET"})


def writer_command(args: dict[str, Any]) -> list[str]:
    # -P: `-m` would put the working folder first on the path, and a zoomtui there (another
    # checkout, another version) would be the one the writer runs.
    return [sys.executable, "-P", "-m", WRITER_MODULE, json.dumps(args)]


def child_env() -> dict[str, str]:
    """The writer process imports this zoomtui, wherever the monitor found it."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_THE_WRITER}
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def close_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Close our ends of a writer's pipes (the feeder closed stdin already, if it could)."""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"it was killed by {signal.Signals(-code).name}"
    return f"it exited with code {code}"


def last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else ""
