"""One event as one line of text: the formats `tail`, `export` and the TUI's export share.

- `json_line`: the event object exactly as Zoom sent it, plus ``_received_at`` (ISO 8601,
  UTC, milliseconds): `tail --json`, `export` (JSON lines) and the TUI's `e`, so a script
  reads live and archived events alike;
- `human_line`: `tail`'s default line (local time, event, where, who, lag);
- `csv_row`: one flat row per event for spreadsheets (`export --format csv`).

Zoom's data is hostile: names stay on one line, and CSV cells that would start a formula
get a leading ``'``.
"""

from __future__ import annotations

import datetime as dt
import time

import orjson

from zoomtui.zoom.protocol import ZoomEvent

CSV_COLUMNS = (
    "received_at",
    "event_ts",
    "event",
    "meeting_id",
    "meeting_uuid",
    "topic",
    "participant",
    "email",
    "lag_ms",
)


def iso_utc_ms(ts: float) -> str:
    """`2024-01-24T19:10:56.789Z`"""
    d = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def local_hms_ms(ts: float) -> str:
    """`14:10:56.789` in local time."""
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


def json_line(event: ZoomEvent) -> bytes:
    """The event object as Zoom sent it, plus `_received_at`, as one line of JSON."""
    body = orjson.dumps(event.body)  # key order is kept; the body is always a non-empty object
    return body[:-1] + b',"_received_at":"' + iso_utc_ms(event.received_at).encode() + b'"}\n'


def lag_text(lag: float) -> str:
    """A lag in words that read at a glance: `2.5 s`, `12m 5s`, `2h 0m`, `3d 4h`."""
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


def human_line(event: ZoomEvent) -> bytes:
    """`14:10:56.789  meeting.participant_joined  Weekly sync  Ana <ana@example.com>`

    An event that is not about a meeting shows its subject where the meeting goes:
    `user.created  Jill Chill <jchill@example.com>`."""
    parts = [local_hms_ms(event.received_at), event.name]
    where = event.topic or event.subject or event.meeting_id or event.meeting_uuid
    if where:
        parts.append(where)
    who = event.participant_name or ""
    if event.participant_email:
        who = f"{who} <{event.participant_email}>" if who else event.participant_email
    if who:
        parts.append(who)
    lag = event.lag
    if lag is not None and lag >= 2:
        parts.append(f"(lag {lag_text(lag)})")
    # Names from Zoom are data: keep them on one line whatever they contain.
    line = "  ".join(parts).replace("\n", " ").replace("\r", " ")
    return line.encode("utf-8", errors="replace") + b"\n"


def _cell(text: str | None) -> str:
    # Every text cell comes from Zoom's data: names and topics are typed by participants,
    # and ids are no safer (a meeting uuid is base64 and may start with + or -).  A leading
    # = + - @ would make a spreadsheet run it as a formula (CSV injection): such a cell
    # starts with ' instead.
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text


def csv_row(event: ZoomEvent) -> tuple[str, ...]:
    """The event's cells, in `CSV_COLUMNS` order."""
    lag = event.lag
    return (
        iso_utc_ms(event.received_at),
        iso_utc_ms(event.event_ts_ms / 1000) if event.event_ts_ms is not None else "",
        _cell(event.name),
        _cell(event.meeting_id),
        _cell(event.meeting_uuid),
        _cell(event.topic),
        _cell(event.participant_name),
        _cell(event.participant_email),
        str(round(lag * 1000)) if lag is not None else "",
    )
