"""The test server itself: it starts with JetStream on loopback, keeps what is published,
and is stopped when its block ends."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest

from tests.hub.natsserver import HubAuth, RunningServer, find_nats_server, nats_server


async def test_the_server_keeps_what_is_published(hub_server: RunningServer) -> None:
    assert hub_server.url.startswith("nats://127.0.0.1:")
    nc = await nats.connect(hub_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="PROBE", subjects=["probe.>"])
        ack = await js.publish("probe.one", b"kept")
        assert ack.stream == "PROBE" and ack.seq == 1
        msg = await js.get_msg("PROBE", 1)
        assert msg.data == b"kept"
    finally:
        await nc.close()
    assert (hub_server.store / "jetstream").is_dir()


def test_the_server_stops_when_its_block_ends(tmp_path: Path) -> None:
    binary = find_nats_server()
    if binary is None:
        pytest.skip("nats-server is not installed")
    with nats_server(tmp_path / "s", HubAuth(token="t0k"), binary) as server:
        assert server.process.poll() is None
    assert server.process.poll() is not None
