"""`zoomtui fake-server` as a user runs it: a subprocess that prints export lines, serves a
real client with them, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import sys
import time

import httpx
import orjson
import pytest
from click.testing import CliRunner
from websockets.sync.client import connect

from tests.waits import HANG_GUARD
from zoomtui.commands.fake_server import command

NAMES = [
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_SUBSCRIPTION_ID",
    "ZOOMTUI_OAUTH_URL",
    "ZOOMTUI_WS_URL",
]


def read_lines(proc: subprocess.Popen, n: int) -> list[str]:
    """n lines of stdout, however long they take (the hang guard bounds the wait)."""
    fd = proc.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + HANG_GUARD
    while buf.count(b"\n") < n:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            pytest.fail(f"fake-server printed only {buf!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            pytest.fail(f"fake-server exited early after {buf!r}; stderr: {proc.stderr.read()!r}")
        buf += chunk
    return buf.decode().splitlines()[:n]


@pytest.fixture
def server():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zoomtui.cli",
            "fake-server",
            "--scenario",
            "demo",
            "--rate",
            "50",
            "--seed",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(HANG_GUARD)


def test_prints_exports_serves_a_client_and_stops_on_ctrl_c(server: subprocess.Popen) -> None:
    lines = read_lines(server, len(NAMES))
    env = {}
    for line, name in zip(lines, NAMES, strict=True):
        words = shlex.split(line)
        assert words[0] == "export"
        key, _, value = words[1].partition("=")
        assert key == name
        env[key] = value
    assert env["ZOOMTUI_OAUTH_URL"].startswith("http://127.0.0.1:")
    assert env["ZOOMTUI_OAUTH_URL"].endswith("/oauth/token")
    assert env["ZOOMTUI_WS_URL"].startswith("ws://127.0.0.1:") and "?" not in env["ZOOMTUI_WS_URL"]

    r = httpx.post(
        env["ZOOMTUI_OAUTH_URL"],
        auth=(env["ZOOM_CLIENT_ID"], env["ZOOM_CLIENT_SECRET"]),
        data={"grant_type": "account_credentials", "account_id": env["ZOOM_ACCOUNT_ID"]},
        timeout=HANG_GUARD,
    )
    assert r.status_code == 200
    token = r.json()["access_token"]
    url = (
        f"{env['ZOOMTUI_WS_URL']}?subscriptionId={env['ZOOM_SUBSCRIPTION_ID']}&access_token={token}"
    )
    with connect(url, open_timeout=HANG_GUARD, close_timeout=1) as ws:
        assert orjson.loads(ws.recv(timeout=HANG_GUARD))["success"] is True
        assert (
            orjson.loads(ws.recv(timeout=HANG_GUARD))["module"] == "message"
        )  # the demo scenario runs

    server.send_signal(signal.SIGINT)
    assert server.wait(HANG_GUARD) == 0
    err = server.stderr.read().decode()
    assert "Traceback" not in err
    assert token not in err  # the tokens it issues are never logged


def test_refuses_a_non_loopback_host_without_the_flag() -> None:
    result = CliRunner().invoke(command, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output


@pytest.mark.parametrize("rate", ["fast", "0", "-3"])
def test_bad_rate_is_a_usage_error(rate: str) -> None:
    result = CliRunner().invoke(command, ["--rate", rate])
    assert result.exit_code == 2


def test_help_lists_every_option() -> None:
    out = CliRunner().invoke(command, ["--help"]).output
    for opt in (
        "--host",
        "--port",
        "--oauth-port",
        "--seed",
        "--rate",
        "--events",
        "--scenario",
        "--token-ttl",
        "--allow-non-loopback",
    ):
        assert opt in out
