"""The hub's commands as a person runs them: `collect` and `tail --hub` as real processes,
hub credentials from the keyring, a wrong password said plainly, and cleartext refused to a
hub that is not on this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

import orjson
from click.testing import CliRunner

from tests.conftest import MemoryKeyring
from tests.connhelpers import ThreadedFake
from tests.hub.natsserver import HubAuth, RunningServer
from tests.waits import HANG_GUARD
from zoomtui.cli import main


def _zoomtui(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_collect_publishes_and_tail_hub_prints_the_events_as_sent(
    hub_server: RunningServer,
) -> None:
    with ThreadedFake(scenario="demo", rate=100, seed=3) as tf:
        collector = _zoomtui(tf.env(), "collect", "--hub", hub_server.url, "--no-archive")
        try:
            viewer = _zoomtui(
                {}, "tail", "--hub", hub_server.url, "--since", "1h", "--json", "--count", "10"
            )
            out, err = viewer.communicate(timeout=HANG_GUARD)
            assert viewer.returncode == 0, err
            sent = tf.call(lambda fake: list(fake.accepted_connections[0].sent_events))
        finally:
            collector.send_signal(signal.SIGTERM)
            _, collected = collector.communicate(timeout=HANG_GUARD)
    assert collector.returncode == 0, collected
    lines = out.decode().splitlines()
    assert len(lines) == 10
    for line, content in zip(lines, sent, strict=False):
        obj = orjson.loads(line)
        assert obj.pop("_received_at")
        assert obj == orjson.loads(content)
    assert b"collector: connected" in err  # the collector's link, as it reported it
    assert b"hub: connected to the hub" in err  # and the viewer's own
    # neither the connection that only checks the hub is reachable, nor the viewer's own
    # stop, is said as the link dropping
    assert b"dropped" not in err and b"is closed" not in err.split(b"connected to the hub")[0]
    assert b"holding the subscription's lease" in collected
    assert b"Traceback" not in err + collected


def test_a_wrong_hub_password_exits_4_saying_so(
    start_nats_server: Callable[[HubAuth], RunningServer],
) -> None:
    server = start_nats_server(HubAuth(user="oncall", password="right-password"))
    r = CliRunner().invoke(
        main,
        ["tail", "--hub", server.url, "--hub-user", "oncall"],
        env={"ZOOMTUI_HUB_PASSWORD": "wrong-password"},
    )
    assert r.exit_code == 4, r.output
    assert "refused the credentials (a user and password)" in r.output
    assert "Authorization Violation" in r.output
    assert "wrong-password" not in r.output


def test_hub_credentials_come_from_the_keyring(
    start_nats_server: Callable[[HubAuth], RunningServer], memory_keyring: MemoryKeyring
) -> None:
    server = start_nats_server(HubAuth(token="team-hub-token-0001"))
    runner = CliRunner()
    r = runner.invoke(main, ["hub-login", server.url, "--token"], input="team-hub-token-0001\n")
    assert r.exit_code == 0, r.output
    assert "team-hub-token-0001" not in r.output
    (stored,) = memory_keyring.passwords.values()
    assert "team-hub-token-0001" in stored
    # Let in with the kept token, and waiting for a collector until --duration ends.
    r = runner.invoke(main, ["tail", "--hub", server.url, "--duration", "0.2"])
    assert r.exit_code == 0, r.output
    assert "waiting for one" in r.output
    r = runner.invoke(main, ["hub-login", server.url, "--forget"])
    assert r.exit_code == 0 and "Removed" in r.output
    r = runner.invoke(main, ["tail", "--hub", server.url])
    assert r.exit_code == 4 and "refused the credentials (no credentials)" in r.output


def test_cleartext_to_a_hub_off_this_machine_is_refused_unless_allowed() -> None:
    r = CliRunner().invoke(main, ["tail", "--hub", "nats://hub.example.com:4222"])
    assert r.exit_code == 3
    assert "clear text" in r.output and "tls://" in r.output
    r = CliRunner().invoke(main, ["tail", "--hub", "nats://user:pw@127.0.0.1:4222"])
    assert r.exit_code == 3 and "never in the URL" in r.output
