"""The loopback guard every test runs under (tests/netguard.py): it refuses and records a
lookup of or a connect to any host beyond this machine, in the test process and in the
Python processes a test starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import netguard


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("zoomtui.localhost", True),
        (None, True),
        (b"127.0.0.1", True),
        ("0.0.0.0", True),
        ("api.zoom.us", False),
        ("zoom.us", False),
        ("10.0.0.1", False),
        ("203.0.113.5", False),
        ("localhost.zoom.us", False),
        ("", False),
    ],
)
def test_what_counts_as_loopback(host: object, loopback: bool) -> None:
    assert netguard.is_loopback(host) is loopback


def test_a_lookup_or_a_connect_beyond_loopback_is_refused_and_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a guard of its own over the session's, put back afterwards
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", socket.socket.connect)
    monkeypatch.setattr(socket.socket, "connect_ex", socket.socket.connect_ex)
    seen: list[str] = []
    netguard.install(seen.append)
    with pytest.raises(socket.gaierror, match="loopback only"):
        socket.getaddrinfo("api.zoom.us", 443)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("203.0.113.5", 443))
    with socket.socket() as sock:
        assert sock.connect_ex(("203.0.113.5", 443)) != 0
    assert seen == ["lookup 'api.zoom.us'", "connect '203.0.113.5'", "connect '203.0.113.5'"]
    assert socket.getaddrinfo("127.0.0.1", 80)  # loopback goes through
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
    assert len(seen) == 3


def test_a_process_a_test_starts_is_guarded_and_says_what_it_was_refused(
    tmp_path: Path,
) -> None:
    log = tmp_path / "refused.log"
    env = {**os.environ, netguard.LOG_VARIABLE: str(log)}
    code = "import socket\ntry:\n    socket.getaddrinfo('zoom.us', 443)\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert log.read_text(encoding="utf-8").split(" ", 1)[1] == "lookup 'zoom.us'\n"
