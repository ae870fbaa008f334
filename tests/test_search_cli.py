"""`zoomtui search`: tail's output forms over the archive, through the index; --explain,
--limit, --since/--until, notes on stderr, clear errors; `export --filter` gives the same
events."""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoomtui.cli import main
from zoomtui.fakezoom import scenario_events
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention
from zoomtui.monitor.archive.searchindex import index_step
from zoomtui.monitor.filters import compile_filter
from zoomtui.monitor.lines import human_line, json_line
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

T0 = 1_714_000_000.0  # 2024-04-24
NO_AGE_LIMIT = Retention(max_age_days=None)


def scenario(n: int, seed: int = 11, step: float = 0.05) -> list[ZoomEvent]:
    out = []
    for i, body in enumerate(itertools.islice(scenario_events(seed, T0, rate=20.0), n)):
        ev = parse_frame(message_frame(body), T0 + i * step + 0.3)
        assert isinstance(ev, ZoomEvent)
        out.append(ev)
    return out


def archive_of(path: Path, events: list[ZoomEvent], *, indexed: bool = True) -> Path:
    a = Archive(path, retention=NO_AGE_LIMIT, writer="thread", flush_interval=3600)
    for ev in events:
        a.add(ev, "c1")
    a.close()
    if indexed:
        db = sqlite3.connect(path, isolation_level=None)
        while index_step(db):
            pass
        db.close()
    return path


def run(*args: str):
    return CliRunner().invoke(main, ["search", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def events() -> list[ZoomEvent]:
    return scenario(2000, step=90.0)  # two days and more: the human listing names each day


@pytest.fixture(scope="module")
def arch(tmp_path_factory: pytest.TempPathFactory, events: list[ZoomEvent]) -> Path:
    return archive_of(tmp_path_factory.mktemp("search") / "a.sqlite3", events)


def matching(events: list[ZoomEvent], text: str) -> list[ZoomEvent]:
    flt = compile_filter(text)
    return sorted(filter(flt.matches_event, events), key=lambda e: e.received_at)


def test_json_is_tails_json_for_the_events_a_scan_finds(arch: Path, events):
    r = run("--archive", str(arch), "--json", "user:souza", "-type:*left")
    assert r.exit_code == 0, r.output
    want = matching(events, "user:souza -type:*left")
    assert want and r.stdout == "".join(json_line(e).decode() for e in want)
    assert r.stderr == ""  # an indexed archive: nothing to say


def test_human_lines_are_tails_with_a_line_for_each_day(arch: Path, events):
    r = run("--archive", str(arch), "meeting:sync")
    assert r.exit_code == 0, r.output
    want = matching(events, "meeting:sync")
    lines = r.stdout.splitlines(keepends=True)
    days = [line for line in lines if line.startswith("-- ")]
    assert len(days) >= 2  # the events span days
    assert [line for line in lines if not line.startswith("-- ")] == [
        human_line(e).decode() for e in want
    ]
    first_day = time.strftime("%a %Y-%m-%d", time.localtime(want[0].received_at))
    assert lines[0] == f"-- {first_day} --\n"


def test_limit_since_and_until(arch: Path, events):
    r = run("--archive", str(arch), "--json", "--limit", "3", "ana")
    assert r.stdout == "".join(json_line(e).decode() for e in matching(events, "ana")[:3])
    since, until = T0 + 36_000, 1_714_060_800.0
    r = run(
        "--archive",
        str(arch),
        "--json",
        "--since",
        "2024-04-25T09:06:40Z",
        "--until",
        "2024-04-25T16:00:00Z",
        "type:meeting.participant_joined",
    )
    assert r.exit_code == 0, r.output
    want = [
        e
        for e in matching(events, "type:meeting.participant_joined")
        if since <= e.received_at < until
    ]
    assert want and r.stdout == "".join(json_line(e).decode() for e in want)


def test_explain_says_what_is_indexed_and_what_is_scanned(arch: Path):
    r = run("--archive", str(arch), "--explain", "user:souza", "-user:ana", "an")
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Search index: complete" in out
    assert "Plan: candidates from user:souza" in out
    assert "-user:ana: negated text has no exact index: checked row by row" in out
    assert "an: no trigram to look up (under three characters)" in out


def test_an_archive_not_yet_indexed_is_scanned_and_says_so(tmp_path: Path, events):
    path = archive_of(tmp_path / "a.sqlite3", events[:300], indexed=False)
    r = run("--archive", str(path), "--json", "user:souza")
    assert r.exit_code == 0, r.output
    assert r.stdout == "".join(json_line(e).decode() for e in matching(events[:300], "user:souza"))
    assert "300 of 300 archive rows are not indexed yet" in r.stderr
    r = run("--archive", str(path), "--explain", "user:souza")
    assert "the 300 newer rows are scanned" in r.stdout


def test_hostile_terms_are_only_ever_values(arch: Path, events):
    for text in ['"\\" OR 1=1 --"', '"NEAR(a b)"', "'*'", 'user:"\\"\\""', "'; DROP TABLE log;"]:
        r = run("--archive", str(arch), "--json", text)
        assert r.exit_code == 0, (text, r.output)
        assert r.stdout == "".join(json_line(e).decode() for e in matching(events, text))
    assert ArchiveReader(arch).count() == len(events)


def test_nothing_found_bad_filters_and_missing_archives_are_clear(arch: Path, tmp_path: Path):
    r = run("--archive", str(arch), "zzz-nothing")
    assert r.exit_code == 0 and r.stdout == "" and "No events matched." in r.stderr
    r = run("--archive", str(arch), "usr:ana")
    assert r.exit_code == 2 and "unknown field 'usr:'" in r.stderr
    r = run("--archive", str(arch), "ana", "--jsn")
    assert r.exit_code == 2 and "No such option '--jsn'" in r.stderr
    r = run("--archive", str(tmp_path / "none.sqlite3"), "ana")
    assert r.exit_code == 1 and "There is no event archive" in r.stderr


def test_export_filter_gives_the_events_search_gives(arch: Path):
    s = run("--archive", str(arch), "--json", "type:*joined", "-user:souza", "meeting:sync")
    e = CliRunner().invoke(
        main,
        ["export", "--archive", str(arch), "--filter", "type:*joined -user:souza meeting:sync"],
    )
    assert e.exit_code == 0, e.output
    assert s.stdout and e.stdout == s.stdout
