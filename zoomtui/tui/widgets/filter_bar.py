"""The filter input above the event list: type to narrow, see how many rows match.

The bar owns the filter text; it does not know the list.  It posts what it wants and
its screen routes it (`zoomtui.tui.screens.main.MainScreen`):

- `FilterChanged(text)`: apply this filter.  Posted as the text changes, throttled so
  a burst of keystrokes costs one re-filter per `THROTTLE` seconds (the first keystroke
  applies at once, the last one always applies);
- `Closed`: the user left the input (escape, enter, down): back to the list;
- `SaveRequested(text)`: ctrl+s, keep this filter under a name (the screen asks which).

Up and down walk the recent filters (`history`, newest first, given by the screen) as a
shell walks its history: up shows the next older one, down the next newer; past the newest
the text that was being typed comes back, and one more down goes back to the list.  A
walked filter is applied as typed text is (throttled); editing it ends the walk.

The screen tells it back what it shows: `show_error` (a filter that cannot be
understood: the list keeps the last good result), `show_counts` ("1,234 of 100,000"),
and `show_text` when the filter was set elsewhere (a quick filter or a clear from the
list, a meeting or a person from the side panes).

The input's text is only ever what the person typed or what `show_text` put there:
an applied filter is never written back into it.  (Writing it back raced with typing:
`Input.Changed` reaches the bar after later keys already changed the input, so the
filter applied for the first keystroke replaced what came after it.)

Escape, in two steps, like backing out of layers:
    escape in the input   back to the event list, the filter stays;
    escape in the list    clears the filter (the list's own binding).
Enter (or down, when not walking the recent filters) in the input applies at once and
goes back to the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from zoomtui.words import counted

#: at most one re-filter per this many seconds while typing
THROTTLE = 0.06

#: a hint, never mistaken for a filter in effect: says the key, "e.g.", dim and in italics
PLACEHOLDER = "/ to filter — e.g. type:meeting.participant_*  user:ana  -type:*.qos"
#: the hint on a narrower input: the longest that fits whole (a cut example such as
#: `user:an` reads like a half-typed filter)
SHORTER_PLACEHOLDERS = (
    "/ to filter — e.g. type:meeting.participant_*  user:ana",
    "/ to filter — e.g. type:meeting.participant_*",
    "/ to filter — e.g. user:ana",
    "/ to filter",
    "/",
)

#: for the help screen
FILTER_HELP = """\
/            filter the event list (type to narrow; the count shows matches)
enter, down  keep the filter and go back to the list
up, down     in the filter: walk the recent filters (newest first)
ctrl+s       in the filter: save it under a name (ctrl+p lists saved filters)
escape       in the filter: back to the list, keeping the filter
escape       in the list: clear the filter
M / P / T    in the list: only this row's meeting / participant / event type

Terms (all must match, any case): ana  "two words"  type:meeting.participant_*
  event:... (= type:)  family:webinar  meeting:<id, uuid or topic>  user:<name or email>
  sub:<subscription> (events from a team hub)
  -term negates any of them. Gaps stay visible under every filter (-type:gap hides them).
  @name is the saved filter of that name, e.g. @vip type:meeting.* (quote "@x" to search it).
"""


class FilterBar(Widget):
    """An input, a match count and an error line; the filter of an event list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back to the list", id="filter.close"),
        Binding("down", "newer", "Newer filter / back to the list", show=False, id="filter.down"),
        Binding("up", "older", "Older filter", show=False, id="filter.up"),
        Binding("ctrl+s", "save", "Save filter as…", id="filter.save"),
    ]

    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        & > Horizontal { height: 1; }
        & Input { width: 1fr; border: none; height: 1; padding: 0 1; }
        & Input > .input--placeholder { color: $text-muted 70%; text-style: italic; }
        & #filter-count { width: 26; text-align: right; color: $text-muted; padding: 0 1; }
        & #filter-count.-narrowed { color: $text-accent; }
        & #filter-error { color: $text-error; padding: 0 1; display: none; }
        &.-error #filter-error { display: block; }
        &.-error Input { color: $text-error; }
    }
    """

    class FilterChanged(Message):
        """Apply this filter text (typed, throttled; or set with `set_text`)."""

        def __init__(self, bar: FilterBar, text: str) -> None:
            super().__init__()
            self.bar = bar
            self.text = text

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Closed(Message):
        """The user left the input (escape, enter, down): focus goes back to the list."""

    class SaveRequested(Message):
        """ctrl+s: keep the filter in the input under a name."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    #: the error under the input, "" when the filter is good
    error: reactive[str] = reactive("", init=False)

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._pending_text: str | None = None
        self._last_apply = 0.0
        self._timer: Timer | None = None
        #: the recent filters, newest first (the screen sets where they come from)
        self.history: Callable[[], Sequence[str]] = _no_history
        self._walk: _Walk | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(
                placeholder=PLACEHOLDER, id="filter-input", compact=True, select_on_focus=False
            )
            yield Static("", id="filter-count", markup=False)
        yield Static("", id="filter-error", markup=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_placeholder)

    def _fit_placeholder(self) -> None:
        room = self.input.content_region.width
        if room:
            fits = (hint for hint in (PLACEHOLDER, *SHORTER_PLACEHOLDERS) if len(hint) <= room)
            self.input.placeholder = next(fits, "")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def text(self) -> str:
        return self.input.value

    def set_text(self, text: str) -> None:
        """Replace the filter text and ask for it to be applied now."""
        self.show_text(text)
        self._request(text)

    def show_text(self, text: str) -> None:
        """Show a filter set elsewhere (it is applied already): the input holds it, no
        typed text still waiting to be applied overrides it."""
        self._cancel_pending()
        field = self.input
        with field.prevent(Input.Changed):
            field.value = text
        field.cursor_position = len(text)

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
        if event.value != event.input.value:
            # Stale: the input changed again since (a later Changed carries what it holds
            # now) or `show_text` replaced it (and that filter is applied already).
            return
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
            self._request(text)

    def _cancel_pending(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._pending_text = None

    def _request(self, text: str) -> None:
        self._last_apply = time.monotonic()
        self.post_message(self.FilterChanged(self, text))

    def action_close(self) -> None:
        """Back to the list, keeping the filter (apply what is typed first)."""
        if self._timer is not None:
            self._timer.stop()
            self._flush()
        self.post_message(self.Closed())

    # -- the recent filters (up / down) ---------------------------------------------------
    def action_older(self) -> None:
        """up: the next older recent filter (the first up keeps what was typed)."""
        walk = self._walking()
        if walk is None:
            draft = self.input.value
            entries = tuple(entry for entry in self.history() if entry != draft.strip())
            if not entries:
                return
            walk = self._walk = _Walk(draft, entries)
        if walk.index + 1 < len(walk.entries):
            walk.index += 1
            self._show_walked(walk, walk.entries[walk.index])

    def action_newer(self) -> None:
        """down: the next newer recent filter, past the newest what was typed; when not
        walking, back to the list."""
        walk = self._walking()
        if walk is None:
            self.action_close()
            return
        walk.index -= 1
        if walk.index < 0:
            self._walk = None
            self._show_walked(None, walk.draft)
        else:
            self._show_walked(walk, walk.entries[walk.index])

    def _walking(self) -> _Walk | None:
        """The walk in progress, if the input still shows what it put there (an edit
        ends it: the edited text is what a new walk comes back to)."""
        walk = self._walk
        if walk is not None and self.input.value != walk.shown:
            walk = self._walk = None
        return walk

    def _show_walked(self, walk: _Walk | None, text: str) -> None:
        if walk is not None:
            walk.shown = text
        field = self.input
        field.value = text  # its Changed applies it as typed text is (throttled)
        field.cursor_position = len(text)

    def action_save(self) -> None:
        """ctrl+s: apply what is typed, then ask to keep it under a name."""
        if self._timer is not None:
            self._timer.stop()
            self._flush()
        self.post_message(self.SaveRequested(self.text))

    # -- showing results ---------------------------------------------------------------
    def show_error(self, error: str | None) -> None:
        """The error of the filter just applied (None: it was good)."""
        self.error = error or ""

    def watch_error(self, error: str) -> None:
        self.set_class(bool(error), "-error")
        self.query_one("#filter-error", Static).update(Text(f"✗ {error}" if error else ""))

    def show_counts(self, counts: tuple[int, int]) -> None:
        """(rows shown, rows retained) of the list: rows, not events (state changes, gaps
        and malformed frames are rows too; the panel counts the events)."""
        visible, total = counts
        label = self.query_one("#filter-count", Static)
        narrowed = visible != total
        label.set_class(narrowed, "-narrowed")
        # A fixed width, so a changing count repaints the label only (no screen layout).
        label.update(
            Text(f"{visible:,} of {total:,}" if narrowed else counted(total, "row")), layout=False
        )


def _no_history() -> Sequence[str]:
    return ()


@dataclass(slots=True)
class _Walk:
    """A walk through the recent filters: state of the input, not a value."""

    #: what was in the input when the walk began (down past the newest brings it back)
    draft: str
    #: the recent filters, newest first, without the draft
    entries: tuple[str, ...]
    #: which entry is shown (-1: none yet)
    index: int = -1
    #: the text the walk put in the input
    shown: str = ""
