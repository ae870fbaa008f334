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


# -- every value against its type and range (issue 14, item 9) ------------------------------
@pytest.mark.parametrize(
    ("line", "allowed"),
    [
        ("heartbeat_interval = nan", "a number of seconds from 1 to 300"),
        ("heartbeat_interval = inf", "a number of seconds from 1 to 300"),
        ("heartbeat_interval = 0", "a number of seconds from 1 to 300"),
        ("heartbeat_interval = -5", "a number of seconds from 1 to 300"),
        ("max_frame_bytes = 0", "a whole number of bytes from 1024 to 67108864"),
        ("max_frame_bytes = -1", "a whole number of bytes from 1024 to 67108864"),
        ("max_frame_bytes = 99999999999999", "a whole number of bytes from 1024 to 67108864"),
        ("log_limit = 0", "a whole number of rows from 100 to 1000000"),
        ("archive_max_age_days = -1", "a number of days from 0 (no limit) to 36500"),
        ("archive_max_size_mb = nan", "a number of MB from 0 (no limit) to 1048576"),
        ("history_minutes = inf", "a number of minutes from 0 (none) to 525600"),
        ('oauth_url = "https://[::1"', "not a valid URL"),
        ('ws_url = "wss://ws.zoom.us:99999/ws"', "not a valid URL"),
        ('ws_url = "wss:///ws"', "has no host"),
        ('ws_url = "ftp://ws.zoom.us/ws"', "not an http(s)/ws(s) URL"),
        ('subscription_id = "a\\nb"', "at most 256 characters, without control characters"),
        (f'client_id = "{"x" * 300}"', "at most 256 characters, without control characters"),
    ],
)
def test_a_value_out_of_range_names_the_file_the_line_the_key_and_what_is_allowed(
    config_file: Path, line: str, allowed: str
) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(f'[profiles.work]\naccount_id = "acc"\n{line}\n')
    key = line.split(" =")[0]
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(config_file)
    message = str(err.value)
    assert f"{config_file}, line 3: {key}" in message
    assert allowed in message
    assert "Fix or delete that line." in message
    with pytest.raises(cfg.ConfigError, match=key):  # and never written by zoomtui either
        cfg.save_profile("work", {key: tomllib.loads(line)[key]}, config_file)


def test_values_at_the_ends_of_their_ranges_are_accepted(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        "[profiles.low]\nheartbeat_interval = 1\nmax_frame_bytes = 1024\nlog_limit = 100\n"
        "archive_max_age_days = 0\narchive_max_size_mb = 0\nhistory_minutes = 0\n"
        "[profiles.high]\nheartbeat_interval = 300.0\nmax_frame_bytes = 67108864\n"
        "log_limit = 1000000\narchive_max_age_days = 36500\narchive_max_size_mb = 1048576\n"
        'history_minutes = 525600\nws_url = "ws://[::1]:65535/ws"\n'
    )
    loaded = cfg.load_config(config_file)
    assert loaded.profiles["low"]["heartbeat_interval"] == 1.0
    assert loaded.profiles["high"]["ws_url"] == "ws://[::1]:65535/ws"
    assert loaded.warnings == ()


def test_unknown_keys_are_reported_not_fatal(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        'colour = "red"\n\n[profiles.work]\naccount_id = "acc"\nhistroy_minutes = 5\n'
        "[profiles.work.extra]\nx = 1\n"
    )
    loaded = cfg.load_config(config_file)
    assert loaded.profiles["work"] == {"account_id": "acc"}
    warnings = "\n".join(loaded.warnings)
    assert (
        f"{config_file}, line 5: 'histroy_minutes' is not a setting zoomtui knows "
        "(did you mean 'history_minutes'?); it is ignored." in warnings
    )
    assert f"{config_file}, line 1: 'colour'" in warnings
    assert "'extra'" in warnings
    assert len(loaded.warnings) == 3


def test_a_deeply_nested_file_is_a_config_error_not_a_recursion_error(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[profiles.work]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(config_file)
    assert str(config_file) in str(err.value) and "nested too deeply" in str(err.value)


# -- insecure_transport is not taken from a profile (issue 14, item 8) ------------------------
def test_insecure_transport_true_in_a_profile_is_ignored_and_said(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text(
        '[profiles.work]\nws_url = "ws://zoom.example.test/ws"\ninsecure_transport = true\n'
    )
    loaded = cfg.load_config(config_file)
    assert "insecure_transport" not in loaded.profiles["work"]
    (warning,) = loaded.warnings
    assert f"{config_file}, line 3" in warning
    assert "--insecure-transport" in warning and "ZOOMTUI_INSECURE_TRANSPORT=1" in warning
    with pytest.raises(cfg.ConfigError, match="--insecure-transport"):
        cfg.save_profile("work", {"insecure_transport": True}, config_file)


def test_hydrate_is_a_checked_profile_setting(tmp_path) -> None:
    """`hydrate = false` in a profile turns hydration off; anything but true or false is
    refused with the line and what is allowed."""
    from zoomtui import credentials as cred

    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.work]\naccount_id = "a"\nclient_id = "c"\nsubscription_id = "s"\n'
        "hydrate = false\n"
    )
    settings = cred.resolve_settings(
        profile="work", config_path=path, env={"ZOOM_CLIENT_SECRET": "x"}
    )
    assert settings.hydrate is False and settings.sources["hydrate"] == "profile work"
    path.write_text('[profiles.work]\naccount_id = "a"\nhydrate = "no"\n')
    with pytest.raises(cfg.ConfigError, match=r"line 3.*hydrate must be true or false"):
        cfg.load_config(path)
