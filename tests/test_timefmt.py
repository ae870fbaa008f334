"""Every time and duration form zoomtui prints, from zoomtui.timefmt: the usual values and
the edges (0, rounding at a unit's boundary, hours, days, negative, unknown)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from zoomtui import timefmt as tf

# 2024-01-24 19:10:56.789 UTC
EPOCH = 1706123456.789


@pytest.fixture
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for these tests (the machine's zone must not change the text)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_clocks_in_local_time(utc_local_time: None) -> None:
    assert tf.clock_ms(EPOCH) == "19:10:56.789"
    assert tf.clock_ms(0) == "00:00:00.000"
    assert tf.clock_hm(int(EPOCH * 1000)) == "19:10"
    assert tf.clock_hms(int(EPOCH * 1000)) == "19:10:56"
    assert tf.date_clock(EPOCH) == "2024-01-24 19:10:56"
    assert tf.date_clock_ms_zone(EPOCH) == "2024-01-24 19:10:56.789 UTC"


def test_clocks_of_an_unknown_or_impossible_time_are_dashes() -> None:
    assert tf.clock_hm(None) == "--:--"
    assert tf.clock_hms(None) == "--:--:--"
    assert tf.clock_hms(10**20) == "--:--:--"  # past what the platform's clock can say


def test_utc_clocks() -> None:
    assert tf.utc_clock_ms(EPOCH) == "19:10:56.789 UTC"
    assert tf.iso_utc_ms(EPOCH) == "2024-01-24T19:10:56.789Z"
    assert tf.iso_utc_ms(0) == "1970-01-01T00:00:00.000Z"


def test_duration_words() -> None:
    values = (0, 7, 59.4, 59.6, 60, 723, 3599.6, 3725, 90061, -5)
    assert [tf.duration_words(s) for s in values] == [
        "0 s",
        "7 s",
        "59 s",
        "1 min 0 s",  # rounded first: never "60 s" or "1 min 60 s"
        "1 min 0 s",
        "12 min 3 s",
        "1 h 0 min",
        "1 h 2 min",
        "25 h 1 min",
        "-5 s",
    ]


def test_duration_hms() -> None:
    values = (0, 59.6, 3600 + 41 * 60 + 7, 86400 + 5, 3 * 86400 + 3599, -4)
    assert [tf.duration_hms(s) for s in values] == [
        "00:00:00",
        "00:00:59",  # whole seconds gone by
        "01:41:07",
        "1d 00:00:05",
        "3d 00:59:59",
        "00:00:00",
    ]


def test_duration_compact() -> None:
    values = (None, 0, 59.6, 60, 41 * 60, 3900, 86399, 3 * 86400 + 4 * 3600, -3)
    assert [tf.duration_compact(s) for s in values] == [
        "",
        "0s",
        "59s",
        "1m",
        "41m",
        "1h05",
        "23h59",
        "3d4h",
        "0s",
    ]


def test_duration_short() -> None:
    values = (0, 0.3, 2.5, 9.96, 45, 119, 120, 3600, 86400)
    assert [tf.duration_short(s) for s in values] == [
        "0 s",
        "0.3 s",
        "2.5 s",
        "10 s",
        "45 s",
        "119 s",
        "2 min",
        "60 min",
        "1440 min",
    ]


def test_minutes_or_hours() -> None:
    values = (0, 90, 1800, 3600, 5400, 7200, 9000, 86400)
    assert [tf.minutes_or_hours(s) for s in values] == [
        "0 min",
        "1.5 min",
        "30 min",
        "60 min",
        "90 min",
        "2 h",
        "150 min",
        "24 h",
    ]


def test_age_expiry_and_milliseconds() -> None:
    assert [tf.age(s) for s in (-1, 0, 0.21, 9.96, 14, 180, 7300, 90000)] == [
        "0.0s",
        "0.0s",
        "0.2s",
        "10.0s",
        "14s",
        "3m",
        "2h",
        "25h",
    ]
    assert [tf.expiry(s) for s in (-1, 0, 59.6, 90, 3120, 90000)] == [
        "expired",
        "expired",
        "59s",
        "90s",
        "52m",
        "1500m",
    ]
    assert [tf.milliseconds(s) for s in (0, 0.0004, 0.00996, 0.038, 1.5)] == [
        "0.0 ms",
        "0.4 ms",
        "10.0 ms",
        "38 ms",
        "1500 ms",
    ]


def test_lag_words() -> None:
    values = (0, 2.5, 59.6, 75, 7200, 7200 + 59 * 60, 3 * 86400 + 4 * 3600, -7200)
    assert [tf.lag_words(s) for s in values] == [
        "0.0 s",
        "2.5 s",
        "59.6 s",
        "1m 15s",
        "2h 0m",
        "2h 59m",
        "3d 4h",
        "-2h 0m",
    ]


def test_lag_cell_fits_its_column() -> None:
    assert [tf.lag_cell(s, 6) for s in (None, 0, 0.04, 12.4, 59.6, 720, 7260, 86399)] == [
        "",
        "0.0s",
        "0.0s",
        "12s",
        "60s",
        "12m",
        "2h 1m",
        "23h59m",
    ]
    assert [tf.lag_cell(s, 6) for s in (90000, -0.3, -86000, 10**7)] == [
        "1d 1h",
        "-0.3s",
        "-23h",
        "115d",
    ]
    assert tf.lag_cell(-86000, 7) == "-23h53m"  # a wider column keeps both units
    assert all(len(tf.lag_cell(s, 6)) <= 6 for s in range(-(10**6), 10**6, 997))
