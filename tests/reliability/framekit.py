"""Hostile but valid frames, written as text (the way Zoom would send them), for the fake
Zoom to play: events nested as deep as a JSON reader goes, integers beyond 64 bits, error
answers whose content nests deep, and text fields holding terminal escape sequences.

Written as text on purpose: orjson reads 1,024 levels but writes only 254, so such frames
cannot be built by serialising Python values.
"""

from __future__ import annotations

import orjson

#: orjson's (and zoomtui's) deepest document
MAX_DEPTH = 1024
#: an integer no 64-bit type holds: a float would print it as 1.2345678901234568e+22
BIG = "12345678901234567890123"
#: what a hostile display name may hold: a window title, a screen clear, a colour, a bidi
#: override, a bell, a backspace, CSI as one C1 byte, and a line break
ESCAPES = "\x1b]0;PWN\x07|\x1b[2J|\x1b[31m|\u202e|\x07|\x08|\x9b31m|\r\n|\u2066"


def nested(levels: int, open_: str = "[", close: str = "]") -> str:
    return open_ * levels + close * levels


def deep_event_text(depth: int = MAX_DEPTH, *, seq: int = 0) -> str:
    """An event object (as text) nested `depth` levels in all, with `BIG` in it: the
    levels past the event, its payload and the object are arrays."""
    inner = nested(depth - 3)
    return (
        '{"event":"meeting.updated","event_ts":1706123456789,"payload":{"account_id":"acc",'
        f'"object":{{"id":{BIG},"uuid":"deep-{seq}==","topic":"Deep {seq}","deep":{inner}}}}}}}'
    )


def message_with_content_string(event_text: str) -> str:
    """A `message` frame as Zoom sends it: the event as a JSON string in `content`."""
    return (
        '{"module":"message","success":true,"content":'
        + orjson.dumps(event_text).decode()
        + ',"header":{}}'
    )


def message_with_content_object(event_text: str) -> str:
    """A `message` frame whose content is the event object itself (some senders)."""
    return '{"module":"message","success":true,"content":' + event_text + ',"header":{}}'


def error_frame(module: str, success: bool | None, content_text: str) -> str:
    """An envelope whose content is `content_text` (JSON text, written as it stands)."""
    ok = "" if success is None else f'"success":{"true" if success else "false"},'
    return f'{{"module":"{module}",{ok}"content":{content_text},"header":{{}}}}'


def escape_event(seq: int = 0, escapes: str = ESCAPES) -> dict:
    """A participant_joined whose every text field holds `escapes`."""
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1706123456789 + seq,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": f"8574635{seq}",
                "uuid": f"uuid{escapes}{seq}",
                "topic": f"Topic {escapes}",
                "participant": {
                    "user_id": f"u{seq}",
                    "user_name": f"Mallory {escapes}",
                    "email": f"m{escapes}@example.com",
                },
            },
        },
    }
