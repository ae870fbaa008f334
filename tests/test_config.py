"""Profiles in config.toml: where the file is, atomic private writes, no secrets, clear errors."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoomtui import config as cfg


def test_config_path_precedence(tmp_path: Path) -> None:
    default = cfg.config_path(env={})
    assert default.name == "config.toml"
    assert default.parent.name == "zoomtui"
    # the autouse fixture points the per-user config dir at a temp dir
    assert str(default).startswith(os.environ["XDG_CONFIG_HOME"])
    assert cfg.config_path(env={"ZOOMTUI_CONFIG": str(tmp_path / "e.toml")}) == tmp_path / "e.toml"
    assert (
        cfg.config_path(tmp_path / "o.toml", env={"ZOOMTUI_CONFIG": str(tmp_path / "e.toml")})
        == tmp_path / "o.toml"
    )


def test_selected_profile_precedence() -> None:
    assert cfg.selected_profile(env={}) == "default"
    assert cfg.selected_profile(env={"ZOOMTUI_PROFILE": "work"}) == "work"
    assert cfg.selected_profile("cli", env={"ZOOMTUI_PROFILE": "work"}) == "cli"


def test_save_creates_private_dir_and_file_and_round_trips() -> None:
    path = cfg.default_config_path()
    assert not path.parent.exists()
    cfg.save_profile(
        "work",
        {
            "account_id": "acc",
            "client_id": "cid",
            "subscription_id": "sub",
            "heartbeat_interval": 5,
            "log_limit": 1000,
            "insecure_transport": False,
        },
    )
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = cfg.load_config(path)
    assert loaded.profiles["work"] == {
        "account_id": "acc",
        "client_id": "cid",
        "subscription_id": "sub",
        "heartbeat_interval": 5.0,
        "log_limit": 1000,
        "insecure_transport": False,
    }
    # merge: a second save updates one value and keeps the rest; None removes a key
    cfg.save_profile("work", {"client_id": "cid2", "log_limit": None})
    assert cfg.get_profile("work") == {
        "account_id": "acc",
        "client_id": "cid2",
        "subscription_id": "sub",
        "heartbeat_interval": 5.0,
        "insecure_transport": False,
    }
    cfg.save_profile("default", {"account_id": "a2"})
    assert cfg.load_config().names() == ["default", "work"]


def test_write_is_atomic_and_leaves_no_temp_files(config_file: Path) -> None:
    cfg.save_profile("a", {"account_id": "1"}, config_file)
    before = config_file.stat().st_ino
    cfg.save_profile("b", {"account_id": "2"}, config_file)
    # replaced by a new file (os.replace), not rewritten in place
    assert config_file.stat().st_ino != before
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_existing_foreign_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    cfg.save_profile("a", {"account_id": "1"}, shared / "zoomtui.toml")
    # --config somewhere else: only our own file is made private, not the user's directory
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "zoomtui.toml").stat().st_mode) == 0o600


@pytest.mark.parametrize("key", ["client_secret", "password", "access_token", "ClientSecret"])
def test_refuses_to_write_a_secret(config_file: Path, key: str) -> None:
    cfg.save_profile("a", {"account_id": "1"}, config_file)
    before = config_file.read_bytes()
    with pytest.raises(cfg.ConfigError, match="never to a file"):
        cfg.save_profile("a", {key: "hunter2-is-a-secret"}, config_file)
    assert config_file.read_bytes() == before
    with pytest.raises(cfg.ConfigError):
        cfg.save_profile(
            "b", {"account_id": "x", key: "hunter2-is-a-secret"}, config_file, replace=True
        )
    assert b"hunter2" not in config_file.read_bytes()


def test_refuses_unknown_keys_and_bad_types(config_file: Path) -> None:
    with pytest.raises(cfg.ConfigError, match="not a profile setting"):
        cfg.save_profile("a", {"colour": "red"}, config_file)
    with pytest.raises(cfg.ConfigError, match="heartbeat_interval"):
        cfg.save_profile("a", {"heartbeat_interval": "fast"}, config_file)
    with pytest.raises(cfg.ConfigError, match="finite"):
        cfg.save_profile("a", {"heartbeat_interval": float("inf")}, config_file)
    assert not config_file.exists()


@pytest.mark.parametrize("name", ["", "has space", "a/b", "-lead", "x" * 65, "a:b"])
def test_refuses_bad_profile_names(config_file: Path, name: str) -> None:
    with pytest.raises(cfg.ConfigError, match="profile name"):
        cfg.save_profile(name, {"account_id": "1"}, config_file)


def test_malformed_file_names_path_and_line(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[profiles.work]\naccount_id = "a"\nclient_id = "unterminated\n')
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(config_file)
    message = str(err.value)
    assert str(config_file) in message
    assert "line 3" in message
    assert "not valid TOML" in message


def test_wrong_type_names_path_and_line(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        '[profiles.a]\naccount_id = "x"\n\n[profiles.work]\naccount_id = "y"\nheartbeat_interval = "fast"\n'
    )
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(config_file)
    assert f"{config_file}, line 6" in str(err.value)
    assert "heartbeat_interval must be a number" in str(err.value)


def test_a_secret_in_the_file_is_refused_with_its_line(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[profiles.work]\naccount_id = "y"\nclient_secret = "oops-plaintext"\n')
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(config_file)
    assert f"{config_file}, line 3" in str(err.value)
    assert "oops-plaintext" not in str(err.value)


def test_missing_file_is_empty_and_unknown_keys_survive_a_rewrite(config_file: Path) -> None:
    assert cfg.load_config(config_file).profiles == {}
    assert cfg.delete_profile("nope", config_file) is False
    assert not config_file.exists()
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[profiles.a]\naccount_id = "x"\nfuture_setting = 3\n')
    cfg.save_profile("a", {"client_id": "c"}, config_file)
    data = tomllib.loads(config_file.read_text())
    assert data["profiles"]["a"] == {"account_id": "x", "client_id": "c", "future_setting": 3}


def test_delete_profile(config_file: Path) -> None:
    cfg.save_profile("a", {"account_id": "1"}, config_file)
    cfg.save_profile("b", {"account_id": "2"}, config_file)
    assert cfg.delete_profile("a", config_file) is True
    assert cfg.load_config(config_file).names() == ["b"]


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    account=_text,
    client=_text,
    interval=st.floats(min_value=0.001, max_value=1e9, allow_nan=False, allow_infinity=False),
    limit=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    flag=st.booleans(),
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True),
)
def test_writer_round_trips_through_tomllib(
    account: str, client: str, interval: float, limit: int, flag: bool, name: str
) -> None:
    profiles = {
        name: {
            "account_id": account,
            "client_id": client,
            "heartbeat_interval": interval,
            "log_limit": limit,
            "archive": flag,
        }
    }
    text = cfg.dump_config(profiles)
    assert tomllib.loads(text) == {"profiles": profiles}
