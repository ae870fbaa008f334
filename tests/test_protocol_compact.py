"""A released event keeps a frame that is not plain ASCII as UTF-8, and gives it back whole.

Python stores text with one non-ASCII character at 2 or 4 bytes per character, so the
event log's 100,000 retained frames took almost twice their size; `ZoomEvent.release()`
keeps them as UTF-8 bytes and `raw` decodes on demand.  Nothing a reader sees changes.
"""

from __future__ import annotations

import json

import pytest

from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

NAMES = ["Ana Souza", "Björn Ødegård", "李雷", "Zoë 🎉 party", "[bold]x[/bold]"]


def event_for(name: str) -> ZoomEvent:
    body = {
        "event": "meeting.participant_joined",
        "event_ts": 1,
        "payload": {"object": {"uuid": "u==", "participant": {"user_name": name, "id": "p1"}}},
    }
    ev = parse_frame(message_frame(body), 1.0)
    assert isinstance(ev, ZoomEvent)
    return ev


@pytest.mark.parametrize("name", NAMES)
def test_released_event_gives_back_the_same_frame_and_body(name: str) -> None:
    ev = event_for(name)
    raw, body = ev.raw, ev.body
    ev.release()
    assert type(ev._raw) is (str if raw.isascii() else bytes)
    assert ev.raw == raw and type(ev.raw) is str
    assert ev.body == body and ev.participant_name == name
    assert json.loads(ev.raw)["module"] == "message"
    ev.release()  # again: nothing changes
    assert ev.raw == raw


def test_a_frame_with_an_emoji_takes_its_utf8_size() -> None:
    ev = event_for("Zoë 🎉 party" * 20)
    size_as_text = len(ev.raw) * 4  # one emoji makes the whole string 4 bytes a character
    ev.release()
    assert isinstance(ev._raw, bytes) and len(ev._raw) < size_as_text / 3
