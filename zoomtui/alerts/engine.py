"""The rules at work: a `SessionSink` that hears the session and makes alerts.

    engine = AlertEngine(rules, clock=time.time)
    engine.listen(dispatcher.send)        # actions (`zoomtui.alerts.actions`)
    session.subscribe(engine)
    ... every second: engine.tick()       # the time-based conditions

The engine runs on the session's own thread and does only cheap work there: it decides,
it never sends (a listener that sends queues it: see `AlertDispatcher`).  Its clock is
injected, and every time a rule measures is read from it (an update is stamped with the
engine's `now` when it is heard), so a test drives the conditions by moving the clock and
calling `tick`, never by waiting.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from zoomtui.alerts.alert import Alert, one_line
from zoomtui.alerts.rules import Rule
from zoomtui.alerts.trackers import TRACKERS, Tracker
from zoomtui.monitor.session import SessionSink
from zoomtui.redaction import redact
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import Gap, Heartbeat, StateChanged

log = logging.getLogger("zoomtui.alerts")

#: alerts the engine keeps for a list to show (each links to its event or gap)
RECENT_ALERTS = 500
#: how often a front end should call `tick` (seconds)
TICK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert whose condition holds now (`AlertEngine.still_open`): what a stopping
    `watch` says had not cleared."""

    rule: str
    condition: str
    #: when the condition started (epoch seconds)
    since: float
    #: occurrences grouped in it so far
    count: int
    #: its first occurrence, in one visible bounded line
    message: str
    #: sent to the rule's actions (False: held back by the cooldown so far)
    notified: bool


def _hears(tracker: Tracker, name: str) -> bool:
    return getattr(type(tracker), name) is not getattr(Tracker, name)


class AlertEngine(SessionSink):
    """Every rule's tracker, fed by the session; alerts go to the listeners."""

    def __init__(self, rules: Iterable[Rule], *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._ids = itertools.count(1)
        now = clock()
        self.trackers = [
            TRACKERS[r.condition.kind](r, self._emit, self._next_id, now) for r in rules
        ]
        t = self.trackers
        # Only the trackers that listen to a kind are called for it: most rules are not
        # about events, and an event is nearly every update.
        self._events = [x.on_event for x in t if _hears(x, "on_event")]
        self._gaps = [x.on_gap for x in t if _hears(x, "on_gap")]
        self._states = [x.on_state for x in t if _hears(x, "on_state")]
        self._heartbeats = [x.on_heartbeat for x in t if _hears(x, "on_heartbeat")]
        self._listeners: list[Callable[[Alert], None]] = []
        #: the latest notification of each recent alert, oldest first
        self.recent: deque[Alert] = deque(maxlen=RECENT_ALERTS)
        #: alerts fired (sent as firing), per rule name
        self.fired: dict[str, int] = {x.rule.name: 0 for x in t}
        self.listener_errors = 0

    @property
    def rules(self) -> list[Rule]:
        return [t.rule for t in self.trackers]

    def listen(self, listener: Callable[[Alert], None]) -> None:
        """`listener(alert)` for each alert made, on the engine's thread: keep it quick."""
        self._listeners.append(listener)

    def _next_id(self) -> int:
        return next(self._ids)

    def _emit(self, alert: Alert) -> None:
        if alert.state == "firing":
            self.fired[alert.rule] = self.fired.get(alert.rule, 0) + 1
        recent = self.recent
        if recent and any(a.id == alert.id for a in recent):
            # one alert, one entry: the clearing replaces the firing
            self.recent = deque((a for a in recent if a.id != alert.id), maxlen=RECENT_ALERTS)
        self.recent.append(alert)
        for listener in self._listeners:
            try:
                listener(alert)
            except Exception as exc:  # noqa: BLE001 - a listener never breaks the session
                self.listener_errors += 1
                if self.listener_errors == 1:
                    log.error(
                        "an alert listener failed: %s", redact(f"{type(exc).__name__}: {exc}")
                    )

    # -- what the session tells (live only: history has fired before) ----------------------------
    def on_event(self, event: ZoomEvent, live: bool) -> None:
        hooks = self._events
        if hooks:
            now = self.clock()
            for hook in hooks:
                hook(event, now)

    def on_gap(self, gap: Gap, live: bool) -> None:
        now = self.clock()
        for hook in self._gaps:
            hook(gap, now)

    def on_state(self, change: StateChanged, live: bool) -> None:
        now = self.clock()
        for hook in self._states:
            hook(change, now)

    def on_heartbeat(self, heartbeat: Heartbeat) -> None:
        now = self.clock()
        for hook in self._heartbeats:
            hook(heartbeat, now)

    def tick(self, now: float | None = None) -> None:
        """Evaluate the time-based conditions (a front end calls it every `TICK_SECONDS`)."""
        at = self.clock() if now is None else now
        for tracker in self.trackers:
            tracker.tick(at)

    def open_alerts(self) -> list[Alert]:
        """The alerts whose condition holds now (their latest notification)."""
        ids = {t.open.id for t in self.trackers if t.open is not None}
        return [a for a in self.recent if a.id in ids]

    def open_counts(self) -> dict[int, int]:
        """Alert id -> occurrences so far, for each alert whose condition holds now (its
        notification was made at the first: a list shows how far a flood has grown)."""
        return {t.open.id: t.open.count for t in self.trackers if t.open is not None}

    def still_open(self) -> list[OpenAlert]:
        """Every alert whose condition holds now, held back by a cooldown or not, oldest
        first."""
        found = [
            OpenAlert(
                rule=t.rule.name,
                condition=t.rule.condition.kind,
                since=o.since,
                count=o.count,
                message=one_line(o.message),
                notified=o.notified,
            )
            for t in self.trackers
            if (o := t.open) is not None
        ]
        return sorted(found, key=lambda a: a.since)

    def open_by_rule(self, name: str) -> int:
        """How many of the rules named `name` have an alert open now (a metrics scrape
        reads it from its own thread: one attribute read per rule)."""
        return sum(1 for t in self.trackers if t.rule.name == name and t.open is not None)

    def test_alert(self, rule: Rule) -> Alert:
        """A test alert for `rule` (`doctor --test-alerts`): not counted as fired."""
        now = self.clock()
        return Alert(
            id=self._next_id(),
            rule=rule.name,
            condition=rule.condition.kind,
            state="test",
            message=f"a test of this rule's actions (it fires on {rule.condition.describe()})",
            at=now,
            since=now,
            count=0,
        )
