"""The profile's alert rules in the monitor: a toast and the bell for each alert, the
rules' actions (off the event loop), and the list the alerts screen shows.

The engine is a sink of the app's session (`zoomtui.alerts.AlertEngine`): it hears what
the session applies and decides on the app's thread; its clock is the app's, ticked once
a second.  The actions run on the dispatcher's worker threads; a failing one is said
once, as a toast (from its thread, through `call_from_thread`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from zoomtui.alerts.actions import AlertDispatcher
from zoomtui.alerts.alert import Alert
from zoomtui.alerts.engine import TICK_SECONDS, AlertEngine
from zoomtui.alerts.rules import Rule

if TYPE_CHECKING:
    from zoomtui.tui.app import ZoomtuiApp

#: how long an alert's toast stays (seconds): long enough to be read after a glance away
TOAST_SECONDS = 12.0


class TuiAlerts:
    """The app's alert engine and dispatcher; `alerts` for the list, newest last."""

    def __init__(self, app: ZoomtuiApp, rules: Sequence[Rule]) -> None:
        self.app = app
        self.engine = AlertEngine(rules, clock=app.clock)
        self.dispatcher = AlertDispatcher(rules, report=self._action_failed)
        self.engine.listen(self._show)
        self.engine.listen(self.dispatcher.send)
        app.session.subscribe(self.engine)

    @property
    def rules(self) -> list[Rule]:
        return self.engine.rules

    @property
    def alerts(self) -> list[Alert]:
        """This run's alerts, oldest first; one still open with the count it has grown to
        (a flood is counted into its alert, which is sent again only when it clears)."""
        grown = self.engine.open_counts()
        return [
            dataclasses.replace(a, count=grown[a.id]) if grown.get(a.id, a.count) != a.count else a
            for a in self.engine.recent
        ]

    def start(self) -> None:
        if self.engine.trackers:
            self.app.set_interval(TICK_SECONDS, self.engine.tick, name="alerts-tick")

    def _show(self, alert: Alert) -> None:
        """A toast and the bell: always, whatever actions the rule has."""
        if self.app.exiting:
            return
        severity: Literal["error", "information"] = (
            "error" if alert.state == "firing" else "information"
        )
        count = f" (x{alert.count})" if alert.count > 1 else ""
        self.app.notify(  # the message holds names and topics from Zoom: never markup
            alert.message + count,
            title=alert.title,
            severity=severity,
            timeout=TOAST_SECONDS,
            markup=False,
        )
        if alert.state == "firing":
            self.app.bell()

    def _action_failed(self, text: str) -> None:
        """`text` holds a handler's or a command's own words: shown plain."""
        app = self.app
        try:
            app.call_from_thread(
                app.notify, text, title="alert action", severity="warning", markup=False
            )
        except RuntimeError:  # on the app's own thread, or the app is gone
            if not app.exiting:
                app.notify(text, title="alert action", severity="warning", markup=False)

    def open(self, alert: Alert) -> None:
        """Show what `alert` is about: its event in the inspector, its gap in the list."""
        from zoomtui.monitor.eventlog import GapRow
        from zoomtui.tui.screens.inspector import InspectorScreen

        app = self.app
        log = app.event_log
        row: object | None = alert.event
        if row is None and alert.gap is not None:
            start, end = alert.gap
            row = next(
                (r for r in log if type(r) is GapRow and (r.start, r.end) == (start, end)), None
            )
        if row is None:
            app.notify("This alert is not about one event or gap.", title="alerts", markup=False)
            return
        if log.seq_of(row) is None:  # type: ignore[arg-type]
            app.notify(
                "Its row has left the list (the archive keeps it).", title="alerts", markup=False
            )
            return
        if not app.main.event_view.select_row(row):  # type: ignore[arg-type]
            app.notify("Its row is hidden by the filter.", title="alerts", markup=False)
        if alert.event is not None:
            app.push_screen(InspectorScreen(log, alert.event))

    def close(self) -> None:
        """Send what is queued (bounded), then stop the workers (blocking: in a thread)."""
        self.dispatcher.close()
