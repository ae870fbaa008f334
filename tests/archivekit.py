"""Helpers for the archive wiring and replay tests: realistic traffic for the quiet fake,
what a tracker shows, what an event log shows, and the TUI tests' waits."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest

from tests.tui.conftest import (  # noqa: F401 - re-exported for the archive tests
    CALM_HB,
    screen_text,
    wait_until,
)
from tests.waits import HANG_GUARD
from zoomtui.fakezoom import FakeZoom
from zoomtui.fakezoom.scenario import scenario_events
from zoomtui.monitor.archive import WriterCore
from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import ArchivePlan, HistoryMark
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent

#: quick reconnects: the backoff after a cut is milliseconds
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "open_timeout": 5.0}


def traffic(n: int, seed: int = 3, start: float | None = None) -> list[dict]:
    """`n` events of the demo's world: meetings starting, people joining, leaving, rejoining."""
    events = scenario_events(seed, start if start is not None else time.time(), rate=50.0)
    return [next(events) for _ in range(n)]


def plan(base: Path, history: float | None = None, **options: object) -> ArchivePlan:
    """An archive in `base` that flushes often (tests read it back soon)."""
    return ArchivePlan(base=base, history=history, options={"flush_interval": 0.02, **options})


def sent_contents(fake: FakeZoom) -> list[str]:
    """Every event content the fake sent, over all its accepted connections, in order."""
    return [c for conn in fake.accepted_connections for c in conn.sent_events]


def content_of(event: ZoomEvent) -> str:
    return orjson.loads(event.raw)["content"]


def tracker_summary(tracker: MeetingTracker) -> dict:
    """Everything the meetings and participant panes draw from, per meeting."""
    out = {}
    for uuid, m in tracker.meetings.items():
        people = {
            k: (
                p.status,
                p.detail,
                p.entries,
                p.first_join_ms,
                p.join_ms,
                p.leave_ms,
                p.flags,
                p.name,
                p.email,
            )
            for k, p in m.participants.items()
        }
        out[uuid] = (
            m.kind,
            m.id,
            m.topic,
            m.current_count,
            m.waiting_count,
            m.peak_count,
            m.ended,
            m.start_ms,
            m.end_ms,
            m.start_seen,
            m.first_seen_at,
            m.last_event_at,
            m.finished_seen_at,
            m.event_count,
            dict(m.flags),
            people,
        )
    return out


def row_key(row: object) -> tuple:
    """What a row of the event list shows, as a comparable value."""
    if isinstance(row, ZoomEvent):
        return ("event", row.raw, row.received_at)
    if isinstance(row, MalformedFrame):
        return ("malformed", bytes(row.raw), row.reason, row.received_at)
    if isinstance(row, GapRow):
        return ("gap", row.start, row.end, row.reason)
    if isinstance(row, StateRow):
        return ("state", row.state, row.reason, row.at)
    if isinstance(row, HistoryMark):
        return ("mark", row.text)
    return ("other", repr(row))


def visible_rows(log: EventLog) -> list[tuple]:
    return [row_key(r) for r in log]


def write_events(path: Path, n: int, start: float = 1_700_000_000.0) -> None:
    """`n` events of the demo's world, 10 ms apart from `start`, written at the current
    schema with the search index not built (the writer's indexing off)."""
    from zoomtui.monitor.archive import Archive, Retention
    from zoomtui.zoom.protocol import message_frame, parse_frame

    keep_all = Retention(max_age_days=None, max_size_mb=None)
    archive = Archive(
        path, retention=keep_all, writer="thread", flush_interval=3600, search_index=False
    )
    for i, body in enumerate(traffic(n, start=start)):
        event = parse_frame(message_frame(body), start + i * 0.01)
        assert isinstance(event, ZoomEvent)
        archive.add(event, "c1")
    archive.close()


def unindexed_archive(path: Path, n: int, start: float = 1_700_000_000.0) -> None:
    """An archive of `n` events of the demo's world as a zoomtui before the search index
    wrote it (schema 1: no index), for a writer to upgrade in place."""
    import sqlite3

    write_events(path, n, start)
    db = sqlite3.connect(path, isolation_level=None)
    for sql in (
        "DROP TRIGGER log_unindex",
        "DROP TABLE search_text",
        "DROP TABLE search_keys",
        "DROP TABLE meta",
        "PRAGMA user_version = 1",
    ):
        db.execute(sql)
    db.close()


class Gate:
    """Holds a writer thread before each of its indexing steps (`WriterCore._index_step`,
    which also notes the build) until the test lets one, or all, through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._allowed = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._open = False
        step = WriterCore._index_step

        def gated(core: WriterCore) -> bool:
            if not self._open:
                self._allowed.acquire()
            try:
                return step(core)
            finally:
                self._done.release()

        monkeypatch.setattr(WriterCore, "_index_step", gated)

    def step(self, n: int = 1) -> None:
        """Let `n` steps through and wait until they are done."""
        for _ in range(n):
            self._allowed.release()
            assert self._done.acquire(timeout=HANG_GUARD), "an indexing step"

    def open(self) -> None:
        """Let every step through from now on."""
        self._open = True
        self._allowed.release()
