"""Settings a person got wrong stop every command with a settings error (exit 3) that names
the value and what is allowed, never a traceback and never a retry loop: malformed URLs
from any source, out-of-range profile values, and cleartext allowed only for one run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.connhelpers import ThreadedFake
from zoomtui.cli import main
from zoomtui.redaction import Secret
from zoomtui.settings import ConnectionSettings, SettingsError, check_transport

pytestmark = pytest.mark.timeout(60)

CREDENTIALS = {
    "ZOOM_ACCOUNT_ID": "acc",
    "ZOOM_CLIENT_ID": "cid",
    "ZOOM_CLIENT_SECRET": "s" * 16,
    "ZOOM_SUBSCRIPTION_ID": "sub",
}
#: a command and the arguments that make it stop soon if the settings are accepted
COMMANDS = {
    "tail": ["tail", "--duration", "0.5"],
    "doctor": ["doctor", "--no-connect", "--timeout", "1"],
    "run": ["run"],
    "login": ["login", "--no-verify"],
}


def cli(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


def assert_settings_error(r: Result, value: str) -> None:
    assert r.exit_code == 3, (r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output and not isinstance(r.exception, ValueError)
    assert value in r.output


# -- 10. malformed URLs -------------------------------------------------------------------------
BAD_URLS = {
    "ws": ["wss://[::1", "wss://127.0.0.1:99999/ws", "ws://127.0.0.1:0/ws"],
    "oauth": ["https://[::1", "https://127.0.0.1:99999/oauth/token"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("how", ["env", "option"])
@pytest.mark.parametrize(
    ("which", "url"), [(which, url) for which, urls in BAD_URLS.items() for url in urls]
)
def test_a_malformed_url_is_a_settings_error_naming_it(
    command: str, how: str, which: str, url: str
) -> None:
    env = dict(CREDENTIALS)
    args = list(COMMANDS[command])
    if how == "env":
        env["ZOOMTUI_WS_URL" if which == "ws" else "ZOOMTUI_OAUTH_URL"] = url
    else:
        args += ["--ws-url" if which == "ws" else "--oauth-url", url]
    r = cli(args, env)
    assert_settings_error(r, url)
    assert "not a valid URL" in r.output or "port" in r.output


def test_a_malformed_url_never_reaches_a_parser_that_raises() -> None:
    for url in ("wss://[::1", "wss://host:99999/ws", "wss://h:-1/ws", "wss://h:x/ws"):
        with pytest.raises(SettingsError, match="not a valid URL"):
            check_transport("https://zoom.us/oauth/token", url)
        with pytest.raises(SettingsError, match="not a valid URL"):
            ConnectionSettings(
                account_id="a",
                client_id="b",
                client_secret=Secret("c"),
                subscription_id="d",
                ws_url=url,
            )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("heartbeat_interval", float("nan")),
        ("heartbeat_interval", 0.0),
        ("heartbeat_interval", -5.0),
        ("max_frame_bytes", 0),
        ("max_frame_bytes", -1),
        ("heartbeat_interval", "fast"),
        ("max_frame_bytes", 1.5),
    ],
)
def test_connection_settings_refuse_values_no_connection_can_use(field: str, value: object) -> None:
    with pytest.raises(SettingsError, match=field):
        ConnectionSettings(
            account_id="a",
            client_id="b",
            client_secret=Secret("c"),
            subscription_id="d",
            **{field: value},  # type: ignore[arg-type]
        )


# -- 9. out-of-range values in the profile stop every command ------------------------------------
@pytest.mark.parametrize("command", ["tail", "doctor", "run"])
@pytest.mark.parametrize(
    "line", ["heartbeat_interval = nan", "heartbeat_interval = -5", "max_frame_bytes = 0"]
)
def test_an_out_of_range_profile_value_stops_the_command(
    command: str, line: str, tmp_path: Path
) -> None:
    """Before: nan spun at 100% CPU, -5 dropped every connection at once, 0 stuck."""
    config = tmp_path / "config.toml"
    config.write_text(f"[profiles.default]\n{line}\n")
    r = cli(COMMANDS[command], {**CREDENTIALS, "ZOOMTUI_CONFIG": str(config)})
    assert_settings_error(r, str(config))
    assert "line 2" in r.output and line.split(" =")[0] in r.output


def test_an_unknown_key_is_reported_by_doctor(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.default]\nhistroy_minutes = 5\nsubscription_id = "sub"\n')
    with ThreadedFake() as tf:
        r = cli(["doctor", "--no-connect"], {**tf.env(), "ZOOMTUI_CONFIG": str(config)})
    assert r.exit_code == 0, r.output
    assert "! config file" in r.output
    assert "'histroy_minutes' is not a setting zoomtui knows" in r.output
    assert "did you mean 'history_minutes'?" in r.output


# -- 8. cleartext is allowed for one run, never by a profile --------------------------------------
REMOTE_WS = "ws://zoom-ws.example.test/ws"


def test_insecure_transport_in_a_profile_does_not_lift_the_refusal(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.default]\nws_url = "{REMOTE_WS}"\ninsecure_transport = true\n')
    env = {**CREDENTIALS, "ZOOMTUI_CONFIG": str(config)}
    for command in ("tail", "doctor", "run"):
        r = cli(COMMANDS[command], env)
        assert r.exit_code == 3, (command, r.output)
        assert "clear text" in r.output
    r = cli(COMMANDS["doctor"], env)
    assert "insecure_transport = true" in r.output and "ignored" in r.output


def test_insecure_transport_from_the_environment_is_the_same_as_the_flag(tmp_path: Path) -> None:
    env = {**CREDENTIALS, "ZOOMTUI_WS_URL": REMOTE_WS, "ZOOMTUI_OAUTH_URL": "http://127.0.0.1:9/t"}
    refused = cli(COMMANDS["doctor"], env)
    assert refused.exit_code == 3 and "✗ transport" in refused.output
    for allowed in (
        cli([*COMMANDS["doctor"], "--insecure-transport"], env),
        cli(COMMANDS["doctor"], {**env, "ZOOMTUI_INSECURE_TRANSPORT": "1"}),
    ):
        assert "✗ transport" not in allowed.output and "✗ token request" in allowed.output


def test_login_with_the_flag_does_not_store_it_in_the_profile(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    env = {**CREDENTIALS, "ZOOMTUI_CONFIG": str(config), "ZOOMTUI_WS_URL": REMOTE_WS}
    r = cli(["login", "--no-verify", "--insecure-transport"], env)
    assert r.exit_code == 0, r.output
    assert "ws_url" in config.read_text() and "insecure_transport" not in config.read_text()
