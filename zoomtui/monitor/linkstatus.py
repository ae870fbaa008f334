"""The health of the link, as a front end shows it (no Textual): `LinkStatus`, the
events-per-second `RateMeter` behind its sparkline, and (`zoomtui.monitor.quality`) the
lag percentiles and the duplicates counted.

The session (`zoomtui.monitor.session.MonitorSession`) keeps one `LinkStatus` up to
date from the updates it applies; the TUI's connection panel renders it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zoomtui.monitor.quality import LagWindow
from zoomtui.redaction import redact
from zoomtui.zoom.keepers import DEAD_AFTER_INTERVALS
from zoomtui.zoom.updates import ConnectionState, Gap, Heartbeat, StateChanged, TokenInfo

if TYPE_CHECKING:
    from zoomtui.monitor.archive.searchindex import IndexBuild

#: seconds of history behind the events/s sparkline
RATE_WINDOW = 60
#: the events/s figure is the mean over this many seconds (smooths Zoom's bursts)
RATE_SMOOTHING = 5
#: states from which a person's connect starts a connection (the others are on the way up)
CONNECTABLE = frozenset(
    {
        ConnectionState.IDLE,
        ConnectionState.STOPPED,
        ConnectionState.FAILED,
        ConnectionState.DISPLACED,
    }
)
#: what to ask before connecting while DISPLACED: connecting takes the subscription back
RETAKE_QUESTION = (
    "Another consumer is using this subscription (Zoom allows one connection per "
    "subscription), probably your production integration. Connecting takes the "
    "subscription back and disconnects that consumer. Connect anyway?"
)


class RateMeter:
    """Events per second in whole-second buckets over the last `window` seconds."""

    def __init__(self, window: int = RATE_WINDOW) -> None:
        self.window = window
        self._buckets: deque[tuple[int, int]] = deque()  # (second, count), oldest first

    def add(self, count: int, now: float) -> None:
        if count <= 0:
            return
        sec = int(now)
        if self._buckets and self._buckets[-1][0] == sec:
            self._buckets[-1] = (sec, self._buckets[-1][1] + count)
        else:
            self._buckets.append((sec, count))
        self._trim(sec)

    def _trim(self, sec: int) -> None:
        while self._buckets and self._buckets[0][0] <= sec - self.window:
            self._buckets.popleft()

    def series(self, now: float) -> list[float]:
        """One value per second, oldest first, `window` values (the current second last)."""
        sec = int(now)
        self._trim(sec)
        out = [0.0] * self.window
        for s, n in self._buckets:
            k = self.window - 1 - (sec - s)
            if 0 <= k < self.window:
                out[k] = float(n)
        return out

    def rate(self, now: float, seconds: int = RATE_SMOOTHING) -> float:
        sec = int(now)
        total = sum(n for s, n in self._buckets if sec - seconds < s <= sec)
        return total / seconds


@dataclass
class LinkStatus:
    """What the connection panel shows: the state of the link and its vital signs."""

    subscription_id: str = ""
    state: ConnectionState = ConnectionState.IDLE
    reason: str = "not connected yet"
    hint: str = ""
    since: float | None = None
    retry_in: float | None = None
    token_expires_at: float | None = None
    heartbeat_rtt: float | None = None
    heartbeat_at: float | None = None
    #: the connection's heartbeat interval (seconds; set as a source starts): an answer
    #: older than its dead-link limit (`heartbeat_overdue`) means the link looks stalled
    heartbeat_interval: float = 30.0
    last_event_at: float | None = None
    events: int = 0
    malformed: int = 0
    #: times the link came back after having been up (like `ConnectionStats.reconnects`)
    reconnects: int = 0
    ever_connected: bool = False
    #: gaps closed (the link back), and their length in all
    gaps: int = 0
    gap_seconds: float = 0.0
    #: the link is down after having been up since then: a gap is open (counted in
    #: `gaps` only once it closes); None: none is
    gap_open_since: float | None = None
    rate: RateMeter = field(default_factory=RateMeter)
    #: lag (receive time minus Zoom's event_ts) over the last minute, live events only
    lag: LagWindow = field(default_factory=LagWindow)
    #: live events received again within the session's duplicate window
    duplicates: int = 0
    #: the archive cannot be written: what happened and what to do (empty: all is well)
    archive_error: str = ""
    #: the archive's writer building its search index: how far (None: no build seen)
    archive_index: IndexBuild | None = None
    #: replaying an archive: the badge's words ("×4 · 1,234 of 5,000"); empty when live
    replay: str = ""
    #: why rosters could not be read from Zoom's API, and what to change (empty: they were,
    #: or nobody asked yet); it stays until a hydration works, as no retry loop says it again
    roster_problem: str = ""
    #: the same in a few words, for a line that stays one line (`rosterlines.roster_brief`)
    roster_brief: str = ""

    @property
    def displaced(self) -> bool:
        """Another consumer has the subscription: a connect takes it back from them (ask
        first: `RETAKE_QUESTION`)."""
        return self.state is ConnectionState.DISPLACED

    @property
    def can_connect(self) -> bool:
        """A person's connect would start a connection (in DISPLACED it takes the subscription back)."""
        return self.state in CONNECTABLE

    def next_try_in(self, now: float) -> float | None:
        """Seconds until the connection tries again by itself: reconnecting, or taking the
        subscription back (DISPLACED with `retake after`).  None: it will not by itself."""
        if self.retry_in is None or self.since is None:
            return None
        if self.state not in (ConnectionState.RECONNECTING, ConnectionState.DISPLACED):
            return None
        return max(0.0, self.since + self.retry_in - now)

    def heartbeat_overdue(self, now: float) -> float | None:
        """Seconds since the link last proved alive (a heartbeat answer, or connecting),
        when that is past the connection's dead-link limit while it says connected; None
        while all is well.  The connection drops a link that stays silent that long, so a
        "connected" with only older answers is stalled somewhere (this process frozen, a
        laptop asleep, a loop too busy to read): never show it as healthy."""
        if self.state is not ConnectionState.CONNECTED or self.replay:
            return None
        proofs = [t for t in (self.heartbeat_at, self.since) if t is not None]
        if not proofs:
            return None
        age = now - max(proofs)
        return age if age > self.heartbeat_interval * DEAD_AFTER_INTERVALS else None

    def on_state(self, change: StateChanged) -> None:
        if (
            change.state is ConnectionState.CONNECTED
            and self.state is not ConnectionState.CONNECTED
        ):
            if self.ever_connected:
                self.reconnects += 1
            self.ever_connected = True
        self.state = change.state
        # Reasons can carry server text or exception text: scrub before it reaches a screen.
        self.reason = redact(change.reason)
        self.hint = redact(change.hint) if change.hint else ""
        self.since = change.at
        self.retry_in = change.retry_in
        up = change.state is ConnectionState.CONNECTED
        self.gap_open_since = None if up else change.gap_since
        if change.state.is_final:
            self.heartbeat_rtt = None

    def gap_open_for(self, now: float) -> float | None:
        """Seconds the open gap has lasted so far (None: no gap is open)."""
        if self.gap_open_since is None:
            return None
        return max(0.0, now - self.gap_open_since)

    def on_rows(
        self, events: int, malformed: int, gaps: list[Gap], last_event_at: float | None, now: float
    ) -> None:
        self.events += events
        self.malformed += malformed
        for gap in gaps:
            self.gaps += 1
            self.gap_seconds += gap.seconds
            self.gap_open_since = None
        if last_event_at is not None:
            self.last_event_at = last_event_at
        self.rate.add(events + malformed, now)

    def on_heartbeat(self, hb: Heartbeat) -> None:
        self.heartbeat_rtt, self.heartbeat_at = hb.rtt, hb.at

    def on_token(self, info: TokenInfo) -> None:
        self.token_expires_at = info.expires_at
