"""Builders for Zoom meeting events, sent through the real parse path (message_frame -> parse_frame).

Used by the filter and meeting-tracker tests.  Times are ISO 8601 'Z' strings like Zoom's;
`at(s)` turns seconds after T0 into one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

#: 2024-01-24 19:10:56 UTC, a fixed clock for tests.
T0 = 1_706_123_456.0
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "zoom-samples" / "webhooks"
SAMPLES_MISSING = (
    f"{SAMPLES} not present (it is in the team's shared folder, not in a user's clone)"
)

UUID = "gm8s9L+PTEC+FG3sFbd1Cw=="
MID = 85746352415


def at(seconds: float) -> str:
    """Seconds after T0 as a Zoom time string ('2024-01-24T19:10:56Z')."""
    t = dt.datetime.fromtimestamp(T0 + seconds, tz=dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ms(seconds: float) -> int:
    return int((T0 + seconds) * 1000)


def parse(body: dict[str, Any] | str, received: float | None = None) -> ZoomEvent:
    """One event through the real parser; `received` defaults to its event_ts."""
    if received is None:
        ts = body.get("event_ts") if isinstance(body, dict) else None
        received = ts / 1000 if isinstance(ts, int) else T0
    ev = parse_frame(message_frame(body), received)
    assert isinstance(ev, ZoomEvent), ev
    return ev


def meeting_object(
    *,
    uuid: str = UUID,
    mid: int | str = MID,
    topic: str | None = "Weekly sync",
    host_id: str = "host-1",
    mtype: int = 2,
    **extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": mid, "uuid": uuid, "host_id": host_id, "type": mtype}
    if topic is not None:
        obj["topic"] = topic
    obj.update(extra)
    return obj


def started(
    t: float = 0.0, *, kind: str = "meeting", ts: float | None = None, **kw: Any
) -> ZoomEvent:
    obj = meeting_object(start_time=at(t), duration=60, **kw)
    return parse(
        {
            "event": f"{kind}.started",
            "event_ts": ms(t if ts is None else ts),
            "payload": {"account_id": "AcCt1", "object": obj},
        }
    )


def ended(
    t: float, *, kind: str = "meeting", start: float = 0.0, ts: float | None = None, **kw: Any
) -> ZoomEvent:
    obj = meeting_object(start_time=at(start), end_time=at(t), duration=60, **kw)
    return parse(
        {
            "event": f"{kind}.ended",
            "event_ts": ms(t if ts is None else ts),
            "payload": {"account_id": "AcCt1", "object": obj},
        }
    )


def person(who: str, **extra: Any) -> dict[str, Any]:
    """A participant dict for `who` ('ana' -> Ana, PU-ana, ana@example.com)."""
    p: dict[str, Any] = {
        "user_id": f"1677{sum(map(ord, who)) % 10000:04d}",
        "user_name": who.capitalize(),
        "id": f"id-{who}",
        "participant_uuid": f"PU-{who}",
        "email": f"{who}@example.com",
    }
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def participant_event(
    name: str,
    who: str | dict[str, Any],
    t: float,
    *,
    kind: str = "meeting",
    ts: float | None = None,
    time_field: str | None = None,
    reason: str | None = None,
    **obj_kw: Any,
) -> ZoomEvent:
    """A `<kind>.<name>` event for one participant at `t` seconds after T0."""
    part = dict(person(who) if isinstance(who, str) else who)
    field = time_field or {"participant_joined": "join_time", "participant_left": "leave_time"}.get(
        name, "date_time"
    )
    part[field] = at(t)
    if reason is not None:
        part["leave_reason"] = reason
    obj = meeting_object(**obj_kw)
    obj["participant"] = part
    return parse(
        {
            "event": f"{kind}.{name}",
            "event_ts": ms(t if ts is None else ts),
            "payload": {"account_id": "AcCt1", "object": obj},
        }
    )


def joined(who: str | dict[str, Any], t: float, **kw: Any) -> ZoomEvent:
    return participant_event("participant_joined", who, t, **kw)


def left(
    who: str | dict[str, Any], t: float, *, reason: str | None = "left the meeting", **kw: Any
) -> ZoomEvent:
    return participant_event("participant_left", who, t, reason=reason, **kw)
