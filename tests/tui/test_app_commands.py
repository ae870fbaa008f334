"""`zoomtui run` and `zoomtui demo` up to the point where the app would open."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from zoomtui.cli import main
from zoomtui.commands.common import EXIT_CONFIG
from zoomtui.commands.run import _first_run_options


def test_a_broken_config_file_is_said_plainly_not_a_first_run(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[profiles.default\naccount_id = 'x'\n")
    result = CliRunner().invoke(main, ["run", "--config", str(cfg)])
    assert result.exit_code == EXIT_CONFIG
    assert "config" in result.output.lower()


def test_cleartext_to_a_remote_host_is_refused_before_the_app_opens(monkeypatch) -> None:
    for var, value in (
        ("ZOOM_ACCOUNT_ID", "a"),
        ("ZOOM_CLIENT_ID", "c"),
        ("ZOOM_CLIENT_SECRET", "s3cret-value"),
        ("ZOOM_SUBSCRIPTION_ID", "sub"),
    ):
        monkeypatch.setenv(var, value)
    result = CliRunner().invoke(main, ["run", "--ws-url", "ws://zoom.example.com/ws"])
    assert result.exit_code == EXIT_CONFIG
    assert "clear text" in result.output
    assert "s3cret-value" not in result.output


def test_first_run_starts_from_what_is_known(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZOOM_ACCOUNT_ID", "acct-from-env")
    monkeypatch.setenv("ZOOMTUI_OAUTH_URL", "http://127.0.0.1:9/oauth/token")
    options = _first_run_options("default", tmp_path / "config.toml", {})
    assert options["prefill"] == {"account_id": "acct-from-env"}
    assert options["oauth_url"] == "http://127.0.0.1:9/oauth/token"
    assert "ws_url" not in options  # Zoom's own: nothing to carry over
    assert options["reason"].startswith("Missing client id, client secret, subscription id.")


def test_demo_rejects_a_bad_rate() -> None:
    result = CliRunner().invoke(main, ["demo", "--rate", "0"])
    assert result.exit_code == 2 and "rate" in result.output
