"""The list of events an archive search found: virtualised as the live event list is.

A `ScrollView` on Textual's Line API over an `EventLog` of its own (so the inspector
steps through the results with n/p as it does through the live list): only the rows on
screen are drawn, by the live list's own row drawing (`event_rows`), and kept in an LRU
cache.  Every row is drawn dimmed, as history from the archive is in the live list: these
are archived events, not live ones.  Results arrive oldest first and the list stays where
the person put it (the first result, until they move): nothing follows.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from zoomtui.monitor.eventlog import EventLog, Row
from zoomtui.tui.widgets.event_names import WidestName
from zoomtui.tui.widgets.event_rows import (
    HISTORY_STYLE,
    ROW_COMPONENTS,
    Columns,
    header_strip,
    resolve_row_style,
    row_strip,
)
from zoomtui.tui.widgets.scrolling import set_virtual_size


class ArchiveResultsView(ScrollView, can_focus=True):
    """The results, oldest first, under a header of column titles (virtual line 0)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False, id="results.down"),
        Binding("up,k", "move(-1)", "Up", show=False, id="results.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="results.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="results.page_up"),
        Binding("home,g", "first", "First result", show=False, id="results.first"),
        Binding("end,G", "last", "Last result", show=False, id="results.last"),
        Binding("enter", "inspect", "Inspect", id="results.inspect"),
    ]

    # The same component classes as the live list: `event_rows` draws with these names.
    COMPONENT_CLASSES = set(ROW_COMPONENTS)

    DEFAULT_CSS = """
    ArchiveResultsView {
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-gutter: stable;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
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

    class Inspect(Message):
        """The person asked to inspect a result (enter, double click)."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    def __init__(self, results: EventLog, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.results = results
        #: the cursor's place among the results (None: no results yet)
        self.cursor: int | None = None
        self._strips: LRUCache[tuple[int, int, bool], Strip] = LRUCache(1024)
        self._styles: dict[tuple[str, bool], Style] = {}
        self._columns: Columns | None = None
        self._names = WidestName()

    def on_mount(self) -> None:
        self._update_virtual_size()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()

    # -- content -----------------------------------------------------------------------
    def rows_added(self) -> None:
        """Called after `results.extend()`: a longer list; the first result is selected."""
        before = self.virtual_size.height - 1
        self._update_virtual_size()
        if self.cursor is None and self.results.visible_count:
            self.cursor = 0
        if before < self.scroll_offset.y + self._page_rows():  # new rows landed in view
            self.refresh()

    @property
    def selected_row(self) -> Row | None:
        if self.cursor is None or self.cursor >= self.results.visible_count:
            return None
        return self.results.visible(self.cursor)

    def select_row(self, row: Row) -> None:
        """Put the cursor on a result (the inspector leaves the list on the row last shown)."""
        index = self.results.index_of(row)
        if index is not None:
            self._select(index)

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width
        set_virtual_size(self, Size(width, self.results.visible_count + 1))
        if self._names.note(self.results):  # a wider event name: the columns change
            self.refresh()

    # -- the cursor --------------------------------------------------------------------
    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _select(self, index: int) -> None:
        n = self.results.visible_count
        if not n:
            return
        index = max(0, min(n - 1, index))
        old, self.cursor = self.cursor, index
        top, rows = self.scroll_offset.y, self._page_rows()
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + rows:
            self.scroll_to(y=index - rows + 1, animate=False, force=True)
        else:  # only the two lines the cursor left and reached are drawn again
            for line in (old, index):
                if line is not None and top <= line < top + rows:
                    self.refresh_line(line - top + 1)

    def action_move(self, delta: int) -> None:
        self._select((self.cursor or 0) + delta if self.cursor is not None else 0)

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self._page_rows() - 1))

    def action_first(self) -> None:
        self._select(0)

    def action_last(self) -> None:
        self._select(self.results.visible_count - 1)

    def action_inspect(self) -> None:
        row = self.selected_row
        if row is None:
            self.app.bell()
            return
        self.post_message(self.Inspect(row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index < self.results.visible_count:
            self._select(index)
            if event.chain >= 2:
                self.action_inspect()

    # -- drawing -----------------------------------------------------------------------
    def _style(self, key: str, selected: bool = False) -> Style:
        return resolve_row_style(self, self._styles, key, selected)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self._columns
        if columns is None or columns.width != width or columns.widest_name != self._names.cells:
            columns = self._columns = Columns(width, self._names.cells)
            self._strips.clear()
        if y == 0:
            return header_strip(columns, self._style("event-log--header"), self._style("base"))
        index = self.scroll_offset.y + y - 1
        results = self.results
        if index >= results.visible_count:
            return Strip.blank(width, self._style("base"))
        selected = index == self.cursor
        key = (index, width, selected)
        strip = self._strips.get(key)
        if strip is None:
            row = results.visible(index)
            strip = row_strip(row, columns, lambda key: self._style(key, selected))
            strip = strip.apply_style(HISTORY_STYLE)  # archived, not live: dimmed
            self._strips[key] = strip
        return strip
