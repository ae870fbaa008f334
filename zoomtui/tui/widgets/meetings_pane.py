"""The meetings pane: live meetings first, recently ended ones after them (dimmed).

It only renders the app's `MeetingTracker` (the one source of truth); it never counts
anything itself.  Two lines per meeting:

    ● Weekly sync                       5 in
      webinar · 41m · 2 waiting · ⚠ start not seen · ⚠ 3 problems

Cheap under a flood: a timer looks at `tracker.version` a few times a second and
rebuilds the (short) list only when it changed; between changes the pane repaints
once a second so durations tick.  Only the lines on screen are rendered (Line API,
see `line_list.LineList`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from zoomtui.monitor.filters import quote_value
from zoomtui.monitor.meetings import Meeting, MeetingTracker
from zoomtui.timefmt import clock_hm, duration_compact
from zoomtui.tui.widgets.line_list import (
    LineList,
    Pieces,
    joined,
    right_aligned,
)
from zoomtui.visible import visible_text

#: how often the panes look at the tracker's version (seconds): at most this many rebuilds
REFRESH_INTERVAL = 0.25
#: repaint for the clock (durations) this often, when nothing else changed
TICK_INTERVAL = 1.0
#: ended meetings listed (most recent first); a flood of short meetings ends thousands
ENDED_SHOWN = 50


# -- formatting ------------------------------------------------------------------------
def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def problem_count(m: Meeting) -> int:
    """Data problems seen for a meeting (each duplicate, late event... counts once; a leave
    of someone in before we listened is none, see `Meeting.problem_flags`)."""
    return sum(m.problem_flags().values())


def meeting_title(m: Meeting) -> str:
    """The topic (data from Zoom, made safe for one line), else the meeting number."""
    if m.topic:
        return visible_text(m.topic)
    return f"meeting {m.id}" if m.id else "(no topic)"


def meeting_filter(m: Meeting) -> str:
    """The event-log filter for one occurrence: what `filters.filter_for_meeting` gives
    for any of its events (``meeting:<uuid>``)."""
    return "meeting:" + quote_value(m.uuid)


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
    #: where it is known from when not seen live ("api 14:02", "≈ ended in gap"; "": live)
    origin_mark: str = ""
    #: the mark is an inference (its end was not seen): said first, never cut off
    origin_inferred: bool = False

    @classmethod
    def of(cls, m: Meeting, now: float) -> MeetingRow:
        end_ms = m.end_ms
        if end_ms is None and m.finished_seen_at is not None:
            end_ms = int(m.finished_seen_at * 1000)
        return cls(
            uuid=m.uuid,
            kind=m.kind,
            live=m.is_live,
            title=meeting_title(m),
            id=m.id,
            current=m.current_count,
            peak=m.peak_count,
            waiting=m.waiting_count,
            start_seen=m.start_seen,
            problems=problem_count(m),
            end_ms=end_ms,
            deleted_only=m.deleted and not m.ended,
            duration=m.duration(now),
            at=now,
            origin_mark=m.origin.mark if m.origin is not None else "",
            origin_inferred=m.origin is not None and m.origin.inferred,
        )

    def duration_at(self, now: float) -> float | None:
        """The duration as the clock moves on (a live meeting keeps running)."""
        if self.duration is None or not self.live:
            return self.duration
        return self.duration + max(0.0, now - self.at)


class LogFilterRequested(Message):
    """A side pane asks for the event log to be filtered (its screen holds the filter)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def filter_log(widget: Widget, text: str, what: str) -> None:
    """Ask for a log filter, and say in words what it shows: the filter itself holds
    uuids and participant ids, which tell a person nothing."""
    widget.post_message(LogFilterRequested(text))
    widget.notify(
        f"{what}. Escape in the event list shows every event again.",
        title="Event log",
        timeout=4,
        markup=False,
    )


# -- the meetings pane -------------------------------------------------------------------
class MeetingsPane(LineList):
    """Meetings from the tracker: live first (newest start first), then recently ended."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # keys that move the focus are priority bindings: they run when the key arrives, so
        # keys typed right after them already go to the newly focused widget
        # (moving between panes is the screen's: it holds them; `screen.` runs its action
        # while the key is handled, so the next key already goes where the focus went)
        Binding("enter", "open", "Participants", id="meetings.open", priority=True),
        Binding("l", "filter_log", "Log: this meeting", id="meetings.filter_log"),
        Binding(
            "escape",
            "screen.focus_events",
            "Back to events",
            show=False,
            id="meetings.leave",
            priority=True,
        ),
    ]

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    empty_text = "No meetings yet: they appear as events arrive."

    class MeetingSelected(Message):
        """The cursor is on another meeting (uuid None: none); the participant panel
        shows the selected one."""

        def __init__(self, uuid: str | None) -> None:
            super().__init__()
            self.uuid = uuid

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

    def watch_cursor_key(self) -> None:
        super().watch_cursor_key()
        self.post_message(self.MeetingSelected(self.cursor_key))

    # -- keeping up with the tracker ---------------------------------------------------
    def _poll(self) -> None:
        # (the app drops old ended meetings; the tracker caps how many it keeps)
        mono = time.monotonic()
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
            parts.append(
                (
                    duration_compact(duration) if duration is not None else "start time unknown",
                    muted,
                )
            )
            if m.waiting:
                parts.append((f"{m.waiting} waiting", "warn"))
        elif m.origin_inferred:
            # nobody saw it end: the gap's end is no end time, and a narrow pane cuts the
            # row's tail, so the inference takes the end's place
            parts.append((m.origin_mark, "warn"))
        else:
            parts.append(("deleted" if m.deleted_only else f"ended {clock_hm(m.end_ms)}", muted))
            if duration is not None:
                parts.append((f"ran {duration_compact(duration)}", muted))
        if not m.start_seen:
            parts.append(("⚠ start not seen", "warn" if live else "ended"))
        if m.problems:
            parts.append((f"⚠ {plural(m.problems, 'problem')}", "warn" if live else "ended"))
        if m.origin_mark and not (m.origin_inferred and not live):
            parts.append((m.origin_mark, muted))
        left = [("  ", "base"), *joined(parts)]
        # the number tells apart two occurrences with one topic (Zoom reuses topics freely)
        ident = m.id or ""
        if ident and sum(cell_len(t) for t, _ in left) + len(ident) + 2 <= width:
            return right_aligned(left, [(ident, muted)], width)
        return left

    # -- actions -----------------------------------------------------------------------
    async def action_open(self) -> None:
        """Enter: to the participant panel of the meeting under the cursor."""
        if self.cursor_key is None:
            self.app.bell()
            return
        await self.run_action("screen.focus_participants")

    async def on_line_list_activated(self, message: LineList.Activated) -> None:
        message.stop()
        await self.action_open()

    def action_filter_log(self) -> None:
        m = self.selected_meeting
        if m is None:
            self.app.bell()
            return
        filter_log(self, meeting_filter(m), f"Only the events of “{meeting_title(m)}”")
