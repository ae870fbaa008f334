"""One tracker per rule: its condition, and the quiet-by-design life of its alert.

Two kinds of condition:

- occurrences (an event matches, a gap, a late event, a duplicate): the first one fires
  at once; the ones after it are counted into the same alert; the alert clears once
  none came for the rule's cooldown.  A flood is one alert with a count.  Its clearing
  is sent only when it has news (more than the one occurrence already sent);
- states (link down, no heartbeat answer, reconnect storm, displaced, silence): fire when
  the state starts, clear when it ends ("link back after 3 min 12 s, gap recorded").

After an alert clears, the rule is quiet for its cooldown: a state that comes back in
that time (a flapping link) is held and counted, and sent at the end of the cooldown if
it still holds, saying how many times it came back.  Nothing here reads a clock: the
engine passes `now` (its injectable clock) to `tick`, and updates carry their times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from zoomtui.alerts.alert import Alert, AlertState, one_line
from zoomtui.alerts.rules import Rule
from zoomtui.monitor.filters import compile_filter
from zoomtui.monitor.quality import DuplicateWindow
from zoomtui.timefmt import clock_ms, duration_plain
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, Heartbeat, StateChanged

Emit = Callable[[Alert], None]


@dataclass(slots=True)
class _Open:
    """The alert a tracker has open (mutable: its count grows)."""

    id: int
    since: float
    last: float
    message: str
    count: int = 1
    notified: bool = False
    event: ZoomEvent | None = None
    gap: tuple[float, float] | None = None


class Tracker:
    """A rule's alert life: `_occurred` / `_start` / `_end` from the condition, `tick`."""

    #: occurrences: the alert ends after a quiet cooldown (states end when they end)
    occurrences = False

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        self.rule = rule
        self._emit = emit
        self._next_id = next_id
        self.open: _Open | None = None
        #: the end of the quiet time after the last alert cleared
        self.quiet_until = 0.0
        #: fires held back by the cooldown since the last one sent
        self.held = 0
        self.fired = 0

    # -- the life of an alert ---------------------------------------------------------------
    def _send(self, o: _Open, state: AlertState, message: str, now: float, notify: bool) -> None:
        if state == "firing":
            self.fired += 1
        self._emit(
            Alert(
                id=o.id,
                rule=self.rule.name,
                condition=self.rule.condition.kind,
                state=state,
                message=one_line(message),
                at=now,
                since=o.since,
                count=o.count,
                event=o.event,
                gap=o.gap,
                notify=notify,
            )
        )

    def _start(
        self,
        now: float,
        message: str,
        event: ZoomEvent | None = None,
        gap: tuple[float, float] | None = None,
    ) -> None:
        if self.open is not None:
            return
        self.open = _Open(self._next_id(), now, now, message, event=event, gap=gap)
        if now >= self.quiet_until:
            self._notify(now)
        else:
            self.held += 1

    def _notify(self, now: float) -> None:
        o = self.open
        assert o is not None
        o.notified = True
        message = o.message
        if self.held:
            message += (
                f" (it came back {self.held} time{'s' if self.held > 1 else ''} in the cooldown)"
            )
            self.held = 0
        self._send(o, "firing", message, now, True)

    def _occurred(
        self,
        now: float,
        message: str,
        event: ZoomEvent | None = None,
        gap: tuple[float, float] | None = None,
    ) -> None:
        o = self.open
        if o is None:
            self._start(now, message, event, gap)
        else:
            o.count += 1
            o.last = now

    def _end(self, now: float, message: str) -> None:
        o = self.open
        if o is None:
            return
        self.open = None
        # An occurrence alert ended after a quiet cooldown already; a state rests after it.
        self.quiet_until = now if self.occurrences else now + self.rule.cooldown
        news = not self.occurrences or o.count > 1
        self._send(o, "cleared", message, now, o.notified and news)

    def tick(self, now: float) -> None:
        o = self.open
        if o is None:
            return
        if not o.notified and now >= self.quiet_until:
            self._notify(now)
        if self.occurrences and now - o.last >= self.rule.cooldown:
            self._end(now, self._summary(o, now))

    def _summary(self, o: _Open, now: float) -> str:
        n = o.count
        return (
            f"{n} in all from {clock_ms(o.since)[:8]} to {clock_ms(o.last)[:8]}; "
            f"none for {duration_plain(now - o.last)}"
            if n > 1
            else f"no more for {duration_plain(now - o.last)}"
        )

    # -- what the engine hands on (a tracker overrides what it needs) -------------------------
    def on_event(self, event: ZoomEvent, now: float) -> None:
        """An event (only for trackers that listen to events)."""

    def on_gap(self, gap: Gap, now: float) -> None:
        """A gap."""

    def on_state(self, change: StateChanged, now: float) -> None:
        """A state change."""

    def on_heartbeat(self, heartbeat: Heartbeat, now: float) -> None:
        """A heartbeat answer."""


def describe_event(event: ZoomEvent) -> str:
    who = event.participant_name or event.participant_email or event.subject or ""
    where = event.topic or (f"meeting {event.meeting_id}" if event.meeting_id else "")
    parts = [event.name, who, f"in {where}" if where else ""]
    return " ".join(p for p in parts if p)


# -- occurrences --------------------------------------------------------------------------------
class EventMatch(Tracker):
    occurrences = True

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.matches = compile_filter(rule.condition.filter_text).matches_event

    def on_event(self, event: ZoomEvent, now: float) -> None:
        if self.matches(event):
            self._occurred(now, describe_event(event), event)

    def _summary(self, o: _Open, now: float) -> str:
        return f"{o.count} matching event{'s' if o.count > 1 else ''}; " + super()._summary(o, now)


class LateEvent(Tracker):
    occurrences = True

    def on_event(self, event: ZoomEvent, now: float) -> None:
        ts = event.event_ts_ms
        if ts is None:
            return
        lag = event.received_at - ts / 1000
        if lag > self.rule.condition.seconds:
            text = f"{describe_event(event)} received {duration_plain(lag)} after Zoom stamped it"
            self._occurred(now, text, event)

    def _summary(self, o: _Open, now: float) -> str:
        return f"events on time again ({o.count} late); " + super()._summary(o, now)


class Duplicate(Tracker):
    """The same frame twice within the rule's window (`DuplicateWindow`, the one the
    session counts duplicates with, here with the rule's own window)."""

    occurrences = True

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.window = DuplicateWindow(rule.condition.seconds)

    def on_event(self, event: ZoomEvent, now: float) -> None:
        first_at = self.window.first_seen(event)
        if first_at is None:
            return
        at = event.received_at
        text = f"{describe_event(event)} received again {duration_plain(at - first_at)} after the first"
        self._occurred(now, text, event)

    def _summary(self, o: _Open, now: float) -> str:
        return f"{o.count} duplicate{'s' if o.count > 1 else ''}; " + super()._summary(o, now)


class GapSeen(Tracker):
    occurrences = True

    def on_gap(self, gap: Gap, now: float) -> None:
        if gap.seconds > self.rule.condition.seconds or (
            not self.rule.condition.seconds and gap.end >= gap.start
        ):
            text = (
                f"gap of {duration_plain(gap.seconds)} ({clock_ms(gap.start)[:8]}–"
                f"{clock_ms(gap.end)[:8]}): events in it were not received and Zoom does "
                f"not replay them ({gap.reason})"
            )
            self._occurred(now, text, gap=(gap.start, gap.end))

    def _summary(self, o: _Open, now: float) -> str:
        return f"{o.count} gap{'s' if o.count > 1 else ''}; " + super()._summary(o, now)


# -- states -------------------------------------------------------------------------------------
_DOWN = (
    ConnectionState.CONNECTING,
    ConnectionState.AUTHENTICATING,
    ConnectionState.RECONNECTING,
    ConnectionState.DISPLACED,
    ConnectionState.FAILED,
)


class LinkDown(Tracker):
    """Down from the first attempt until connected, and from any drop until connected
    again; a stop asked for is not down, nor a monitor that has not started connecting (a
    first-run form).  Clears at the gap that follows the reconnect."""

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.down_since: float | None = None
        self.reason = "not connected yet"
        self.back_at: float | None = None

    def on_state(self, change: StateChanged, now: float) -> None:
        state = change.state
        if state is ConnectionState.CONNECTED:
            if self.open is not None and self.down_since is not None:
                self.back_at = now
            else:
                self.down_since = None
        elif state in (ConnectionState.STOPPED, ConnectionState.IDLE):
            self.down_since = self.back_at = None
            if self.open is not None:
                self._end(now, "the monitor stopped")
        elif state in _DOWN and self.down_since is None:
            self.down_since, self.reason = now, change.reason
        elif state in _DOWN:
            self.reason = change.reason

    def on_gap(self, gap: Gap, now: float) -> None:
        if self.back_at is not None:
            self._back(now, f", gap recorded ({clock_ms(gap.start)[:8]}–{clock_ms(gap.end)[:8]})")

    def _back(self, now: float, tail: str) -> None:
        down, back = self.down_since or now, self.back_at or now
        self.down_since = self.back_at = None
        self._end(now, f"link back after {duration_plain(back - down)}{tail}")

    def tick(self, now: float) -> None:
        if self.back_at is not None:
            self._back(now, "")
        down = self.down_since
        if down is not None and self.open is None and now - down > self.rule.condition.seconds:
            self._start(now, f"link down for {duration_plain(now - down)}: {self.reason}")
        super().tick(now)


class HeartbeatLate(Tracker):
    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        #: the last answer, or when the link came up (None: not connected)
        self.last: float | None = None

    def on_state(self, change: StateChanged, now: float) -> None:
        if change.state is ConnectionState.CONNECTED:
            self.last = now
        elif self.last is not None:
            self.last = None
            self._end(now, f"the link is {change.state.value}: heartbeats wait for it")

    def on_heartbeat(self, heartbeat: Heartbeat, now: float) -> None:
        if self.open is not None and self.last is not None:
            waited = now - self.last
            self._end(now, f"heartbeat answered again after {duration_plain(waited)} "
                      f"(round trip {heartbeat.rtt * 1000:.0f} ms)")  # fmt: skip
        self.last = now

    def tick(self, now: float) -> None:
        last = self.last
        if last is not None and self.open is None and now - last > self.rule.condition.seconds:
            self._start(now, f"no heartbeat answer for {duration_plain(now - last)}")
        super().tick(now)


class ReconnectStorm(Tracker):
    """Reconnects: connections made after the first one (a link that keeps dropping)."""

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.connected_once = False
        self.times: deque[float] = deque()

    def on_state(self, change: StateChanged, now: float) -> None:
        if change.state is not ConnectionState.CONNECTED:
            return
        if self.connected_once:
            self.times.append(now)
            self._check(now)
        self.connected_once = True

    def _check(self, now: float) -> None:
        window, limit = self.rule.condition.seconds, self.rule.condition.count
        times = self.times
        while times and now - times[0] > window:
            times.popleft()
        if len(times) > limit and self.open is None:
            self._start(now, f"{len(times)} reconnects within {duration_plain(window)}")
        elif len(times) <= limit and self.open is not None:
            self._end(now, f"reconnects calmed: {len(times)} in the last {duration_plain(window)}")
        elif self.open is not None:
            self.open.count = max(self.open.count, len(times))

    def tick(self, now: float) -> None:
        self._check(now)
        super().tick(now)


class Displaced(Tracker):
    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.since: float | None = None

    def on_state(self, change: StateChanged, now: float) -> None:
        if change.state is ConnectionState.DISPLACED and self.open is None:
            self.since = now
            self._start(now, f"another consumer took the subscription: {change.reason}")
        elif change.state is ConnectionState.CONNECTED and self.open is not None:
            taken = duration_plain(now - (self.since or now))
            self._end(now, f"subscription taken back after {taken}")
        elif change.state in (ConnectionState.STOPPED, ConnectionState.IDLE):
            self._end(now, "the monitor stopped")


class Silence(Tracker):
    """No events for a while, counted from the source's first state change (a monitor on
    its first-run form is not silent, it has not started)."""

    def __init__(self, rule: Rule, emit: Emit, next_id: Callable[[], int], now: float) -> None:
        super().__init__(rule, emit, next_id, now)
        self.last: float | None = None

    def on_state(self, change: StateChanged, now: float) -> None:
        if self.last is None:
            self.last = now

    def on_event(self, event: ZoomEvent, now: float) -> None:
        if self.open is not None and self.last is not None:
            self._end(now, f"events again after {duration_plain(now - self.last)}")
        self.last = now

    def tick(self, now: float) -> None:
        last = self.last
        if last is not None and self.open is None and now - last > self.rule.condition.seconds:
            self._start(now, f"no events for {duration_plain(now - last)}")
        super().tick(now)


TRACKERS: dict[str, type[Tracker]] = {
    "event": EventMatch,
    "lag_above": LateEvent,
    "duplicate_within": Duplicate,
    "gap_longer_than": GapSeen,
    "disconnected_for": LinkDown,
    "heartbeat_older_than": HeartbeatLate,
    "reconnects": ReconnectStorm,
    "displaced": Displaced,
    "silent_for": Silence,
}
