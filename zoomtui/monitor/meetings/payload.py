"""Reading what the tracker needs out of Zoom's payload: ids, times and leave reasons.

Zoom's data is hostile (any type in any field), so every reader here takes `Any` and
answers a clean value or None; none of them raises.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from typing import Any

from zoomtui.zoom.protocol import ZoomEvent

__all__ = [
    "clean_leave_reason",
    "datetime_of_ms",
    "event_ts_of",
    "iso_ms",
    "object_of",
    "payload_of",
    "zoom_id",
]


# -- leave reasons --------------------------------------------------------------------------

# (a space before the colon too: real captures have "left the meeting. Reason : ...")
_REASON_HEAD = re.compile(r"^.*?\breason\s*:\s*", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def clean_leave_reason(text: Any) -> str:
    """Zoom's 'Jill left the meeting.<br>Reason: Host ended the meeting.', or 'left the
    meeting. Reason : Host ended the meeting.' -> 'Host ended the meeting.'"""
    if not isinstance(text, str):
        return "left"
    return _cleaned(text)


@functools.lru_cache(maxsize=1024)
def _cleaned(text: str) -> str:
    # Cached: the same few reasons (per person) come with every leave; one string each.
    if not text.strip():
        return "left"
    out = _TAGS.sub(" ", _REASON_HEAD.sub("", text, count=1))
    return " ".join(out.split()) or "left"


# -- ids ------------------------------------------------------------------------------------


def zoom_id(v: Any) -> str | None:
    """An id as Zoom sends it (string or number) normalised to a non-empty str."""
    if isinstance(v, str):
        return v or None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None


# -- times ----------------------------------------------------------------------------------


def iso_ms(v: Any) -> int | None:
    """ISO 8601 time (Zoom: '2021-07-13T21:44:51Z') -> epoch ms; None when absent or bad."""
    if not isinstance(v, str) or not v:
        return None
    return _iso_ms(v)


@functools.lru_cache(maxsize=4096)
def _iso_ms(v: str) -> int | None:
    # Cached: a meeting's start_time comes with each of its events, and at a few thousand
    # events a second many share their join or leave second.
    try:
        t = _dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)  # Zoom's times are UTC
    try:
        return int(t.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return None


def datetime_of_ms(ms: int | None) -> _dt.datetime | None:
    """Epoch ms -> an aware UTC datetime; None for None or a time out of range."""
    if ms is None:
        return None
    try:
        return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def event_ts_of(event: ZoomEvent) -> int:
    """The event's own stamp in ms, else the time it was received."""
    ts = event.event_ts_ms
    return ts if ts is not None else int(event.received_at * 1000)


# -- the payload ----------------------------------------------------------------------------


def payload_of(event: ZoomEvent) -> dict[str, Any]:
    try:
        return event.payload
    except Exception:  # a hand-built event whose raw frame cannot be parsed: nothing to read
        return {}


def object_of(event: ZoomEvent) -> dict[str, Any]:
    """The payload's ``object`` (the meeting, with its ``participant``), else {}."""
    try:
        body = event.body
    except Exception:  # a hand-built event whose raw frame cannot be parsed: nothing to read
        return {}
    payload = body.get("payload")
    if payload.__class__ is not dict and not isinstance(payload, dict):
        return {}
    obj = payload.get("object")
    return obj if obj.__class__ is dict or isinstance(obj, dict) else {}
