"""Alert rules in config.toml: read, checked (a bad rule is refused naming the rule, the
field and the line), and kept when zoomtui rewrites the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoomtui import config as cfg
from zoomtui.alerts.rules import (
    DEFAULT_COOLDOWN,
    RuleError,
    check_post_url,
    load_rules,
    parse_rules,
    shown_url,
)
from zoomtui.settings import SettingsError
from zoomtui.timefmt import duration_plain

GOOD = """
[profiles.default]
account_id = "acct"

[[profiles.default.alerts]]
name = "link down"
disconnected_for = "2m"
cooldown = "10m"
desktop = true

[[profiles.default.alerts]]
name = "VIP joined"
event = "type:meeting.participant_joined user:ceo@example.com"
command = ["/usr/local/bin/page", "--team", "zoom"]
command_timeout = 5

[[profiles.default.alerts]]
name = "late events"
lag_above = 30
post = "https://hooks.example.com/services/T000/B000/XXXXSECRET"
slack = true

[[profiles.default.alerts]]
name = "storm"
reconnects = 3
within = "10m"

[profiles.other]
account_id = "b"
"""


def test_every_kind_of_rule_reads_back_with_its_values(tmp_path: Path) -> None:
    rules = parse_rules(GOOD, tmp_path / "config.toml", "default").rules
    assert [r.name for r in rules] == ["link down", "VIP joined", "late events", "storm"]
    down, vip, late, storm = rules
    assert (down.condition.kind, down.condition.seconds, down.cooldown) == (
        "disconnected_for",
        120.0,
        600.0,
    )
    assert down.desktop and not down.command and not down.post
    assert vip.condition.filter_text.startswith("type:meeting")
    assert vip.command == ("/usr/local/bin/page", "--team", "zoom")
    assert vip.command_timeout == 5.0 and vip.cooldown == DEFAULT_COOLDOWN
    assert late.slack and late.condition.seconds == 30.0
    assert (storm.condition.count, storm.condition.seconds) == (3, 600.0)
    # another profile has none; a missing file has none
    assert not parse_rules(GOOD, tmp_path / "c.toml", "other")
    assert not load_rules(tmp_path / "nothing.toml", "default")


def test_a_webhook_url_is_never_shown_whole(tmp_path: Path) -> None:
    late = parse_rules(GOOD, tmp_path / "config.toml", "default").rules[2]
    assert "SECRET" not in late.describe() and "hooks.example.com" in late.describe()
    assert shown_url("https://h.example:8443/a/b?c=d") == "https://h.example:8443/..."


def _bad(rule_lines: str) -> str:
    text = f'[profiles.default]\naccount_id = "a"\n\n[[profiles.default.alerts]]\n{rule_lines}\n'
    with pytest.raises(RuleError) as info:
        parse_rules(text, Path("/etc/zoomtui/config.toml"), "default")
    return str(info.value)


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (
            'name = "late"\nlag_abve = 30',
            ["line 6", "'late'", "lag_abve", "did you mean lag_above"],
        ),
        ('name = "late"\nlag_above = "soon"', ["line 6", "'late'", "lag_above must be a duration"]),
        ('name = "late"\nlag_above = -1', ["'late'", "lag_above"]),
        ('name = "two"\nlag_above = 3\nsilent_for = 60', ["'two'", "exactly one condition"]),
        ('name = "none"\ndesktop = true', ["'none'", "exactly one condition", "none"]),
        ('name = "vip"\nevent = "usr:ana"', ["line 6", "'vip'", "event is not a usable filter"]),
        ('name = "all"\nevent = "   "', ["'all'", "event must be a filter"]),
        ('name = "s"\nreconnects = 3', ["'s'", "reconnects needs within"]),
        ('name = "s"\nsilent_for = 60\nwithin = "1m"', ["'s'", "within goes with reconnects"]),
        (
            'name = "c"\nsilent_for = 60\ncommand = "page me"',
            ["line 7", "'c'", "list of arguments"],
        ),
        (
            'name = "p"\nsilent_for = 60\npost = "http://hooks.example.com/x"',
            ["'p'", "non-loopback"],
        ),
        ('name = "p"\nsilent_for = 60\nslack = true', ["'p'", "slack goes with post"]),
        ('name = "d"\ndisplaced = false', ["'d'", "displaced must be true"]),
        ("silent_for = 60", ["alert rule #1", "needs a name"]),
    ],
)
def test_a_bad_rule_is_refused_with_its_name_field_and_line(lines: str, says: list[str]) -> None:
    message = _bad(lines)
    assert "/etc/zoomtui/config.toml" in message
    for words in says:
        assert words in message, message


def test_a_post_url_follows_the_connections_cleartext_rule() -> None:
    check_post_url("https://hooks.example.com/x")
    check_post_url("http://127.0.0.1:8080/hook")
    check_post_url("http://localhost/hook")
    for url in ("http://10.0.0.5/hook", "ftp://127.0.0.1/x", "https:///nohost"):
        with pytest.raises(SettingsError):
            check_post_url(url)


def test_two_rules_with_one_name_are_refused() -> None:
    text = (
        '[profiles.default]\n\n[[profiles.default.alerts]]\nname = "x"\nsilent_for = 9\n\n'
        '[[profiles.default.alerts]]\nname = "x"\ndisplaced = true\n'
    )
    with pytest.raises(RuleError, match="line 8: alert rule 'x': two rules have this name"):
        parse_rules(text, Path("c.toml"), "default")


def test_rules_are_not_an_unknown_key_and_survive_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    config = cfg.load_config(path)
    assert not any("alerts" in w for w in config.warnings)
    # `zoomtui login` saving a value rewrites the whole file: the rules stay, as written
    cfg.save_profile("default", {"client_id": "cid"}, path)
    again = load_rules(path, "default")
    assert [r.name for r in again.rules] == ["link down", "VIP joined", "late events", "storm"]
    assert again.rules[1].command == ("/usr/local/bin/page", "--team", "zoom")
    assert cfg.load_config(path).profiles["default"]["client_id"] == "cid"


def test_durations_read_the_way_people_say_them() -> None:
    assert duration_plain(192) == "3 min 12 s"
    assert duration_plain(7260) == "2 h 1 min"
    assert duration_plain(0.4) == "0.4 s"
    assert duration_plain(90061) == "1 d 1 h"


def test_the_monitor_refuses_to_open_with_a_bad_rule(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zoomtui.cli import main

    path = tmp_path / "config.toml"
    path.write_text('[profiles.default]\n\n[[profiles.default.alerts]]\nname = "vip"\nevnt = "x"\n')
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 3
    assert "line 5: alert rule 'vip': 'evnt' is not a rule field (did you mean event?)" in (
        result.output
    )
