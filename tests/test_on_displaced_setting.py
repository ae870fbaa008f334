"""`on_displaced`: the profile setting and the `--on-displaced` flag, checked like every other
value; the first-connection notice kept per profile; what the front ends read of DISPLACED."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zoomtui import config as cfg
from zoomtui import profilestate
from zoomtui.cli import main
from zoomtui.commands.common import EXIT_DISPLACED, overrides_from
from zoomtui.commands.doctor import _outcome
from zoomtui.credentials import resolve_settings
from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.redaction import Secret
from zoomtui.settings import (
    ConnectionSettings,
    DisplacedPolicy,
    SettingsError,
    parse_on_displaced,
)
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import StateChanged

CREDENTIALS = {
    "ZOOM_ACCOUNT_ID": "acc",
    "ZOOM_CLIENT_ID": "cid",
    "ZOOM_CLIENT_SECRET": "on-displaced-test-secret-0001",  # registered for redaction
    "ZOOM_SUBSCRIPTION_ID": "sub",
}


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("wait", DisplacedPolicy()),
        ("retake", DisplacedPolicy(retake=True)),
        ("Retake", DisplacedPolicy(retake=True)),
        ("retake after 10m", DisplacedPolicy(retake=True, after=600.0)),
        ("  retake   after 1h30m ", DisplacedPolicy(retake=True, after=5400.0)),
        ("retake after 90s", DisplacedPolicy(retake=True, after=90.0)),
        ("retake after 1d", DisplacedPolicy(retake=True, after=86400.0)),
    ],
)
def test_the_policies_a_person_writes(text: str, policy: DisplacedPolicy) -> None:
    assert parse_on_displaced(text) == policy
    assert parse_on_displaced(policy.text) == policy


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sometimes",
        "retake after",
        "retake after 0s",
        "retake after 0.5s",
        "retake after 2d",
        "retake after 10 parsecs",
        "retake after 1e3s",
        "retake\x00after 10m",
        "retake after " + "9" * 10_000 + "s",
        "wait\nretake",
        None,
        5,
        True,
    ],
)
def test_anything_else_is_refused_saying_what_is_allowed(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        parse_on_displaced(bad)
    assert str(err.value).startswith("wait, retake, or retake after a duration from 1s to 24h")
    assert len(str(err.value)) < 300  # a huge value is not echoed whole
    with pytest.raises(SettingsError, match="on_displaced must be wait, retake"):
        ConnectionSettings("a", "b", Secret("c"), "d", on_displaced=bad)  # type: ignore[arg-type]


def test_a_profile_sets_it_and_the_flag_overrides_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    cfg.save_profile("work", {"subscription_id": "sub", "on_displaced": "retake after 10m"}, path)
    env = {**CREDENTIALS}
    del env["ZOOM_SUBSCRIPTION_ID"]
    settings = resolve_settings(profile="work", config_path=path, env=env)
    assert settings.on_displaced == "retake after 10m"
    assert settings.displaced_policy == DisplacedPolicy(retake=True, after=600.0)
    assert settings.sources["on_displaced"] == "profile work"
    flag = overrides_from({"on_displaced": "retake", "account_id": None})
    assert flag["on_displaced"] == "retake"
    settings = resolve_settings(profile="work", config_path=path, env=env, overrides=flag)
    assert settings.on_displaced == "retake" and settings.sources["on_displaced"] == "option"
    default = resolve_settings(profile="other", config_path=path, env=CREDENTIALS)
    assert default.displaced_policy == DisplacedPolicy() and default.sources["on_displaced"] == (
        "default"
    )


def test_a_wrong_value_in_the_file_names_the_line_and_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.default]\nsubscription_id = "sub"\non_displaced = "fight"\n')
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(path)
    text = str(err.value)
    assert f"{path}, line 3: on_displaced must be wait, retake, or retake after" in text
    assert "not 'fight'" in text and "Fix or delete that line" in text
    with pytest.raises(cfg.ConfigError, match="on_displaced must be"):
        cfg.save_profile("default", {"on_displaced": "retake after forever"}, tmp_path / "b.toml")
    r = CliRunner().invoke(main, ["tail"], env={**CREDENTIALS, "ZOOMTUI_CONFIG": str(path)})
    assert r.exit_code == 3 and "on_displaced" in r.output


@pytest.mark.parametrize("command", ["tail", "run", "demo"])
def test_the_flag_is_checked_before_anything_starts(command: str) -> None:
    r = CliRunner().invoke(main, [command, "--on-displaced", "sometimes"], env=CREDENTIALS)
    assert r.exit_code == 2
    assert "--on-displaced" in r.output and "use wait, retake, or retake after" in r.output


def test_tail_documents_its_exit_code() -> None:
    r = CliRunner().invoke(main, ["tail", "--help"])
    assert EXIT_DISPLACED == 6 and "6 displaced" in " ".join(r.output.split())


def test_the_first_connection_is_remembered_per_profile() -> None:
    assert profilestate.first_connection_of("work") is True
    assert profilestate.first_connection_of("work") is False
    assert profilestate.first_connection_of("home") is True
    assert profilestate.first_connection_of("../../etc") is True  # a file inside its folder
    folder = profilestate.state_dir() / profilestate.CONNECTED_BEFORE_DIRNAME
    assert sorted(p.name for p in folder.iterdir()) == ["%2E.%2F..%2Fetc", "home", "work"]


def test_an_unwritable_state_folder_means_said_again_not_a_failure() -> None:
    root = profilestate.state_dir()
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("a file where the folder must be")
    assert profilestate.first_connection_of("work") is True
    assert profilestate.first_connection_of("work") is True


def change(state: S, retry_in: float | None = None) -> StateChanged:
    return StateChanged(state, S.CONNECTED, "why", at=100.0, retry_in=retry_in)


def test_the_link_status_says_what_a_connect_would_do() -> None:
    status = LinkStatus()
    status.on_state(change(S.DISPLACED))
    assert status.displaced and status.can_connect and status.next_try_in(150.0) is None
    status.on_state(change(S.DISPLACED, retry_in=600.0))
    assert status.next_try_in(150.0) == 550.0
    status.on_state(change(S.RECONNECTING, retry_in=2.0))
    assert not status.displaced and not status.can_connect and status.next_try_in(101.0) == 1.0
    for state in (S.IDLE, S.STOPPED, S.FAILED):
        status.on_state(change(state))
        assert status.can_connect and status.next_try_in(101.0) is None


def test_doctor_reports_a_displacement_as_a_failed_step() -> None:
    outcome = _outcome(change(S.DISPLACED), None, True)
    assert outcome is not None
    title, found, todo, code = outcome
    assert title == "heartbeat" and found == "why" and code == 1
    assert "did not take it back" in todo and "--no-connect" in todo
