"""The archive wired into the front ends, against the fake Zoom on loopback and real SQLite:

- `tail` and the TUI archive every event the fake sent while connected, exactly once, in
  order, with the states and gaps around them; `--no-archive` writes nothing;
- an archive that cannot be written is said in the panel (and on tail's stderr) while
  events keep arriving;
- history on start rebuilds the meeting tracker live had, and tail `--since` prints it;
- `zoomtui export` and `zoomtui replay` work on what `zoomtui demo` recorded.

Every wait is on a condition the code signals (tests/waits.py); nothing asserts on speed.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import stat
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.archivekit import (
    CALM_HB,
    FAST,
    content_of,
    plan,
    screen_text,
    sent_contents,
    tracker_summary,
    traffic,
    wait_until,
)
from tests.connhelpers import ThreadedFake
from tests.waits import HANG_GUARD, StillMonotonic, awaited, until
from zoomtui.cli import main
from zoomtui.commands.archiving import plan_for, profile_values
from zoomtui.commands.replay import replay_app
from zoomtui.commands.tail import run_tail
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive, ArchiveReader, archive_path, process_writer
from zoomtui.monitor.eventlog import GapRow
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import HistoryMark
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions, DemoOptions
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, StateChanged

PROFILE = "ops"


@pytest.fixture
async def fake():
    async with FakeZoom(host="127.0.0.1", port=0, oauth_port=0, seed=1, scenario=None) as server:
        yield server


def settings_for(fake: FakeZoom):
    return fake.settings(heartbeat_interval=CALM_HB, profile=PROFILE)


def tui_app(fake: FakeZoom, base: Path, **kwargs) -> ZoomtuiApp:
    kwargs.setdefault("archive", plan(base))
    options = AppOptions(
        settings_for(fake), profile=PROFILE, connection=ConnectionOptions(FAST), **kwargs
    )
    return ZoomtuiApp(options)


def toast_titles(app: ZoomtuiApp) -> list[str]:
    """Every toast title the app asks for, as it asks: a toast is a message the app takes in
    later, and it times out, so the shown ones may not hold it yet, or not any more."""
    titles: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs) -> None:
        titles.append(kwargs.get("title", ""))
        notify(message, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    return titles


class Printed(io.BytesIO):
    """What a command prints, with a signal each time it prints something."""

    def __init__(self) -> None:
        super().__init__()
        self.more = asyncio.Event()

    def write(self, data) -> int:  # type: ignore[override]
        n = super().write(data)
        self.more.set()
        return n

    def lines(self) -> int:
        return self.getvalue().count(b"\n")


async def inject_all(fake: FakeZoom, events: list[dict]) -> None:
    for ev in events:
        await fake.inject(ev)


def archived_contents(base: Path, profile: str = PROFILE) -> list[str]:
    return [content_of(e) for e in ArchiveReader(archive_path(profile, base=base)).iter_events()]


# -- tail ---------------------------------------------------------------------------------


async def test_tail_archives_every_event_once_in_order_across_a_reconnect(
    fake: FakeZoom, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "tail.sqlite3", flush_interval=0.02)
    out, err = Printed(), io.StringIO()
    first, second = traffic(40), traffic(40, seed=4)
    task = asyncio.create_task(
        run_tail(
            settings_for(fake),
            as_json=True,
            count=80,
            out=out,
            err=err,
            handle_signals=False,
            archive=archive,
            connection_kwargs=FAST,
        )
    )
    await fake.wait_for_connection()
    await inject_all(fake, first)
    # all in before the cut (a cut loses bytes)
    await until(lambda: out.lines() >= 40, out.more, "the first 40 printed")
    await fake.cut()
    await fake.wait_for_connection(2)
    await fake.send_malformed()
    await inject_all(fake, second)
    code = await awaited(task, "tail to end after 80 events")
    assert code == 0
    assert archive.status == "closed"  # run_tail closed it

    reader = ArchiveReader(tmp_path / "tail.sqlite3")
    sent = sent_contents(fake)
    assert len(sent) == 80 and len(set(sent)) == 80
    assert [content_of(e) for e in reader.iter_events()] == sent
    records = list(reader.iter_records())
    gaps = [r for r in records if isinstance(r.update, Gap)]
    assert len(gaps) == 1
    states = [r.update.state for r in records if isinstance(r.update, StateChanged)]
    assert states.count(S.CONNECTED) == 2 and states[-1] is S.STOPPED
    assert sum(r.update.__class__.__name__ == "MalformedFrame" for r in records) == 1
    # one connection id per WebSocket, the same run
    ids = [r.connection_id for r in records if isinstance(r.update, ZoomEvent)]
    assert ids[0] != ids[-1] and ids[0].split(":")[0] == ids[-1].split(":")[0]
    # what was printed is what was archived
    printed = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [orjson.dumps({k: v for k, v in p.items() if k != "_received_at"}) for p in printed] == [
        orjson.dumps(orjson.loads(c)) for c in sent
    ]


def test_tail_command_archives_by_default_and_not_with_no_archive() -> None:
    with ThreadedFake(
        host="127.0.0.1", port=0, oauth_port=0, seed=2, scenario="demo", rate=40.0
    ) as tf:
        runner = CliRunner()
        path = archive_path("default")
        result = runner.invoke(main, ["tail", "--count", "3", "--no-archive"], env=tf.env())
        assert result.exit_code == 0, result.output
        assert not path.exists() and not path.parent.exists()

        result = runner.invoke(main, ["tail", "--count", "3", "--json"], env=tf.env())
        assert result.exit_code == 0, result.output
    assert ArchiveReader(path).count() >= 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_tail_says_once_that_the_archive_cannot_be_written_and_keeps_printing(
    fake: FakeZoom, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive's folder should be")
    archive = Archive(blocker / "x.sqlite3", retry_interval=60)
    out, err = io.BytesIO(), io.StringIO()
    task = asyncio.create_task(
        run_tail(
            settings_for(fake), count=5, out=out, err=err, handle_signals=False, archive=archive
        )
    )
    await fake.wait_for_connection()
    await inject_all(fake, traffic(5))
    assert await awaited(task, "tail to end after 5 events") == 0
    assert out.getvalue().count(b"\n") == 5
    said = [line for line in err.getvalue().splitlines() if "archive:" in line]
    assert len(said) == 1 and "cannot be written" in said[0] and str(blocker) in said[0]


async def test_tail_since_prints_the_archived_events_first(fake: FakeZoom, tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    with Archive(path) as archive:
        events = traffic(12)
        for i, ev in enumerate(events):
            archive.add(parse_frame(message_frame(ev), 1000.0 + i), "earlier:1")
    out, err = io.BytesIO(), io.StringIO()
    task = asyncio.create_task(
        run_tail(
            settings_for(fake),
            as_json=True,
            count=1,
            out=out,
            err=err,
            handle_signals=False,
            history=(ArchiveReader(path), 0.0),
        )
    )
    await fake.wait_for_connection()
    live = traffic(1, seed=9)
    await inject_all(fake, live)
    assert await awaited(task, "tail to end after the live event") == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 13  # --count counts live events only
    assert [orjson.loads(x)["event"] for x in lines] == [e["event"] for e in events + live]
    assert "12 archived events since" in err.getvalue() and "live from here" in err.getvalue()


# -- the TUI ------------------------------------------------------------------------------


async def test_tui_archives_every_event_once_in_order_and_says_it_quit(
    fake: FakeZoom, tmp_path: Path
) -> None:
    app = tui_app(fake, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await inject_all(fake, traffic(50))
        await wait_until(pilot, lambda: app.status.events == 50, what="the first 50")
        await fake.cut()
        await wait_until(
            pilot,
            lambda: app.status.reconnects == 1 and app.status.state is S.CONNECTED,
            what="reconnected",
        )
        await inject_all(fake, traffic(50, seed=5))
        await wait_until(pilot, lambda: app.status.events == 100, what="all 100")
        assert app.archive.status == "open"
    assert app.archive.status == "closed"  # closed on quit
    sent = sent_contents(fake)
    assert len(sent) == 100 and len(set(sent)) == 100
    assert archived_contents(tmp_path) == sent
    records = list(ArchiveReader(archive_path(PROFILE, base=tmp_path)).iter_records())
    assert sum(isinstance(r.update, Gap) for r in records) == 1
    last = records[-1].update
    assert isinstance(last, StateChanged) and last.state is S.STOPPED
    assert last.reason == "zoomtui quit"


async def test_no_archive_writes_nothing(fake: FakeZoom, tmp_path: Path, config_file: Path) -> None:
    off = plan_for({}, archive=False)
    assert not off.enabled and off.history is None
    app = tui_app(fake, tmp_path, archive=off)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await inject_all(fake, traffic(5))
        await wait_until(pilot, lambda: app.status.events == 5, what="events")
        assert app.archive is None
    assert list(tmp_path.iterdir()) == []
    # the profile can turn it off too, and the option turns it back on
    from zoomtui import config as cfg

    cfg.save_profile(
        PROFILE,
        {"archive": False, "history_minutes": 15.0, "archive_max_age_days": 7.0},
        config_file,
    )
    values = profile_values(PROFILE, config_file)
    assert not plan_for(values, archive=None).enabled
    on = plan_for(values, archive=True)
    assert on.enabled and on.history == 15 * 60 and on.retention.max_age_days == 7.0
    assert plan_for(values, archive=True, no_history=True).history is None
    assert plan_for(values, archive=True, history=7200.0).history == 7200.0


async def test_unwritable_archive_is_said_in_the_panel_and_events_keep_coming(
    fake: FakeZoom, tmp_path: Path
) -> None:
    # As root a read-only mode would not stop us: a file where the folder must be does.
    (tmp_path / "archive").write_text("not a folder")
    app = tui_app(fake, tmp_path)
    toasts = toast_titles(app)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        assert app.archive.status == "failed"
        await inject_all(fake, traffic(20))
        await wait_until(pilot, lambda: app.status.events == 20, what="events despite it")
        await wait_until(pilot, lambda: app.panel.has_class("-archive-failed"), what="the line")
        await pilot.pause()
        text = screen_text(app)
        assert "⚠ archive:" in text and "cannot be written" in text
        assert "Events are not being archived" in toasts
        assert len(list(app.event_log)) >= 20


async def test_a_writer_that_dies_is_said_and_the_archive_comes_back_by_itself(
    fake: FakeZoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the writer stays away until the test has seen the app say so (the app looks at the
    # archive once a second, however late a loaded machine runs that)
    monkeypatch.setattr(process_writer, "WRITER_RESTART_FIRST", 3.0)
    archive_time = StillMonotonic()
    monkeypatch.setattr(process_writer, "time", archive_time)
    app = tui_app(fake, tmp_path)
    toasts = toast_titles(app)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        archive = app.archive
        if archive.writer_pid is None:
            pytest.skip("the archive's writer runs in a thread here")
        events = traffic(30)
        await inject_all(fake, events[:10])
        await wait_until(pilot, lambda: app.status.events == 10, what="events")
        await asyncio.to_thread(archive.flush, timeout=HANG_GUARD)
        os.kill(archive.writer_pid, signal.SIGKILL)
        await wait_until(pilot, lambda: app.panel.has_class("-archive-failed"), what="the line")
        await pilot.pause()
        text = screen_text(app)
        assert "⚠ archive:" in text and "writer for" in text and "starts it again in 3 s" in text
        await inject_all(fake, events[10:20])  # while there is no writer: shown, not kept
        await wait_until(pilot, lambda: app.status.events == 20, what="events despite it")
        archive_time.advance(3.0)  # the 3 s are over: the archive starts its writer again
        await wait_until(pilot, lambda: not app.panel.has_class("-archive-failed"), what="back")
        assert "Events are archived again" in toasts
        await inject_all(fake, events[20:])
        await wait_until(pilot, lambda: app.status.events == 30, what="the rest")
        assert await asyncio.to_thread(archive.flush, timeout=HANG_GUARD)
    kept = archived_contents(tmp_path)
    sent = sent_contents(fake)
    assert kept[:10] == sent[:10] and kept[-10:] == sent[20:]
    assert 20 <= len(kept) < 30  # what came while no writer ran is not invented
    gaps = [
        u
        for u in ArchiveReader(archive_path(PROFILE, base=tmp_path)).iter_updates()
        if isinstance(u, Gap) and "archive writer stopped" in u.reason
    ]
    assert len(gaps) == 1


async def test_history_on_start_rebuilds_the_tracker_live_had(
    fake: FakeZoom, tmp_path: Path
) -> None:
    app = tui_app(fake, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await inject_all(fake, traffic(150))
        await wait_until(pilot, lambda: app.status.events == 150, what="events")
        live = tracker_summary(app.meetings)
        live_rows = [r for r in app.event_log if isinstance(r, ZoomEvent)]
    assert any(m[3] for m in live.values()), "some meeting must be live (people in it)"

    again = tui_app(fake, tmp_path, archive=plan(tmp_path, history=3600))
    async with again.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: again.history_state == "done", what="history")
        rebuilt = tracker_summary(again.meetings)
        # The restart itself is a gap (nothing was received meanwhile): meetings live
        # across it say so; everything else is exactly what live had.
        for uuid, meeting in rebuilt.items():
            flags = dict(meeting[14])
            if live[uuid][6] is False:  # not ended: live across the restart
                assert flags.pop("gap") == live[uuid][14].get("gap", 0) + 1
            assert flags == {k: v for k, v in live[uuid][14].items() if k != "gap"}, uuid
            assert meeting[:14] + meeting[15:] == live[uuid][:14] + live[uuid][15:], uuid
        assert rebuilt.keys() == live.keys()

        rows = list(again.event_log)
        mark = next(i for i, r in enumerate(rows) if isinstance(r, HistoryMark))
        assert [r.raw for r in rows[:mark] if isinstance(r, ZoomEvent)] == [
            r.raw for r in live_rows
        ]
        assert isinstance(rows[mark - 1], GapRow)  # the downtime, just above the line
        assert again.event_view.history_end > 0
        # live events come after the line
        await wait_until(pilot, lambda: again.status.state is S.CONNECTED, what="connected")
        await inject_all(fake, traffic(3, seed=8))
        await wait_until(pilot, lambda: again.status.events == 3, what="live events")
        rows = list(again.event_log)
        assert sum(isinstance(r, ZoomEvent) for r in rows[mark:]) == 3
        # the log is painted by a repaint timer of its own: wait for a screen that shows it
        await wait_until(
            pilot, lambda: "── live from here" in screen_text(again), what="the line on screen"
        )
    # history is read, never written again: the archive holds each event once
    assert len(archived_contents(tmp_path)) == 153


# -- demo, then export and replay ------------------------------------------------------------


async def record_demo(seconds_of_events: int = 60) -> tuple[dict, int]:
    """Drive `zoomtui demo` (the real app, archive on) for a few seconds; quit."""
    app = ZoomtuiApp(
        AppOptions(
            DemoOptions(seed=4, rate=40.0, heartbeat=CALM_HB),
            archive=plan_for({}, archive=None, history=False),
        )
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.events >= seconds_of_events, what="demo events")
    path = archive_path(demo=True)
    return path, ArchiveReader(path).count()


async def test_export_and_replay_what_the_demo_recorded(tmp_path: Path) -> None:
    path, events = await record_demo()
    assert events >= 60
    assert not archive_path("default").exists()  # the demo never writes a profile's archive

    out = tmp_path / "demo.jsonl"
    result = await asyncio.to_thread(CliRunner().invoke, main, ["export", "--demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert len(lines) == events
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert all("_received_at" in orjson.loads(x) for x in lines)

    reader = ArchiveReader(path)
    expected = MeetingTracker()
    for record in reader.iter_records():
        u = record.update
        if isinstance(u, ZoomEvent):
            expected.apply(u)
        elif isinstance(u, Gap):
            expected.note_gap(u.start, u.end)
        elif isinstance(u, RosterSnapshot):
            # the demo's hydration at the start: its answer lands among the first events,
            # wherever a loaded machine gets it in, and is merged where it was recorded
            expected.hydrate(u)
    app = replay_app(reader, speed=None, title="the demo's archive")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.replay.finished, what="the replay to end")
        await wait_until(pilot, lambda: app.status.events == events, what="every event shown")
        assert tracker_summary(app.meetings) == tracker_summary(expected)
        await pilot.pause()
        text = screen_text(app)
        assert "REPLAY" in text and "ended" in text
    assert ArchiveReader(path).count() == events  # a replay writes nothing


def test_replay_command_says_what_is_missing() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["replay", "--demo", "--instant"])
    assert result.exit_code == 1
    assert "no event archive" in result.output.lower() and "zoomtui demo" in result.output
    with Archive.open(demo=True) as archive:
        archive.add(Gap(start=1000.0, end=1001.0, reason="test"), "x:1")
    result = runner.invoke(
        main, ["replay", "--demo", "--since", "2001-01-01", "--until", "2001-01-02"]
    )
    assert result.exit_code == 1 and "Nothing recorded" in result.output
    result = runner.invoke(main, ["replay", "--demo", "--since", "yesterday-ish"])
    assert result.exit_code == 2 and "--since" in result.output


# -- export of the view, and a big history ------------------------------------------------


async def test_e_exports_the_filtered_view_owner_only_and_says_where(
    fake: FakeZoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = tui_app(fake, tmp_path / "data", archive=None)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        sent = traffic(60)
        await inject_all(fake, sent)
        await wait_until(pilot, lambda: app.status.events == 60, what="events")
        app.event_view.apply_filter("type:meeting.participant_joined")
        shown = [e.raw for e in app.event_log if isinstance(e, ZoomEvent)]
        assert 0 < len(shown) < 60
        await pilot.press("e")
        await wait_until(
            pilot, lambda: any(n.title == "Exported" for n in app._notifications), what="the toast"
        )
        files = list(tmp_path.glob("zoomtui-export-*.jsonl"))
        assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
        lines = files[0].read_bytes().splitlines()
        assert [orjson.loads(x)["event"] for x in lines] == ["meeting.participant_joined"] * len(
            shown
        )
        note = next(n for n in app._notifications if n.title == "Exported")
        assert str(files[0]) in note.message and f"{len(shown):,} events" in note.message

        # a folder that cannot be written (as root: a file in its place): the data folder
        blocked = tmp_path / "blocked"
        blocked.write_text("")
        fallback = tmp_path / "fallback"
        monkeypatch.setattr(app.main, "export_dirs", lambda: [blocked, fallback])
        second = int(time.time())  # the first file's name holds the second it was made in
        await wait_until(pilot, lambda: int(time.time()) > second, what="a new file name")
        await pilot.press("e")
        await wait_until(
            pilot,
            lambda: sum(n.title == "Exported" for n in app._notifications) == 2,
            what="the second toast",
        )
        assert len(list(fallback.glob("zoomtui-export-*.jsonl"))) == 1


async def test_a_big_history_comes_in_batches_and_live_rows_wait_behind_it(
    fake: FakeZoom, tmp_path: Path
) -> None:
    import gc

    with Archive.open(PROFILE, base=tmp_path) as archive:
        for i, ev in enumerate(traffic(5000, start=1000.0)):
            archive.add(parse_frame(message_frame(ev), archive._clock() - 600 + i * 0.1), "old:1")
    batches = 0

    def hook(message: object) -> None:
        nonlocal batches
        batches += type(message).__name__ == "HistoryBatch"

    app = tui_app(fake, tmp_path, archive=plan(tmp_path, history=3600))
    async with app.run_test(size=(160, 40), message_hook=hook) as pilot:
        await wait_until(pilot, lambda: len(fake.open_connections()) == 1, what="connected")
        await inject_all(fake, traffic(3, seed=11))  # likely while the history still loads
        await wait_until(pilot, lambda: app.history_state == "done", what="history")
        await wait_until(pilot, lambda: app.status.events == 3, what="live events")
        rows = list(app.event_log)
        mark = next(i for i, r in enumerate(rows) if isinstance(r, HistoryMark))
        assert sum(isinstance(r, ZoomEvent) for r in rows[:mark]) == 5000
        assert sum(isinstance(r, ZoomEvent) for r in rows[mark:]) == 3
    assert batches >= 5
    assert gc.isenabled()


def test_a_restart_in_the_record_is_a_gap_but_two_monitors_side_by_side_are_not(
    tmp_path: Path,
) -> None:
    from zoomtui.monitor.recording import read_history

    def state(state: S, at: float, previous: S = S.IDLE) -> StateChanged:
        return StateChanged(state=state, previous=previous, reason="r", at=at, attempt=1)

    def event(at: float) -> ZoomEvent:
        return parse_frame(message_frame(traffic(1)[0]), at)

    path = tmp_path / "runs.sqlite3"
    with Archive(path) as archive:
        archive.add(state(S.CONNECTED, 100.0), "runA:1")
        archive.add(event(101.0), "runA:1")
        archive.add(state(S.STOPPED, 102.0, S.CONNECTED), "runA:1")
        archive.add(state(S.AUTHENTICATING, 110.0), "runB:1")  # restarted 8 s later
        archive.add(event(111.0), "runB:1")
        archive.add(state(S.AUTHENTICATING, 111.2), "runC:1")  # a tail beside it: no gap
        archive.add(event(111.3), "runB:1")
        archive.add(event(111.4), "runC:1")
        archive.add(event(200.0), "runD:1")  # runB and runC killed, D started much later
    updates = [r.update for chunk in read_history(ArchiveReader(path), None, None) for r in chunk]
    gaps = [u for u in updates if isinstance(u, Gap)]
    assert [(g.start, g.end) for g in gaps] == [(102.0, 110.0), (111.4, 200.0)]
    assert gaps[0].reason == "zoomtui was not running"
    assert "stopped without saying so" in gaps[1].reason
    assert isinstance(updates[updates.index(gaps[0]) + 1], StateChanged)  # just before the run
