"""An update as a hub message, and a hub message as the update again.

An event is published as the frame's bytes exactly as Zoom sent them, its receive time in a
header: a viewer rebuilds it with `parse_frame`, as the archive does, so an event seen
through the hub is the event the collector received.  What the collector says about its
link (states, gaps, heartbeats) and what it could not understand (malformed frames,
notices) is a small JSON object on the subscription's own subjects (`subjects`).

Nothing secret is in any of them: a frame is Zoom's event (the access token travels in the
WebSocket URL, never in a frame), a state's reason is scrubbed by `redact()`, and a
`TokenInfo` (the token's expiry and scopes) is not published at all.

Decoding never raises: a message a viewer does not understand (another program published
to the stream, a newer zoomtui) becomes a `MalformedFrame` saying so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from zoomtui.hub import subjects
from zoomtui.redaction import redact
from zoomtui.zoom.protocol import (
    DEFAULT_MAX_FRAME_BYTES,
    Envelope,
    MalformedFrame,
    ZoomEvent,
    parse_frame,
    parse_text_frame,
)
from zoomtui.zoom.updates import ConnectionState, Gap, Heartbeat, Notice, StateChanged, Update

#: headers: what the message is, and when the collector received it (epoch seconds)
KIND_HEADER = "Zoomtui-Kind"
AT_HEADER = "Zoomtui-At"
MSG_ID_HEADER = "Nats-Msg-Id"
KIND_EVENT = "event"


@dataclass(frozen=True, slots=True)
class HubMessage:
    subject: str
    payload: bytes
    headers: dict[str, str]


def _frame_bytes(event: ZoomEvent) -> bytes:
    raw = event.stored_raw
    return raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")


def _json(kind: str, body: dict[str, Any]) -> bytes:
    return orjson.dumps({"kind": kind, **body})


def encode(prefix: str, update: Update) -> HubMessage | None:
    """The message for `update` of the subscription at `prefix` (None: not published)."""
    if type(update) is ZoomEvent:
        payload = _frame_bytes(update)
        subject = f"{prefix}.{subjects.event_tokens(update.name)}"
        kind, at = KIND_EVENT, update.received_at
    elif type(update) is StateChanged:
        subject, kind, at = f"{prefix}.{subjects.STATE}", "state", update.at
        payload = _json(
            kind,
            {
                "state": update.state.value,
                "previous": update.previous.value,
                "reason": redact(update.reason),
                "hint": redact(update.hint),
                "retry_in": update.retry_in,
                "attempt": update.attempt,
                "at": update.at,
                "gap_since": update.gap_since,
            },
        )
    elif type(update) is Gap:
        subject, kind, at = f"{prefix}.{subjects.GAP}", "gap", update.end
        body = {"start": update.start, "end": update.end, "reason": redact(update.reason)}
        payload = _json(kind, body)
    elif type(update) is Heartbeat:
        subject, kind, at = f"{prefix}.{subjects.HEARTBEAT}", "heartbeat", update.at
        payload = _json(kind, {"rtt": update.rtt, "at": update.at})
    elif type(update) is MalformedFrame:
        subject, kind, at = f"{prefix}.{subjects.MALFORMED}", "malformed", update.received_at
        raw = base64.b64encode(update.raw).decode()
        payload = _json(kind, {"reason": update.reason, "raw": raw, "at": at})
    elif type(update) is Notice:
        subject, kind, at = f"{prefix}.{subjects.NOTICE}", "notice", update.envelope.received_at
        payload = _json(kind, {"text": redact(update.text), "raw": update.envelope.raw, "at": at})
    else:  # TokenInfo: the token's business, not the team's
        return None
    headers = {
        MSG_ID_HEADER: subjects.message_id(prefix, kind, payload),
        KIND_HEADER: kind,
        AT_HEADER: repr(float(at)),
    }
    return HubMessage(subject, payload, headers)


def _not_understood(payload: bytes, why: str, at: float) -> MalformedFrame:
    return MalformedFrame(raw=payload, reason=f"hub message not understood: {why}", received_at=at)


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def decode(payload: bytes, headers: dict[str, str] | None, published_at: float) -> Update:
    """The update a hub message holds (`published_at`: the server's time of it, used when
    the message says no time of its own)."""
    headers = headers or {}
    kind = headers.get(KIND_HEADER, "")
    at = _number(_float(headers.get(AT_HEADER)), published_at)
    if kind == KIND_EVENT:
        # The frame's UTF-8 bytes as the collector received them; its size limit applied there.
        parsed = parse_text_frame(payload, at, max(len(payload), DEFAULT_MAX_FRAME_BYTES))
        if isinstance(parsed, Envelope):
            return _not_understood(payload, "an event subject holding a non-event frame", at)
        return parsed
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _not_understood(payload, "not JSON", at)
    if not isinstance(body, dict) or body.get("kind") != kind:
        return _not_understood(payload, f"kind {kind[:40]!r} not known", at)
    try:
        return _decode_body(kind, body, at)
    except (KeyError, ValueError, TypeError) as exc:
        return _not_understood(payload, f"{kind} without {exc}", at)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    return value if isinstance(value, str) else ""


def _decode_body(kind: str, body: dict[str, Any], at: float) -> Update:
    if kind == "state":
        retry = body.get("retry_in")
        attempt = body.get("attempt")
        gap_since = body.get("gap_since")
        return StateChanged(
            state=ConnectionState(body["state"]),
            previous=ConnectionState(body["previous"]),
            reason=_text(body, "reason"),
            at=_number(body.get("at"), at),
            hint=_text(body, "hint"),
            retry_in=_number(retry, 0.0) if retry is not None else None,
            attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
            gap_since=_number(gap_since, at) if gap_since is not None else None,
        )
    if kind == "gap":
        return Gap(
            start=_number(body["start"], at),
            end=_number(body["end"], at),
            reason=_text(body, "reason"),
        )
    if kind == "heartbeat":
        return Heartbeat(rtt=_number(body["rtt"], 0.0), at=_number(body.get("at"), at))
    if kind == "malformed":
        raw = base64.b64decode(_text(body, "raw"), validate=True)
        return MalformedFrame(raw=raw, reason=_text(body, "reason"), received_at=at)
    if kind == "notice":
        env = parse_frame(_text(body, "raw"), at)
        if not isinstance(env, Envelope):
            raise ValueError("a frame")
        return Notice(envelope=env, text=_text(body, "text"))
    raise ValueError("a known kind")
