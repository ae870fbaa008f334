"""`zoomtui trigger`: one chosen event from a running fake to whoever is connected, as a
developer uses it (CliRunner against a fake on its own loop, and real processes end to end)."""

from __future__ import annotations

import contextlib
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result
from websockets.sync.client import ClientConnection, connect

from tests.connhelpers import ThreadedFake
from tests.test_fake_server_cli import read_lines
from tests.waits import HANG_GUARD
from zoomtui.commands import trigger
from zoomtui.fakezoom import TRIGGER_EVENTS
from zoomtui.fakezoom.control import ENV_CONTROL_TOKEN, ENV_CONTROL_URL

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def tf() -> Iterator[ThreadedFake]:
    with ThreadedFake(scenario="quiet") as fake:
        yield fake


def control_env(tf: ThreadedFake) -> dict[str, str]:
    return {ENV_CONTROL_URL: tf.fake.control_url, ENV_CONTROL_TOKEN: tf.fake.control_token}


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(trigger.command, args, env=env, catch_exceptions=False)


@contextlib.contextmanager
def session(tf: ThreadedFake) -> Iterator[ClientConnection]:
    """A connected client (build_connection accepted)."""
    url = tf.fake.ws_url_for(tf.fake.issue_token())
    with connect(url, open_timeout=HANG_GUARD, close_timeout=1) as ws:
        assert orjson.loads(ws.recv(timeout=HANG_GUARD))["success"] is True
        yield ws


def test_the_command_and_the_fake_agree_on_names_and_variables() -> None:
    assert trigger.EVENTS == TRIGGER_EVENTS
    assert (trigger.ENV_CONTROL_URL, trigger.ENV_CONTROL_TOKEN) == (
        ENV_CONTROL_URL,
        ENV_CONTROL_TOKEN,
    )


def test_the_command_reads_the_names_without_loading_the_fake() -> None:
    # The names have one home (zoomtui.fakezoom.names) that `zoomtui --help` and
    # `zoomtui trigger` import without starting the fake's modules.
    code = (
        "import sys, zoomtui.commands.trigger\n"
        "print(sorted(m for m in sys.modules if m.startswith('zoomtui.fakezoom')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['zoomtui.fakezoom', 'zoomtui.fakezoom.names']"


def test_every_public_name_of_the_fake_package_loads() -> None:
    import zoomtui.fakezoom as fakezoom

    for name in fakezoom.__all__:
        assert getattr(fakezoom, name) is not None, name
    with pytest.raises(AttributeError):
        _ = fakezoom.NoSuchName  # type: ignore[attr-defined]


def test_help_lists_every_event() -> None:
    out = run(["--help"]).output
    listed = out.split("Events:")[1]
    for name in TRIGGER_EVENTS:
        assert name in listed


def test_sends_the_event_to_the_connected_client(tf: ThreadedFake) -> None:
    with session(tf) as ws:
        args = ["meeting.participant_joined", "--meeting", "85746352410"]
        result = run([*args, "--name", "Zoë [x]", "--email", "zoe@example.ie"], control_env(tf))
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Sent meeting.participant_joined to 1 connection: ")
        assert "meeting 85746352410" in result.output
        assert "participant Zoë [x] <zoe@example.ie>" in result.output
        event = orjson.loads(orjson.loads(ws.recv(timeout=HANG_GUARD))["content"])
    assert event["event"] == "meeting.participant_joined"
    obj = event["payload"]["object"]
    assert obj["id"] == "85746352410"
    assert (obj["participant"]["user_name"], obj["participant"]["email"]) == (
        "Zoë [x]",
        "zoe@example.ie",
    )
    assert tf.fake.control_token not in result.output


def test_json_prints_exactly_the_event_sent(tf: ThreadedFake) -> None:
    with session(tf) as ws:
        result = run(["user.created", "--name", "Kai Nordin", "--json"], control_env(tf))
        assert result.exit_code == 0, result.output
        received = orjson.loads(ws.recv(timeout=HANG_GUARD))["content"]
    assert orjson.loads(result.stdout) == orjson.loads(received)


def test_an_unknown_event_is_a_usage_error_with_the_closest_name(tf: ThreadedFake) -> None:
    result = run(["meeting.participant_join"], control_env(tf))
    assert result.exit_code == 2
    assert "unknown event 'meeting.participant_join'" in result.stderr
    assert "Did you mean meeting.participant_joined?" in result.stderr
    assert "user.created" in result.stderr  # the list of supported ones


def test_nobody_connected_is_a_failure_that_says_so(tf: ThreadedFake) -> None:
    tf.call(lambda fake: [c.cut() for c in fake.open_connections()])
    result = run(["meeting.started"], control_env(tf))
    assert result.exit_code == 1
    assert "to 0 connections" in result.stdout and "nobody is connected" in result.stderr


def test_without_fake_server_settings_says_how_to_get_them() -> None:
    result = run(["meeting.started"])
    assert result.exit_code == 3
    assert "zoomtui fake-server --env-file" in result.stderr


def test_a_wrong_token_or_a_stopped_fake_fails_clearly(tf: ThreadedFake) -> None:
    wrong = run(["meeting.started"], {**control_env(tf), ENV_CONTROL_TOKEN: "fzc.stale"})
    assert wrong.exit_code == 1
    assert "HTTP 401" in wrong.stderr and "control token" in wrong.stderr
    gone = run(["meeting.started"], {**control_env(tf), ENV_CONTROL_URL: "http://127.0.0.1:9/fz"})
    assert gone.exit_code == 1
    assert "no fake Zoom answers at http://127.0.0.1:9/fz" in gone.stderr
    assert "Traceback" not in wrong.output + gone.output


@pytest.mark.parametrize("url", ["http://[::1", "nonsense", "ftp://x", "http://127.0.0.1:99999/fz"])
def test_a_malformed_control_url_is_a_settings_error(url: str) -> None:
    result = run(["meeting.started"], {ENV_CONTROL_URL: url, ENV_CONTROL_TOKEN: "fzc.x"})
    assert result.exit_code == 3, result.output
    assert "is not an http:// URL" in result.stderr and "Traceback" not in result.output


def test_reads_an_env_file_without_running_it(tf: ThreadedFake, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env_file = tmp_path / "fz.env"
    env_file.write_text(
        "# written by zoomtui fake-server\n"
        f"export {ENV_CONTROL_URL}={shlex.quote(tf.fake.control_url)}\n"
        f"export {ENV_CONTROL_TOKEN}={shlex.quote(tf.fake.control_token)}\n"
        f"touch {shlex.quote(str(marker))}\n"
        "export BROKEN='unterminated\n"
    )
    with session(tf) as ws:
        result = run(["meeting.ended", "--env-file", str(env_file)])
        assert result.exit_code == 0, result.output
        assert (
            orjson.loads(orjson.loads(ws.recv(timeout=HANG_GUARD))["content"])["event"]
            == "meeting.ended"
        )
    assert not marker.exists()


def test_end_to_end_real_processes(tmp_path: Path) -> None:
    """`fake-server --env-file` and `trigger --env-file` as two real processes, and a client."""
    env_file = tmp_path / "fz.env"
    server = subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", "fake-server", "--scenario", "quiet"]
        + ["--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        exports = dict(shlex.split(line)[1].partition("=")[::2] for line in read_lines(server, 8))
        url = f"{exports['ZOOMTUI_WS_URL']}?subscriptionId={exports['ZOOM_SUBSCRIPTION_ID']}"
        token = _token(exports)
        with connect(f"{url}&access_token={token}", open_timeout=HANG_GUARD, close_timeout=1) as ws:
            assert orjson.loads(ws.recv(timeout=HANG_GUARD))["success"] is True
            fired = subprocess.run(
                [sys.executable, "-m", "zoomtui.cli", "trigger", "webinar.participant_left"]
                + ["--env-file", str(env_file), "--name", "Ngozi Adeyemi", "--meeting", "9123"],
                capture_output=True,
                text=True,
                timeout=HANG_GUARD,
            )
            assert fired.returncode == 0, fired.stderr
            event = orjson.loads(orjson.loads(ws.recv(timeout=HANG_GUARD))["content"])
        assert event["event"] == "webinar.participant_left"
        assert event["payload"]["object"]["id"] == "9123"
        assert event["payload"]["object"]["participant"]["user_name"] == "Ngozi Adeyemi"
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(HANG_GUARD)
    assert code == 0 and b"Traceback" not in server.stderr.read()


def _token(exports: dict[str, str]) -> str:
    import httpx

    r = httpx.post(
        exports["ZOOMTUI_OAUTH_URL"],
        auth=(exports["ZOOM_CLIENT_ID"], exports["ZOOM_CLIENT_SECRET"]),
        data={"grant_type": "account_credentials", "account_id": exports["ZOOM_ACCOUNT_ID"]},
        timeout=HANG_GUARD,
    )
    return str(r.json()["access_token"])
