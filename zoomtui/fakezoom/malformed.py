"""Frames a parser must reject, one per kind: the fake sends them on request
(`FakeZoom.send_malformed`), and the tests and the soak loop over `MALFORMED_KINDS`."""

from __future__ import annotations

from zoomtui.fakezoom.connection import TextBytes

MALFORMED_KINDS = (
    "not_json",
    "binary",
    "no_module",
    "bad_content",
    "oversize",
    "no_event",
    "not_utf8",
)


def malformed_frame(kind: str, size: int | None = None) -> str | bytes:
    """A frame a parser must reject, one per kind in MALFORMED_KINDS.

    "oversize" is a well-formed `message` frame larger than `size` bytes (default: 1 MiB
    plus 1 KiB, just over zoomtui's default limit and websockets' default max_size)."""
    from zoomtui.zoom.protocol import DEFAULT_MAX_FRAME_BYTES, envelope_frame, message_frame

    if kind == "not_json":
        return '{"module":"message","success":true,"content":'  # cut off mid-frame
    if kind == "binary":
        return b"\x00\x01binary\xff\xfe"
    if kind == "no_module":
        return envelope_frame("x", True, "live").replace('"module":"x",', "")
    if kind == "bad_content":
        return message_frame('{"event":"meeting.started","event_ts":17')  # content is cut-off JSON
    if kind == "no_event":
        return message_frame({"event_ts": 1706123456789, "payload": {"object": {}}})
    if kind == "oversize":
        target = size if size is not None else DEFAULT_MAX_FRAME_BYTES + 1024
        meeting: dict[str, object] = {"id": 1, "agenda": ""}
        event = {
            "event": "meeting.updated",
            "event_ts": 1706123456789,
            "payload": {"object": meeting},
        }
        filler = target - len(message_frame(event)) + 1
        meeting["agenda"] = "x" * max(filler, 0)
        return message_frame(event)
    if kind == "not_utf8":  # a text frame in Latin-1: "Björn" with ö as the single byte F6
        event = {
            "event": "meeting.participant_joined",
            "event_ts": 1706123456789,
            "payload": {"object": {"id": 1, "participant": {"user_name": "Björn"}}},
        }
        return TextBytes(message_frame(event).encode().replace("ö".encode(), b"\xf6"))
    raise ValueError(
        f"unknown malformed kind {kind!r}; expected one of {', '.join(MALFORMED_KINDS)}"
    )
