"""Growing a scrollable list, and changing a line of text, without laying out the whole
screen each time.

Textual's `virtual_size` is a reactive with ``layout=True``: any change lays out the
whole screen, and a layout repaints every scrollbar and the whole of the list whose
geometry changed.  A list fed by a flood (the event log while it fills or while a
filter is on, the meetings pane, a webinar's participants) changes its height several
times a second; only a scrollbar appearing or going changes anyone's geometry.

`set_virtual_size` sets the size without the layout and updates the scrollbars the way a
layout would (Textual's own `_scroll_update`: visibility, thumb, scroll offset clamped);
when a scrollbar appears or goes, that change (`show_vertical_scrollbar`, a layout
reactive) lays the screen out as before.  `_scroll_update` is private to Textual: checked
against Textual 8.2.8 (pyproject pins textual to 8.2.x); the event-list and meetings tests
fail if a later Textual changes what it does.

`show_text` updates a `Static` only when what it shows changed, and asks for a layout
only when its size may have: panels rebuilt several times a second under a flood would
otherwise lay the screen out, and repaint every pane with a scrollbar, each time.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static


def set_virtual_size(view: Widget, size: Size) -> None:
    """Set `view.virtual_size`; the screen is laid out only if a scrollbar comes or goes."""
    if size == view.virtual_size:
        return
    if not view.is_mounted or not view.container_size:
        view.virtual_size = size  # not laid out yet: the first layout takes it
        return
    view.set_reactive(Widget.virtual_size, size)
    # private (Textual 8.2.8): scrollbars (a visibility change lays out), offsets clamped
    view._scroll_update(size)
    view.refresh()


def show_text(widget: Static, content: Content, size: object = None) -> None:
    """Show `content` in `widget` if it is not what it shows already.  `size`: what decides
    the widget's size (its rows, its width), the screen laid out only when that changed
    since the last update; None (text that wraps) lays it out on every change."""
    key = (content.plain, tuple(content.spans))
    shown = getattr(widget, "_zoomtui_shown", None)
    if shown is not None and shown[0] == key:
        return
    layout = shown is None or size is None or shown[1] != size
    widget._zoomtui_shown = (key, size)  # type: ignore[attr-defined]  # our mark on any Static
    widget.update(content, layout=layout)
