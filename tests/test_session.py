"""The monitor session: one dispatch of every kind of update to the models and the sinks,
in order; live updates held behind the history; sinks that raise; the archive's health.

Real parts: events through the real parser, the real event log, meeting tracker and
archive (SQLite files in tmp_path)."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson

from tests._zoom_events import T0, joined, left, started
from tests.waits import HANG_GUARD
from zoomtui.monitor.archive import Archive, ArchiveReader, Record, Retention
from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import HistoryMark, HistoryTracker
from zoomtui.monitor.session import NOTHING, ArchiveChange, MonitorSession, SessionSink
from zoomtui.zoom.protocol import Envelope, MalformedFrame, ZoomEvent, parse_frame
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, Notice, StateChanged, TokenInfo, Update


def state(to: S, reason: str = "", at: float = T0, attempt: int = 1) -> StateChanged:
    return StateChanged(to, S.CONNECTING, reason or to.value, at, attempt=attempt)


def malformed(at: float) -> MalformedFrame:
    frame = parse_frame('{"module":"message","content":"{nope', at)
    assert isinstance(frame, MalformedFrame)
    return frame


def notice(at: float) -> Notice:
    frame = orjson.dumps({"module": "surprise", "success": True, "content": "{}"}).decode()
    env = parse_frame(frame, at)
    assert isinstance(env, Envelope)
    return Notice(envelope=env, text="unknown module 'surprise'")


class Heard(SessionSink):
    """Writes down what it hears, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object, bool | None]] = []

    def on_update(self, update: Update) -> None:
        self.heard.append(("raw", update, None))

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        self.heard.append(("event", event, live))

    def on_malformed(self, frame: MalformedFrame, live: bool) -> None:
        self.heard.append(("malformed", frame, live))

    def on_gap(self, gap: Gap, live: bool) -> None:
        self.heard.append(("gap", gap, live))

    def on_state(self, change: StateChanged, live: bool) -> None:
        self.heard.append(("state", change, live))

    def on_heartbeat(self, heartbeat: Heartbeat) -> None:
        self.heard.append(("heartbeat", heartbeat, None))

    def on_token(self, info: TokenInfo) -> None:
        self.heard.append(("token", info, None))

    def on_notice(self, notice: Notice) -> None:
        self.heard.append(("notice", notice, None))

    def applied(self) -> list[tuple[str, object, bool | None]]:
        return [h for h in self.heard if h[0] != "raw"]


class HeardWithHistory(Heard):
    history = True


#: the events are from 2024: keep them whatever their age
KEEP_ALL = Retention(max_age_days=None, max_size_mb=None)


def full_session() -> MonitorSession:
    return MonitorSession(
        clock=lambda: T0 + 100, event_log=EventLog(limit=1000), meetings=MeetingTracker()
    )


def a_bit_of_everything() -> list[Update]:
    return [
        state(S.CONNECTED, "server accepted the connection"),
        started(1),
        joined("ana", 2),
        malformed(T0 + 3),
        Gap(start=T0 + 4, end=T0 + 6, reason="server closed 1006"),
        state(S.RECONNECTING, "server closed 1006", at=T0 + 4),
        state(S.RECONNECTING, "server closed 1006", at=T0 + 5),  # the same again: one line
        Heartbeat(rtt=0.02, at=T0 + 7),
        TokenInfo(expires_at=T0 + 3600, scopes=("a",), obtained_at=T0),
        notice(T0 + 8),
        left("ana", 9),
    ]


def test_every_kind_reaches_models_and_sinks_once_in_order() -> None:
    session = full_session()
    sink = Heard()
    session.subscribe(sink)
    updates = a_bit_of_everything()
    for u in updates:
        session.receive(u)
    kinds = [h[0] for h in sink.applied()]
    assert kinds == [
        "state",
        "event",
        "event",
        "malformed",
        "gap",
        "state",
        "state",
        "heartbeat",
        "token",
        "notice",
        "event",
    ]
    assert [h[1] for h in sink.applied()] == updates
    assert all(live is not False for _, _, live in sink.heard)
    # raw, each one just before it is applied
    assert [h[1] for h in sink.heard if h[0] == "raw"] == updates
    assert sink.heard[0][0] == "raw" and sink.heard[1][0] == "state"
    log = session.event_log
    assert log is not None
    rows = list(log)
    assert [type(r) for r in rows] == [
        StateRow,
        ZoomEvent,
        ZoomEvent,
        MalformedFrame,
        GapRow,
        StateRow,  # one reconnecting line for two tries with the same reason
        ZoomEvent,
    ]
    status = session.status
    assert (status.events, status.malformed, status.gaps) == (3, 1, 1)
    assert status.state is S.RECONNECTING and status.heartbeat_rtt == 0.02
    assert status.token_expires_at == T0 + 3600
    assert status.last_event_at == updates[-1].received_at  # type: ignore[union-attr]
    assert session.meetings is not None and len(session.meetings.meetings) == 1


def test_a_batch_is_the_same_as_one_by_one() -> None:
    one, batch = full_session(), full_session()
    heard_one, heard_batch = Heard(), Heard()
    one.subscribe(heard_one)
    batch.subscribe(heard_batch)
    updates = a_bit_of_everything()
    for u in updates:
        one.apply(u)
    applied = batch.apply_batch(updates)
    assert heard_one.heard == heard_batch.heard
    assert one.event_log is not None and batch.event_log is not None
    assert list(one.event_log) == list(batch.event_log)
    assert applied.rows == 7 and applied.visible == 7 and applied.gaps == 1
    assert (one.status.events, one.status.gaps) == (batch.status.events, batch.status.gaps)


def test_a_front_end_without_models_keeps_only_the_link_status() -> None:
    session = MonitorSession(clock=lambda: T0)
    sink = Heard()
    session.subscribe(sink)
    applied = session.apply_batch(a_bit_of_everything())
    assert applied.rows == 0 and applied.gaps == 1
    assert session.status.events == 3
    assert len(sink.applied()) == len(a_bit_of_everything())


def records(updates: list[Update], seq: int = 1) -> list[Record]:
    out = []
    for i, u in enumerate(updates):
        at = u.at if isinstance(u, StateChanged) else getattr(u, "received_at", T0)
        out.append(Record(seq=seq + i, at=at, connection_id="earlier:1", update=u))
    return out


def test_live_updates_wait_behind_the_history_but_the_link_status_does_not() -> None:
    session = full_session()
    live_only, with_history = Heard(), HeardWithHistory()
    session.subscribe(live_only)
    session.subscribe(with_history)
    session.begin_history()
    assert session.history_state == "loading"
    # live, while the history loads
    connected = state(S.CONNECTED, "server accepted the connection", at=T0 + 50)
    live_event = joined("bo", 51)
    assert session.apply(connected).rows == 0
    assert session.apply_batch([live_event]).rows == 0
    assert session.status.state is S.CONNECTED  # the panel shows the link at once
    assert session.status.events == 0 and session.event_log is not None
    assert session.event_log.total == 0 and live_only.applied() == []
    # the history, through the same dispatch
    earlier: list[Update] = [
        state(S.CONNECTED, "server accepted the connection"),
        started(1),
        joined("ana", 2),
    ]
    seen = HistoryTracker()
    for record in records(earlier):
        seen.see(record)
    applied = session.apply_history(records(earlier))
    assert applied.rows == 3
    assert [h[2] for h in with_history.applied()] == [False, False, False]
    assert live_only.applied() == []
    assert session.status.events == 0  # history is not counted as received
    end = session.end_history(seen, until=T0 + 40)
    assert session.history_state == "done"
    assert end.boundary == 3 and end.downtime is not None
    rows = list(session.event_log)
    assert [type(r) for r in rows] == [
        StateRow,
        ZoomEvent,
        ZoomEvent,
        GapRow,  # nothing recorded from the end of the record until live began
        HistoryMark,
        StateRow,  # live "connected" is a line even though the history's last was the same
        ZoomEvent,
    ]
    assert rows[-1] is live_event and end.applied.rows == 4
    assert [(h[1], h[2]) for h in live_only.applied()] == [(connected, True), (live_event, True)]
    assert [h[1] for h in with_history.applied()] == [*earlier, connected, live_event]
    assert session.status.events == 1
    # the tracker was rebuilt from the history, and the live join went on top of it
    assert session.meetings is not None
    (meeting,) = session.meetings.meetings.values()
    assert meeting.current_count == 2


def test_too_many_live_updates_waiting_cut_the_history_short_live_first() -> None:
    """Under a flood the live updates waiting behind a big history were unbounded (2.7 GB):
    at the limit the history stops, a line says where, and the live updates follow in
    order; the history read after that is not applied."""
    session = full_session()
    session.begin_history(hold_limit=3)
    first = [started(1), joined("ana", 2)]
    assert session.apply_history(records(first)).rows == 2
    live = [joined(name, 50 + i) for i, name in enumerate(["bo", "cy", "di", "ed", "flo"])]
    assert session.apply_batch(live[:2]).rows == 0 and session.held == 2
    # the third fills the limit: the history stops; the rest of the batch is live at once
    applied = session.apply_batch(live[2:])
    assert session.held == 0 and session.history_state == "done"
    assert applied.rows == 1 + 5
    cut = session.history_cut
    assert cut is not None and cut.cut_at == T0 + 2 and cut.boundary == 2
    assert cut.applied.rows == 1 + 3  # the line and the live updates that waited
    # what the reading thread still had in flight: recorded in the archive, not applied
    assert session.apply_history(records([left("ana", 30)], seq=3)) == NOTHING
    assert session.end_history(HistoryTracker(), until=T0 + 40) is cut
    rows = list(session.event_log or [])
    assert rows[:2] == first
    mark = rows[2]
    assert isinstance(mark, HistoryMark)
    assert mark.text.startswith("history stopped at ")
    assert "the live stream came first; A searches the rest of the archive" in mark.text
    assert rows[3:] == live
    assert session.status.events == 5
    # the meeting was not followed from the cut until live began: flagged, as after a gap
    assert session.meetings is not None
    (meeting,) = session.meetings.meetings.values()
    assert meeting.flags["gap"] == 1 and meeting.current_count == 6


def test_a_cut_before_any_history_was_applied_says_none_was_loaded() -> None:
    session = full_session()
    session.begin_history(hold_limit=1)
    event = joined("bo", 50)
    assert session.apply(event).rows == 2
    (mark, live) = list(session.event_log or [])
    assert isinstance(mark, HistoryMark) and mark.text.startswith("history not loaded: ")
    assert live is event and session.history_cut is not None
    assert session.history_cut.cut_at == 0.0


class Exploding(SessionSink):
    def on_event(self, event: ZoomEvent, live: bool) -> None:
        raise RuntimeError("sink bug")

    def on_update(self, update: Update) -> None:
        raise ValueError("raw sink bug")


def test_a_sink_that_raises_never_breaks_the_session_or_the_sinks_after_it(
    tmp_path: Path, caplog
) -> None:
    session = full_session()
    with Archive(tmp_path / "a.sqlite3", writer="thread", retention=KEEP_ALL) as archive:
        session.record_to(archive, "run")
        session.subscribe(Exploding())
        after = Heard()
        session.subscribe(after)
        events = [started(1), joined("ana", 2), joined("bo", 3)]
        with caplog.at_level(logging.ERROR, logger="zoomtui.monitor.session"):
            for ev in events:
                session.receive(ev)
        assert archive.flush(timeout=HANG_GUARD)
    assert [h[1] for h in after.applied()] == events
    assert [h[1] for h in after.heard if h[0] == "raw"] == events
    assert session.event_log is not None and list(session.event_log) == events
    assert session.status.events == 3
    # counted per sink; said once, not once per event
    assert session.sink_errors == {"Exploding": 6}
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "Exploding" in said[0] and "sink bug" in said[0]
    # the archive (observing first) kept every event
    kept = [u for u in ArchiveReader(tmp_path / "a.sqlite3").iter_updates()]
    assert [e.body for e in kept] == [e.body for e in events]  # type: ignore[union-attr]


def test_a_sink_that_overrides_nothing_costs_nothing() -> None:
    session = full_session()
    session.subscribe(SessionSink())
    session.apply_batch(a_bit_of_everything())
    assert session.sink_errors == {}


def test_the_archive_change_is_reported_once_each_way(tmp_path: Path) -> None:
    # As root a read-only mode would not stop us: a file where the folder must be does.
    blocker = tmp_path / "archive"
    blocker.write_text("not a folder")
    session = MonitorSession(clock=lambda: T0)
    assert session.check_archive() is None  # no archive: nothing to say
    archive = Archive(
        blocker / "a.sqlite3", writer="thread", retention=KEEP_ALL, retry_interval=0.01
    )
    try:
        session.record_to(archive, "run")
        change = session.check_archive()
        assert change is not None and "cannot be written" in change.error
        assert str(blocker) in change.error
        assert session.status.archive_error == change.error
        assert session.check_archive() is None  # said once
        blocker.unlink()
        blocker.mkdir()
        # The writer tries again on its next batch once `retry_interval` has passed.
        for i in range(10_000):
            session.receive(started(i))
            if archive.flush(timeout=HANG_GUARD):
                break
        assert session.check_archive() == ArchiveChange("")
        assert session.status.archive_error == ""
        assert session.check_archive() is None
    finally:
        archive.close()


def test_record_stop_says_in_the_archive_that_the_monitor_stopped(tmp_path: Path) -> None:
    session = full_session()
    with Archive(tmp_path / "a.sqlite3", writer="thread", retention=KEEP_ALL) as archive:
        session.record_to(archive, "run")
        session.receive(state(S.CONNECTED, attempt=2))
        session.record_stop("zoomtui quit")
        session.receive(started(1))  # after the stop: not recorded
        assert archive.flush(timeout=HANG_GUARD)
    kept = list(ArchiveReader(tmp_path / "a.sqlite3").iter_records())
    assert [type(r.update) for r in kept] == [StateChanged, StateChanged]
    last = kept[-1]
    assert isinstance(last.update, StateChanged) and last.update.state is S.STOPPED
    assert last.update.reason == "zoomtui quit" and last.connection_id == "run:2"


def test_the_sources_we_have_are_update_sources(tmp_path: Path) -> None:
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C
    from zoomtui.monitor.recording import Recorded
    from zoomtui.monitor.replay import ReplaySource
    from zoomtui.monitor.source import UpdateSource
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings
    from zoomtui.zoom.connection import ZoomConnection

    settings = ConnectionSettings(
        C.account_id, C.client_id, Secret(C.client_secret), C.subscription_id
    )
    live: UpdateSource = ZoomConnection(settings)
    replay: UpdateSource = ReplaySource(ArchiveReader(tmp_path / "a.sqlite3"))
    recorded: UpdateSource = Recorded(live, lambda update: None)
    for source in (live, replay, recorded):
        assert isinstance(source, UpdateSource)
    assert not isinstance(MonitorSession(), UpdateSource)
