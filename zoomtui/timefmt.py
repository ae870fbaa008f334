"""Every way zoomtui prints a time of day or a length of time, named by what it prints.

One home, so the TUI, `tail`, `doctor`, `status` and the connection's reasons say the same
thing the same way.  Pure functions over floats: no Textual, no zoomtui imports (the
bottom layer).  Local time unless the name says UTC.

Times of day (epoch seconds unless the parameter says milliseconds):

    clock_ms            14:10:56.789
    clock_hm            14:10             (epoch ms; --:-- when unknown)
    clock_hms           14:10:56          (epoch ms; --:--:-- when unknown)
    date_clock          2024-01-24 14:10:56
    date_clock_ms_zone  2024-01-24 14:10:56.789 CET
    utc_clock_ms        19:10:56.789 UTC
    iso_utc_ms          2024-01-24T19:10:56.789Z

Lengths of time (seconds):

    duration_words      45 s · 12 min 3 s · 1 h 5 min     (a gap's length)
    duration_plain      0.4 s · 3 min 12 s · 5 min · 1 d 1 h (a rule's window, an alert's)
    duration_hms        00:41:07 · 1d 00:00:05            (time in the link's state)
    duration_compact    12s · 41m · 1h05 · 3d4h           (a meeting's or a stay's length)
    duration_short      0.3 s · 45 s · 2 min              (waits, timeouts, a token's life)
    minutes_or_hours    30 min · 60 min · 2 h             (the history window)
    age                 0.2s · 14s · 3m · 2h              (how long ago, in the panel)
    expiry              expired · 90s · 52m               (the token, in the panel)
    milliseconds        0.4 ms · 38 ms                    (a round trip)
    lag_words           2.5 s · 12m 5s · 2h 0m · 3d 4h    (an event's lag, in words)
    lag_cell            0.2s · 12m · 2h 0m · 3d4h         (the same in a column of `width`)
"""

from __future__ import annotations

import datetime as dt
import time

# -- times of day -----------------------------------------------------------------------


def clock_ms(epoch: float) -> str:
    """`14:10:56.789` in local time."""
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}"


def _local_or_dashes(epoch_ms: int | None, fmt: str) -> str:
    """`epoch_ms` in local time as `fmt`; dashes in its shape when unknown or out of range."""
    if epoch_ms is not None:
        try:
            return time.strftime(fmt, time.localtime(epoch_ms / 1000))
        except (OverflowError, OSError, ValueError):
            pass
    return "--:--:--" if "%S" in fmt else "--:--"


def clock_hm(epoch_ms: int | None) -> str:
    """`14:10` in local time (`--:--` when unknown)."""
    return _local_or_dashes(epoch_ms, "%H:%M")


def clock_hms(epoch_ms: int | None) -> str:
    """`14:10:56` in local time (`--:--:--` when unknown)."""
    return _local_or_dashes(epoch_ms, "%H:%M:%S")


def date_clock(epoch: float) -> str:
    """`2024-01-24 14:10:56` in local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def date_clock_ms_zone(epoch: float) -> str:
    """`2024-01-24 14:10:56.789 CET`: local date and time with milliseconds, and the zone."""
    d = dt.datetime.fromtimestamp(epoch).astimezone()
    return f"{d:%Y-%m-%d %H:%M:%S}.{d.microsecond // 1000:03d} {d:%Z}"


def utc_clock_ms(epoch: float) -> str:
    """`19:10:56.789 UTC`."""
    d = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return f"{d:%H:%M:%S}.{d.microsecond // 1000:03d} UTC"


def iso_utc_ms(epoch: float) -> str:
    """`2024-01-24T19:10:56.789Z` (the export line format's time)."""
    d = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


# -- lengths of time --------------------------------------------------------------------


def duration_words(seconds: float) -> str:
    """`45 s`, `12 min 3 s`, `1 h 5 min` (rounded to the second first: 59.6 s is `1 min 0 s`)."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def duration_plain(seconds: float) -> str:
    """`192` -> "3 min 12 s", `300` -> "5 min" (zero parts left out: a rule's cooldown, an
    alert's length), `7260` -> "2 h 1 min", `90000` -> "1 d 1 h", `0.4` -> "0.4 s"."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def duration_hms(seconds: float) -> str:
    """`00:41:07`, with days when long (`1d 00:00:05`); never negative."""
    s = max(0, int(seconds))
    days, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{days}d {text}" if days else text


def duration_compact(seconds: float | None) -> str:
    """`12s`, `41m`, `1h05`, `3d4h` (`` when unknown; never negative)."""
    if seconds is None:
        return ""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}"
    return f"{s // 86400}d{s % 86400 // 3600}h"


def duration_short(seconds: float) -> str:
    """`0.3 s`, `45 s`, `2 min`: short and human (whole minutes from two minutes on)."""
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    if seconds >= 10 or float(seconds).is_integer():
        return f"{seconds:.0f} s"
    return f"{seconds:.2g} s"


def minutes_or_hours(seconds: float) -> str:
    """`30 min`, `60 min`, `2 h`: hours only from two whole hours on."""
    if seconds >= 7200 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"


def age(seconds: float) -> str:
    """`0.2s`, `14s`, `3m`, `2h`: how long ago (never negative)."""
    s = max(0.0, seconds)
    if s < 10:
        return f"{s:.1f}s"
    if s < 120:
        return f"{int(s)}s"
    if s < 7200:
        return f"{int(s // 60)}m"
    return f"{int(s // 3600)}h"


def expiry(seconds: float) -> str:
    """`expired`, `90s`, `52m`: what is left of something that runs out."""
    if seconds <= 0:
        return "expired"
    if seconds < 120:
        return f"{int(seconds)}s"
    return f"{int(seconds // 60)}m"


def milliseconds(seconds: float) -> str:
    """`0.4 ms`, `38 ms`."""
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def lag_words(lag: float) -> str:
    """`2.5 s`, `12m 5s`, `2h 0m`, `3d 4h` (negative when Zoom's clock is ahead)."""
    sign = "-" if lag < 0 else ""
    a = abs(lag)
    if a < 60:
        return f"{sign}{a:.1f} s"
    minutes = int(a) // 60
    if minutes < 60:
        return f"{sign}{minutes}m {int(a) % 60}s"
    hours = minutes // 60
    if hours < 24:
        return f"{sign}{hours}h {minutes % 60}m"
    return f"{sign}{hours // 24}d {hours % 24}h"


def lag_cell(lag: float | None, width: int) -> str:
    """A lag that fits a column of `width` cells: `0.2s`, `12s`, `12m`, `2h 0m`, `3d4h`
    (`` when unknown; negative when Zoom's clock is ahead)."""
    if lag is None:
        return ""
    sign = "-" if lag < 0 else ""
    a = abs(lag)
    if a < 10:
        return f"{sign}{a:.1f}s"
    if a < 60:
        return f"{sign}{a:.0f}s"
    if a < 3600:
        return f"{sign}{a // 60:.0f}m"
    hours = int(a) // 3600
    if hours < 24:
        big, small = f"{hours}h", f"{int(a) % 3600 // 60}m"
    else:
        big, small = f"{hours // 24}d", f"{hours % 24}h"
    # Both units where the column has room (an event two hours late is not "2h" from 2h 59m)
    for text in (f"{sign}{big} {small}", f"{sign}{big}{small}"):
        if len(text) <= width:
            return text
    return sign + big
