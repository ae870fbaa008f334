"""Growing a scrollable list without laying out the whole screen each time.

Textual's `virtual_size` is a reactive with ``layout=True``: any change lays out the
whole screen, and a layout repaints every scrollbar and the whole of the list whose
geometry changed.  A list fed by a flood (the event log while it fills or while a
filter is on, the meetings pane, a webinar's participants) changes its height several
times a second; only a scrollbar appearing or going changes anyone's geometry.

`set_virtual_size` sets the size without the layout and updates the scrollbars the way a
layout would (Textual's own `_scroll_update`: visibility, thumb, scroll offset clamped);
when a scrollbar appears or goes, that change (`show_vertical_scrollbar`, a layout
reactive) lays the screen out as before.  Checked against Textual 8.2.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


def set_virtual_size(view: Widget, size: Size) -> None:
    """Set `view.virtual_size`; the screen is laid out only if a scrollbar comes or goes."""
    if size == view.virtual_size:
        return
    if not view.is_mounted or not view.container_size:
        view.virtual_size = size  # not laid out yet: the first layout takes it
        return
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)  # scrollbars (a visibility change lays out), offsets clamped
    view.refresh()
