"""One event as one line of text: the formats `tail`, `export` and the TUI's export share.

- `json_line`: the event object exactly as Zoom sent it, plus ``_received_at`` (ISO 8601,
  UTC, milliseconds): `tail --json`, `export` (JSON lines) and the TUI's `e`, so a script
  reads live and archived events alike.  It is cut from the frame's own bytes
  (`zoomtui.zoom.rawjson.event_text`), never parsed and written again: an event nested
  1,024 deep or holding an integer beyond 64 bits comes out as it came in;
- `human_line`: `tail`'s default line (local time, event, where, who, lag);
- `csv_row`: one flat row per event for spreadsheets (`export --format csv`).

Zoom's data is hostile: a human line shows control characters as symbols (one line, no
escape sequence reaches the terminal), and CSV cells that would start a formula get a
leading ``'``.
"""

from __future__ import annotations

import orjson

from zoomtui.timefmt import clock_ms, iso_utc_ms, lag_words
from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.rawjson import event_text, with_member

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


def json_line(event: ZoomEvent) -> bytes:
    """The event object as Zoom sent it, plus `_received_at`, as one line of JSON."""
    received = b'"' + iso_utc_ms(event.received_at).encode() + b'"'
    try:
        text = event_text(event.stored_raw)
    except Exception:  # a hand-made event whose frame is not Zoom's shape: its parsed body
        text = orjson.dumps(event.body)
    return with_member(text, "_received_at", received) + b"\n"


def human_line(event: ZoomEvent) -> bytes:
    """`14:10:56.789  meeting.participant_joined  Weekly sync  Ana <ana@example.com>`

    An event that is not about a meeting shows its subject where the meeting goes:
    `user.created  Jill Chill <jchill@example.com>`."""
    parts = [clock_ms(event.received_at), event.name]
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
        parts.append(f"(lag {lag_words(lag)})")
    # Names from Zoom are data: on one line, and no escape sequence reaches the terminal.
    line = visible_text("  ".join(parts))
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
