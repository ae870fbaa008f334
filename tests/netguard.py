"""Tests reach loopback only: a guard on name lookups and connects.

Every test's traffic must go to 127.0.0.1 (the fake Zoom, local handlers, nats-server).  A
setting that quietly falls back to Zoom's real hosts (a REST host taken from a token answer,
a default URL) would send a test's token to the internet and, on this machine, only show as
"Name or service not known".  The guard refuses every lookup or connect to a host that is
not loopback and records it, so the test that did it fails by name (see conftest.py), even
when the code under test turned the refusal into a message.

It is installed in the test process (conftest.py) and, through `netguard_site` on
PYTHONPATH, in the zoomtui processes the tests start, which append what they were refused to
the file named by `TESTS_NETGUARD_LOG`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from typing import Any

LOG_VARIABLE = "TESTS_NETGUARD_LOG"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: object) -> bool:
    """Whether `host` (a name, an address, bytes or None for 'any') stays on this machine."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def install(record: Callable[[str], None]) -> None:
    """Refuse and `record` every lookup of, and connect to, a host that is not loopback."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            record(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback only: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def refused(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return False  # (a Unix socket, a socketpair: local by nature)
        host = address[0] if isinstance(address, tuple) and address else address
        if is_loopback(host):
            return False
        record(f"connect {host!r}")
        return True

    def connect(self: socket.socket, address: Any) -> None:
        if refused(self, address):
            raise ConnectionRefusedError(f"tests reach loopback only: {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if refused(self, address):
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


def install_in_child() -> None:
    """In a process a test started: record refusals in the test's file, if it named one."""
    path = os.environ.get(LOG_VARIABLE)
    if not path:
        return

    def record(what: str) -> None:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {what}\n")

    install(record)
