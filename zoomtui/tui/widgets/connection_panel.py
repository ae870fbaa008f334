"""The connection panel, always at the top: is the link healthy, and if not, why.

```
● connected 00:41:07 · server accepted the connection
sub dem…01 · token 52m · hb 38 ms 3s ago · last event 0.2s · 12.4 ev/s ▁▂▅▇▅▂ · reconnects 0 · gaps 0
```

`LinkStatus` (zoomtui.monitor.linkstatus) is the plain model: the monitor session
keeps it up to date and the panel renders it.  Ages ("3s ago") are recomputed from the
injectable clock by a 1 s timer, which only re-renders two short lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.redaction import mask_id
from zoomtui.timefmt import age, date_clock, duration_hms, expiry, milliseconds
from zoomtui.tui.linkwords import displaced_plan
from zoomtui.tui.theme import STATE_GLYPHS, state_style
from zoomtui.tui.widgets.scrolling import show_text
from zoomtui.zoom.updates import ConnectionState

# -- formatting (pure, so tests can check it without an app) ----------------------------


def state_line(status: LinkStatus, now: float) -> Content:
    state = status.state
    style = state_style(state)
    parts: list[tuple[str, str] | str] = []
    if status.replay:
        # A replay must never pass for a live link: a badge, and the recorded moment
        # (`now` is the replay's clock) where a live panel has no time of day at all.
        recorded = date_clock(now)
        parts += [
            (" REPLAY ", "reverse $text-accent"),
            (f" {recorded} ", "bold"),
            (f"{status.replay} · ", "$text-muted"),
        ]
    parts.append((f"{STATE_GLYPHS.get(state, '●')} {state.value}", style))
    if status.since is not None:
        parts.append((f" {duration_hms(now - status.since)}", "$text-muted"))
    plan = displaced_plan(status, now)
    if plan:  # before the (long) reason, so a narrow panel still shows it
        parts += [(" · ", "$text-muted"), (plan, "bold")]
    if status.reason:
        parts += [(" · ", "$text-muted"), status.reason]
    if (
        state is ConnectionState.RECONNECTING
        and status.retry_in is not None
        and status.since is not None
    ):
        left = status.since + status.retry_in - now
        if left > 0.5:
            parts.append((f" (next try in {int(left + 0.5)}s)", "$text-muted"))
    return Content.assemble(*parts)


def archive_line(status: LinkStatus) -> Content:
    if not status.archive_error:
        return Content("")
    return Content.assemble(
        ("⚠ archive: ", "bold $text-error"), (status.archive_error, "$text-error")
    )


def hint_line(status: LinkStatus) -> Content:
    if not status.hint:
        return Content("")
    return Content.assemble(("→ ", "$text-error"), (status.hint, "$text-error"))


def metrics_line(status: LinkStatus, now: float) -> Content:
    muted = "$text-muted"
    sep = (" · ", muted)
    parts: list[tuple[str, str] | str] = []

    def item(label: str, value: str, value_style: str = "") -> None:
        if parts:
            parts.append(sep)
        parts.append((f"{label} ", muted))
        parts.append((value, value_style) if value_style else value)

    item("sub", mask_id(status.subscription_id) if status.subscription_id else "–")
    if status.token_expires_at is None:
        item("token", "–")
    else:
        left = status.token_expires_at - now
        item("token", expiry(left), "$text-warning" if left < 300 else "")
    if status.heartbeat_rtt is None or status.heartbeat_at is None:
        item("hb", "–")
    else:
        item("hb", f"{milliseconds(status.heartbeat_rtt)} {age(now - status.heartbeat_at)} ago")
    item(
        "last event",
        "–" if status.last_event_at is None else age(now - status.last_event_at),
    )
    item("events", f"{status.events:,}")
    item("ev/s", f"{status.rate.rate(now):.1f}")
    return Content.assemble(*parts)


def counters_line(status: LinkStatus) -> Content:
    muted = "$text-muted"
    parts: list[tuple[str, str] | str] = [
        ("reconnects ", muted),
        str(status.reconnects),
        (" · gaps ", muted),
    ]
    parts.append((str(status.gaps), "$text-warning") if status.gaps else "0")
    if status.malformed:
        parts += [(" · malformed ", muted), (str(status.malformed), "$text-error")]
    return Content.assemble(*parts)


class ConnectionPanel(Widget):
    """State, reason and hint, plus the link's vital signs. Always visible at the top."""

    DEFAULT_CSS = """
    ConnectionPanel {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text-primary;
        padding: 0 1;
    }
    ConnectionPanel.-failed { border: round $error; }
    ConnectionPanel.-connected { border: round $success 60%; }
    ConnectionPanel #state-line { width: 1fr; height: 1; }
    ConnectionPanel #hint-line { height: auto; display: none; }
    ConnectionPanel.-has-hint #hint-line { display: block; }
    ConnectionPanel #archive-line { height: auto; display: none; }
    ConnectionPanel.-archive-failed #archive-line { display: block; }
    ConnectionPanel #metrics { height: 1; }
    ConnectionPanel #metrics-line { width: auto; height: 1; }
    ConnectionPanel #rate-spark { width: 30; height: 1; margin: 0 1; }
    ConnectionPanel #counters-line { width: auto; height: 1; }
    """

    def __init__(
        self,
        status: LinkStatus,
        *,
        clock: Callable[[], float] = time.time,
        id: str | None = "connection",
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.status = status
        self._clock = clock
        self.border_title = "connection"

    def compose(self) -> ComposeResult:
        # Kept as attributes: refresh_status runs often and must work while the app shuts down.
        self._state_line = Static(id="state-line", markup=False)
        self._hint_line = Static(id="hint-line", markup=False)
        self._metrics_line = Static(id="metrics-line", markup=False)
        self._spark = Sparkline([], id="rate-spark")
        self._counters_line = Static(id="counters-line", markup=False)
        self._archive_line = Static(id="archive-line", markup=False)
        yield self._state_line
        yield self._hint_line
        yield self._archive_line
        with Horizontal(id="metrics"):
            yield self._metrics_line
            yield self._spark
            yield self._counters_line

    def on_mount(self) -> None:
        self.refresh_status()
        # Ages and "time in state" move with the clock: one cheap re-render a second.
        self.set_interval(1.0, self.refresh_status, name="connection-panel-ages")

    def _show(self, line: Static, content: Content) -> None:
        """Update one line only when it changed (see `show_text`): the state line is one row
        of fixed width; the hint and archive lines wrap; the others size themselves to
        their text, so a layout when their width changed."""
        if line is self._state_line:
            size: object = 1
        elif line is self._hint_line or line is self._archive_line:
            size = None
        else:
            size = content.cell_length
        show_text(line, content, size)

    def refresh_status(self) -> None:
        """Re-render from `status` (call after changing it; the timer calls it every second)."""
        if not self.is_mounted or not self.is_attached:
            return
        now = self._clock()
        st = self.status
        self._show(self._state_line, state_line(st, now))
        self._show(self._hint_line, hint_line(st))
        self._show(self._archive_line, archive_line(st))
        self._show(self._metrics_line, metrics_line(st, now))
        self._show(self._counters_line, counters_line(st))
        series = st.rate.series(now)
        if series != self._spark.data:
            self._spark.data = series
        self.set_class(bool(st.hint), "-has-hint")
        self.set_class(bool(st.archive_error), "-archive-failed")
        self.set_class(st.state is ConnectionState.FAILED, "-failed")
        self.set_class(st.state is ConnectionState.CONNECTED, "-connected")
        if st.replay:
            self.border_subtitle = "replay ended" if "ended" in st.replay else "space pause/resume"
            return
        if st.displaced:
            self.border_subtitle = "c take the subscription back (asks first)"
            return
        self.border_subtitle = (
            "c connect"
            if st.state in (ConnectionState.STOPPED, ConnectionState.FAILED, ConnectionState.IDLE)
            else "c disconnect · r reconnect"
        )
