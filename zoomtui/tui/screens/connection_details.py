"""Connection details (`i`, or "Connection details" in the palette): the link's state, since
when, and the whole reason and hint, which the panel's one state line cuts with "…".

The subscription is masked as in the panel; no token and no WebSocket URL (it holds the
token) is ever shown.  What Zoom or a server said is shown as plain text, redacted once
more.  The rows follow the link while the screen is open (a second's timer, as the panel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.redaction import mask_id, redact
from zoomtui.timefmt import date_clock, duration_hms
from zoomtui.tui.linkwords import displaced_plan
from zoomtui.tui.screens.boxed import BoxedModal
from zoomtui.tui.theme import STATE_GLYPHS, state_style
from zoomtui.tui.widgets.connection_panel import stall_words

#: how often the open screen re-reads the link (its ages move with the clock, as the panel's)
REFRESH_INTERVAL = 1.0
#: the rows, top to bottom (a row without words is left out)
ROWS = ("state", "since", "reason", "what to do", "subscription")


def detail_rows(status: LinkStatus, now: float) -> dict[str, Content]:
    """Each row's words, as plain text (`Content`, never markup)."""
    state = status.state
    said = [(f"{STATE_GLYPHS.get(state, '●')} {state.value}", state_style(state))]
    plan = displaced_plan(status, now)
    if plan:
        said.append((f" · {plan}", "bold"))
    overdue = status.heartbeat_overdue(now)
    if overdue is not None:
        said.append((f" · {stall_words(overdue)}", "bold $text-warning"))
    since = ""
    if status.since is not None:
        since = f"{date_clock(status.since)} (for {duration_hms(now - status.since)})"
    sub = mask_id(status.subscription_id) if status.subscription_id else ""
    return {
        "state": Content.assemble(*said),
        "since": Content(since),
        "reason": Content(redact(status.reason)),
        "what to do": Content(redact(status.hint)),
        "subscription": Content(sub),
    }


class ConnectionDetailsScreen(BoxedModal):
    """The link's state, reason and hint, whole.  Escape, q or i closes it."""

    DEFAULT_CSS = """
    ConnectionDetailsScreen .row { height: auto; }
    ConnectionDetailsScreen .row.-empty { display: none; }
    ConnectionDetailsScreen .key {
        width: 14; padding-right: 2; text-align: right; text-style: bold; color: $text-primary;
    }
    ConnectionDetailsScreen .what { width: 1fr; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "dismiss", "Close", id="details.close"),
    ]

    def __init__(self, status: LinkStatus, clock: Callable[[], float]) -> None:
        super().__init__()
        self.status = status
        self._clock = clock
        self._values = {name: Static(classes="what", markup=False) for name in ROWS}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Connection details"
            box.border_subtitle = "escape closes"
            with VerticalScroll():
                for name in ROWS:
                    with Horizontal(classes="row"):
                        yield Static(name, classes="key", markup=False)
                        yield self._values[name]

    def on_mount(self) -> None:
        self.refresh_details()
        self.set_interval(REFRESH_INTERVAL, self.refresh_details, name="connection-details")

    def refresh_details(self) -> None:
        for name, words in detail_rows(self.status, self._clock()).items():
            value = self._values[name]
            value.update(words)
            if value.parent is not None:
                value.parent.set_class(not words.plain, "-empty")
