"""What the connection does with a frame that is not an event, and the counters it keeps.

Events go straight from the receive loop to the consumer; everything else comes here
(`OtherFrames.take`): a malformed frame is reported, a heartbeat answer that says
`success: true` becomes a round-trip time (any other is a notice, and the heartbeat stays
unanswered: the link is not healthy on Zoom's word), an invalid-token frame interrupts
the link (a new token, then a new link), and any other envelope becomes a `Notice`.
Frames that come before build_connection go through `OtherFrames.take_early`, events
included.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoomtui.redaction import redact
from zoomtui.zoom.keepers import Heartbeats, Interrupt
from zoomtui.zoom.protocol import (
    KIND_BUILD_CONNECTION,
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    Envelope,
    MalformedFrame,
    Parsed,
    ZoomEvent,
)
from zoomtui.zoom.updates import Heartbeat, Notice, Update


@dataclass(slots=True)
class ConnectionStats:
    """Counters for status bars and benchmarks. Mutated in place by the connection."""

    events: int = 0
    malformed: int = 0
    notices: int = 0
    heartbeats: int = 0
    attempts: int = 0  # connection attempts started
    connects: int = 0  # times CONNECTED was reached
    reconnects: int = 0  # connects after the first
    gaps: int = 0
    last_event_at: float | None = None
    last_heartbeat: Heartbeat | None = None
    connected_since: float | None = None
    token_expires_at: float | None = None
    last_reason: str = ""

    @property
    def last_rtt(self) -> float | None:
        hb = self.last_heartbeat
        return hb.rtt if hb is not None else None


class OtherFrames:
    """Frames other than events, counted in `stats`."""

    __slots__ = ("heartbeats", "interrupt", "stats")

    def __init__(
        self, stats: ConnectionStats, heartbeats: Heartbeats, interrupt: Interrupt
    ) -> None:
        self.stats = stats
        self.heartbeats = heartbeats
        self.interrupt = interrupt

    def take_early(self, item: Parsed, now: float) -> Update | None:
        """A frame that came before build_connection: counted as the receive loop would."""
        if isinstance(item, ZoomEvent):
            self.stats.events += 1
            self.stats.last_event_at = now
            return item
        return self.take(item, now)

    def take(self, item: Parsed, now: float) -> Update | None:
        """What to hand out for a frame that is not an event (None: nothing)."""
        st = self.stats
        if isinstance(item, MalformedFrame):
            st.malformed += 1
            return item
        if not isinstance(item, Envelope):  # pragma: no cover - events never get here
            return item
        kind = item.kind
        if kind == KIND_HEARTBEAT and item.success is True:
            hb = self.heartbeats.answered(now)
            if hb is not None:
                st.heartbeats += 1
                st.last_heartbeat = hb
            return hb
        if kind == KIND_INVALID_TOKEN:
            self.interrupt(
                f'Zoom says the access token is invalid ("{item.content_preview}"); getting a new one',
                refresh_token=True,
                invalid_token=True,
            )
            return None
        st.notices += 1
        if kind == KIND_HEARTBEAT:  # an answer that does not say the link is healthy
            said = "an error" if item.success is False else "an answer without success"
            text = (
                f'Zoom answered the heartbeat with {said} ("{item.content_preview}"); '
                "the link is not counted as healthy"
            )
        elif kind == KIND_BUILD_CONNECTION:
            text = f"build_connection again ({item.content_preview})"
        elif item.success is False:
            text = f"Zoom reported an error in module {item.module[:40]!r}: {item.content_preview}"
        else:
            text = f"unknown module {item.module[:40]!r}"
        return Notice(envelope=item, text=redact(text))
