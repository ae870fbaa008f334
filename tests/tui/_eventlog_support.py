"""Shared helpers for the event-log tests: real frames through the real parser."""

from __future__ import annotations

from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, message_frame, parse_frame

T0 = 1_706_123_456.0  # a fixed receive clock: 2024-01-24 19:10:56 UTC


def make_event(
    i: int,
    name: str = "meeting.participant_joined",
    *,
    meeting: int = 0,
    user: str | None = None,
    lag: float = 0.2,
    topic: str | None = None,
) -> ZoomEvent:
    """Event number i, received at T0 + i/10 s, stamped `lag` seconds earlier."""
    received = T0 + i / 10
    body = {
        "event": name,
        "event_ts": int((received - lag) * 1000),
        "payload": {
            "account_id": "AcCt1",
            "object": {
                "id": 85746352400 + meeting,
                "uuid": f"mtg-{meeting}==",
                "topic": topic if topic is not None else f"Topic {meeting}",
                "participant": {
                    "user_name": user if user is not None else f"User {i}",
                    "id": f"pid-{user or i}",
                    "email": f"{(user or f'user{i}').lower().replace(' ', '.')}@example.com",
                },
            },
        },
    }
    ev = parse_frame(message_frame(body), received)
    assert isinstance(ev, ZoomEvent)
    return ev


def make_malformed(i: int, text: str = "{not json") -> MalformedFrame:
    mf = parse_frame(text, T0 + i / 10)
    assert isinstance(mf, MalformedFrame)
    return mf


class SubstringFilter:
    """A tiny stand-in for `filters.compile_filter` results in model tests."""

    def __init__(self, needle: str) -> None:
        self.needle = needle.lower()

    def matches(self, row: object) -> bool:
        text = getattr(row, "search_text", None)
        return text is not None and self.needle in text
