"""Saved filters: the config's [filters] table (checked when read and written, kept by every
save), `@name` in a filter, and `--filter @name` on the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.connhelpers import ThreadedFake
from tests.test_export import archive_of, scenario
from zoomtui import config as cfg
from zoomtui.cli import main
from zoomtui.monitor.filters import FilterError
from zoomtui.monitor.savedfilters import checked, expand_saved, load_saved, save_filter


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_table_is_read_and_kept_by_every_save(config_file: Path) -> None:
    write(config_file, "[filters]\nvip = \"user:ana\"\njoins = 'type:*joined -user:bot'\n")
    assert {n: f.expression for n, f in cfg.load_config(config_file).filters.items()} == {
        "vip": "user:ana",
        "joins": "type:*joined -user:bot",
    }
    assert cfg.load_config(config_file).warnings == ()  # a table zoomtui knows
    cfg.save_profile("work", {"client_id": "abc"}, config_file)
    cfg.save_ui({"theme": "nord"}, config_file)
    cfg.delete_profile("work", config_file)
    assert set(cfg.load_config(config_file).filters) == {"vip", "joins"}
    assert save_filter("late", "type:meeting.ended", config_file) is False
    assert save_filter("vip", 'user:"Ana Lima"', config_file) is True
    config = cfg.load_config(config_file)
    assert config.ui == {"theme": "nord"}
    assert {n: f.expression for n, f in config.filters.items()} == {
        "vip": 'user:"Ana Lima"',
        "joins": "type:*joined -user:bot",
        "late": "type:meeting.ended",
    }


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        ('"bad name" = "x"', r"line 2: a saved filter's name must be a short word"),
        ('"" = "x"', r"line 2: a saved filter's name must be a short word"),
        (f'{"x" * 33} = "y"', "a short word"),
        ("vip = 42", r"line 2: saved filter 'vip' must be a filter: one line of text"),
        ('vip = "a\\nb"', r"line 2: saved filter 'vip' must be a filter"),
        ('vip = "a\\u0007"', "without control characters"),
        ('vip = "   "', "not empty"),
        (f'vip = "{"a" * 2001}"', "at most 2000 characters"),
        ("vip = { deep = 1 }", "saved filter 'vip' must be a filter"),
        ("vip = ['a']", "saved filter 'vip' must be a filter"),
    ],
)
def test_a_bad_name_or_expression_names_the_file_and_line(
    config_file: Path, body: str, wanted: str
) -> None:
    write(config_file, f"[filters]\n{body}\n")
    with pytest.raises(cfg.ConfigError, match=wanted) as caught:
        cfg.load_config(config_file)
    assert str(config_file) in str(caught.value)


def test_the_table_must_be_a_table_and_not_too_long(config_file: Path) -> None:
    write(config_file, 'filters = "x"\n')
    with pytest.raises(cfg.ConfigError, match="line 1: 'filters' must be a table"):
        cfg.load_config(config_file)
    write(config_file, "[filters]\n" + "".join(f'f{i} = "x"\n' for i in range(201)))
    with pytest.raises(cfg.ConfigError, match="at most 200 saved filters"):
        cfg.load_config(config_file)


def test_expressions_are_checked_with_the_filter_language(config_file: Path) -> None:
    write(
        config_file,
        '[filters]\nok = "user:ana"\nparen = "type:("\nchain = "@ok type:x"\ntypo = "usr:ana"\n',
    )
    saved = checked(cfg.load_config(config_file))
    assert dict(saved.filters) == {"ok": "user:ana"}
    assert set(saved.problems) == {"paren", "chain", "typo"}
    assert saved.problems["paren"].startswith(f"{config_file}, line 3: saved filter 'paren'")
    assert "(type:()" in saved.problems["paren"] and "glob" in saved.problems["paren"]
    assert (
        "line 4" in saved.problems["chain"]
        and "cannot use another (@ok)" in (saved.problems["chain"])
    )
    assert "did you mean user:" in saved.problems["typo"]
    # @ of a filter left out: its own reason, not "unknown"
    with pytest.raises(FilterError, match="line 3: saved filter 'paren'"):
        saved.expand("@paren")
    with pytest.raises(cfg.ConfigError, match="not a filter zoomtui understands"):
        save_filter("bad", "type:(", config_file)
    with pytest.raises(cfg.ConfigError, match="must be a short word"):
        save_filter("two words", "user:ana", config_file)


def test_at_name_expands_with_more_terms_and_says_what_is_wrong() -> None:
    saved = {"vip": "user:ana meeting:1", "joins": "type:*joined"}
    assert expand_saved("@vip type:meeting.*", saved) == "user:ana meeting:1 type:meeting.*"
    assert (
        expand_saved("-user:bot @joins @vip", saved) == "-user:bot type:*joined user:ana meeting:1"
    )
    # not a reference: quoted, inside a value, not a short word
    same = '"@vip" user:@vip @example.com x@vip'
    assert expand_saved(same, saved) == same
    with pytest.raises(FilterError, match=r"no saved filter @nope; saved: @joins, @vip") as caught:
        expand_saved("type:x @nope", saved)
    assert caught.value.position == 7
    with pytest.raises(FilterError, match="none are saved"):
        expand_saved("@vip", {})
    with pytest.raises(FilterError, match="cannot be negated"):
        expand_saved("-@vip", saved)


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def saved_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write(
        tmp_path / "config.toml",
        '[filters]\njoins = "type:meeting.participant_joined"\nleft = "type:*left"\n',
    )
    monkeypatch.setenv("ZOOMTUI_CONFIG", str(path))
    return path


def test_export_and_search_expand_a_saved_filter(tmp_path: Path, saved_config: Path) -> None:
    events = scenario(300)
    arch = archive_of(tmp_path / "a.sqlite3", events)
    runner = CliRunner()
    joined = [e for e in events if e.name == "meeting.participant_joined"]
    r = runner.invoke(main, ["export", "--archive", str(arch), "--filter", "@joins"])
    assert r.exit_code == 0, r.output
    got = [orjson.loads(line)["event"] for line in r.stdout_bytes.splitlines()]
    assert got == ["meeting.participant_joined"] * len(joined) and joined
    # combined with more terms
    who = joined[0].participant_name
    assert who
    r = runner.invoke(main, ["export", "--archive", str(arch), "--filter", f'@joins user:"{who}"'])
    lines = r.stdout_bytes.splitlines()
    assert lines and len(lines) == sum(e.participant_name == who for e in joined)
    r = runner.invoke(main, ["search", "--archive", str(arch), "--json", "@joins"])
    assert r.exit_code == 0, r.output
    assert len(r.stdout_bytes.splitlines()) == len(joined)


def test_an_unknown_name_is_a_usage_error_listing_the_saved_ones(
    tmp_path: Path, saved_config: Path
) -> None:
    arch = archive_of(tmp_path / "a.sqlite3", scenario(20))
    runner = CliRunner()
    for args in (
        ["export", "--archive", str(arch), "--filter", "@vip"],
        ["search", "--archive", str(arch), "@vip"],
        ["tail", "--filter", "@vip type:x"],
    ):
        r = runner.invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "no saved filter @vip; saved: @joins, @left" in r.output, r.output


def test_tail_expands_a_saved_filter(saved_config: Path) -> None:
    runner = CliRunner()
    with ThreadedFake(scenario="demo", rate=200, seed=5) as tf:
        env = tf.env(ZOOMTUI_CONFIG=str(saved_config))
        r = runner.invoke(main, ["tail", "--json", "--count", "3", "--filter", "@left"], env=env)
        assert r.exit_code == 0, r.output
        names = [orjson.loads(line)["event"] for line in r.stdout.splitlines()]
        assert len(names) == 3 and all(n.endswith("left") for n in names)


def test_a_bad_config_is_a_settings_error_only_when_a_name_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = write(tmp_path / "config.toml", "[filters]\n'x y' = 1\n")
    monkeypatch.setenv("ZOOMTUI_CONFIG", str(broken))
    arch = archive_of(tmp_path / "a.sqlite3", scenario(20))
    r = CliRunner().invoke(main, ["export", "--archive", str(arch), "--filter", "@x"])
    assert r.exit_code == 3 and "line 2" in r.output and "short word" in r.output
    r = CliRunner().invoke(main, ["export", "--archive", str(arch), "--filter", "type:x"])
    assert r.exit_code == 0, r.output
    assert load_saved(tmp_path / "none.toml").filters == {}
