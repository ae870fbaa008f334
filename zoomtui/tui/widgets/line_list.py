"""A keyboard list on Textual's Line API, the base of both side panes.

Lines are grouped by item key (an item may take several lines; key None is a heading the
cursor skips).  The cursor stays on its item by key, not by position, while the content
is replaced under it; until the user moves it, it stays on the first item.  Only the
lines on screen are drawn, from plain (text, style) pieces: text from Zoom is never
parsed as markup, and styles come from the theme through component classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from zoomtui.tui.widgets.scrolling import set_virtual_size

#: a line: (piece text, style key) pairs; style keys are `line-list--<key>` component
#: classes, or "base" (the widget's own style)
Pieces = list[tuple[str, str]]


def fit(text: str, width: int) -> str:
    """Pad or cut to exactly `width` cells, marking a cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def focus_now(widget: Widget) -> None:
    """Focus at once.  `Widget.focus()` waits for the message queue, so keys typed right
    after the one that moved the focus (fast typing, paste, tmux send-keys) would still
    go to the widget that had it."""
    widget.screen.set_focus(widget)


class LineList(ScrollView, can_focus=True):
    """Lines grouped by item; up/down move between items; only visible lines render.

    Subclasses fill it with `set_lines([(key, payload), ...])` (key None: a heading that
    the cursor skips) and draw a line in `line_pieces(payload, width, selected)`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES = {
        "line-list--cursor",
        "line-list--dim",
        "line-list--ok",
        "line-list--warn",
        "line-list--accent",
        "line-list--bold",
        "line-list--heading",
        "line-list--ended",
    }

    DEFAULT_CSS = """
    LineList {
        overflow-x: hidden;
        overflow-y: auto;
        & > .line-list--cursor { background: $primary 30%; }
        &:focus > .line-list--cursor { background: $primary 60%; }
        & > .line-list--dim { color: $text-muted; }
        & > .line-list--ended { color: $text-disabled; }
        & > .line-list--ok { color: $text-success; }
        & > .line-list--warn { color: $text-warning; }
        & > .line-list--accent { color: $text-secondary; }
        & > .line-list--bold { text-style: bold; }
        & > .line-list--heading { color: $text-muted; text-style: bold; }
    }
    """

    #: the item under the cursor (None: nothing to select)
    cursor_key: reactive[str | None] = reactive(None, init=False, repaint=False)

    #: shown when there is nothing to list
    empty_text = ""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[tuple[str | None, Any]] = []
        self._keys: list[str] = []  # selectable items in order
        self._first_line: dict[str, int] = {}
        self._last_line: dict[str, int] = {}
        self._styles: dict[tuple[str, bool], Style] = {}
        #: the user put the cursor somewhere; until then it stays on the first item (the
        #: newest live meeting, the first person) however the list changes
        self.chosen = False

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        self._styles.clear()
        self.refresh()

    # -- content -----------------------------------------------------------------------
    def set_lines(self, lines: Sequence[tuple[str | None, Any]]) -> None:
        """Replace the content; the cursor stays on its item, or moves to where it was."""
        old_keys, old_cursor = self._keys, self.cursor_key
        self._lines = list(lines)
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        keys: list[str] = []
        for i, (key, _) in enumerate(self._lines):
            if key is None:
                continue
            if key not in first:
                first[key] = i
                keys.append(key)
            last[key] = i
        self._keys, self._first_line, self._last_line = keys, first, last
        set_virtual_size(self, Size(self.scrollable_content_region.width, max(1, len(self._lines))))
        if not self.chosen and keys:
            self.cursor_key = keys[0]
        elif old_cursor not in first:
            if not keys:
                self.cursor_key = None
            elif old_cursor is None:
                self.cursor_key = keys[0]
            else:
                # the item went (filtered out, pruned): take the one now at its old place
                at = old_keys.index(old_cursor) if old_cursor in old_keys else 0
                self.cursor_key = keys[min(at, len(keys) - 1)]
        self.refresh()

    def line_pieces(self, payload: Any, width: int, selected: bool) -> Pieces:
        raise NotImplementedError

    # -- cursor ------------------------------------------------------------------------
    def select(self, key: str | None) -> None:
        if key is None or key in self._first_line:
            self.chosen = key is not None
            self.cursor_key = key

    def reset_cursor(self) -> None:
        """Back to the first item, following it again (new content)."""
        self.chosen = False
        self.cursor_key = self._keys[0] if self._keys else None
        self.scroll_to(y=0, animate=False)

    def watch_cursor_key(self) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _move(self, delta: int) -> None:
        keys = self._keys
        if not keys:
            return
        at = keys.index(self.cursor_key) if self.cursor_key in self._first_line else 0
        self.chosen = True
        self.cursor_key = keys[max(0, min(len(keys) - 1, at + delta))]

    def action_cursor_down(self) -> None:
        self._move(+1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(+max(1, self._lines_per_item_page()))

    def action_page_up(self) -> None:
        self._move(-max(1, self._lines_per_item_page()))

    def action_first(self) -> None:
        self.reset_cursor()

    def action_last(self) -> None:
        if self._keys:
            self.chosen = True
            self.cursor_key = self._keys[-1]

    def _lines_per_item_page(self) -> int:
        if not self._keys:
            return 1
        per_item = max(1, len(self._lines) // len(self._keys))
        return max(1, self.scrollable_content_region.height // per_item - 1)

    def _scroll_to_cursor(self) -> None:
        key = self.cursor_key
        if key is None or key not in self._first_line:
            return
        top, rows = self.scroll_offset.y, max(1, self.scrollable_content_region.height)
        first, last = self._first_line[key], self._last_line[key]
        # a heading right above the first item stays in view with it
        if first > 0 and self._lines[first - 1][0] is None and first - 1 < top:
            first -= 1
        if first < top:
            self.scroll_to(y=first, animate=False, force=True)
        elif last >= top + rows:
            self.scroll_to(y=max(first, last - rows + 1), animate=False, force=True)

    def on_resize(self) -> None:
        set_virtual_size(self, Size(self.scrollable_content_region.width, max(1, len(self._lines))))
        self.call_after_refresh(self._scroll_to_cursor)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < len(self._lines) and self._lines[index][0] is not None:
            self.chosen = True
            self.cursor_key = self._lines[index][0]
            if event.chain >= 2:
                self.post_message(self.Activated(self.cursor_key))

    class Activated(Message):
        """Double click on an item (what enter does)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    # -- rendering ---------------------------------------------------------------------
    def _style(self, key: str, selected: bool = False) -> Style:
        found = self._styles.get((key, selected))
        if found is None:
            if selected:
                cursor = self.get_component_rich_style("line-list--cursor")
                found = self._style(key) + Style(bgcolor=cursor.bgcolor)
            elif key == "base":
                found = self.rich_style
            else:
                found = self.get_component_rich_style("line-list--" + key)
            self._styles[(key, selected)] = found
        return found

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if not self._lines:
            if y == 0 and self.empty_text:
                return self._strip([(self.empty_text, "dim")], width, False)
            return Strip.blank(width, self._style("base"))
        if index >= len(self._lines):
            return Strip.blank(width, self._style("base"))
        key, payload = self._lines[index]
        selected = key is not None and key == self.cursor_key
        return self._strip(self.line_pieces(payload, width, selected), width, selected)

    def _strip(self, pieces: Pieces, width: int, selected: bool) -> Strip:
        segments: list[Segment] = []
        used = 0
        for text, style in pieces:
            if not text:
                continue
            room = width - used
            if room <= 0:
                break
            n = cell_len(text)
            if n > room:
                text, n = fit(text, room), room
            segments.append(Segment(text, self._style(style, selected)))
            used += n
        return Strip(segments, used).adjust_cell_length(width, self._style("base", selected))


def right_aligned(left: Pieces, right: Pieces, width: int, pad_style: str = "base") -> Pieces:
    """`left` cut to leave room for `right` at the right edge."""
    right_w = sum(cell_len(t) for t, _ in right)
    room = max(0, width - right_w - 1)
    out: Pieces = []
    used = 0
    for text, style in left:
        n = cell_len(text)
        if used + n > room:
            out.append((fit(text, room - used), style))
            used = room
            break
        out.append((text, style))
        used += n
    out.append((" " * (width - used - right_w), pad_style))
    return out + right


def joined(parts: Sequence[tuple[str, str]], sep: str = " · ") -> Pieces:
    """Pieces with a dim separator between them."""
    out: Pieces = []
    for text, style in parts:
        if out:
            out.append((sep, "dim"))
        out.append((text, style))
    return out
