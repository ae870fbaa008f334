"""Lag percentiles over the last minute and duplicates, as the session keeps them."""

from __future__ import annotations

import random

import orjson
import pytest

from zoomtui.monitor.quality import DuplicateWindow, LagWindow
from zoomtui.monitor.session import MonitorSession
from zoomtui.zoom.protocol import ZoomEvent, parse_text_frame

T0 = 1_741_960_992.0


def _event(n: int, received_at: float, lag: float | None = 0.2) -> ZoomEvent:
    body: dict = {"event": "meeting.started", "payload": {"object": {"id": str(n)}}}
    if lag is not None:
        body["event_ts"] = round((received_at - lag) * 1000)
    frame = orjson.dumps({"module": "message", "content": orjson.dumps(body).decode()})
    event = parse_text_frame(frame, received_at)
    assert isinstance(event, ZoomEvent)
    return event


def _again(event: ZoomEvent, received_at: float) -> ZoomEvent:
    """The same frame received again."""
    raw = event.stored_raw
    again = parse_text_frame(raw if isinstance(raw, bytes) else raw.encode(), received_at)
    assert isinstance(again, ZoomEvent)
    return again


def _close(value: float, expected: float) -> bool:
    """Within a bin's width (4 %), or a millisecond near zero."""
    return abs(value - expected) <= max(0.001, abs(expected) * 0.04)


def test_an_empty_window_has_no_percentiles() -> None:
    assert LagWindow().percentiles(T0, 0.5, 0.95) is None


def test_percentiles_are_the_nearest_rank_within_a_bin() -> None:
    w = LagWindow()
    w.roll(T0)
    lags = [i / 10 for i in range(1, 101)]  # 0.1 .. 10.0 s
    random.Random(1).shuffle(lags)
    for lag in lags:
        w.add(lag)
    p50, p95, top = w.percentiles(T0, 0.5, 0.95, 1.0) or []
    assert _close(p50, 5.0) and _close(p95, 9.5) and _close(top, 10.0)


def test_one_late_event_in_twenty_is_the_p95_and_not_the_p50() -> None:
    w = LagWindow()
    w.roll(T0)
    for _ in range(19):
        w.add(0.2)
    w.add(90.0)
    p50, p95 = w.percentiles(T0, 0.5, 0.95) or []
    assert _close(p50, 0.2) and _close(p95, 0.2)
    w.add(90.0)  # two in 21: above the 95th percentile's rank
    p50, p95 = w.percentiles(T0, 0.5, 0.95) or []
    assert _close(p50, 0.2) and _close(p95, 90.0)


def test_negative_and_zero_lags_are_kept_apart() -> None:
    w = LagWindow()
    w.roll(T0)
    for lag in (-3.0, -3.0, 0.0, 0.0, 0.0):
        w.add(lag)
    low, mid = w.percentiles(T0, 0.2, 0.5) or []
    assert _close(low, -3.0) and mid == 0.0


def test_lags_leave_the_window_after_a_minute() -> None:
    w = LagWindow(window=60)
    w.roll(T0)
    w.add(30.0)
    w.roll(T0 + 30)
    w.add(1.0)
    assert w.count == 2
    p50, top = w.percentiles(T0 + 59.5, 0.5, 1.0) or []
    assert _close(p50, 1.0) and _close(top, 30.0)
    (top,) = w.percentiles(T0 + 60, 1.0) or []
    assert _close(top, 1.0) and w.count == 1
    assert w.percentiles(T0 + 90, 0.5) is None and w.count == 0


def test_the_window_stays_bounded_by_its_bins_whatever_the_rate() -> None:
    w = LagWindow()
    rng = random.Random(2)
    for second in range(120):
        w.roll(T0 + second)
        for _ in range(500):
            w.add(rng.uniform(0, 3))
    assert w.count == 60 * 500
    assert len(w._total) < 200 and len(w._past) <= 60


def test_a_frame_received_again_within_the_window_is_a_duplicate() -> None:
    d = DuplicateWindow(60)
    first = _event(1, T0)
    assert d.first_seen(first) is None
    assert d.first_seen(_event(2, T0 + 1)) is None
    assert d.first_seen(_again(first, T0 + 10)) == T0
    assert d.first_seen(_again(first, T0 + 100)) is None  # the first copy left the window


def test_the_duplicate_window_remembers_at_most_its_limit() -> None:
    d = DuplicateWindow(3600, limit=10)
    events = [_event(n, T0 + n) for n in range(20)]
    for e in events:
        assert d.first_seen(e) is None
    assert len(d._seen) <= 10
    oldest, newest = (_again(e, T0 + 30) for e in (events[0], events[-1]))
    assert d.first_seen(oldest) is None  # forgotten: the limit is a bound, not the window
    assert d.first_seen(newest) == T0 + 19


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_the_session_keeps_lag_and_marks_and_counts_duplicates() -> None:
    clock = _Clock()
    session = MonitorSession(clock=clock)
    first = _event(1, T0, lag=0.2)
    session.apply_batch([first, _event(2, T0, lag=0.2), _event(3, T0, lag=None)])
    again = _again(first, T0 + 5)
    clock.now = T0 + 5
    session.apply_batch([again, _event(4, T0 + 5, lag=40.0)])
    status = session.status
    assert status.duplicates == 1
    assert again.duplicate_after == pytest.approx(5.0) and first.duplicate_after is None
    p50, p95 = status.lag.percentiles(clock.now, 0.5, 0.95) or []
    # lags: 0.2, 0.2, 5.2 (the copy: its event_ts is the first's), 40: no lag for event 3
    assert _close(p50, 0.2) and _close(p95, 40.0)


def test_history_is_neither_lag_nor_duplicates() -> None:
    from zoomtui.monitor.archive import Record

    session = MonitorSession(clock=_Clock())
    event = _event(1, T0)
    records = [Record(seq=n, at=T0, connection_id=None, update=event) for n in (1, 2)]
    session.apply_history(records)
    assert session.status.duplicates == 0 and session.status.lag.count == 0
