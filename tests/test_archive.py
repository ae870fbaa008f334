"""The event archive on a real SQLite file: exact round trip, restarts, a killed process,
retention, failing disks, parameters-only queries, and no secret ever stored."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connhelpers import CALM_HB
from tests.waits import HANG_GUARD, awaited, poll_until, until
from zoomtui.fakezoom import scenario_events
from zoomtui.monitor import archive as archive_mod
from zoomtui.monitor.archive import (
    ARCHIVE_CONNECTION_ID,
    PACK_ROWS,
    SCHEMA_VERSION,
    STATUS_CLOSED,
    STATUS_FAILED,
    STATUS_OPEN,
    Archive,
    ArchiveError,
    ArchiveReader,
    Retention,
    WriterSettings,
    archive_path,
    migrate,
    process_writer,
)
from zoomtui.monitor.archive.spool import open_spool_files
from zoomtui.monitor.when import WhenError, parse_when
from zoomtui.zoom.protocol import (
    Envelope,
    MalformedFrame,
    ZoomEvent,
    envelope_frame,
    message_frame,
    parse_frame,
)
from zoomtui.zoom.updates import (
    ConnectionState,
    Gap,
    Heartbeat,
    Notice,
    StateChanged,
    TokenInfo,
)

REPO = Path(__file__).resolve().parents[1]
T0 = 1_714_000_000.0  # a fixed "now" for deterministic times
S = ConnectionState


def joined(i: int, *, topic: str = "Weekly sync", name: str | None = None) -> dict:
    return {
        "event": "meeting.participant_joined",
        "event_ts": int((T0 + i) * 1000) - 250,
        "payload": {
            "account_id": "acc-1",
            "object": {
                "id": "85746065432",
                "uuid": "gm8s9L+PTEC+FG3sFbd1Cw==",
                "topic": topic,
                "participant": {
                    "user_id": f"u{i}",
                    "user_name": name or f"Person {i}",
                    "participant_uuid": f"pu-{i}",
                    "email": f"p{i}@example.com",
                },
            },
        },
    }


def event(i: int, at: float | None = None, **kw) -> ZoomEvent:
    ev = parse_frame(message_frame(joined(i, **kw)), T0 + i if at is None else at)
    assert isinstance(ev, ZoomEvent)
    return ev


@pytest.fixture(autouse=True, params=["process", "thread"])
def writer_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with the writer in its own process (the default) and in a
    thread of this one (the fallback): the same writer, two ways of feeding it."""
    monkeypatch.setenv(archive_mod.WRITER_ENV, request.param)
    return request.param


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "work.sqlite3"


@pytest.fixture
def arch(path: Path) -> Iterator[Archive]:
    a = Archive(path, clock=lambda: T0 + 10_000)
    yield a
    a.close()


def same_event(a: ZoomEvent, b: ZoomEvent) -> None:
    for attr in ZoomEvent.__slots__:
        if attr != "_body":
            assert getattr(a, attr) == getattr(b, attr), attr
    assert a.body == b.body


def file_bytes(p: Path) -> bytes:
    """The archive as it is on disk, with its WAL: what a person or a backup would copy."""
    return b"".join(q.read_bytes() for q in (p, Path(f"{p}-wal")) if q.exists())


# ---------------------------------------------------------------------------------
# round trip


def test_every_kind_is_stored_once_in_order_and_replays_as_the_live_values(arch: Archive):
    items: list = []
    items.append(StateChanged(S.CONNECTED, S.CONNECTING, "build_connection ok", T0 - 1, attempt=1))
    items += [event(i) for i in range(50)]
    items.append(parse_frame(b"\xff\xfe binary \x00", T0 + 50.5))  # malformed, bytes kept exactly
    items.append(parse_frame('{"module":"message","content":"{nope', T0 + 50.6))
    env = parse_frame(envelope_frame("surprise", True, {"x": 1}), T0 + 50.7)
    assert isinstance(env, Envelope)
    items.append(Notice(envelope=env, text="unknown module 'surprise'"))
    items.append(
        StateChanged(
            S.RECONNECTING,
            S.CONNECTED,
            "server closed 1006",
            T0 + 51,
            hint="",
            retry_in=1.5,
            attempt=1,
        )
    )
    items.append(Gap(start=T0 + 51, end=T0 + 53, reason="server closed 1006"))
    items += [event(i) for i in range(53, 60)]
    # live-only values: not kept
    extra = [
        Heartbeat(rtt=0.012, at=T0 + 55),
        TokenInfo(expires_at=T0 + 3600, scopes=("a",), obtained_at=T0),
    ]
    for u in items[:40] + extra + items[40:]:
        arch.add(u, "run1:1")
    assert arch.flush(timeout=HANG_GUARD)
    assert arch.written == len(items)

    records = list(arch.iter_records())
    assert [r.seq for r in records] == sorted(r.seq for r in records)
    assert len(records) == len(items)
    got = [r.update for r in records]
    # Gap is stored at its end: it sorts among what was received when it was reported.
    for want, have in zip(items, got, strict=True):
        assert type(want) is type(have)
        if isinstance(want, ZoomEvent):
            same_event(want, have)
        elif isinstance(want, Notice):
            assert have.text == want.text and have.envelope == want.envelope
        else:
            assert have == want
    assert {r.connection_id for r in records} == {"run1:1"}
    assert arch.count() == 57
    assert arch.count(None) == len(items)
    assert [type(u).__name__ for u in arch.iter_updates()] == [type(u).__name__ for u in items]


def test_events_from_the_fake_zoom_scenario_keep_their_derived_columns(arch: Archive, path: Path):
    frames = [message_frame(e) for e in itertools.islice(scenario_events(7, T0, rate=50.0), 400)]
    live = [parse_frame(f, T0 + i * 0.01) for i, f in enumerate(frames)]
    for ev in live:
        arch.add(ev, "c")
    arch.flush(timeout=HANG_GUARD)
    replayed = list(arch.iter_events())
    assert len(replayed) == len(live) == 400
    for a, b in zip(live, replayed, strict=True):
        same_event(a, b)
    # The parsed columns are there for people querying the file by hand.
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT received_at, event, event_ts, meeting_uuid, meeting_id, "
        "participant_key, topic, participant_name, participant_email, raw "
        "FROM events ORDER BY seq"
    ).fetchall()
    db.close()
    assert rows == [
        (
            e.received_at,
            e.name,
            e.event_ts_ms,
            e.meeting_uuid,
            e.meeting_id,
            e.participant_key,
            e.topic,
            e.participant_name,
            e.participant_email,
            e.raw,
        )
        for e in live
    ]


def test_restart_keeps_everything_and_appends_after_it(path: Path):
    first = Archive(path)
    for i in range(30):
        first.add(event(i), "a")
    first.close()
    assert first.status == STATUS_CLOSED
    second = Archive(path)
    for i in range(30, 45):
        second.add(event(i), "b")
    second.close()
    evs = list(ArchiveReader(path).iter_events())
    assert [e.participant_key for e in evs] == [f"pu-{i}" for i in range(45)]
    assert [r.connection_id for r in ArchiveReader(path).iter_records()] == ["a"] * 30 + ["b"] * 15


def test_a_flood_beyond_the_writers_queue_is_committed_without_a_flush_interval(path: Path):
    # The writer process queues at most two batches (here 2 x 10 events) and leaves the
    # rest in the spool: held back there, it must read on as soon as the writer has
    # committed, not at its next flush interval.  The interval is an hour: only the
    # writer's own signals can get the flush below answered.
    a = Archive(path, retention=Retention(max_age_days=None), flush_interval=3600, batch_max=10)
    n = 20 * PACK_ROWS + 5  # many messages, and part of one still with the monitor
    for i in range(n):
        a.add(event(i), "c")
    assert a.flush(timeout=HANG_GUARD) and a.status == STATUS_OPEN
    assert a.pending == 0 and a.written == n
    assert [e.participant_key for e in a.iter_events()] == [f"pu-{i}" for i in range(n)]
    a.close()


def test_close_writes_what_is_queued_and_later_adds_are_ignored(path: Path):
    a = Archive(path, flush_interval=60.0)  # only close() can write these
    for i in range(500):
        a.add(event(i))
    a.close()
    a.add(event(999))  # after close: harmless, kept nowhere
    a.close()
    assert ArchiveReader(path).count() == 500


def test_text_with_a_nul_is_replayed_whole_from_the_raw_frame(arch: Archive):
    ev = event(1, topic="before\x00after")
    arch.add(ev)
    arch.flush(timeout=HANG_GUARD)
    (back,) = arch.iter_events()
    assert back.topic == "before\x00after" and back.raw == ev.raw


def test_a_hand_made_event_with_a_lone_surrogate_does_not_fail_its_batch(arch: Archive):
    odd = ZoomEvent(
        name="x.y",
        event_ts_ms=1,
        received_at=T0,
        account_id=None,
        meeting_uuid=None,
        meeting_id=None,
        topic="bad \ud800 text",
        participant_key=None,
        participant_name=None,
        participant_email=None,
        raw=message_frame({"event": "x.y", "event_ts": 1}),
    )
    arch.add(event(0, at=T0 - 1))
    arch.add(odd)
    arch.add(event(2, at=T0 + 1))
    assert arch.flush(timeout=HANG_GUARD)
    assert arch.status == STATUS_OPEN
    assert [e.name for e in arch.iter_events()] == [
        "meeting.participant_joined",
        "x.y",
        "meeting.participant_joined",
    ]


def test_hand_made_values_are_stored_not_fatal(arch: Archive):
    arch.add(MalformedFrame(raw="text, not bytes", reason="made by hand", received_at=T0))  # type: ignore[arg-type]
    arch.add(Heartbeat(rtt=0.01, at=T0))  # live-only: ignored
    arch.add(event(1))
    assert arch.flush(timeout=HANG_GUARD) and arch.status == STATUS_OPEN
    kinds = [type(u).__name__ for u in arch.iter_updates()]
    assert kinds == ["MalformedFrame", "ZoomEvent"]


def test_a_path_with_uri_characters(tmp_path: Path):
    odd = tmp_path / "we?ird #dir %20 ünï" / "a b.sqlite3"
    a = Archive(odd)
    a.add(event(1))
    a.close()
    assert a.status == STATUS_CLOSED and ArchiveReader(odd).count() == 1


def test_reading_while_the_writer_keeps_writing(arch: Archive):
    for i in range(100):
        arch.add(event(i))
    arch.flush(timeout=HANG_GUARD)
    it = arch.iter_events()
    head = [next(it) for _ in range(10)]
    for i in range(100, 200):
        arch.add(event(i))
    assert arch.flush(
        timeout=HANG_GUARD
    )  # a reader part-way through does not block the writer (WAL)
    rest = list(it)
    assert len(head) + len(rest) == 100  # a query sees the snapshot it started with
    assert arch.count() == 200


# ---------------------------------------------------------------------------------
# reading: windows, filters, limits


def test_since_until_accept_epoch_datetime_and_text(arch: Archive):
    for i in range(100):
        arch.add(event(i))  # received at T0 + i
    arch.add(Gap(start=T0 + 20.5, end=T0 + 40.5, reason="cut"))
    arch.flush(timeout=HANG_GUARD)
    names = lambda it: [e.participant_key for e in it]  # noqa: E731
    assert names(arch.iter_events(since=T0 + 90)) == [f"pu-{i}" for i in range(90, 100)]
    assert names(arch.iter_events(since=T0 + 10, until=T0 + 13)) == ["pu-10", "pu-11", "pu-12"]
    since_dt = dt.datetime.fromtimestamp(T0 + 95, tz=dt.UTC)
    assert len(list(arch.iter_events(since=since_dt))) == 5
    # the archive's clock is T0 + 10_000: "2h" reaches back past T0
    assert len(list(arch.iter_events(since="3h"))) == 100
    assert list(arch.iter_events(since="1h")) == []
    iso = dt.datetime.fromtimestamp(T0 + 97, tz=dt.UTC).isoformat()
    assert len(list(arch.iter_events(since=iso))) == 3
    # a gap overlapping the window is part of it
    window = list(arch.iter_updates(since=T0 + 30, until=T0 + 35))
    assert any(isinstance(u, Gap) for u in window)
    assert [type(u).__name__ for u in arch.iter_updates(since=T0 + 50, until=T0 + 52)] == [
        "ZoomEvent",
        "ZoomEvent",
    ]
    assert arch.count(since=T0 + 50, until=T0 + 60) == 10


def test_filter_text_object_and_limit(arch: Archive):
    for i in range(20):
        arch.add(event(i, name="Ana Lima" if i % 4 == 0 else f"Bo {i}"))
    arch.flush(timeout=HANG_GUARD)
    assert [e.participant_name for e in arch.iter_events(filter="user:ana")] == ["Ana Lima"] * 5
    assert len(list(arch.iter_events(filter="user:ana", limit=2))) == 2
    assert list(arch.iter_events(limit=0)) == []

    class Odd:
        def matches(self, ev: ZoomEvent) -> bool:
            return int(ev.participant_key.rsplit("-", 1)[1]) % 2 == 1

    assert len(list(arch.iter_events(filter=Odd()))) == 10
    from zoomtui.monitor.filters import FilterError

    with pytest.raises(FilterError):
        list(arch.iter_events(filter="usr:typo"))


def test_quotes_in_filters_times_and_data_are_only_ever_parameters(arch: Archive, path: Path):
    nasty = "x'); DROP TABLE log; --"
    arch.add(event(1, topic=nasty, name='Robert"); DELETE FROM log; --'))
    arch.add(event(2))
    arch.flush(timeout=HANG_GUARD)
    assert list(arch.iter_events(filter=f'"{nasty}"'))[0].topic == nasty
    assert list(arch.iter_events(filter="\"' OR '1'='1\"")) == []
    with pytest.raises(WhenError):
        list(arch.iter_events(since="2024-01-01' OR '1'='1"))
    with pytest.raises(WhenError):
        arch.count(until="0; DROP TABLE log")
    # kinds are parameters too: an unknown kind simply matches nothing
    assert list(arch.iter_records(kinds=["event' OR 1=1 --"])) == []
    assert arch.count() == 2
    db = sqlite3.connect(path)
    assert db.execute("SELECT topic FROM events WHERE seq = 1").fetchone() == (nasty,)
    db.close()


def test_reader_errors_are_clear(tmp_path: Path):
    with pytest.raises(ArchiveError, match="no event archive"):
        list(ArchiveReader(tmp_path / "nothing.sqlite3").iter_events())
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ArchiveError, match="Cannot read"):
        ArchiveReader(junk).count()


def test_profile_and_demo_paths_never_meet_and_never_escape(tmp_path: Path):
    assert archive_path("work", base=tmp_path) == tmp_path / "archive" / "work.sqlite3"
    assert archive_path("demo", base=tmp_path) != archive_path("x", demo=True, base=tmp_path)
    assert archive_path("x", demo=True, base=tmp_path) == tmp_path / "demo.sqlite3"
    for bad in ("../../etc/passwd", "/abs", "..", "a/b", "a\\b", ".hidden"):
        p = archive_path(bad, base=tmp_path)
        assert p.parent == tmp_path / "archive" and "/" not in p.name and not p.name.startswith(".")


def test_long_profile_names_never_share_a_file(tmp_path: Path):
    # Names are cut to keep the file name short: two names alike in their first 120
    # characters still get two files (a hash of the whole name ends a cut one).
    a, b = "p" * 130 + "-one", "p" * 130 + "-two"
    pa, pb = archive_path(a, base=tmp_path), archive_path(b, base=tmp_path)
    assert pa != pb
    for p in (pa, pb):
        assert p.parent == tmp_path / "archive" and len(p.name.encode()) <= 255
    assert archive_path(a, base=tmp_path) == pa  # the same name: the same file, every time
    # a name at the limit is kept as it is, and no cut name can be mistaken for it
    at_limit = "q" * 120
    assert archive_path(at_limit, base=tmp_path).name == at_limit + ".sqlite3"
    assert archive_path(at_limit + "x", base=tmp_path) != archive_path(at_limit, base=tmp_path)
    escaped = "é" * 50  # 3 characters each once escaped: cut as well
    assert archive_path(escaped, base=tmp_path) != archive_path(escaped + "é", base=tmp_path)


def test_default_location_is_the_user_data_dir(tmp_path: Path):
    import platformdirs

    a = Archive.open("work", retention=Retention(max_age_days=None))  # T0 is in 2024
    a.add(event(1))
    assert a.flush(timeout=HANG_GUARD)
    for f in a.path.parent.iterdir():  # the file and its -wal/-shm: names and e-mails inside
        assert oct(f.stat().st_mode & 0o777) == oct(0o600), f
    a.close()
    assert a.path == Path(platformdirs.user_data_dir("zoomtui")) / "archive" / "work.sqlite3"
    assert ArchiveReader.open("work").count() == 1
    demo = Archive.open(demo=True)
    demo.close()
    assert demo.path.name == "demo.sqlite3"


# ---------------------------------------------------------------------------------
# a process killed mid-flood

_CHILD = """
import contextlib, itertools, sys, time
from zoomtui.fakezoom import scenario_events
from zoomtui.monitor.archive import Archive, Retention, process_writer
from zoomtui.zoom.protocol import message_frame, parse_frame

# The writer at the monitor's priority: its priority is about sharing a CPU, not about what
# is kept, and at the lowest one a busy machine could starve it for minutes.
process_writer.WRITER_NICENESS = 0
# Receive times are fixed in 2024: no age limit, or retention would rightly prune them.
archive = Archive(sys.argv[1], flush_interval=0.05, retention=Retention(max_age_days=None),
                  writer=sys.argv[2])
writer = archive._writer
print("ready", archive.writer_pid or 0, flush=True)
events = itertools.islice(scenario_events(3, 1714000000.0, rate=1000.0), 40_000)
for i, ev in enumerate(events):
    archive.add(parse_frame(message_frame(ev), 1714000000.0 + i / 1000), "child")
    if i % 500 == 499:
        # added, handed over (the writer process's spool), committed (after COMMIT only);
        # under the writer's lock: frames its feeder thread is handing over are not counted
        # as handed yet, and a starved machine can stop that thread half way
        with getattr(writer, "_lock", None) or contextlib.nullcontext():
            print(i + 1, getattr(writer, "handed", 0), archive.written, flush=True)
        time.sleep(0.002)
print("done", flush=True)
time.sleep(600)  # until the test kills it
"""


def _process_state(pid: int) -> str | None:
    """The state letter of process `pid` in /proc (S sleeping, R running, Z zombie...), or
    None when there is no such process (or no /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _gone(pid: int) -> bool:
    """Whether process `pid` (not our child) has ended."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return _process_state(pid) == "Z"  # a zombie nobody has reaped yet has ended too


def _flood_then_kill(
    tmp_path: Path, writer: str, *, group: bool
) -> tuple[Path, list[tuple[int, int, int]], int]:
    """Run a monitor flooding its archive and SIGKILL it (with its writer when `group`)
    once 2,000 events are committed: (file, what it printed: (added, handed over,
    committed) every 500 events, writer pid)."""
    db_path = tmp_path / "killed.sqlite3"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CHILD))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db_path), writer],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=group,
    )
    lines: list[tuple[int, int, int]] = []
    writer_pid = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ready"):
                writer_pid = int(line.split()[1])
                continue
            if line.startswith("done"):
                break
            added, handed, committed = map(int, line.split())
            lines.append((added, handed, committed))
            if committed >= 2_000:
                break
        assert lines and lines[-1][2] > 0, "the child committed nothing"
    finally:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
        proc.wait(HANG_GUARD)
    assert proc.returncode == -signal.SIGKILL
    assert (writer_pid != 0) == (writer == "process")
    if writer_pid:
        poll_until(lambda: _gone(writer_pid), "the writer to end")
    return db_path, lines, writer_pid


def _check_clean_prefix(db_path: Path, committed: int) -> list[str]:
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raws = [r[0] for r in db.execute("SELECT raw FROM events ORDER BY seq")]
    db.close()
    # Everything reported committed is there, and the rows are exactly the first N events,
    # in order, once each: a clean prefix.
    assert committed <= len(raws)
    expected = [
        message_frame(e) for e in itertools.islice(scenario_events(3, T0, rate=1000.0), len(raws))
    ]
    assert raws == expected
    # And the monitor can carry on with the same file.  (No age limit, as in the child: the
    # events are from 2024, and retention pruning them in the background while this runs
    # would make the count below depend on how fast the machine is.)
    again = Archive(db_path, retention=Retention(max_age_days=None))
    again.add(event(1))
    again.close()
    assert again.status == STATUS_CLOSED and again.error is None
    assert ArchiveReader(db_path).count() == len(raws) + 1
    return raws


def test_a_monitor_killed_mid_flood_loses_only_what_it_had_not_handed_over(tmp_path: Path):
    # SIGKILL to the monitor alone (the OOM killer, `kill -9 <pid>`): its writer process
    # reads the spool to its end, commits and exits.
    db_path, lines, _pid = _flood_then_kill(tmp_path, "process", group=False)
    assert not Path(f"{db_path}-wal").exists()  # the writer closed the file properly
    added, handed, committed = lines[-1]
    raws = _check_clean_prefix(db_path, committed)
    # Of what it had been given when it last spoke, all but part of one message (under
    # PACK_ROWS events) is kept, however far behind the writer was ...
    assert len(raws) > added - PACK_ROWS, (len(raws), added)
    # ... because everything handed over is kept, and the monitor never held back a whole
    # message's worth, at any rate.
    assert len(raws) >= handed, (len(raws), handed)
    assert all(a - h < PACK_ROWS for a, h, _c in lines), lines
    print(
        f"\nmonitor killed after {added} added, {handed} handed over, {committed} committed: "
        f"{len(raws)} kept"
    )


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_a_process_group_killed_mid_flood_leaves_a_clean_file_with_all_but_the_last_batch(
    tmp_path: Path, writer: str
):
    # SIGKILL to everything (`kill -9 -<pgid>`, a container stopped): what the writer had
    # not committed is lost, and nothing else: the file is a clean prefix.
    db_path, lines, _pid = _flood_then_kill(tmp_path, writer, group=True)
    assert Path(f"{db_path}-wal").exists()  # killed with its WAL in use
    added, _handed, committed = lines[-1]
    raws = _check_clean_prefix(db_path, committed)
    print(f"\n{writer} writer killed after {added} added: {len(raws)} kept, {committed} committed")


# ---------------------------------------------------------------------------------
# the writer process


def _only_process(writer_mode: str) -> None:
    if writer_mode != "process":
        pytest.skip("about the writer process")


def _writer_ready(a: Archive) -> None:
    """Wait for the writer process's first report: it has taken its signals by then."""
    writer = a._writer
    assert isinstance(writer, process_writer.ProcessWriter)
    poll_until(lambda: writer._reports >= 1, "the writer's first report")


def test_a_writer_that_dies_is_shown_then_started_again_and_the_gap_is_recorded(
    path: Path, writer_mode: str, monkeypatch: pytest.MonkeyPatch
):
    # The writer is started again 1 s after its death on a clock that stands still until
    # the test moves it: a loaded machine may take longer than that to add and flush.
    _only_process(writer_mode)
    clock = ShiftedTime(still=True)
    monkeypatch.setattr(process_writer, "time", clock)
    a = Archive(path, retention=Retention(max_age_days=None), flush_interval=0.02)
    for i in range(10):
        a.add(event(i), "c")
    assert a.flush(timeout=HANG_GUARD) and a.status == STATUS_OPEN
    first = a.writer_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    poll_until(lambda: a.status == STATUS_FAILED, "the archive to say its writer died")
    assert "writer" in a.error and "stopped (it was killed by SIGKILL)" in a.error
    assert str(path) in a.error and "not kept" in a.error
    assert "zoomtui starts it again in 1 s" in a.error
    for i in range(10, 20):
        a.add(event(i), "c")  # never raises; not kept: there is no writer
    # handed over (the feeder's next round) to no writer: counted as not kept
    poll_until(lambda: a.dropped == 10, "the updates no writer took to be counted")
    assert a.flush(timeout=HANG_GUARD) is False  # at once: there is no writer to ask
    # a second later the writer is back, says so, and keeps what comes next
    clock.advance(process_writer.WRITER_RESTART_FIRST)
    poll_until(lambda: a.status == STATUS_OPEN, "the writer to be back")
    assert a.error is None and a.writer_pid not in (None, first)
    for i in range(20, 30):
        a.add(event(i), "c")
    assert a.flush(timeout=HANG_GUARD)
    assert a.dropped == 10 and a.pending == 0 and a.written == 10 + 1 + 10  # the gap is a row
    a.close()
    assert a.status == STATUS_CLOSED
    keys = [e.participant_key for e in ArchiveReader(path).iter_events()]
    assert keys == [f"pu-{i}" for i in [*range(10), *range(20, 30)]]
    gaps = [u for u in ArchiveReader(path).iter_updates() if isinstance(u, Gap)]
    assert len(gaps) == 1 and gaps[0].end > gaps[0].start
    assert gaps[0].reason == (
        "the archive writer stopped (it was killed by SIGKILL): 10 updates were not kept"
    )


def test_a_writer_that_cannot_start_again_is_tried_less_and_less_often(
    path: Path, writer_mode: str, monkeypatch: pytest.MonkeyPatch
):
    _only_process(writer_mode)
    monkeypatch.setattr(process_writer, "WRITER_RESTART_FIRST", 0.25)
    a = Archive(
        path, retention=Retention(max_age_days=None), flush_interval=0.02, retry_interval=60.0
    )
    starts = []

    def broken(args):  # every writer started from now on exits at once
        starts.append(time.monotonic())
        return [
            sys.executable,
            "-c",
            "import sys; sys.stderr.write('no disk here\\n'); sys.exit(3)",
        ]

    monkeypatch.setattr(process_writer, "_writer_command", broken)
    assert a.writer_pid is not None
    os.kill(a.writer_pid, signal.SIGKILL)
    poll_until(lambda: len(starts) >= 3, "three restarts")  # after 0.25 s, then 0.5 s, then 1 s
    waits = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert waits[0] >= 0.5 and waits[1] >= 1.0, waits  # twice as long each time
    poll_until(lambda: "zoomtui starts it again in 2 s" in a.error, "the third try's end")
    assert a.status == STATUS_FAILED
    assert "stopped (it exited with code 3: no disk here)" in a.error  # why, from its stderr
    a.add(event(1), "c")
    a.close()
    assert a.status == STATUS_FAILED and a.dropped == 1 and a.pending == 0


class ShiftedTime:
    """The `time` module as the archive's writer sees it, with a monotonic clock that runs
    (or, `still`, stands still) and that a test can also move on (`advance`)."""

    def __init__(self, still: bool = False) -> None:
        self.offset = 0.0
        self._still_at = time.monotonic() if still else None

    def monotonic(self) -> float:
        base = time.monotonic() if self._still_at is None else self._still_at
        return base + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def test_a_writer_that_stops_answering_is_said_and_bounded_and_its_gap_recorded(
    path: Path, writer_mode: str, monkeypatch: pytest.MonkeyPatch
):
    # SIGSTOP stands for any writer that stops answering: stopped, stuck on a disk.  The
    # writer's silence is measured on a clock the test moves (a real 0.5 s was also the
    # time a loaded machine may leave a starting writer, at nice 19, without a turn).
    _only_process(writer_mode)
    clock = ShiftedTime()
    monkeypatch.setattr(process_writer, "time", clock)
    a = Archive(
        path,
        retention=Retention(max_age_days=None),
        flush_interval=0.02,
        backlog_max_mb=0.25,
        stall_after=60.0,
    )
    writer = a._writer
    assert isinstance(writer, process_writer.ProcessWriter)
    for i in range(10):
        a.add(event(i), "c")
    assert a.flush(timeout=HANG_GUARD) and a.status == STATUS_OPEN
    assert a.writer_pid is not None
    os.kill(a.writer_pid, signal.SIGSTOP)
    try:
        for i in range(10, 20):
            a.add(event(i), "c")

        def said_after_a_minute_more() -> bool:  # each look moves the writer's clock on
            clock.advance(10.0)
            return a.status == STATUS_FAILED

        # said once nothing has moved for 60 s
        poll_until(said_after_a_minute_more, "the archive to say it is not answered")
        assert "has not answered for 60 s" in a.error and str(path) in a.error
        assert "up to 0.25 MB" in a.error
        for i in range(20, 2020):  # ~2 MB: far past what it may fall behind
            a.add(event(i, topic="x" * 500), "c")
        assert writer._spool.held <= (0.25 + 0.1) * (1 << 20)  # bounded (one message over)
        with writer._lock:  # each event: handed over, counted as dropped, or about to be
            held_back = len(writer._frames)
            assert writer.handed + a.dropped + held_back == 2020 and a.dropped > 1000
        assert held_back < PACK_ROWS  # nothing piles up in the monitor
    finally:
        os.kill(a.writer_pid, signal.SIGCONT)
    poll_until(lambda: a.status == STATUS_OPEN, "the archive to say it answers again")
    assert a.error is None
    for i in range(2020, 2030):
        a.add(event(i), "c")
    assert a.flush(timeout=HANG_GUARD)
    a.close()
    dropped = a.dropped
    records = list(ArchiveReader(path).iter_records())
    gaps = [r.update for r in records if isinstance(r.update, Gap)]
    assert [g.reason for g in gaps] == [
        f"the archive writer stopped answering: {dropped} updates were not kept"
    ]
    keys = [r.update.participant_key for r in records if isinstance(r.update, ZoomEvent)]
    assert len(keys) == 2030 - dropped and keys[-10:] == [f"pu-{i}" for i in range(2020, 2030)]
    assert keys[:20] == [f"pu-{i}" for i in range(20)]  # a prefix, then the gap, then the rest


def test_closing_beside_a_stopped_writer_leaves_it_to_finish_by_itself(
    path: Path, writer_mode: str
):
    _only_process(writer_mode)
    a = Archive(path, retention=Retention(max_age_days=None), flush_interval=0.02, stall_after=0.5)
    _writer_ready(a)
    pid = a.writer_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        for i in range(100):
            a.add(event(i), "c")
        poll_until(lambda: a.status == STATUS_FAILED, "the archive to say it is not answered")
        a.close()  # does not wait for a writer that does not answer (nor kill it)
        assert a.status == STATUS_FAILED and "has not answered" in a.error
    finally:
        os.kill(pid, signal.SIGCONT)
    poll_until(lambda: _gone(pid), "the writer to finish and end")
    assert ArchiveReader(path).count() == 100  # it read the spool to its end, and committed


def test_sigterm_makes_the_writer_commit_what_it_has(path: Path, writer_mode: str):
    _only_process(writer_mode)
    a = Archive(path, retention=Retention(max_age_days=None), flush_interval=60.0)
    for i in range(300):
        a.add(event(i), "c")
    # Hand them over now, without a flush (which would commit them): the writer has them
    # uncommitted (it would read and commit them in a minute).
    writer = a._writer
    assert isinstance(writer, process_writer.ProcessWriter)
    writer._pack()
    assert writer.handed == 300  # all in the spool: beyond the reach of the monitor
    assert ArchiveReader(path).count() == 0
    _writer_ready(a)
    assert a.writer_pid is not None
    os.kill(a.writer_pid, signal.SIGTERM)
    poll_until(lambda: a.status == STATUS_FAILED, "the archive to see the writer end")
    assert a.status == STATUS_FAILED and "exited with code 0" in a.error
    a.close()
    assert ArchiveReader(path).count() == 300


def test_the_writer_process_gets_no_secret(
    path: Path, writer_mode: str, monkeypatch: pytest.MonkeyPatch
):
    _only_process(writer_mode)
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc")
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", "s3cr3t-for-the-writer-test")
    a = Archive(path)
    try:
        assert a.writer_pid is not None
        environ = Path(f"/proc/{a.writer_pid}/environ").read_bytes()
        cmdline = Path(f"/proc/{a.writer_pid}/cmdline").read_bytes()
    finally:
        a.close()
    assert b"ZOOM_CLIENT_SECRET" not in environ and b"s3cr3t" not in environ
    assert b"s3cr3t" not in cmdline


def test_the_writer_ignores_the_terminal_s_ctrl_c(path: Path, writer_mode: str):
    # Ctrl-C reaches the whole process group: the monitor decides, the writer carries on.
    _only_process(writer_mode)
    a = Archive(path, retention=Retention(max_age_days=None))
    _writer_ready(a)
    assert a.writer_pid is not None
    os.kill(a.writer_pid, signal.SIGINT)
    a.add(event(1), "c")
    assert a.flush(timeout=HANG_GUARD) and a.status == STATUS_OPEN
    a.close()
    assert ArchiveReader(path).count() == 1


def test_the_writer_process_imports_the_monitor_s_zoomtui_whatever_the_folder(
    path: Path, writer_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # `python -m` would put the working folder first on the path: a zoomtui there (another
    # checkout, another version) must not be the writer's.
    _only_process(writer_mode)
    other = tmp_path / "elsewhere"
    (other / "zoomtui").mkdir(parents=True)
    (other / "zoomtui" / "__init__.py").write_text("raise SystemExit('the wrong zoomtui')\n")
    monkeypatch.chdir(other)
    a = Archive(path, retention=Retention(max_age_days=None))
    a.add(event(1), "c")
    assert a.flush(timeout=HANG_GUARD) and a.status == STATUS_OPEN, a.error
    a.close()
    assert ArchiveReader(path).count() == 1


def test_the_writer_process_module_runs_once_as_main(path: Path, writer_mode: str):
    # `python -m` runs the writer's module as __main__: were the package to import it as
    # well, it would run twice, with two copies of its classes (runpy warns of that).
    _only_process(writer_mode)
    fds = open_spool_files()
    args = {
        "path": str(path),
        "now": T0,
        "spool": list(fds),
        **WriterSettings(Retention(), 0.05, 100, 1.0).to_json(),
    }
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", process_writer.WRITER_MODULE, json.dumps(args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=process_writer._child_env(),
        pass_fds=fds,
    )
    for fd in fds:
        os.close(fd)
    assert done.returncode == 0 and done.stderr == b""
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["status"] for r in reports] == [STATUS_OPEN, STATUS_CLOSED]


# ---------------------------------------------------------------------------------
# retention


def test_retention_by_age_removes_old_rows_in_chunks(path: Path):
    now = [T0 + 40 * 86400]
    a = Archive(
        path, clock=lambda: now[0], retention=Retention(max_age_days=30, max_size_mb=None, chunk=7)
    )
    for i in range(100):  # 50 rows from 40 days ago, 50 from today
        a.add(event(i, at=T0 + i if i < 50 else now[0] - 100 + i))
    a.add(StateChanged(S.CONNECTED, S.CONNECTING, "ok", T0))  # old states go too
    assert a.flush(timeout=HANG_GUARD)
    assert a.run_retention(timeout=HANG_GUARD)
    assert a.count(None) == 50
    assert [e.participant_key for e in a.iter_events()] == [f"pu-{i}" for i in range(50, 100)]
    a.close()


def test_retention_by_row_count_keeps_the_newest(path: Path):
    a = Archive(
        path, retention=Retention(max_age_days=None, max_size_mb=None, max_rows=100, chunk=33)
    )
    for i in range(250):
        a.add(event(i))
    a.flush(timeout=HANG_GUARD)
    a.run_retention(timeout=HANG_GUARD)
    assert [e.participant_key for e in a.iter_events()] == [f"pu-{i}" for i in range(150, 250)]
    a.close()


SIZE_LIMIT_MB = 0.25


def _fill_for_size_limit(a: Archive) -> None:
    for i in range(2000):  # ~1 KB each, twice in the search index: several MB
        a.add(event(i, topic="x" * 700))
    assert a.flush(timeout=HANG_GUARD)


def _assert_under_size_limit_with_the_newest(path: Path) -> list[str]:
    """The file after `close()`: its used pages within the limit, the oldest rows gone and
    the newest kept, the space given back to the disk.  Returns the kept keys."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page, pages, free = (
        db.execute(f"PRAGMA {p}").fetchone()[0]
        for p in ("page_size", "page_count", "freelist_count")
    )
    kept = [r[0] for r in db.execute("SELECT participant_key FROM events ORDER BY seq")]
    db.close()
    assert (pages - free) * page <= SIZE_LIMIT_MB * 1024 * 1024
    assert 0 < len(kept) < 2000 and kept[-1] == "pu-1999"  # the oldest went, the newest stayed
    assert path.stat().st_size <= SIZE_LIMIT_MB * 1024 * 1024 * 1.2  # pages given back
    return kept


def _assert_the_index_answers_exactly(a: Archive, kept: list[str]) -> None:
    progress = a.index_progress()
    assert progress.complete and progress.pending_rows == 0
    newest = kept[-1]
    assert [e.participant_key for e in a.search(f"user:{newest}")] == [newest]
    assert [e.participant_key for e in a.search("xxxxx")] == kept  # the index, every row
    assert list(a.search("user:pu-0 ")) == []  # the oldest are gone from the index too


def test_retention_by_size_counts_the_built_index_and_keeps_the_newest(path: Path):
    # The index caught up before the pass: deleting rows leaves delete markers in the
    # full-text index until its segments are merged, so the pass merges before it measures.
    retention = Retention(max_age_days=None, max_size_mb=SIZE_LIMIT_MB, chunk=50)
    a = Archive(path, retention=retention)
    _fill_for_size_limit(a)
    poll_until(lambda: a.index_progress().pending_rows == 0, "the index to catch up")
    assert a.run_retention(timeout=HANG_GUARD)
    kept = [e.participant_key for e in a.iter_events()]
    _assert_the_index_answers_exactly(a, kept)
    a.close()
    assert _assert_under_size_limit_with_the_newest(path) == kept


def test_retention_by_size_with_the_search_index_off(path: Path):
    retention = Retention(max_age_days=None, max_size_mb=SIZE_LIMIT_MB, chunk=50)
    a = Archive(path, retention=retention, search_index=False)
    _fill_for_size_limit(a)
    assert a.run_retention(timeout=HANG_GUARD)
    a.close()
    _assert_under_size_limit_with_the_newest(path)


def test_retention_by_size_before_the_index_is_built_leaves_room_for_it(path: Path):
    # Rows written without the index, then opened with it: the writer applies the limits
    # when it opens, before it indexes a row, so the pass must leave room for the index
    # of the rows it keeps.
    a = Archive(path, retention=Retention(max_age_days=None, max_size_mb=None), search_index=False)
    _fill_for_size_limit(a)
    a.close()
    retention = Retention(max_age_days=None, max_size_mb=SIZE_LIMIT_MB, chunk=50)
    b = Archive(path, retention=retention)
    assert b.run_retention(timeout=HANG_GUARD)
    poll_until(lambda: b.index_progress().pending_rows == 0, "the index to catch up")
    kept = [e.participant_key for e in b.iter_events()]
    _assert_the_index_answers_exactly(b, kept)
    b.close()
    assert _assert_under_size_limit_with_the_newest(path) == kept


def test_retention_runs_by_itself_in_the_background(path: Path):
    now = T0 + 40 * 86400
    a = Archive(path, clock=lambda: now, retention=Retention(max_age_days=30, interval=0.05))
    for i in range(20):
        a.add(event(i))  # 40 days old
    a.add(event(20, at=now - 60))  # and one from a minute ago: the archive agrees with the clock
    a.flush(timeout=HANG_GUARD)
    poll_until(lambda: a.count() <= 1, "retention to prune the old ones")
    assert [e.participant_key for e in a.iter_events()] == ["pu-20"]
    a.close()


DAY = 86400.0
KEEP_30_DAYS = Retention(max_age_days=30, max_size_mb=None)


def test_a_clock_that_jumped_forward_does_not_empty_the_archive(path: Path):
    clock = [T0]
    a = Archive(path, clock=lambda: clock[0], retention=KEEP_30_DAYS)
    for i in range(1000):  # ten days of events, up to now
        a.add(event(i, at=T0 - 10 * DAY + i * 864))
    a.close()
    clock[0] = T0 + 31 * DAY  # a bad NTP step, or a VM resumed a month later
    b = Archive(path, clock=lambda: clock[0], retention=KEEP_30_DAYS)
    assert b.run_retention(timeout=HANG_GUARD)  # after the pass the writer runs when it opens
    assert b.count() == 1000
    assert b.warning is not None
    assert "The clock is 31 days ahead of the newest record" in b.warning
    assert "older than 30 days" in b.warning and "next time zoomtui starts" in b.warning
    assert b.status == STATUS_OPEN and b.error is None  # nothing failed: it is a warning
    b.add(event(1000, at=clock[0]))
    b.close()
    # The next start: the archive has recorded under this clock, so it agrees with it, and
    # the limit applies as the clock says.
    c = Archive(path, clock=lambda: clock[0], retention=KEEP_30_DAYS)
    assert c.run_retention(timeout=HANG_GUARD)
    assert [e.participant_key for e in c.iter_events()] == ["pu-1000"]
    assert c.warning is None
    c.close()


def test_a_clock_that_jumps_forward_while_running_does_not_empty_the_archive(path: Path):
    clock = [T0]
    a = Archive(path, clock=lambda: clock[0], retention=KEEP_30_DAYS)
    for i in range(100):
        a.add(event(i, at=T0 - 10 * DAY + i * 8640))
    assert a.run_retention(timeout=HANG_GUARD) and a.count() == 100 and a.warning is None
    clock[0] += 31 * DAY
    a.add(event(100, at=clock[0]))
    assert a.run_retention(timeout=HANG_GUARD)
    assert a.count() == 101
    assert a.warning is not None and "31 days ahead" in a.warning
    a.close()


def test_a_clock_a_little_ahead_of_the_archive_is_trusted(path: Path):
    # Up to a tenth of the age limit (3 days of 30), as when a monitor restarts after a
    # weekend: the limit applies as the clock says.
    clock = [T0]
    a = Archive(path, clock=lambda: clock[0], retention=Retention(max_age_days=None))
    for i in range(41):  # one a day, 40 days back to now
        a.add(event(i, at=T0 - (40 - i) * DAY))
    a.close()
    clock[0] = T0 + 2.5 * DAY
    b = Archive(path, clock=lambda: clock[0], retention=KEEP_30_DAYS)
    assert b.run_retention(timeout=HANG_GUARD)
    assert [e.participant_key for e in b.iter_events()] == [f"pu-{i}" for i in range(13, 41)]
    assert b.warning is None
    b.close()


# ---------------------------------------------------------------------------------
# failing disks: never raise, say so, keep the monitor running


@contextlib.contextmanager
def read_only_dir(p: Path) -> Iterator[Path]:
    p.mkdir(parents=True, exist_ok=True)
    os.chmod(p, 0o555)
    immutable = False
    if os.geteuid() == 0:  # root ignores permission bits: make the folder immutable instead
        immutable = subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode == 0
        if not immutable:
            os.chmod(p, 0o755)
            pytest.skip("running as root without chattr: cannot make a read-only folder")
    try:
        yield p
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(p)], check=True)
        os.chmod(p, 0o755)


def test_a_read_only_folder_fails_gracefully_with_a_message(tmp_path: Path):
    with read_only_dir(tmp_path / "ro") as ro:
        a = Archive(ro / "work.sqlite3")
        assert a.status == STATUS_FAILED
        assert str(ro / "work.sqlite3") in a.error
        assert "not kept" in a.error and "writable" in a.error
        for i in range(1000):
            a.add(event(i))  # never raises
        assert a.flush(timeout=HANG_GUARD) is False
        assert a.dropped == 1000 and a.pending == 0
        a.close()
        assert a.status == STATUS_FAILED  # the panel keeps showing why


def test_an_existing_archive_in_a_folder_turned_read_only(tmp_path: Path):
    folder = tmp_path / "ro2"
    folder.mkdir()
    first = Archive(folder / "work.sqlite3")
    first.add(event(1))
    first.close()
    with read_only_dir(folder):
        a = Archive(folder / "work.sqlite3")  # WAL needs its -wal/-shm files next to it
        a.add(event(2))
        a.flush(timeout=HANG_GUARD)
        assert a.status == STATUS_FAILED and "not kept" in a.error
        a.close()
        # and reading still works (an archive copied off a box, a read-only mount)
        assert [
            e.participant_key for e in ArchiveReader(folder / "work.sqlite3").iter_events()
        ] == ["pu-1"]


def test_a_full_disk_fails_gracefully_with_a_message(path: Path):
    a = Archive(path, max_page_count=12)  # a few pages: the schema fits, the events do not
    assert a.status == STATUS_OPEN
    for i in range(2000):
        a.add(event(i, topic="x" * 500))
    assert a.flush(timeout=HANG_GUARD) is False
    assert a.status == STATUS_FAILED
    assert "full" in a.error and str(path) in a.error and "not kept" in a.error
    dropped = a.dropped
    assert dropped > 0
    for i in range(100):
        a.add(event(i))  # still cheap and silent: dropped (and counted) until the next retry
    assert a.flush(timeout=HANG_GUARD) is False
    assert a.dropped == dropped + 100
    a.close()
    assert a.status == STATUS_FAILED


def test_recovery_after_a_failure_records_the_lost_interval_as_a_gap(tmp_path: Path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    clock = [T0]
    a = Archive(blocker / "work.sqlite3", clock=lambda: clock[0], retry_interval=0.05)
    assert a.status == STATUS_FAILED
    for i in range(10):
        a.add(event(i))
    assert a.flush(timeout=HANG_GUARD) is False
    blocker.unlink()  # someone fixes the disk
    clock[0] = T0 + 60
    time.sleep(0.1)  # the retry interval (0.05 s) passes: a sleep lasts at least this long
    a.add(event(10, at=T0 + 61))
    assert a.flush(timeout=HANG_GUARD) is True
    assert a.status == STATUS_OPEN and a.error is None
    a.close()
    ups = list(ArchiveReader(blocker / "work.sqlite3").iter_records())
    gaps = [r for r in ups if isinstance(r.update, Gap)]
    assert len(gaps) == 1 and gaps[0].connection_id == ARCHIVE_CONNECTION_ID
    assert gaps[0].update.start == T0 and "10 updates were not kept" in gaps[0].update.reason
    assert [r.update.participant_key for r in ups if isinstance(r.update, ZoomEvent)] == ["pu-10"]


# ---------------------------------------------------------------------------------
# schema


def test_schema_version_and_a_migration_path(path: Path):
    a = Archive(path)
    a.add(event(1))
    a.close()
    db = sqlite3.connect(path, isolation_level=None)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def add_note_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE log ADD COLUMN note TEXT")

    assert migrate(db, archive_mod.MIGRATIONS + [add_note_column]) == SCHEMA_VERSION + 1
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert db.execute("SELECT note, event FROM log").fetchall() == [
        (None, "meeting.participant_joined")
    ]
    db.close()


def test_a_failed_migration_leaves_the_file_as_it_was(path: Path):
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("boom")

    with pytest.raises(sqlite3.OperationalError):
        migrate(db, archive_mod.MIGRATIONS + [broken])
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_an_archive_from_a_newer_zoomtui_is_left_alone(path: Path):
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.commit()
    db.close()
    a = Archive(path)
    assert a.status == STATUS_FAILED and "newer zoomtui" in a.error
    a.add(event(1))
    a.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("future",)]
    db.close()
    with pytest.raises(ArchiveError, match="newer zoomtui"):
        ArchiveReader(path).count()


def _foreign_file(path: Path, kind: str) -> bytes:
    """A SQLite file some other program wrote; its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    if kind == "other tables":
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('keep me')")
    elif kind == "a log table of its own":
        db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT)")
    elif kind == "a log table, version 1":
        db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT)")
        db.execute("PRAGMA user_version = 1")
    elif kind == "no log table, version 1":
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    "kind",
    ["other tables", "a log table of its own", "a log table, version 1", "no log table, version 1"],
)
def test_a_file_of_another_program_is_named_as_such_and_left_alone(path: Path, kind: str):
    before = _foreign_file(path, kind)
    a = Archive(path)
    # said at once, when the archive opens (a short `tail` exits before a first batch fails)
    assert a.status == STATUS_FAILED
    assert f"{path} is not a zoomtui event archive" in a.error
    assert "Move it aside" in a.error and "not kept" in a.error
    assert "writable" not in a.error  # the folder is fine: that advice would mislead
    a.add(event(1))
    assert a.flush(timeout=HANG_GUARD) is False
    a.close()
    assert a.status == STATUS_FAILED and "not a zoomtui event archive" in a.error
    # nothing written into it, not even WAL mode or a statistics table
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    with pytest.raises(ArchiveError, match="not a zoomtui event archive"):
        ArchiveReader(path).count()


def test_moving_a_foreign_file_aside_lets_the_archive_start_afresh(tmp_path: Path):
    path = tmp_path / "work.sqlite3"
    _foreign_file(path, "other tables")
    a = Archive(path, retry_interval=0.05, retention=Retention(max_age_days=None))
    assert a.status == STATUS_FAILED
    path.rename(tmp_path / "moved-aside.sqlite3")
    poll_until(lambda: a.flush(timeout=1), "the next try to start a new archive")
    a.add(event(1))
    assert a.flush(timeout=HANG_GUARD)
    a.close()
    assert a.status == STATUS_CLOSED and ArchiveReader(path).count() == 1


# ---------------------------------------------------------------------------------
# parse_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", T0 - 7200),
        ("30m", T0 - 1800),
        ("1d", T0 - 86400),
        ("1h30m", T0 - 5400),
        ("90s ago", T0 - 90),
        ("1.5h", T0 - 5400),
        ("now", T0),
        ("1714000000", 1_714_000_000.0),
        ("1713999999500", 1_713_999_999.5),  # event_ts pasted (milliseconds)
        ("2024-04-24T23:06:40Z", T0),
        ("2024-04-24T23:06:40+00:00", T0),
        ("2024-04-25T01:06:40+02:00", T0),
    ],
)
def test_parse_when(text: str, expected: float):
    assert parse_when(text, T0) == pytest.approx(expected)


def test_parse_when_local_times_and_clock_times():
    utc = dt.UTC
    assert parse_when("2024-04-24T23:06:40", T0, tz=utc) == T0
    assert parse_when("2024-04-24", T0, tz=utc) == T0 - (23 * 3600 + 6 * 60 + 40)
    assert parse_when("23:00", T0, tz=utc) == T0 - 400  # earlier today
    assert parse_when("23:30", T0, tz=utc) == T0 - 400 + 1800 - 86400  # later: yesterday


@pytest.mark.parametrize("text", ["", "soon", "2 hours", "25:00", "2024-13-01", "1h'--"])
def test_parse_when_refuses_with_a_hint(text: str):
    with pytest.raises(WhenError, match="30m|clock time|empty"):
        parse_when(text, T0)


# ---------------------------------------------------------------------------------
# secrets: a whole fake-Zoom session, archived, holds none


async def test_a_full_fake_zoom_session_archives_and_exports_no_secret_or_token(tmp_path: Path):
    import asyncio

    from zoomtui.fakezoom import FakeZoom
    from zoomtui.fakezoom.credentials import DemoCredentials
    from zoomtui.zoom.connection import ZoomConnection

    secret = "S3CRET-recognisable-client-secret-7f3a9"
    creds = DemoCredentials(
        account_id="acct-RECOGNISABLE-1",
        client_id="clientRECOG1",
        client_secret=secret,
        subscription_id="subRECOGNISABLE1",
    )
    path = tmp_path / "session.sqlite3"
    archive = Archive(path)
    async with FakeZoom(scenario="demo", rate=400.0, seed=5, credentials=creds) as fake:
        conn = ZoomConnection(
            fake.settings(heartbeat_interval=CALM_HB), backoff_base=0.05, backoff_cap=0.1
        )
        seen: list = []
        more = asyncio.Event()

        async def consume() -> None:
            async for u in conn.updates():
                archive.add(u, "e2e")
                seen.append(u)
                more.set()

        def events() -> int:
            return sum(isinstance(u, ZoomEvent) for u in seen)

        def connects() -> int:
            return sum(isinstance(u, StateChanged) and u.state is S.CONNECTED for u in seen)

        task = asyncio.create_task(consume())
        try:
            await until(lambda: events() >= 50, more, "50 events")
            await fake.send_malformed(kind="not_json")
            await fake.send_invalid_token(wording="Invalid Token")  # new token, reconnect
            await until(lambda: connects() >= 2, more, "the reconnect")
            await fake.cut()  # a gap
            await until(lambda: any(isinstance(u, Gap) for u in seen), more, "the gap")
            n = events()
            await until(lambda: events() > n + 50, more, "over 50 more events")  # > 100 in all
        finally:
            await conn.close()
            await awaited(task, "the connection to end")
        tokens = list(fake.issuer._tokens)  # whatever is still live
    await asyncio.to_thread(archive.close)

    kinds = {type(r.update).__name__ for r in ArchiveReader(path).iter_records()}
    assert {"ZoomEvent", "StateChanged", "Gap", "MalformedFrame"} <= kinds
    assert ArchiveReader(path).count() == sum(isinstance(u, ZoomEvent) for u in seen)
    from zoomtui.commands.export import export_events

    exports = []
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"session.{fmt}"
        assert export_events(ArchiveReader(path).iter_events(), out, fmt) > 100
        exports.append(out.read_bytes())
    for data in (file_bytes(path), *exports):
        assert data, "nothing archived or exported"
        for needle in (secret, "access_token", "fzk.", *tokens):
            assert needle.encode() not in data, needle
