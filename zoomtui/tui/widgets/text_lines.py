"""Read-only lines of Rich text on the Line API (the inspector's panes)."""

from __future__ import annotations

from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class TextLines(ScrollView, can_focus=True):
    """Read-only lines of Rich text on the Line API: only what is on screen is rendered.

    A Static holding an expanded event of 8,000 lines takes a quarter of a
    second to lay out; this takes the same time for 8 lines or 20,000.
    Lines are not wrapped: long ones scroll sideways (left/right).
    """

    DEFAULT_CSS = """
    TextLines { overflow: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.lines: list[Text] = []
        self._strips: LRUCache[int, Strip] = LRUCache(512)

    def set_lines(self, lines: list[Text]) -> None:
        self.lines = lines
        self._strips.clear()
        width = max((line.cell_len for line in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            line = self.lines[index]
            strip = Strip(line.render(self.app.console), line.cell_len).apply_style(base)
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)
