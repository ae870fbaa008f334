"""The event list: a virtualised view over `EventLog` on Textual's Line API.

Modelled on Toolong's `LogLines`: a `ScrollView` whose `render_line(y)` returns one
`Strip`, so only the rows on screen are ever rendered, however many are retained.
Rendered rows are kept in an LRU cache keyed by the row's sequence number (a stable
identity), the width, and whether it is the cursor row, so a repaint after a batch only
renders the rows that are new on screen.  Line 0 is a fixed header with the column
titles; row i of the filtered view is drawn at virtual line i + 1.

Follow mode keeps the cursor on the newest row and the view at the bottom ("following");
moving up (keys, wheel, scrollbar, click) or the pause key (`toggle_follow`) holds the view
still while rows arrive ("paused · +N new"); `f`, `G` or `end` jumps back and follows.

Everything that came from Zoom is drawn as plain segments (never markup), with control
characters made visible (`event_rows`); `show_marks` adds a mark at each row's end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on, scrollbar
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from zoomtui.monitor.eventlog import EventLog, Row, RowFilter
from zoomtui.tui.widgets.event_names import WidestName
from zoomtui.tui.widgets.event_rows import (
    HISTORY_STYLE,
    ROW_COMPONENTS,
    Columns,
    MarkOf,
    header_strip,
    narrow_filter,
    quick_filter_text,
    resolve_row_style,
    row_strip,
)

# What a row shows is drawn in event_rows; these names are also read from here.
from zoomtui.tui.widgets.event_rows import LATE_AFTER as LATE_AFTER
from zoomtui.tui.widgets.event_rows import event_style as event_style
from zoomtui.tui.widgets.event_rows import visible_text as visible_text
from zoomtui.tui.widgets.scrolling import set_virtual_size
from zoomtui.zoom.protocol import ZoomEvent


class EventLogView(ScrollView, can_focus=True):
    """Every retained row, filtered, newest at the bottom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="events.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="events.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="events.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="events.page_up"),
        Binding("home,g", "first", "Oldest", show=False, id="events.first"),
        Binding("end,G", "last", "Newest", show=False, id="events.last"),
        Binding("enter", "inspect", "Inspect", id="events.inspect"),
        Binding("f", "follow", "Follow", id="events.follow"),
        Binding(
            "M", "quick_filter('meeting')", "Same meeting", show=False, id="events.same_meeting"
        ),
        Binding(
            "P",
            "quick_filter('participant')",
            "Same participant",
            show=False,
            id="events.same_participant",
        ),
        Binding("T", "quick_filter('type')", "Same type", show=False, id="events.same_type"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="events.clear_filter"),
    ]

    COMPONENT_CLASSES = set(ROW_COMPONENTS)

    DEFAULT_CSS = """
    EventLogView {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-gutter: stable;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-subtitle-color: $text-warning;
        border-subtitle-style: bold;
        padding: 0;
        &:focus { border: round $primary; }
        & > .event-log--header { color: $text-muted; text-style: bold; }
        & > .event-log--cursor { background: $primary 35%; }
        &:focus > .event-log--cursor { background: $primary 60%; }
        & > .event-log--time { color: $text-muted; }
        & > .event-log--dim { color: $text-muted; }
        & > .event-log--late { color: $text-warning; text-style: bold; }
        & > .event-log--state { color: $text-muted; text-style: italic; }
    }
    """

    #: while following, repaint at most this often (seconds) however fast rows arrive
    FOLLOW_INTERVAL = 0.1

    follow: reactive[bool] = reactive(True, init=False)
    #: the keys the border names: to pause ("": none named), to follow again
    follow_keys: tuple[str, str] = ("", "f")
    #: (visible rows, retained rows), for the filter bar's "1,234 of 100,000"
    match_counts: reactive[tuple[int, int]] = reactive((0, 0), init=False, repaint=False)
    #: the filter text in effect (the last good one)
    applied_filter: reactive[str] = reactive("", init=False, repaint=False)
    row_mark: MarkOf | None = None  # (`show_marks`)

    # -- messages ----------------------------------------------------------------------
    class Inspect(Message):
        """The user asked to inspect a row (enter, double click)."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    class SelectionChanged(Message):
        """The cursor is on another row (None: the view is empty)."""

        def __init__(self, row: Row | None) -> None:
            super().__init__()
            self.row = row

    class FollowChanged(Message):
        """Follow mode changed, or the count of rows waiting below did."""

        def __init__(self, follow: bool, pending: int) -> None:
            super().__init__()
            self.follow = follow
            self.pending = pending

    class FilterRequested(Message):
        """The list asks for this filter (a quick filter, M/P/T; escape clears): whoever
        holds the filter text shows it and applies it (`apply_filter`)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    # -- setup -----------------------------------------------------------------------
    def __init__(
        self,
        log: EventLog,
        *,
        compile_filter: Callable[[str], RowFilter] | None = None,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.event_log = log
        # Injected for tests and for a host without the filter language.
        self._compile_filter = compile_filter
        self.filter_error: str | None = None
        self._cursor_seq: int | None = None
        self._pause_seq = 0  # rows appended at/after this seq while paused are "new"
        self._seen_vdropped = log.visible_dropped  # to notice rows dropped at the old end
        self._last_follow_report: tuple[bool, int] | None = None
        self._strips: LRUCache[tuple[int, int, bool], Strip] = LRUCache(1024)
        self._follow_timer: Timer | None = None
        self._subtitle: Content | None = None
        self._last_follow_apply = 0.0
        self._columns: Columns | None = None
        self._names = WidestName()  # the event column fits the widest name seen
        self._styles: dict[tuple[str, bool], Style] = {}
        self.border_title = "events"
        #: rows with a smaller seq came from the archive (history on start): drawn dimmed
        self.history_end = 0

    def on_mount(self) -> None:
        self._update_virtual_size()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())
        if self.follow:
            self._stick_to_bottom()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        if self.follow:
            self._stick_to_bottom()
        else:
            self._scroll_to_cursor()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    # -- public API (used by the screen that holds the list) ------------------------------
    def mark_history(self, end_seq: int) -> None:
        """Rows before `end_seq` are history loaded from the archive: draw them dimmed."""
        self.history_end = end_seq
        self._restyle()

    def show_marks(self, mark_of: MarkOf | None) -> None:
        """Draw `mark_of(row)` at each row's end (None: no marks); again when they changed."""
        self.row_mark, self._columns = mark_of, None
        self._restyle()

    def events_in_view(self) -> list[ZoomEvent]:
        """The events the list shows now (its filter applied), oldest first: what "export
        the view" writes.  A copy: live rows keep changing the log."""
        return [r for r in self.event_log if type(r) is ZoomEvent]

    @property
    def selected_row(self) -> Row | None:
        return None if self._cursor_seq is None else self.event_log.row_by_seq(self._cursor_seq)

    @property
    def cursor_index(self) -> int | None:
        """The cursor's position in the filtered view."""
        if self._cursor_seq is None:
            return None
        return self.event_log.visible_index_of_seq(self._cursor_seq)

    @property
    def up_to_date(self) -> bool:
        """Every row of the log is applied, no repaint waiting (screenshots wait for it)."""
        log = self.event_log
        return self._follow_timer is None and self.match_counts == (log.visible_count, log.total)

    @property
    def pending(self) -> int:
        """Rows that arrived below the view while follow was paused."""
        if self.follow:
            return 0
        log = self.event_log
        return log.visible_count - log.first_visible_at_or_after(self._pause_seq)

    def rows_added(self, count: int | None = None) -> None:
        """Called after `log.extend()`: repaint, follow, count what is new.  (`count` is
        not needed: the view works out what changed from the log itself, so a merged or
        dropped batch cannot skew it.)

        While following, repaints are coalesced to one per `FOLLOW_INTERVAL`:
        under a flood every row on screen changes with each batch, nobody reads
        thousands of rows a second, and the time saved keeps keys responsive.
        Paused, the rows on screen do not move, so there is nothing to coalesce.
        """
        if not self.follow:
            self._apply_rows()
        elif self._follow_timer is None:
            wait = self._last_follow_apply + self.FOLLOW_INTERVAL - time.monotonic()
            if wait <= 0:
                self._apply_rows()
            else:
                self._follow_timer = self.set_timer(wait, self._apply_rows, name="follow-repaint")
        # else: the pending timer applies everything that arrived meanwhile

    def _flush_rows(self) -> None:
        """Apply rows whose repaint is still waiting (before the user acts on the view)."""
        if self._follow_timer is not None:
            self._apply_rows()

    def _apply_rows(self) -> None:
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        log = self.event_log
        before = self.virtual_size.height - 1
        shift = max(0, log.visible_dropped - self._seen_vdropped)  # (0 after log.clear())
        self._seen_vdropped = log.visible_dropped
        self._update_virtual_size()
        if self.follow:
            self._last_follow_apply = time.monotonic()
            self._select_seq(self._last_visible_seq(), scroll=False)
            self._stick_to_bottom()
            self.refresh()
        else:
            top = self.scroll_offset.y
            if shift:
                # Rows left at the old end: scroll back as many to keep the same rows on screen.
                self.scroll_to(y=max(0, top - shift), animate=False, force=True)
            if self._cursor_seq is not None and log.row_by_seq(self._cursor_seq) is None:
                self._select_index(0)  # the cursor's row was dropped: the oldest row still here
            elif self._cursor_seq is None and log.visible_count:
                self._select_index(0, scroll=False)
            if shift or before < top + self._page_rows():
                self.refresh()  # new rows landed inside the view, or the rows under it moved
        self._report_follow()

    def apply_filter(self, text: str) -> str | None:
        """Filter the view; returns an error message (and keeps the last good filter) or None."""
        text = text.strip()
        if text == self.applied_filter and self.filter_error is None:
            return None
        if not text:
            flt = None
        else:
            try:
                flt = self._compiler()(text)
            except Exception as exc:  # any bad filter is a message under the input, never a crash
                self.filter_error = str(exc) or "this filter cannot be understood"
                return self.filter_error
        keep_seq = self._cursor_seq
        self.event_log.set_filter(flt)
        self._seen_vdropped = self.event_log.visible_dropped
        self.applied_filter = text
        self.filter_error = None
        self._strips.clear()
        self._update_virtual_size()
        self.border_title = Text.assemble("events", (f" · filter: {text}" if text else "", "bold"))
        if self.follow:
            self._select_seq(self._last_visible_seq(), scroll=False)
            self._stick_to_bottom()
        elif keep_seq is not None and self.event_log.visible_count:
            index = self.event_log.nearest_visible_index(keep_seq)
            self._select_index(index if index is not None else 0, center=True)
        else:
            self._select_index(0)
        self.refresh()
        self._report_follow()
        return None

    def select_row(self, row: Row) -> bool:
        """Put the cursor on a retained, visible row (pauses follow). False if it is not shown."""
        index = self.event_log.index_of(row)
        if index is None:
            return False
        self._pause()
        self._select_index(index, center=True)
        return True

    def select_index(self, index: int) -> None:
        """Put the cursor on the index-th row of the filtered view (pauses follow)."""
        self._pause()
        self._select_index(index, center=True)

    # -- actions -----------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self._move(+1)

    def action_cursor_up(self) -> None:
        self._pause()
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(+max(1, self._page_rows() - 1))

    def action_page_up(self) -> None:
        self._pause()
        self._move(-max(1, self._page_rows() - 1))

    def action_first(self) -> None:
        self._pause()
        self._select_index(0)

    def action_last(self) -> None:
        self.action_follow()

    def toggle_follow(self) -> None:
        """Hold the view where it is (rows still arrive), or jump to the newest and follow."""
        self._pause() if self.follow else self.action_follow()

    def action_follow(self) -> None:
        """Jump to the newest row and stick to it."""
        self.follow = True
        self._apply_rows()  # select the newest row, scroll to the bottom, repaint

    def action_inspect(self) -> None:
        row = self.selected_row
        if row is not None:
            self.post_message(self.Inspect(row))

    def action_quick_filter(self, kind: str) -> None:
        row = self.selected_row
        if row is None:
            self.app.bell()
            return
        text = quick_filter_text(kind, row)
        if not text:
            what = {"type": "event type"}.get(kind, kind)
            self.notify(
                f"The selected row has no {what} to filter on.",
                title="Quick filter",
                severity="warning",
                markup=False,
            )
            return
        self.post_message(self.FilterRequested(narrow_filter(self.applied_filter, text)))

    def action_clear_filter(self) -> None:
        self.post_message(self.FilterRequested(""))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            # Escape only clears a filter; otherwise it passes up (to close, go back...).
            return bool(self.applied_filter)
        return True

    # -- mouse -------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index >= self.event_log.visible_count:
            return
        self._pause()
        self._select_index(index)
        if event.chain >= 2:
            self.action_inspect()

    @on(events.MouseScrollUp)
    @on(scrollbar.ScrollUp)
    @on(scrollbar.ScrollTo)
    def _scrolled_up(self) -> None:
        # Reading back: hold the view still while rows keep arriving.
        self._pause()

    @on(events.MouseScrollDown)
    @on(scrollbar.ScrollDown)
    def _scrolled_down(self) -> None:
        # Scrolling down onto the newest row resumes follow (the default scroll runs first).
        self.call_after_refresh(self._resume_if_at_bottom)

    def _resume_if_at_bottom(self) -> None:
        if (
            not self.follow
            and self.scroll_offset.y >= self.max_scroll_y
            and self.event_log.visible_count
        ):
            self.action_follow()

    # -- cursor and scrolling ----------------------------------------------------------
    def watch_follow(self, follow: bool) -> None:
        # No CSS class for it: a class change restyles the widget, which drops every
        # rendered row (notify_style_update), on each key that pauses or resumes follow.
        self._report_follow()

    def _pause(self) -> None:
        self._flush_rows()
        if self.follow:
            self._pause_seq = self.event_log.appended
            self.follow = False

    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _move(self, delta: int) -> None:
        n = self.event_log.visible_count
        if not n:
            return
        current = self.cursor_index
        if current is None:
            current = n - 1 if delta < 0 else 0
            delta = 0
        self._select_index(max(0, min(n - 1, current + delta)))

    def _last_visible_seq(self) -> int | None:
        return self.event_log.seq_at(-1) if self.event_log.visible_count else None

    def _select_index(self, index: int, *, scroll: bool = True, center: bool = False) -> None:
        n = self.event_log.visible_count
        if not n:
            self._select_seq(None)
            return
        index = max(0, min(n - 1, index))
        self._select_seq(self.event_log.seq_at(index), scroll=scroll, center=center)

    def _select_seq(self, seq: int | None, *, scroll: bool = True, center: bool = False) -> None:
        old = self._cursor_seq
        changed = seq != old
        self._cursor_seq = seq
        if changed:
            self._refresh_rows(old, seq)
            self.post_message(self.SelectionChanged(self.selected_row))
        if scroll and seq is not None:
            self._scroll_to_cursor(center=center)  # (a scroll repaints the whole view)

    def _refresh_rows(self, *seqs: int | None) -> None:
        """Repaint the lines of these rows only (the cursor left one and reached another):
        a key press then costs two lines, not the whole view, however busy the log is."""
        log = self.event_log
        top, rows = self.scroll_offset.y, self._page_rows()
        for seq in seqs:
            if seq is None:
                continue
            index = log.visible_index_of_seq(seq)
            if index is not None and top <= index < top + rows:
                self.refresh_line(index + 1)  # virtual line 0 is the header

    def _scroll_to_cursor(self, *, center: bool = False) -> None:
        index = self.cursor_index
        if index is None:
            return
        rows = self._page_rows()
        top = self.scroll_offset.y
        if center and not top <= index < top + rows:
            target = index - rows // 2
        elif index < top:
            target = index
        elif index >= top + rows:
            target = index - rows + 1
        else:
            return
        self.scroll_to(y=max(0, target), animate=False, force=True)

    def _stick_to_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        log = self.event_log
        set_virtual_size(self, Size(width, log.visible_count + 1))
        self.match_counts = (log.visible_count, log.total)
        if self._names.note(log):  # a new, wider event type: rare, the rows are drawn again
            self.refresh()

    @property
    def widest_name(self) -> int:  # in cells: the event column fits it when it can
        return self._names.cells

    def _report_follow(self) -> None:
        pending, (pause_key, follow_key) = self.pending, self.follow_keys
        if self.follow:
            words = f"following · {pause_key} pauses" if pause_key else "following"
            subtitle: Content = Content.styled(words, "not bold $text-muted")
        else:
            new = f"+{pending:,} new · " if pending else ""
            subtitle = Content(f"paused · {new}{follow_key} follows")
        if subtitle != self._subtitle:  # a border repaint only when the words change
            self._subtitle = subtitle
            self.border_subtitle = subtitle
        state = (self.follow, pending)
        if state != self._last_follow_report:
            self._last_follow_report = state
            self.post_message(self.FollowChanged(*state))

    def _compiler(self) -> Callable[[str], RowFilter]:
        if self._compile_filter is None:
            from zoomtui.monitor.filters import compile_filter

            self._compile_filter = compile_filter
        return self._compile_filter

    # -- rendering ---------------------------------------------------------------------
    def _style(self, key: str, selected: bool = False) -> Style:
        return resolve_row_style(self, self._styles, key, selected)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns, names = self._columns, self._names
        if columns is None or columns.shape != (width, names.cells, names.sub_cells):
            columns = self._columns = Columns(width, names.cells, self.row_mark, names.sub_cells)
            self._strips.clear()
        if y == 0:
            return header_strip(columns, self._style("event-log--header"), self._style("base"))
        index = self.scroll_offset.y + y - 1
        log = self.event_log
        if index >= log.visible_count:
            return Strip.blank(width, self._style("base"))
        seq = log.seq_at(index)
        selected = seq == self._cursor_seq
        key = (seq, width, selected)
        strip = self._strips.get(key)
        if strip is None:
            row = log.row_by_seq(seq)
            strip = row_strip(row, columns, lambda key: self._style(key, selected))
            if seq < self.history_end:
                strip = strip.apply_style(HISTORY_STYLE)
            self._strips[key] = strip
        return strip
