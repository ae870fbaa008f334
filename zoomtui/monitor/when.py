"""Times typed by a person: ``30m``, ``2h``, ``1d``, ``14:05``, ISO 8601.

One parser for every ``--since`` / ``--until`` (replay, export, tail) so the
same words mean the same moment everywhere.  Pure: the caller passes `now`.
"""

from __future__ import annotations

import datetime as _dt
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)"
_DURATION = re.compile(rf"(?:{_PART}\s*)+(?:ago)?", re.IGNORECASE)
_PARTS = re.compile(_PART, re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")

HELP = (
    "a duration back from now (30m, 2h, 1d, 1h30m), a clock time within the last day "
    "(14:05), an ISO 8601 date or time (2024-05-01, 2024-05-01T14:05:00Z), or epoch seconds"
)


class WhenError(ValueError):
    """The text is not a time this parser understands; the message says what would be."""


def parse_duration(text: str) -> float | None:
    """``1h30m`` -> 5400.0; None when the text is not a duration."""
    t = text.strip()
    if not _DURATION.fullmatch(t):
        return None
    return sum(float(n) * _UNITS[u.lower()] for n, u in _PARTS.findall(t))


def parse_when(text: str, now: float, tz: _dt.tzinfo | None = None) -> float:
    """The epoch seconds `text` means, relative to `now` (epoch seconds).

    Times without a zone (``14:05``, ``2024-05-01T14:05``) are in `tz`, by
    default the machine's local zone: that is what a person at the terminal
    means.  A clock time later than now means that time yesterday
    (``--since 23:00`` typed at 01:00).  Raises `WhenError`.
    """
    t = (text or "").strip()
    if not t:
        raise WhenError(f"An empty time: use {HELP}.")
    if t.lower() == "now":
        return float(now)
    seconds = parse_duration(t)
    if seconds is not None:
        return float(now) - seconds
    if t.isdigit():
        value = int(t)
        # 13 digits is what Zoom's event_ts looks like (milliseconds): accept it pasted.
        return value / 1000.0 if value >= 100_000_000_000 else float(value)
    local_now = (
        _dt.datetime.fromtimestamp(now, tz=tz)
        if tz
        else _dt.datetime.fromtimestamp(now).astimezone()
    )
    m = _CLOCK.fullmatch(t)
    if m:
        hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        micro = int((m.group(4) or "0").ljust(6, "0"))
        if hh > 23 or mm > 59 or ss > 59:
            raise WhenError(f"{text!r} is not a clock time (hours 0-23, minutes and seconds 0-59).")
        moment = local_now.replace(hour=hh, minute=mm, second=ss, microsecond=micro)
        if moment > local_now:
            moment -= _dt.timedelta(days=1)
        return moment.timestamp()
    try:
        moment = _dt.datetime.fromisoformat(t)
    except ValueError:
        raise WhenError(f"{text!r} is not a time: use {HELP}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_now.tzinfo)
    return moment.timestamp()


def as_epoch(value: float | int | str | _dt.datetime | None, now: float) -> float | None:
    """Accept what an API caller may pass as a time: epoch seconds, a datetime
    (naive = local time), text for `parse_when`, or None (no bound)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise WhenError("A boolean is not a time.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        return value.timestamp()  # naive datetimes are local time, as in parse_when
    if isinstance(value, str):
        return parse_when(value, now)
    raise WhenError(f"A {type(value).__name__} is not a time.")
