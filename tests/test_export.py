"""`zoomtui export` and `export_events` on real archives: JSON lines and CSV round trips,
owner-only files, no overwriting by accident, clean errors, and a pipe closed early."""

from __future__ import annotations

import csv
import io
import itertools
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from zoomtui.cli import main
from zoomtui.commands.export import ExportError, export_events
from zoomtui.fakezoom import scenario_events
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention
from zoomtui.monitor.lines import json_line
from zoomtui.timefmt import iso_utc_ms
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame
from zoomtui.zoom.updates import Gap

REPO = Path(__file__).resolve().parents[1]
T0 = 1_714_000_000.0
NO_AGE_LIMIT = Retention(max_age_days=None)  # receive times here are in 2024


def scenario(n: int, seed: int = 11) -> list[ZoomEvent]:
    out = []
    for i, body in enumerate(itertools.islice(scenario_events(seed, T0, rate=20.0), n)):
        ev = parse_frame(message_frame(body), T0 + i * 0.05 + 0.3)
        assert isinstance(ev, ZoomEvent)
        out.append(ev)
    return out


def archive_of(path: Path, events: list, *extra) -> Path:
    a = Archive(path, retention=NO_AGE_LIMIT)
    for u in [*events, *extra]:
        a.add(u, "c1")
    a.close()
    return path


def run(*args: str):
    return CliRunner().invoke(main, ["export", *args], catch_exceptions=False)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def events() -> list[ZoomEvent]:
    return scenario(300)


@pytest.fixture
def arch(tmp_path: Path, events: list[ZoomEvent]) -> Path:
    return archive_of(tmp_path / "a.sqlite3", events)


def test_jsonl_is_the_tail_json_shape_and_round_trips(tmp_path: Path, arch: Path, events):
    out = tmp_path / "out.jsonl"
    r = run("--archive", str(arch), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "Exported 300 events" in r.stderr
    assert mode(out) == 0o600
    data = out.read_bytes()
    assert data == b"".join(json_line(e) for e in events)  # byte for byte what tail --json prints
    for line, ev in zip(data.splitlines(), events, strict=True):
        obj = orjson.loads(line)
        received = obj.pop("_received_at")
        assert obj == ev.body  # the event as Zoom sent it
        assert received == iso_utc_ms(ev.received_at)


def as_cell(text: str | None) -> str:
    """What a spreadsheet must see: free text that would start a formula gets a leading '."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_csv_round_trip(tmp_path: Path, arch: Path, events):
    out = tmp_path / "out.csv"  # the format follows the suffix
    r = run("--archive", str(arch), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert mode(out) == 0o600
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "received_at",
        "event_ts",
        "event",
        "meeting_id",
        "meeting_uuid",
        "topic",
        "participant",
        "email",
        "lag_ms",
    ]
    assert len(rows) == len(events)
    for row, ev in zip(rows, events, strict=True):
        assert row["received_at"] == iso_utc_ms(ev.received_at)
        assert row["event"] == as_cell(ev.name)
        assert row["meeting_id"] == as_cell(ev.meeting_id)
        assert row["meeting_uuid"] == as_cell(ev.meeting_uuid)
        assert row["topic"] == as_cell(ev.topic)
        assert row["participant"] == as_cell(ev.participant_name)  # "'+1 555 0100" (a phone guest)
        assert row["email"] == as_cell(ev.participant_email)
        if ev.event_ts_ms is None:
            assert row["event_ts"] == row["lag_ms"] == ""
        else:
            assert row["event_ts"] == iso_utc_ms(ev.event_ts_ms / 1000)
            assert int(row["lag_ms"]) == round(ev.lag * 1000)
    # the scenario's late events show up as such
    assert max(int(r["lag_ms"]) for r in rows if r["lag_ms"]) >= 1000


def test_csv_cells_never_start_a_spreadsheet_formula(tmp_path: Path):
    body = {
        "event": "meeting.participant_joined",
        "event_ts": int(T0 * 1000),
        "payload": {
            "object": {
                "id": "1",
                "uuid": "-abc==",
                "topic": '=HYPERLINK("x")',
                "participant": {"user_name": "@evil", "email": "+1@x"},
            }
        },
    }
    ev = parse_frame(message_frame(body), T0)
    out = tmp_path / "x.csv"
    export_events([ev], out, "csv")
    (row,) = list(csv.DictReader(out.open(newline="")))
    assert row["topic"] == '\'=HYPERLINK("x")'
    assert row["participant"] == "'@evil" and row["email"] == "'+1@x"
    assert row["meeting_uuid"] == "'-abc=="  # Zoom's uuids are base64: they may start with + or -


@pytest.mark.parametrize(
    ("field", "column"),
    [("event", "event"), ("id", "meeting_id"), ("uuid", "meeting_uuid")],
)
@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_every_text_cell_is_guarded_ids_and_event_names_too(
    tmp_path: Path, field: str, column: str, lead: str
) -> None:
    """Before, the guard skipped `event`, `meeting_id` and `meeting_uuid`: a real meeting
    uuid can begin with `+`, and every field of Zoom's data is someone else's text."""
    obj = {"id": "85746352415", "uuid": "k3Jd9==", "topic": "t"}
    body = {"event": "meeting.started", "event_ts": int(T0 * 1000), "payload": {"object": obj}}
    value = lead + 'cmd|"/c calc"!A1'
    if field == "event":
        body["event"] = value
    else:
        obj[field] = value
    ev = parse_frame(message_frame(body), T0)
    out = tmp_path / "x.csv"
    export_events([ev], out, "csv")
    (row,) = list(csv.DictReader(out.open(newline="")))
    assert row[column] == "'" + value
    for name, cell in row.items():  # and no cell at all starts a formula
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (name, cell)


def test_stdout_when_no_file(arch: Path, events):
    r = run("--archive", str(arch), "--format", "jsonl")
    assert r.exit_code == 0
    assert r.stdout_bytes == b"".join(json_line(e) for e in events)
    r = run("--archive", str(arch), "--format", "csv")
    assert r.stdout.splitlines()[0] == ",".join(
        [
            "received_at",
            "event_ts",
            "event",
            "meeting_id",
            "meeting_uuid",
            "topic",
            "participant",
            "email",
            "lag_ms",
        ]
    )
    assert len(r.stdout.splitlines()) == len(events) + 1


def test_filter_since_until(arch: Path, events):
    r = run("--archive", str(arch), "--filter", "type:meeting.participant_joined")
    got = [orjson.loads(x)["event"] for x in r.stdout_bytes.splitlines()]
    assert got and set(got) == {"meeting.participant_joined"}
    assert len(got) == sum(e.name == "meeting.participant_joined" for e in events)
    since = iso_utc_ms(events[100].received_at)
    until = iso_utc_ms(events[110].received_at)
    r = run("--archive", str(arch), "--since", since, "--until", until)
    assert r.stdout_bytes == b"".join(json_line(e) for e in events[100:110])


def test_existing_files_are_kept_unless_forced(tmp_path: Path, arch: Path, events):
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n")
    os.chmod(out, 0o644)
    r = run("--archive", str(arch), "-o", str(out))
    assert r.exit_code == 1
    assert "already exists" in r.stderr and "--force" in r.stderr
    assert out.read_text() == "precious\n"
    r = run("--archive", str(arch), "-o", str(out), "--force")
    assert r.exit_code == 0
    assert out.read_bytes() == b"".join(json_line(e) for e in events)
    assert mode(out) == 0o600  # an overwritten file becomes owner-only too


def test_force_never_writes_through_a_symlink(tmp_path: Path, arch: Path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    r = run("--archive", str(arch), "-o", str(link), "--force")
    assert r.exit_code == 1 and "Cannot create" in r.stderr
    assert target.read_text() == "not yours\n"


def test_bad_input_is_a_clean_usage_error(arch: Path):
    r = run("--archive", str(arch), "--filter", "usr:typo")
    assert r.exit_code == 2 and "--filter" in r.stderr and "Traceback" not in r.output
    r = run("--archive", str(arch), "--since", "yesterday-ish")
    assert r.exit_code == 2 and "--since" in r.stderr and "30m" in r.stderr
    r = run("--archive", str(arch), "--until", "2024-01-01' OR '1'='1")
    assert r.exit_code == 2
    r = run("--profile", "../../etc")
    assert r.exit_code == 2 and "profile" in r.stderr


def test_a_missing_archive_says_so_and_leaves_no_file(tmp_path: Path):
    out = tmp_path / "o.jsonl"
    r = run("--archive", str(tmp_path / "none.sqlite3"), "-o", str(out))
    assert r.exit_code == 1 and "no event archive" in r.stderr
    assert not out.exists()


def test_profile_and_demo_archives_in_the_user_data_dir(events):
    a = Archive.open("work", retention=NO_AGE_LIMIT)
    for e in events[:5]:
        a.add(e)
    a.close()
    d = Archive.open(demo=True, retention=NO_AGE_LIMIT)
    for e in events[5:8]:
        d.add(e)
    d.close()
    assert len(run("--profile", "work").stdout_bytes.splitlines()) == 5
    assert len(run("--demo").stdout_bytes.splitlines()) == 3
    r = run("--profile", "other")
    assert r.exit_code == 1 and "no event archive" in r.stderr


def test_gaps_in_the_window_are_mentioned(tmp_path: Path, events):
    p = archive_of(tmp_path / "g.sqlite3", events[:10], Gap(T0 + 0.1, T0 + 0.2, "cut"))
    r = run("--archive", str(p))
    assert r.exit_code == 0 and "1 gap in this window" in r.stderr


def test_export_events_for_the_tui(tmp_path: Path, events):
    out = tmp_path / "sel.jsonl"
    assert export_events(events[:7], out, "jsonl") == 7
    assert mode(out) == 0o600
    with pytest.raises(ExportError, match="already exists"):
        export_events(events[:1], out, "jsonl")
    assert len(out.read_bytes().splitlines()) == 7
    assert export_events(iter(events[:2]), out, "csv", force=True) == 2
    with pytest.raises(ExportError, match="format"):
        export_events(events, tmp_path / "x", "xml")

    def broken():
        yield events[0]
        raise RuntimeError("the source failed")

    half = tmp_path / "half.jsonl"
    with pytest.raises(RuntimeError):
        export_events(broken(), half)
    assert not half.exists()  # no half-written file left behind


def test_export_round_trips_through_reading_the_archive_again(tmp_path: Path, arch: Path, events):
    # archive -> jsonl -> back to frames -> parse: the same events
    out = tmp_path / "rt.jsonl"
    export_events(ArchiveReader(arch).iter_events(), out)
    for line, ev in zip(out.read_bytes().splitlines(), events, strict=True):
        obj = orjson.loads(line)
        obj.pop("_received_at")
        again = parse_frame(message_frame(obj), ev.received_at)
        assert isinstance(again, ZoomEvent) and again.body == ev.body
        assert (again.name, again.meeting_uuid, again.participant_key) == (
            ev.name,
            ev.meeting_uuid,
            ev.participant_key,
        )


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path):
    p = archive_of(tmp_path / "big.sqlite3", scenario(3000))
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoomtui.cli", "export", "--archive", str(p)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    assert proc.wait(60) == 0, err
    assert orjson.loads(first)["_received_at"]
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_csv_writer_leaves_the_callers_stream_open():
    from zoomtui.commands.export import write_events

    buf = io.BytesIO()
    assert write_events(scenario(3), buf, "csv") == 3
    assert not buf.closed and buf.getvalue().count(b"\r\n") == 4


def test_the_count_exported_has_thousands_separators(tmp_path: Path) -> None:
    """Like every count zoomtui says ("Exported 1,001 events", not "1001")."""
    arch = archive_of(tmp_path / "big.sqlite3", scenario(1001))
    out = tmp_path / "out.jsonl"
    r = run("--archive", str(arch), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert f"Exported 1,001 events to {out}." in r.stderr
