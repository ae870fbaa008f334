"""`zoomtui fake-server` as a user runs it: a subprocess that prints export lines, serves a
real client with them, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import contextlib
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
    "ZOOMTUI_API_URL",
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


# --- the env file: a recipe that returns (issue 15, section 4) -----------------------


def start_fake(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", "fake-server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop_fake(proc: subprocess.Popen) -> tuple[int, str]:
    """Ctrl-C, then the exit code and everything it wrote on stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    return code, proc.stderr.read().decode()


def test_the_documented_env_file_recipe_returns_and_points_a_client_at_the_fake(
    tmp_path,
) -> None:
    """The recipe in `fake-server --help`, run by bash as a user would: the server in the
    background, wait for the file, source it, use it (here `zoomtui tail`)."""
    help_text = CliRunner().invoke(command, ["--help"]).output
    assert "--env-file fakezoom.env &" in help_text and "source ./fakezoom.env" in help_text
    script = (
        'cd "$WORK"\n'
        '"$PY" -m zoomtui.cli fake-server --rate 50 --env-file fakezoom.env >/dev/null 2>err &\n'
        "server=$!\n"
        "until [ -s fakezoom.env ]; do sleep 0.1; done\n"
        "source ./fakezoom.env\n"
        '"$PY" -m zoomtui.cli tail --count 2 --json > events\n'
        "echo tail=$?\n"
        'kill -INT "$server"; wait "$server"\n'
        "echo server=$?\n"
    )
    env = {**os.environ, "PY": sys.executable, "WORK": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=HANG_GUARD
    )
    assert done.stdout.split() == ["tail=0", "server=0"], done.stdout + done.stderr
    events = [orjson.loads(line) for line in (tmp_path / "events").read_text().splitlines()]
    assert len(events) == 2 and all(e["event"] for e in events)
    assert not (tmp_path / "fakezoom.env").exists()  # removed when the server stopped
    assert "Traceback" not in (tmp_path / "err").read_text()


def test_env_file_is_owner_only_holds_the_exports_and_goes_away(tmp_path) -> None:
    path = tmp_path / "fz.env"
    proc = start_fake("--scenario", "quiet", "--env-file", str(path))
    try:
        printed = read_lines(proc, len(NAMES) + 2)  # printed after the file is written
        assert path.stat().st_mode & 0o777 == 0o600
        lines = path.read_text().splitlines()
        assert lines[0].startswith("#") and lines[1:] == printed
        assert [shlex.split(line)[1].partition("=")[0] for line in printed] == [
            *NAMES,
            "ZOOMTUI_FAKE_CONTROL_URL",
            "ZOOMTUI_FAKE_CONTROL_TOKEN",
        ]
        sourced = subprocess.run(
            ["bash", "-c", 'source "$1" && echo "$ZOOMTUI_WS_URL"', "-", str(path)],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD,
        )
        assert sourced.stdout.strip() == shlex.split(printed[5])[1].partition("=")[2]
    finally:
        code, err = stop_fake(proc)
    assert code == 0 and "Traceback" not in err
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file left either


def test_env_file_in_a_missing_folder_is_an_error_before_serving(tmp_path) -> None:
    proc = start_fake("--env-file", str(tmp_path / "nope" / "fz.env"))
    assert proc.wait(HANG_GUARD) == 1
    err = proc.stderr.read().decode()
    assert "cannot write" in err and "Traceback" not in err
    assert proc.stdout.read() == b""


# --- Ctrl-C with clients connected -----------------------------------------------------


def test_ctrl_c_with_a_connected_client_exits_cleanly() -> None:
    """A token client on a kept-alive HTTP connection and a WebSocket client that reads,
    both connected when Ctrl-C comes: exit 0, a 1001 close, and nothing on stderr but the
    fake's own two lines (it printed asyncio.exceptions.CancelledError here)."""
    import threading

    proc = start_fake("--rate", "50")
    closed: list[int | None] = []
    try:
        env = {}
        for line in read_lines(proc, len(NAMES)):
            key, _, value = shlex.split(line)[1].partition("=")
            env[key] = value
        with httpx.Client(timeout=HANG_GUARD) as http:  # keep-alive: the connection stays open
            r = http.post(
                env["ZOOMTUI_OAUTH_URL"],
                auth=(env["ZOOM_CLIENT_ID"], env["ZOOM_CLIENT_SECRET"]),
                data={"grant_type": "account_credentials", "account_id": env["ZOOM_ACCOUNT_ID"]},
            )
            token = r.json()["access_token"]
            url = f"{env['ZOOMTUI_WS_URL']}?subscriptionId={env['ZOOM_SUBSCRIPTION_ID']}"
            with connect(f"{url}&access_token={token}", open_timeout=HANG_GUARD) as ws:
                assert orjson.loads(ws.recv(timeout=HANG_GUARD))["success"] is True
                assert orjson.loads(ws.recv(timeout=HANG_GUARD))["module"] == "message"

                def drain() -> None:
                    with contextlib.suppress(Exception):
                        while True:
                            ws.recv(timeout=HANG_GUARD)
                    closed.append(ws.close_code)

                reader = threading.Thread(target=drain, daemon=True)
                reader.start()
                code, err = stop_fake(proc)
                reader.join(HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert code == 0
    assert err.splitlines() == [
        "# fake Zoom serving (scenario demo, seed 1); Ctrl-C stops.",
        "# fake Zoom stopped.",
    ], err
    assert closed == [1001]
