"""The meetings pane: live meetings first, recently ended ones after them (dimmed).

It only renders the app's `MeetingTracker` (the one source of truth); it never counts
anything itself.  Two lines per meeting:

    ● Weekly sync                       5 in
      webinar · 41m · 2 waiting · ⚠ start not seen · ⚠ 3 problems

Cheap under a flood: a timer looks at `tracker.version` a few times a second and
rebuilds the (short) list only when it changed; between changes the pane repaints
once a second so durations tick.  Only the lines on screen are rendered (Line API).

`LineList` is the keyboard list both side panes are built on: lines grouped by item
key, a cursor that stays on its item (by key, not position) while the list reorders
under it, and styles from the theme through component classes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from zoomtui.monitor.filters import quote_value
from zoomtui.monitor.meetings import Meeting, MeetingTracker
from zoomtui.tui.widgets.event_log import visible_text

#: how often the panes look at the tracker's version (seconds): at most this many rebuilds
REFRESH_INTERVAL = 0.25
#: repaint for the clock (durations) this often, when nothing else changed
TICK_INTERVAL = 1.0
#: drop meetings that ended longer ago than the tracker's retention this often
PRUNE_INTERVAL = 30.0
#: ended meetings listed (most recent first); a flood of short meetings ends thousands
ENDED_SHOWN = 50

#: a line: (piece text, style key) pairs; style keys are component class suffixes
Pieces = list[tuple[str, str]]


# -- formatting ------------------------------------------------------------------------
def clock_hm(epoch_ms: int | None) -> str:
    """HH:MM in local time ('--:--' when unknown)."""
    if epoch_ms is None:
        return "--:--"
    try:
        return time.strftime("%H:%M", time.localtime(epoch_ms / 1000))
    except (OverflowError, OSError, ValueError):
        return "--:--"


def span(seconds: float | None) -> str:
    """A short duration: 12s, 41m, 1h05, 3d4h ('' when unknown)."""
    if seconds is None:
        return ""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}"
    return f"{s // 86400}d{s % 86400 // 3600}h"


def fit(text: str, width: int) -> str:
    """Pad or cut to exactly `width` cells, marking a cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def problem_count(m: Meeting) -> int:
    """Data problems seen for a meeting (each duplicate, late event... counts once)."""
    return sum(n for n in m.flags.values() if n > 0)


def meeting_title(m: Meeting) -> str:
    """The topic (data from Zoom, made safe for one line), else the meeting number."""
    if m.topic:
        return visible_text(m.topic)
    return f"meeting {m.id}" if m.id else "(no topic)"


def meeting_filter(m: Meeting) -> str:
    """The event-log filter for one occurrence: what `filters.filter_for_meeting` gives
    for any of its events (``meeting:<uuid>``)."""
    return "meeting:" + quote_value(m.uuid)


def focus_now(widget: Widget) -> None:
    """Focus at once.  `Widget.focus()` waits for the message queue, so keys typed right
    after the one that moved the focus (fast typing, paste, tmux send-keys) would still
    go to the widget that had it."""
    widget.screen.set_focus(widget)


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """What the pane shows of one meeting, copied from the tracker at one moment."""

    uuid: str
    kind: str
    live: bool
    title: str
    id: str | None
    current: int
    peak: int
    waiting: int
    start_seen: bool
    problems: int
    end_ms: int | None  # the end time, else when we learned it was deleted or ended
    deleted_only: bool  # deleted without an end seen
    duration: float | None  # at `at`
    at: float

    @classmethod
    def of(cls, m: Meeting, now: float) -> MeetingRow:
        end_ms = m.end_ms
        if end_ms is None and m.finished_seen_at is not None:
            end_ms = int(m.finished_seen_at * 1000)
        return cls(uuid=m.uuid, kind=m.kind, live=m.is_live, title=meeting_title(m), id=m.id,
                   current=m.current_count, peak=m.peak_count, waiting=m.waiting_count,
                   start_seen=m.start_seen, problems=problem_count(m), end_ms=end_ms,
                   deleted_only=m.deleted and not m.ended, duration=m.duration(now), at=now)

    def duration_at(self, now: float) -> float | None:
        """The duration as the clock moves on (a live meeting keeps running)."""
        if self.duration is None or not self.live:
            return self.duration
        return self.duration + max(0.0, now - self.at)


class LogFilterRequested(Message):
    """A side pane asks the app to filter the event log (the app owns the filter bar)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


# -- the list both panes use -------------------------------------------------------------
class LineList(ScrollView, can_focus=True):
    """Lines grouped by item; up/down move between items; only visible lines render.

    Subclasses fill it with `set_lines([(key, payload), ...])` (key None: a heading that
    the cursor skips) and draw a line in `line_pieces(payload, width, selected)`.
    """

    BINDINGS: list[BindingType] = [
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

    def __init__(self, *, name: str | None = None, id: str | None = None,  # noqa: A002
                 classes: str | None = None) -> None:
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
        self.virtual_size = Size(self.scrollable_content_region.width, max(1, len(self._lines)))
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
        self.virtual_size = Size(self.scrollable_content_region.width, max(1, len(self._lines)))
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


# -- the meetings pane -------------------------------------------------------------------
class MeetingsPane(LineList):
    """Meetings from the tracker: live first (newest start first), then recently ended."""

    BINDINGS: list[BindingType] = [
        # keys that move the focus are priority bindings: they run when the key arrives, so
        # keys typed right after them already go to the newly focused widget
        Binding("enter", "open", "Participants", id="meetings.open", priority=True),
        Binding("l", "filter_log", "Log: this meeting", id="meetings.filter_log"),
        Binding("escape", "leave", "Back to events", show=False, id="meetings.leave",
                priority=True),
    ]

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    empty_text = "No meetings yet: they appear as events arrive."

    def __init__(
        self,
        tracker: MeetingTracker,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tracker = tracker
        self.clock = clock
        self._seen_version = -1
        self._last_paint = 0.0
        self._last_prune = time.monotonic()
        self._live = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "meetings"
        self.rebuild()
        self._timer = self.set_interval(REFRESH_INTERVAL, self._poll, name="meetings-poll")

    @property
    def up_to_date(self) -> bool:
        """True when the pane shows the tracker's current version (tests wait for it)."""
        return self._seen_version == self.tracker.version

    @property
    def selected_meeting(self) -> Meeting | None:
        key = self.cursor_key
        return None if key is None else self.tracker.get(key)

    # -- keeping up with the tracker ---------------------------------------------------
    def _poll(self) -> None:
        mono = time.monotonic()
        if mono - self._last_prune >= PRUNE_INTERVAL:
            self._last_prune = mono
            self.tracker.prune(self.clock())
        # (also while hidden or under a modal screen: a rebuild of tens of meetings is cheap,
        # and the pane is right the moment it shows)
        if self.tracker.version != self._seen_version:
            self.rebuild()
        elif self._live and mono - self._last_paint >= TICK_INTERVAL:
            self._last_paint = mono
            self.refresh()  # durations

    def rebuild(self) -> None:
        """Re-read the tracker now (the timer does this when its version changed).

        The rows are copies taken now, not the tracker's live objects: lines drawn later
        (a scroll, the clock tick) then show this one moment, never a mix of two.
        """
        tracker = self.tracker
        self._seen_version = tracker.version
        self._last_paint = time.monotonic()
        now = self.clock()
        ordered = tracker.ordered()
        live = [MeetingRow.of(m, now) for m in ordered if m.is_live]
        ended = [m for m in ordered if not m.is_live]
        rows = live + [MeetingRow.of(m, now) for m in ended[:ENDED_SHOWN]]
        self._live = len(live)
        lines: list[tuple[str | None, Any]] = []
        for row in rows:
            lines.append((row.uuid, (row, 0)))
            lines.append((row.uuid, (row, 1)))
        if len(ended) > ENDED_SHOWN:
            lines.append((None, (None, f"+{len(ended) - ENDED_SHOWN:,} more ended")))
        self.set_lines(lines)
        title = Text("meetings")
        title.append(f" · {self._live} live", "bold" if self._live else "")
        if ended:
            title.append(f" · {len(ended):,} ended")
        self.border_title = title

    # -- drawing -----------------------------------------------------------------------
    def line_pieces(self, payload: Any, width: int, selected: bool) -> Pieces:
        m, which = payload
        if m is None:
            return [("  " + which, "ended")]
        now = self.clock()
        live = m.live
        if which == 0:
            if live:
                glyph = ("● ", "ok")
                right = [(f"{m.current} in", "bold")]
            else:
                glyph = ("○ ", "ended")
                right = [(f"peak {m.peak}", "ended")]
            return right_aligned([glyph, (m.title, "bold" if live else "ended")], right, width)
        parts: list[tuple[str, str]] = []
        muted = "dim" if live else "ended"
        if m.kind == "webinar":
            parts.append(("webinar", "accent" if live else "ended"))
        duration = m.duration_at(now)
        if live:
            parts.append((span(duration) if duration is not None else "start time unknown", muted))
            if m.waiting:
                parts.append((f"{m.waiting} waiting", "warn"))
        else:
            parts.append(("deleted" if m.deleted_only else f"ended {clock_hm(m.end_ms)}", muted))
            if duration is not None:
                parts.append((f"ran {span(duration)}", muted))
        if not m.start_seen:
            parts.append(("⚠ start not seen", "warn" if live else "ended"))
        if m.problems:
            parts.append((f"⚠ {plural(m.problems, 'problem')}", "warn" if live else "ended"))
        left = [("  ", "base"), *joined(parts)]
        # the number tells apart two occurrences with one topic (Zoom reuses topics freely)
        ident = m.id or ""
        if ident and sum(cell_len(t) for t, _ in left) + len(ident) + 2 <= width:
            return right_aligned(left, [(ident, muted)], width)
        return left

    # -- actions -----------------------------------------------------------------------
    def action_open(self) -> None:
        """Enter: to the participant panel of the meeting under the cursor."""
        if self.cursor_key is None:
            self.app.bell()
            return
        for panel in self.screen.query("#participants"):
            panel.focus()  # the panel passes it on to its list, at once
            break

    def on_line_list_activated(self, message: LineList.Activated) -> None:
        message.stop()
        self.action_open()

    def action_filter_log(self) -> None:
        m = self.selected_meeting
        if m is None:
            self.app.bell()
            return
        self.post_message(LogFilterRequested(meeting_filter(m)))

    def action_leave(self) -> None:
        for view in self.screen.query("#events"):
            focus_now(view)
            break
