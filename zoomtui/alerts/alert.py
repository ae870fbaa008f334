"""One alert as it is sent: what fired, when, how many times, and what it is about.

An alert has an id for its whole life: the notification when its condition starts
("firing") and the one when it clears ("cleared") share it, so a list shows one alert
whose count grew, not a line per occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import orjson

from zoomtui.monitor.lines import json_line
from zoomtui.timefmt import iso_utc_ms
from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import ZoomEvent

AlertState = Literal["firing", "cleared", "test"]
#: the longest message an alert carries (a name or a topic from Zoom can be any length)
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True, slots=True)
class Alert:
    #: the same for the firing and the clearing notification of one alert
    id: int
    rule: str
    #: the rule's condition kind (`zoomtui.alerts.rules.CONDITION_KEYS`)
    condition: str
    state: AlertState
    #: one line for a person: visible characters only, bounded
    message: str
    #: when this notification was made (epoch seconds)
    at: float
    #: when the condition started
    since: float
    #: occurrences grouped in this alert (events matched, gaps, ...)
    count: int = 1
    #: the (first) event it is about, if any: the TUI opens it, actions get its JSON
    event: ZoomEvent | None = None
    #: the gap it is about (start, end), if any
    gap: tuple[float, float] | None = None
    #: send it to the rule's actions (False: recorded and shown in the TUI only, e.g. the
    #: quiet end of an alert that grouped one event, or a fire held back by the cooldown)
    notify: bool = True

    @property
    def title(self) -> str:
        word = {"firing": "ALERT", "cleared": "cleared", "test": "test alert"}[self.state]
        return f"zoomtui {word}: {self.rule}"

    def text(self) -> str:
        """The one line a chat message or a toast shows."""
        return f"{self.title}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "rule": self.rule,
            "condition": self.condition,
            "state": self.state,
            "message": self.message,
            "at": iso_utc_ms(self.at),
            "since": iso_utc_ms(self.since),
            "count": self.count,
            "gap": None
            if self.gap is None
            else {
                "start": iso_utc_ms(self.gap[0]),
                "end": iso_utc_ms(self.gap[1]),
                "seconds": round(max(0.0, self.gap[1] - self.gap[0]), 3),
            },
        }

    def to_json(self) -> bytes:
        """`{"alert": {...}, "event": <the event as Zoom sent it, plus _received_at>}`:
        what a command reads on stdin and a POST carries.  The event is cut from the
        frame's own bytes, never re-encoded (`json_line`)."""
        event = b"null" if self.event is None else _event_json(self.event)
        return b'{"alert":' + orjson.dumps(self.as_dict()) + b',"event":' + event + b"}"

    def slack_json(self) -> bytes:
        return orjson.dumps({"text": self.text()})


def _event_json(event: ZoomEvent) -> bytes:
    try:
        return json_line(event).rstrip(b"\n")
    except Exception:  # noqa: BLE001 - an event that cannot be cut: say so, send the alert
        return b'{"_unreadable": true}'


def one_line(text: str) -> str:
    """Text from Zoom or a server, safe in a notification: visible, one line, bounded."""
    shown = visible_text(text)
    return shown if len(shown) <= MAX_MESSAGE_CHARS else shown[: MAX_MESSAGE_CHARS - 1] + "…"
