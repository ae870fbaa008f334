"""The filter input above the event list: type to narrow, see how many rows match.

The bar drives an `EventLogView` (found by selector, `#events` by default):
each change of the text re-filters the view, throttled so a burst of
keystrokes costs one re-filter per `THROTTLE` seconds (the first keystroke
applies at once, the last one always applies).  A filter that cannot be
understood is shown as an error under the input and the view keeps the last
good result.

Escape, in two steps, like backing out of layers:
    escape in the input   back to the event list, the filter stays;
    escape in the list    clears the filter (the list's own binding).
Enter (or down) in the input applies at once and goes back to the list.

The bar also follows the view: a quick filter (M/P/T on a row) or a clear
from the list shows up in the input.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from zoomtui.tui.widgets.event_log import EventLogView

#: at most one re-filter per this many seconds while typing
THROTTLE = 0.06

PLACEHOLDER = "filter: ana  type:meeting.participant_*  meeting:857…  user:bo@x.com  -type:*.qos"

#: for the help screen
FILTER_HELP = """\
/            filter the event list (type to narrow; the count shows matches)
enter, down  keep the filter and go back to the list
escape       in the filter: back to the list, keeping the filter
escape       in the list: clear the filter
M / P / T    in the list: only this row's meeting / participant / event type

Terms (all must match, any case): ana  "two words"  type:meeting.participant_*
  event:... (= type:)  family:webinar  meeting:<id, uuid or topic>  user:<name or email>
  -term negates any of them. Gaps stay visible under every filter (-type:gap hides them).
"""


class FilterBar(Widget):
    """An input, a match count and an error line, bound to an `EventLogView`."""

    BINDINGS: list[BindingType] = [
        Binding("escape", "close", "Back to the list", id="filter.close"),
        Binding("down", "close", "Back to the list", show=False, id="filter.down"),
    ]

    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        & > Horizontal { height: 1; }
        & Input { width: 1fr; border: none; height: 1; padding: 0 1; }
        & #filter-count { width: 26; text-align: right; color: $text-muted; padding: 0 1; }
        & #filter-count.-narrowed { color: $text-accent; }
        & #filter-error { color: $text-error; padding: 0 1; display: none; }
        &.-error #filter-error { display: block; }
        &.-error Input { color: $text-error; }
    }
    """

    class Changed(Message):
        """The filter text in the input changed (applied or not: see the view)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Closed(Message):
        """The user left the input (escape, enter, down); focus went to the list."""

    #: the error under the input, "" when the filter is good
    error: reactive[str] = reactive("", init=False)

    def __init__(
        self,
        target: EventLogView | str = "#events",
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._target = target
        self._view: EventLogView | None = target if isinstance(target, EventLogView) else None
        self._pending_text: str | None = None
        self._last_apply = 0.0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(
                placeholder=PLACEHOLDER, id="filter-input", compact=True, select_on_focus=False
            )
            yield Static("", id="filter-count")
        yield Static("", id="filter-error")

    def on_mount(self) -> None:
        self.call_after_refresh(self._bind_view)

    def _bind_view(self) -> None:
        view = self.view
        if view is None:
            return
        self.watch(view, "match_counts", self._show_counts)
        self.watch(view, "applied_filter", self._show_applied)

    # -- the view ----------------------------------------------------------------------
    @property
    def view(self) -> EventLogView | None:
        if self._view is None and isinstance(self._target, str):
            found = self.screen.query(self._target)
            self._view = found.first(EventLogView) if found else None
        return self._view

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def text(self) -> str:
        return self.input.value

    def set_text(self, text: str) -> None:
        """Replace the filter text and apply it now."""
        self.input.value = text
        self._apply(text)

    def focus_input(self) -> None:
        """Focus the input with the cursor at the end (what `/` does)."""
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    def focus(self, scroll_visible: bool = True) -> FilterBar:
        """Focusing the bar focuses its input (the bar itself takes no keys)."""
        self.focus_input()
        return self

    def clear(self) -> None:
        """Clear the text and the filter."""
        self.set_text("")

    # -- typing ------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))
        self._pending_text = event.value
        now = time.monotonic()
        wait = self._last_apply + THROTTLE - now
        if wait <= 0:
            self._flush()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._flush)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_close()

    def _flush(self) -> None:
        self._timer = None
        text, self._pending_text = self._pending_text, None
        if text is not None:
            self._apply(text)

    def _apply(self, text: str) -> None:
        self._last_apply = time.monotonic()
        view = self.view
        if view is None:
            return
        error = view.apply_filter(text)
        self.error = error or ""

    def action_close(self) -> None:
        """Back to the list, keeping the filter (apply what is typed first)."""
        if self._timer is not None:
            self._timer.stop()
            self._flush()
        view = self.view
        if view is not None:
            view.focus()
        self.post_message(self.Closed())

    # -- showing results ---------------------------------------------------------------
    def watch_error(self, error: str) -> None:
        self.set_class(bool(error), "-error")
        self.query_one("#filter-error", Static).update(Text(f"✗ {error}" if error else ""))

    def _show_counts(self, counts: tuple[int, int]) -> None:
        visible, total = counts
        label = self.query_one("#filter-count", Static)
        narrowed = visible != total
        label.set_class(narrowed, "-narrowed")
        # A fixed width, so a changing count repaints the label only (no screen layout).
        label.update(
            Text(f"{visible:,} of {total:,}" if narrowed else f"{total:,} events"), layout=False
        )

    def _show_applied(self, applied: str) -> None:
        # A quick filter or a clear from the list: show it, unless it is what is typed.
        field = self.input
        if field.value.strip() != applied and self._pending_text is None:
            with field.prevent(Input.Changed):
                field.value = applied
            field.cursor_position = len(applied)
            self.error = ""
