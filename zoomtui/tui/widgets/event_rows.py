"""How a row of the event list is drawn, and the filter terms a row gives.

Everything that came from Zoom is drawn as plain segments (never markup), with control
characters made visible (`visible_text`).  The columns (`Columns`) are worked out once
per width and widest event name; `row_segments` draws one row with the styles the list
resolved for it, an event name too wide for its column shortened from the middle
(`event_names.short_name`: `meeting.participant_joined` -> `mtg.ptcp_joined`).
`quick_filter_text` and `narrow_filter` are the list's M / P / T keys.

A list given a `mark_of` (forwarding's handler answers) keeps `MARK_CELLS` at each row's
right end for its mark (`→200`, `→ERR`), the columns sharing what is left; below
`MARK_MIN_WIDTH` there are no marks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from zoomtui.monitor.eventlog import GapRow, Row, StateRow
from zoomtui.monitor.recording import HistoryMark
from zoomtui.timefmt import clock_ms, duration_words, lag_cell
from zoomtui.tui.theme import GAP_STYLE, MALFORMED_STYLE, family_style, rich_style_for
from zoomtui.tui.widgets.event_names import short_name
from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, family_of

#: the component classes a list drawing event rows declares (the names `row_strip` asks for)
ROW_COMPONENTS = frozenset(
    {
        "event-log--header",
        "event-log--cursor",
        "event-log--time",
        "event-log--dim",
        "event-log--late",
        "event-log--state",
    }
)


def resolve_row_style(
    widget: Any, cache: dict[tuple[str, bool], Style], key: str, selected: bool = False
) -> Style:
    """A style for a list of event rows, resolved once per theme into `cache`: the
    widget's own (key "base": `rich_style` walks the ancestors on every call), one of
    its components (resolved against its background), or a theme style over the base;
    `selected` adds the cursor's background."""
    found = cache.get((key, selected))
    if found is None:
        if selected:
            cursor = resolve_row_style(widget, cache, "event-log--cursor")
            found = resolve_row_style(widget, cache, key) + Style(bgcolor=cursor.bgcolor)
        elif key == "base":
            found = widget.rich_style
        elif key.startswith("event-log--"):
            found = widget.get_component_rich_style(key)
        else:
            base = resolve_row_style(widget, cache, "base")
            found = base + rich_style_for(key, widget.app.theme_variables)
        cache[(key, selected)] = found
    return found


#: rows loaded from the archive on start are drawn dimmed (and end at a HistoryMark line)
HISTORY_STYLE = Style(dim=True)

#: a lag at or above this many seconds is shown as late ($warning)
LATE_AFTER = 5.0
#: in the lag cell of a frame received a second time (Zoom sent the same event again)
DUPLICATE_MARK = "⧉"

#: events whose colour says more than their family's (arrivals and departures)
_NAME_STYLES: dict[str, str] = {
    "participant_joined": "$text-success",
    "participant_left": "$text-warning",
    "participant_jbh_joined": "$text-success",
    "participant_jbh_waiting": "$text-warning",
    "participant_admitted": "$text-success",
    "participant_put_in_waiting_room": "$text-warning",
}


#: cells a row's mark takes at the list's right end (` →200`, ` →ERR`, ` →full`)
MARK_CELLS = 6
#: a list narrower than this draws no marks: its own columns need every cell
MARK_MIN_WIDTH = 40
#: the mark column's title
MARK_TITLE = "fwd"


class RowMark(Protocol):
    """What a row's mark shows: a few cells of text in a theme style."""

    @property
    def text(self) -> str: ...

    @property
    def style(self) -> str: ...


#: a row's mark (None: none)
MarkOf = Callable[[Row], RowMark | None]


def event_style(name: str) -> str:
    """The theme style for an event name: by family, arrivals/departures stand out."""
    _, _, action = name.partition(".")
    return _NAME_STYLES.get(action) or family_style(family_of(name))


def _fit(text: str, width: int) -> str:
    """Pad or cut to exactly `width` cells, marking a cut with an ellipsis."""
    if width <= 0:
        return ""
    if text.isascii():  # the common case: one cell per character
        if len(text) <= width:
            return text.ljust(width)
        return text[: width - 1] + "…"
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class Columns:
    """Column widths for one content width and the widest event name present (worked out
    once per pair).

    The event column fits the widest name present when there is room (up to half of
    what the time and lag leave); names wider than the column are shortened from the
    middle (`short_name`).  The meeting and participant columns share what is left, and
    are left out when they would get fewer than SIDE_COLUMNS_MIN cells together: the
    event column then has all the room.

    `sub` cells (a hub's viewer of several subscriptions: `WidestName.sub_cells`) go to
    a subscription column after the event's, taken from the meeting and participant's
    room; it gives way first, when they would be left fewer than SIDE_COLUMNS_MIN.
    """

    TIME = 12
    LAG = 6
    #: the event column is at least this wide while the meeting and participant show
    NAME_MIN = 12
    #: the meeting and participant columns show only with this many cells between them
    SIDE_COLUMNS_MIN = 20

    def __init__(
        self,
        width: int,
        widest_name: int = NAME_MIN,
        mark_of: MarkOf | None = None,
        sub_cells: int = 0,
    ) -> None:
        self.width = width
        self.widest_name = widest_name
        self.sub_cells = sub_cells
        #: what the columns were worked out for: a list works them out again when it changes
        self.shape = (width, widest_name, sub_cells)
        #: with marks, the columns of what the mark leaves (`with_marks` draws them)
        self.mark_of = mark_of if width >= MARK_MIN_WIDTH else None
        self.unmarked = (
            Columns(width - MARK_CELLS, widest_name, sub_cells=sub_cells) if self.mark_of else self
        )
        rest = max(0, width - self.TIME - 1 - self.LAG - 1)
        name = min(max(self.NAME_MIN, widest_name), max(self.NAME_MIN, rest // 2))
        flexible = rest - name - 2
        #: the subscription column's cells (0: not shown)
        self.sub = sub_cells if flexible - sub_cells - 1 >= self.SIDE_COLUMNS_MIN else 0
        flexible -= self.sub + 1 if self.sub else 0
        if flexible >= self.SIDE_COLUMNS_MIN:
            self.name = name
            self.meeting = flexible * 55 // 100
            self.participant = flexible - self.meeting
        else:
            self.name, self.meeting, self.participant, self.sub = rest, 0, 0, 0
        self.show_lag = width >= self.TIME + self.LAG + 14
        if not self.show_lag:  # the lag's cells go to the name (the side pane beside a narrow log)
            self.name = max(0, width - self.TIME - 2)


def header_strip(c: Columns, style: Style, base: Style) -> Strip:
    """The column titles (virtual line 0)."""
    if c.unmarked is not c:
        title = Segment(_fit(f" {MARK_TITLE}", MARK_CELLS), style)
        return Strip.join([header_strip(c.unmarked, style, base), Strip([title], MARK_CELLS)])
    parts = [_fit("received", c.TIME), " ", _fit("event", c.name)]
    if c.sub:
        parts += [" ", _fit("sub", c.sub)]
    if c.meeting:
        parts += [" ", _fit("meeting", c.meeting), " ", _fit("participant", c.participant)]
    if c.show_lag:
        parts += [" ", "lag".rjust(c.LAG)]
    return Strip([Segment("".join(parts), style)]).adjust_cell_length(c.width, base)


def row_strip(row: Row | None, c: Columns, s: Callable[[str], Style]) -> Strip:
    """One row as a strip of exactly the list's width (None: a row gone, drawn blank)."""
    if c.mark_of is not None:
        mark = c.mark_of(row) if row is not None else None
        return Strip.join([row_strip(row, c.unmarked, s), mark_strip(mark, s)])
    segments = row_segments(row, c, s) if row is not None else []
    used = sum(cell_len(text) for text, _, _ in segments)
    if used != c.width:  # narrow screens, or a row kind that does not fill the width
        return Strip(segments, used).adjust_cell_length(c.width, s("base"))
    return Strip(segments, c.width)


def mark_strip(mark: RowMark | None, s: Callable[[str], Style]) -> Strip:
    """A row's mark in its `MARK_CELLS` (None: blank cells)."""
    if mark is None:
        return Strip([Segment(" " * MARK_CELLS, s("base"))], MARK_CELLS)
    return Strip([Segment(_fit(f" {visible_text(mark.text)}", MARK_CELLS), s(mark.style))])


def row_segments(row: Row, c: Columns, s: Callable[[str], Style]) -> list[Segment]:
    """One row as segments, one per column (`s`: a style key to the resolved style)."""
    base = s("base")
    # Each column carries its separating space: fewer segments per row is less
    # work in every later stage of Textual's line pipeline.
    clock = Segment(_fit(clock_ms(row.received_at), c.TIME) + " ", s("event-log--time"))
    rest = max(0, c.width - c.TIME - 1)
    if type(row) is ZoomEvent:
        name = row.name
        shown = short_name(visible_text(name), c.name)
        segs = [clock, Segment(_fit(shown, c.name) + " ", s(event_style(name)))]
        if c.sub:
            sub = visible_text(row.subscription_id or "")
            segs.append(Segment(_fit(sub, c.sub) + " ", s("event-log--dim")))
        if c.meeting and row.subject is not None:
            # not about a meeting (user.*, ...): its subject, "Jill Chill <jchill@...>",
            # where the meeting goes and over the participant column (it has none)
            width = c.meeting + 1 + c.participant
            segs.append(Segment(_fit(visible_text(row.subject), width) + " ", base))
        elif c.meeting:
            meeting = visible_text(row.topic or row.meeting_id or row.meeting_uuid or "")
            ident = row.meeting_id if row.topic and row.meeting_id else ""
            if ident and cell_len(meeting) + 1 + len(ident) <= c.meeting:
                # the topic, then the meeting number dimmed, when both fit
                segs += [
                    Segment(meeting + " ", base),
                    Segment(
                        _fit(ident, c.meeting - cell_len(meeting) - 1) + " ",
                        s("event-log--dim"),
                    ),
                ]
            else:
                segs.append(Segment(_fit(meeting, c.meeting) + " ", base))
            who = row.participant_name or row.participant_email or row.participant_key or ""
            segs.append(Segment(_fit(visible_text(who), c.participant) + " ", base))
        if c.show_lag:
            lag = row.lag
            late = lag is not None and lag >= LATE_AFTER
            # a frame received a second time: its mark right before the lag, in its cell
            dup = row.duplicate_after is not None
            value = lag_cell(lag, c.LAG - dup)[dup - c.LAG :]
            cell = c.LAG if c.meeting else max(c.LAG, c.width - c.TIME - 1 - c.name - 1)
            lag_style = s("event-log--late" if late else "event-log--dim")
            if dup:
                mark = " " * (cell - len(value) - 1) + DUPLICATE_MARK
                segs += [Segment(mark, s("event-log--late")), Segment(value, lag_style)]
            else:
                segs.append(Segment(value.rjust(cell), lag_style))
        return segs
    if isinstance(row, GapRow):
        text = (
            f"⚠ gap {clock_ms(row.start)[:8]}–{clock_ms(row.end)[:8]} "
            f"({duration_words(row.seconds)}): events in this window were not delivered"
        )
        if row.reason:
            text += f" · {visible_text(row.reason)}"
        return [clock, Segment(_fit(text, rest), s(GAP_STYLE))]
    if isinstance(row, MalformedFrame):
        text = f"✗ malformed: {visible_text(row.reason)} · {visible_text(row.preview)}"
        return [clock, Segment(_fit(text, rest), s(MALFORMED_STYLE))]
    if isinstance(row, StateRow):
        text = f"● {row.state}" + (f" · {visible_text(row.reason)}" if row.reason else "")
        return [clock, Segment(_fit(text, rest), s("event-log--state"))]
    if isinstance(row, HistoryMark):
        text = f"── {visible_text(row.text)} "
        text += "─" * max(0, rest - cell_len(text))  # a rule to the edge, no "…"
        return [clock, Segment(_fit(text, rest), s("event-log--state"))]
    return [clock, Segment(_fit(visible_text(repr(row)), rest), base)]


def quick_filter_text(kind: str, row: Row) -> str | None:
    """The filter term for "same meeting / participant / type as this row" (None: not applicable)."""
    from zoomtui.monitor import filters

    if kind == "type":
        return filters.filter_for_type(row)
    if not isinstance(row, ZoomEvent):
        return None
    if kind == "meeting":
        return filters.filter_for_meeting(row)
    if kind == "participant":
        return filters.filter_for_participant(row)
    return None


def narrow_filter(current: str, term: str) -> str:
    """`current` narrowed by a quick-filter `term`, replacing a term on the same field.

    So T then M means "this type in this meeting", and M on another row moves
    to that row's meeting instead of asking for two meetings at once.
    """
    from zoomtui.monitor.filters import FilterError, compile_filter

    current = current.strip()
    if not current:
        return term
    try:
        terms = compile_filter(current).terms
        (new,) = compile_filter(term).terms
    except (FilterError, ValueError):
        return term
    if any(t.field == new.field and not t.negated for t in terms):
        kept = [t.describe() for t in terms if t.field != new.field or t.negated]
        return " ".join([*kept, term])
    if any(t == new for t in terms):
        return current
    return f"{current} {term}"
