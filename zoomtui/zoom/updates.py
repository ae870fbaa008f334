"""The typed values the connection reports. Front ends (TUI, tail, archive) consume these.

The connection's public loop yields a stream of `Update` values:

- `StateChanged`  every state transition, with a human reason;
- `ZoomEvent`     an event (from `zoomtui.zoom.protocol`);
- `MalformedFrame` a frame that could not be understood (kept, shown);
- `Gap`           a closed disconnected interval: events in it were never delivered;
- `Heartbeat`     a heartbeat answer with its round-trip time;
- `TokenInfo`     a token was obtained (expiry and scopes; never the token itself);
- `Notice`        an unknown module or other frame worth showing, never fatal.

Not from the connection, but in the same stream: `RosterSnapshot` (`zoomtui.zoom.rosters`),
what Zoom's REST API said about live meetings and their rosters (a hydration, or why there
could be none); front ends hand it to the session like any update.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from zoomtui.zoom.protocol import Envelope, MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot


class ConnectionState(enum.StrEnum):
    IDLE = "idle"
    AUTHENTICATING = "authenticating"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    #: another consumer took the subscription: no reconnect until a person connects (or,
    #: with `on_displaced = "retake after ..."`, until `retry_in` has passed)
    DISPLACED = "displaced"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_up(self) -> bool:
        return self is ConnectionState.CONNECTED

    @property
    def is_final(self) -> bool:
        return self in (ConnectionState.STOPPED, ConnectionState.FAILED)


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: ConnectionState
    previous: ConnectionState
    reason: str
    at: float  # epoch seconds (the connection's injectable clock)
    #: a hint for the user when the state needs a person (FAILED, DISPLACED): what to do
    hint: str = ""
    #: seconds until the next attempt, when RECONNECTING, or until the subscription is
    #: taken back, when DISPLACED (None there: not until a person connects)
    retry_in: float | None = None
    #: the connection's attempt counter (1 = first connection)
    attempt: int = 0
    #: while the link is down after having been up: since when events may be lost (the
    #: `Gap` that closes it comes once it is back); None: no gap open
    gap_since: float | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval with no open connection: Zoom does not replay events sent in it."""

    start: float
    end: float
    reason: str

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    rtt: float  # seconds
    at: float


@dataclass(frozen=True, slots=True)
class TokenInfo:
    expires_at: float
    scopes: tuple[str, ...]
    obtained_at: float
    #: the REST API host the token answer named (kept for REST calls), if any
    api_url: str | None = None
    #: shared by another zoomtui process or provider of this profile, not asked of Zoom
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """A well-formed frame that is neither an event nor a heartbeat (unknown module, error)."""

    envelope: Envelope
    text: str


Update = (
    StateChanged
    | ZoomEvent
    | MalformedFrame
    | Gap
    | Heartbeat
    | TokenInfo
    | Notice
    | RosterSnapshot
)
