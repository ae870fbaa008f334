"""Hydration as `tail` shows and the archive keeps it: its own kind of record (stdout with
--json, a line on stderr, a ``roster`` row in the archive), never an event; a problem said
once; export never passes it off as an event."""

from __future__ import annotations

import asyncio
import io

import orjson
import pytest

from tests.connhelpers import CALM_HB, ThreadedFake, meeting_event
from tests.test_tail import _stderr_until as stderr_until
from tests.test_tail import _tail as tail_process
from tests.waits import HANG_GUARD, awaited
from zoomtui.commands.tail import hydrate_for, run_tail
from zoomtui.fakezoom import FakeZoom, TriggerRequest
from zoomtui.monitor.archive.records import KIND_ROSTER, record_from_row
from zoomtui.zoom.rosters import RosterMeeting, RosterPerson, RosterSnapshot


async def _tail(fake: FakeZoom, count: int, **kw) -> tuple[list[bytes], str]:
    out, err = io.BytesIO(), io.StringIO()
    task = asyncio.create_task(
        run_tail(
            fake.settings(heartbeat_interval=CALM_HB, hydrate=True),
            as_json=True,
            count=count,
            out=out,
            err=err,
            handle_signals=False,
            **kw,
        )
    )
    await fake.wait_for_connection()
    await fake.wait_until(lambda: len(fake.dashboard.calls) >= 1)
    return task, out, err


async def test_tail_json_prints_the_roster_as_its_own_record_not_an_event() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        joined, _ = await fake.trigger(
            TriggerRequest("meeting.participant_joined", meeting_id=85746352410, name="Ana")
        )
        task, out, err = await _tail(fake, count=1)
        await fake.wait_until(lambda: len(fake.dashboard.calls) >= 3)  # lists and a roster
        await asyncio.sleep(0)
        await fake.trigger(
            TriggerRequest("meeting.participant_left", meeting_id=85746352410, name="Ana")
        )
        assert await awaited(task, "tail to end after one event") == 0
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    records = [x for x in lines if x.get("_record") == "roster"]
    events = [x for x in lines if "event" in x]
    assert len(records) == 1 and len(events) == 1 and len(lines) == 2
    (rec,) = records
    assert "event" not in rec and rec["trigger"] == "start"
    (m,) = rec["meetings"]
    assert m["uuid"] == joined["payload"]["object"]["uuid"]
    assert [p[3] for p in m["participants"]] == ["Ana"]
    assert "roster from Zoom's API at" in err.getvalue()


async def test_a_missing_scope_is_said_once_on_stderr_across_reconnects() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        fake.dashboard.scope_granted = False
        task, out, err = await _tail(fake, count=1)
        await fake.close(code=1011, reason="maintenance")
        await fake.wait_for_connection(2)
        await fake.trigger(TriggerRequest("meeting.participant_joined", meeting_id=85746352410))
        assert await awaited(task, "tail to go on and end") == 0
        assert len(fake.dashboard.calls) == 1
    text = err.getvalue()
    assert text.count("no roster from Zoom's API") == 1
    assert "dashboard_meetings:read:admin" in text and "hydrate = false" in text


def test_the_archive_keeps_a_roster_record_and_reads_it_back() -> None:
    person = RosterPerson("pu", "z1", "16001", "Ana", "a@x.io", 1706123456000, None, "in_meeting")
    snap = RosterSnapshot(
        at=1706123460.5,
        asked_at=1706123459.0,
        trigger="gap",
        since=1706123400.0,
        until=1706123458.0,
        meetings=(
            RosterMeeting("meeting", "u==", "81", "All hands", None, None, 2, (person,), True),
        ),
        kinds=("meeting", "webinar"),
        calls=4,
    )
    row = (
        7,
        KIND_ROSTER,
        snap.at,
        "run:1",
        snap.to_json(),
        "",
        None,
        None,
        None,
        None,
        None,
        snap.since,
    )
    record = record_from_row(row)
    assert record is not None and record.update == snap
    garbage = (8, KIND_ROSTER, 1.0, None, b'{"at": "x", "meetings": 5}', "", *[None] * 6)
    assert record_from_row(garbage) is None


@pytest.fixture(params=["process", "thread"])
def writer_kind(request, monkeypatch) -> str:
    from zoomtui.monitor import archive as archive_mod

    monkeypatch.setenv(archive_mod.WRITER_ENV, request.param)
    return request.param


def _snapshot(at: float) -> RosterSnapshot:
    person = RosterPerson(
        "pu", "z1", "16001", "Ana", None, int(at * 1000) - 5000, None, "in_meeting"
    )
    meeting = RosterMeeting(
        "meeting", "u==", "81", "All hands", participants=(person,), roster_complete=True
    )
    return RosterSnapshot(
        at=at,
        asked_at=at - 1,
        trigger="start",
        since=None,
        until=at - 2,
        meetings=(meeting,),
        kinds=("meeting",),
        calls=3,
    )


def test_a_roster_is_archived_as_its_own_kind_and_never_exported_as_an_event(
    tmp_path, writer_kind
) -> None:
    from zoomtui.monitor.archive import Archive
    from zoomtui.monitor.export import export_events
    from zoomtui.zoom.protocol import message_frame, parse_frame

    t0 = 1_706_123_456.0
    event = parse_frame(message_frame(meeting_event(1)), t0)
    snap = _snapshot(t0 + 1)
    arch = Archive(tmp_path / "a.sqlite3", clock=lambda: t0 + 10)
    try:
        arch.add(event, "run:1")
        arch.add(snap, "run:1")
        assert arch.flush(timeout=HANG_GUARD)
        records = list(arch.iter_records())
        assert [type(r.update).__name__ for r in records] == ["ZoomEvent", "RosterSnapshot"]
        assert records[1].update == snap
        assert [r.update for r in arch.iter_records(kinds=(KIND_ROSTER,))] == [snap]
        out = tmp_path / "export.jsonl"
        assert export_events(arch.iter_events(), out) == 1
        (line,) = out.read_bytes().splitlines()
        assert "_record" not in orjson.loads(line) and b"All hands" not in line
    finally:
        arch.close()


def test_replaying_a_record_rebuilds_the_hydrated_roster() -> None:
    from zoomtui.monitor.meetings import MeetingTracker
    from zoomtui.monitor.session import MonitorSession

    snap = RosterSnapshot.from_json(_snapshot(1_706_123_460.0).to_json())
    assert snap is not None
    session = MonitorSession(meetings=MeetingTracker())
    session.apply(snap)
    (m,) = session.meetings.meetings.values()
    assert [p.display_name for p in m.participants.values() if p.is_in] == ["Ana"]
    assert m.origin is not None and m.origin.text.startswith("from Zoom's API at")


def test_hydrate_for_follows_the_options_then_count_then_the_profile() -> None:
    assert hydrate_for(None, None) is None  # the profile's hydrate setting
    assert hydrate_for(None, 1) is False  # N events wanted: no roster asked
    assert hydrate_for(True, 1) is True and hydrate_for(False, None) is False


def _trigger(tf: ThreadedFake, name: str, who: str) -> None:
    tf.call(lambda fake: fake.trigger(TriggerRequest(name, meeting_id=85746352410, name=who)))


def test_tail_count_asks_zoom_for_no_roster_unless_hydrate_says_so() -> None:
    with ThreadedFake(scenario="quiet") as tf:
        _trigger(tf, "meeting.participant_joined", "Ana")  # a live meeting to hydrate
        proc = tail_process(tf.env(), "--json", "--count", "1")
        said = stderr_until(proc, b"zoomtui: connected: ")
        if b"no roster asked" not in said:  # (else the hydration is on its way: wait for it)
            said += stderr_until(proc, b"roster from Zoom's API")
        _trigger(tf, "meeting.participant_joined", "Bo")
        out, err = proc.communicate(timeout=HANG_GUARD)
        assert proc.returncode == 0, said + err
        assert tf.call(lambda fake: list(fake.dashboard.calls)) == []
        (line,) = out.splitlines()
        assert orjson.loads(line)["event"] == "meeting.participant_joined"
        assert b"zoomtui: --count: no roster asked of Zoom's API (--hydrate asks)" in said
        assert b"roster from" not in said + err
        # asked for: the roster is read and printed as its own record (it is no event)
        proc = tail_process(tf.env(), "--json", "--count", "1", "--hydrate")
        said = stderr_until(proc, b"roster from Zoom's API at")
        _trigger(tf, "meeting.participant_left", "Bo")
        out, err = proc.communicate(timeout=HANG_GUARD)
        assert proc.returncode == 0, said + err
        assert tf.call(lambda fake: len(fake.dashboard.calls_to("/participants"))) == 1
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [x.get("_record", x.get("event")) for x in lines] == [
        "roster",
        "meeting.participant_left",
    ]
