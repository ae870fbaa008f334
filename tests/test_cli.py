"""The `zoomtui` group itself: the bare command is `zoomtui run` and takes its options,
`--version`/`-V`, and a help that says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zoomtui import __version__
from zoomtui import config as cfg
from zoomtui.cli import COMMANDS, main


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.fixture
def cleartext_work_profile() -> dict[str, str]:
    """A profile 'work' that `run` refuses before any screen opens (clear text to a remote
    host, exit 3), so a test can see which profile the bare command was given."""
    cfg.save_profile(
        "work",
        {
            "account_id": "acc-work",
            "client_id": "cid-work",
            "subscription_id": "sub-work",
            "oauth_url": "http://zoom.work.example/oauth/token",
        },
    )
    return {"ZOOM_CLIENT_SECRET": "a-secret-from-the-env"}


def test_bare_command_takes_run_profile_option(cleartext_work_profile: dict[str, str]) -> None:
    result = run(["--profile", "work"], env=cleartext_work_profile)
    assert result.exit_code == 3, result.output
    assert "No such option" not in result.output
    assert "zoom.work.example" in result.stderr and "clear text" in result.stderr


@pytest.mark.parametrize(
    "options",
    [
        ["--no-history"],
        ["--history", "2h"],
        ["--no-archive"],
        ["--insecure-transport", "--no-history"],
        ["--profile=work", "--no-history"],
    ],
)
def test_bare_command_takes_every_run_option(options: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[profiles\n")
    # a broken config stops `run` with exit 3 after its options were accepted
    result = run([*options, "--config", str(broken)])
    assert result.exit_code == 3, result.output
    assert "No such option" not in result.output
    assert str(broken) in result.stderr


def test_an_unknown_option_is_still_a_usage_error() -> None:
    result = run(["--no-such-thing"])
    assert result.exit_code == 2
    assert "No such option '--no-such-thing'" in result.output


def test_a_command_after_run_options_says_to_put_it_first() -> None:
    result = run(["--profile", "work", "tail", "--json"])
    assert result.exit_code == 2
    assert "`zoomtui tail --profile work --json`" in result.output


def test_a_profile_named_like_a_command_is_not_taken_for_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[profiles\n")
    result = run(["--profile", "tail", "--config", str(broken)])
    assert result.exit_code == 3, result.output


def test_subcommands_still_work_and_take_their_own_options() -> None:
    result = run(["profiles", "--profile", "work"])
    assert result.exit_code == 0, result.output
    assert "No profiles" in result.output


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    result = run([flag])
    assert result.exit_code == 0
    assert result.output.strip() == f"zoomtui, version {__version__}"


def test_help_lists_run_options_and_every_command() -> None:
    result = run(["--help"])
    assert result.exit_code == 0
    out = result.output
    assert "-V, --version" in out
    assert "Options of `zoomtui run`, taken with no command" in out
    for option in ("--profile", "--no-history", "--history", "--no-archive", "--config"):
        assert option in out
    for name in COMMANDS:
        assert f"  {name} " in out
