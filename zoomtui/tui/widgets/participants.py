"""The participant panel: who is in the meeting selected in the meetings pane, right now.

    ╭─ Weekly sync ─────────────────────────────╮
    │ id 85746352415 · started 14:02 · 41m
    │ 5 in · peak 7 · 1 waiting · 3 left
    │ ⚠ start not seen                              (data problems, when there are any)
    │ In the meeting · 5
    │ ● Ana Souza                  ↻1 14:03  41m    (the email too, when wide enough)
    │ Waiting · 1
    │ ◌ Guest 4821                  waiting room
    │ Left · 3
    │ ○ Bo Lindqvist               network 14:40
    │ Ana Souza · ana.souza@example.com             (the person under the cursor)
    │ in since 14:03:05 (41m)
    │ rejoined 1×, first joined 13:59:40
    ╰────────────────────────────── by join time ╯

Every number and every row comes from the app's `MeetingTracker` (one source of truth):
the summary shows the meeting's counters, and the sections list its participants by
status, so the two always agree; both are taken at one moment (rows are copies), so a
repaint between two rebuilds cannot mix states.  Keys on the list: `enter` filters the event log to the
person (their events in this meeting), `l` to the meeting, `s` sorts by name or join
time, `f` finds a person, `escape` goes back to the meetings.  Names are data (plain
text pieces, never markup).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from zoomtui.monitor.meetings import FLAG_LABELS, Meeting, MeetingTracker, Presence
from zoomtui.timefmt import clock_hm, clock_hms, duration_compact
from zoomtui.tui.widgets.line_list import LineList, Pieces, fit, focus_now, right_aligned
from zoomtui.tui.widgets.meetings_pane import (
    REFRESH_INTERVAL,
    TICK_INTERVAL,
    filter_log,
    meeting_filter,
    meeting_title,
)
from zoomtui.tui.widgets.people import (
    SECTION_TITLES,
    PersonRow,
    matches,
    participant_filter,
    person_name,
    short_reason,
    sorted_people,
)
from zoomtui.tui.widgets.scrolling import show_text
from zoomtui.visible import visible_text

#: from this list width on, rows show the email beside the name
WIDE = 50
#: room kept for the right-hand column ('↻2 ⚠ 14:03  17m') when placing the email column
RIGHT_COLUMN = 17
#: rebuild at most once per this many times the last rebuild took (a tenth of the loop)
REBUILD_SHARE = 10
SORT_MODES = ("time", "name")
SORT_LABELS = {"time": "by join time", "name": "by name"}
GLYPHS = {Presence.IN: ("● ", "ok"), Presence.WAITING: ("◌ ", "warn"), Presence.LEFT: ("○ ", "dim")}


def unseen_join_note(m: Meeting | None, key: str) -> str:
    """Why person `key` of `m` left with no join seen when that is no data problem (they
    were in before we listened, see `Meeting.joins_unseen`); "" otherwise."""
    p = m.participants.get(key) if m is not None else None
    if m is None or p is None or not m.joins_unseen or p.flags == m.person_problems(p):
        return ""
    return m.unseen_join_words


def _show_rows(widget: Static, content: Content) -> None:
    """A one-fact-per-row Static: the screen is laid out only when its number of rows changed."""
    show_text(widget, content, content.plain.count("\n"))


class FindInput(Input):
    """The find box: escape, enter or down go back to the list (the text stays)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to the list", id="participants.find_back", priority=True),
        Binding("down", "back", "Back to the list", show=False, priority=True),
    ]

    def __init__(self, back_to: Widget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.back_to = back_to  # the list beside it in the panel

    def action_back(self) -> None:
        focus_now(self.back_to)


class ParticipantList(LineList):
    """The people of one meeting, in sections (in, waiting, left)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "filter_person", "Log: this person", id="participants.filter_person"),
        Binding("l", "filter_meeting", "Log: this meeting", id="participants.filter_meeting"),
        Binding("s", "sort", "Sort", id="participants.sort"),
        # `/` stays the app's (it filters the event log everywhere)
        # priority: the focus moves when the key arrives, so a name typed right after f
        # lands in the find box (see MeetingsPane.BINDINGS)
        Binding("f", "find", "Find person", id="participants.find", priority=True),
        # (back to the meetings pane: the screen's, it holds the panes; see MeetingsPane)
        Binding(
            "escape",
            "screen.focus_meetings",
            "Back to meetings",
            show=False,
            id="participants.leave",
            priority=True,
        ),
    ]

    empty_text = "No meeting selected."

    def __init__(self, panel: ParticipantPanel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.panel = panel

    def watch_cursor_key(self) -> None:
        super().watch_cursor_key()
        self.panel.show_detail()

    def line_pieces(self, payload: Any, width: int, selected: bool) -> Pieces:
        kind, value = payload
        if kind == "head":
            return [(value, "heading")]
        if kind == "note":
            return [(value, "dim")]
        p: PersonRow = value
        glyph = GLYPHS[p.status]
        name_style = "bold" if p.status is Presence.IN else "base"
        right: Pieces = []
        if p.rejoin_count:
            right.append((f"↻{p.rejoin_count} ", "accent"))
        if p.flags:
            right.append(("⚠ ", "warn"))
        if p.origin is not None:  # not seen live: from Zoom's API, or inferred after a gap
            right.append((p.origin.mark + " ", "warn" if p.origin.inferred else "dim"))
        if p.status is Presence.IN:
            right.append(
                (
                    f"{clock_hm(p.join_ms)} {duration_compact(p.time_in_meeting(self.panel.now())):>4}",
                    "dim",
                )
            )
        elif p.status is Presence.WAITING:
            right.append((visible_text(p.detail or "waiting"), "warn"))
        else:
            right.append((f"{short_reason(p.leave_reason)} {clock_hm(p.leave_ms)}", "dim"))
        left: Pieces = [glyph]
        if width >= WIDE and p.email and p.email != p.display_name:
            # wide enough for the email too: it tells apart two people with one name (the
            # column is placed by the width alone, so emails line up whatever is on the right)
            name_w = max(16, (width - 2 - RIGHT_COLUMN) * 11 // 20)
            left += [
                (fit(person_name(p), name_w), name_style),
                (" ", "base"),
                (visible_text(p.email), "dim"),
            ]
        else:
            left.append((person_name(p), name_style))
        return right_aligned(left, right, width)

    # -- actions (the panel does the work) -------------------------------------------------
    def action_filter_person(self) -> None:
        self.panel.filter_log_to_person()

    def action_filter_meeting(self) -> None:
        self.panel.filter_log_to_meeting()

    def action_sort(self) -> None:
        self.panel.toggle_sort()

    def action_find(self) -> None:
        field = self.panel.find_input
        field.add_class("-shown")
        focus_now(field)

    def on_line_list_activated(self, message: LineList.Activated) -> None:
        message.stop()
        self.action_filter_person()


class ParticipantPanel(Widget):
    """Summary, find box, the list and the selected person's details, for one meeting
    (`show_meeting`: the screen passes on the meetings pane's `MeetingSelected`)."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

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
        self.meeting_uuid: str | None = None
        self.sort_by = "time"
        self.query_text = ""
        self._seen: tuple[Any, ...] | None = None
        self._rows: dict[str, PersonRow] = {}  # the people as of the last rebuild
        self._last_rebuild = 0.0
        self._rebuild_cost = 0.0
        self._last_paint = 0.0
        self._timer: Timer | None = None
        self._list = ParticipantList(self, id="participant-list")
        self._find = FindInput(
            self._list,
            placeholder="find: name or email",
            id="participants-find",
            compact=True,
            select_on_focus=False,
        )

    def compose(self) -> ComposeResult:
        yield Static("", id="participants-summary", markup=False)
        yield self._find
        yield self._list
        yield Static("", id="participant-detail", markup=False)

    def on_mount(self) -> None:
        self.border_title = "participants"
        self.border_subtitle = Text(SORT_LABELS[self.sort_by])
        self.rebuild()
        self._timer = self.set_interval(REFRESH_INTERVAL, self._poll, name="participants-poll")

    # -- public ----------------------------------------------------------------------------
    @property
    def participant_list(self) -> ParticipantList:
        return self._list

    @property
    def find_input(self) -> FindInput:
        return self._find

    @property
    def meeting(self) -> Meeting | None:
        return None if self.meeting_uuid is None else self.tracker.get(self.meeting_uuid)

    @property
    def selected(self) -> PersonRow | None:
        """The person under the cursor, as the panel shows them (its last rebuild)."""
        key = self._list.cursor_key
        return None if key is None else self._rows.get(key)

    @property
    def up_to_date(self) -> bool:
        """True when the panel shows its meeting as the tracker has it (tests wait for it)."""
        return self._seen == self._state()

    def now(self) -> float:
        return self.clock()

    def focus(self, scroll_visible: bool = True) -> ParticipantPanel:
        """Focusing the panel focuses its list (at once: see `focus_now`)."""
        focus_now(self._list)
        return self

    def show_meeting(self, uuid: str | None) -> None:
        """Show this meeting's people (the meeting under the meetings pane's cursor)."""
        if uuid == self.meeting_uuid:
            return
        self.meeting_uuid = uuid
        self.rebuild()
        self._list.reset_cursor()

    def toggle_sort(self) -> None:
        self.sort_by = SORT_MODES[(SORT_MODES.index(self.sort_by) + 1) % len(SORT_MODES)]
        self.border_subtitle = Text(SORT_LABELS[self.sort_by])
        self.rebuild()

    def filter_log_to_person(self) -> None:
        m, p = self.meeting, self.selected
        if m is None or p is None:
            self.app.bell()
            return
        filter_log(
            self,
            participant_filter(m, p),
            f"Only {p.display_name}'s events in “{meeting_title(m)}”",
        )

    def filter_log_to_meeting(self) -> None:
        m = self.meeting
        if m is None:
            self.app.bell()
            return
        filter_log(self, meeting_filter(m), f"Only the events of “{meeting_title(m)}”")

    # -- keeping up with the tracker -----------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_text = event.value.strip()
        self._show_find()
        self.rebuild()

    def on_descendant_focus(self) -> None:
        self._show_find()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._show_find)

    def _show_find(self) -> None:
        # The find box takes a row only while it is in use: focused, or holding a query.
        field = self._find
        field.set_class(field.has_focus or bool(field.value), "-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        focus_now(self._list)

    def _state(self) -> tuple[Any, ...]:
        m = self.meeting
        return (
            self.meeting_uuid,
            m is None,
            m.version if m is not None else -1,
            self.sort_by,
            self.query_text,
        )

    def _poll(self) -> None:
        if self._state() != self._seen:
            # a crowd (a webinar of thousands) costs milliseconds per rebuild: keep the
            # panel's share of the loop to about a tenth however big the meeting
            if time.monotonic() - self._last_rebuild >= REBUILD_SHARE * self._rebuild_cost:
                self.rebuild()
        else:
            m = self.meeting
            mono = time.monotonic()
            if m is not None and m.current_count and mono - self._last_paint >= TICK_INTERVAL:
                self._last_paint = mono
                # nothing changed since the rebuild, so the tracker still matches the rows:
                # only the clock moved (durations, time in meeting)
                self._show_summary(m)
                self._list.refresh()
                self.show_detail()

    def rebuild(self) -> None:
        """Re-read the meeting now (the timer does this when it changed).

        The summary and the rows are taken from the tracker at this one moment, and the
        rows are copies: lines drawn later (a scroll, the clock tick) cannot show a newer
        state than the counts above them.
        """
        started = time.monotonic()
        try:
            self._rebuild()
        finally:
            self._last_rebuild = time.monotonic()
            self._rebuild_cost = self._last_rebuild - started

    def _rebuild(self) -> None:
        self._seen = self._state()
        self._last_paint = time.monotonic()
        m = self.meeting
        self._show_summary(m)
        if m is None:
            self._rows = {}
            self.border_title = "participants"
            self._list.empty_text = (
                "No meeting selected."
                if self.meeting_uuid is None
                else "This meeting is no longer tracked."
            )
            self._list.set_lines([])
            self.show_detail()
            return
        self.border_title = Text(meeting_title(m))
        now = self.clock()
        problems = m.person_problems
        rows = self._rows = {
            p.key: PersonRow.of(p, now, problems(p)) for p in m.participants.values()
        }
        groups = {
            status: [rows[p.key] for p in people]
            for status, people in sorted_people(m, self.sort_by).items()
        }
        lines: list[tuple[str | None, Any]] = []
        q = self.query_text
        for status, people in groups.items():
            shown = [p for p in people if matches(p, q)] if q else people
            if not people or (q and not shown):
                continue
            count = f"{len(shown)} of {len(people)}" if q else f"{len(people)}"
            lines.append((None, ("head", f"{SECTION_TITLES[status]} · {count}")))
            lines.extend((p.key, ("row", p)) for p in shown)
        if not lines:
            lines.append(
                (None, ("note", f"Nobody matches “{q}”." if q else "Nobody has joined yet."))
            )
        self._list.set_lines(lines)
        self.show_detail()

    # -- drawing ---------------------------------------------------------------------------
    def _show_summary(self, m: Meeting | None) -> None:
        summary = self.query_one("#participants-summary", Static)
        if m is None:
            _show_rows(
                summary,
                Content.assemble(
                    ("Select a meeting in the list above (m, then ↑ ↓).", "italic $text-muted")
                ),
            )
            summary.tooltip = None
            return
        head = self._meeting_line(m, compact=False)
        if cell_len(head) > (self.content_region.width or 40):
            head = self._meeting_line(m, compact=True)
        left = sum(1 for p in m.participants.values() if p.status is Presence.LEFT)
        parts: list[str | tuple[str, str]] = [
            (head, "$text-muted"),
            "\n",
            (f"{m.current_count} in", "bold"),
            f" · peak {m.peak_count}",
        ]
        if m.waiting_count:
            parts += [" · ", (f"{m.waiting_count} waiting", "bold $text-warning")]
        parts.append(f" · {left} left")
        problems = m.problems()
        if problems:
            parts += ["\n", ("⚠ " + " · ".join(problems), "$text-warning")]
        _show_rows(summary, Content.assemble(*parts))
        flags = (["start not seen"] if not m.start_seen else []) + list(m.problem_flags())
        said = "\n".join(f"{f}: {FLAG_LABELS.get(f, '')}" for f in flags)
        summary.tooltip = Content(said) if said else None

    def _meeting_line(self, m: Meeting, *, compact: bool) -> str:
        """'webinar · id 983… · started 14:03 · 17m' (compact: 'webinar 983… · 14:03 · 17m')."""
        head = []
        kind = "webinar" if m.kind == "webinar" else ""
        if m.id:
            head.append(
                f"{kind} {m.id}".strip()
                if compact
                else " · ".join(filter(None, (kind, f"id {m.id}")))
            )
        elif kind:
            head.append(kind)
        duration = m.duration(self.clock())
        if m.is_live:
            if m.start_ms is not None:
                head.append(clock_hm(m.start_ms) if compact else f"started {clock_hm(m.start_ms)}")
            else:
                head.append("start unknown" if compact else "start time unknown")
            if duration is not None:
                head.append(duration_compact(duration))
        else:
            head.append("deleted" if m.deleted and not m.ended else f"ended {clock_hm(m.end_ms)}")
            if duration is not None:
                head.append(f"ran {duration_compact(duration)}")
        return " · ".join(head)

    def on_resize(self) -> None:
        self._show_summary(self.meeting)

    def show_detail(self) -> None:
        """The person under the cursor, in full (email, times, why they left, flags)."""
        detail = self.query_one("#participant-detail", Static)
        p = self.selected
        if p is None:
            detail.display = False
            return
        detail.display = True
        now = self.clock()
        name = person_name(p)
        parts: list[str | tuple[str, str]] = [(name, "bold")]
        if p.email and p.email != p.display_name:
            email = visible_text(p.email)
            # the whole email matters (it identifies the person): where the line is too
            # narrow for both, the text wraps at the space and the email gets a line of its
            # own (decided as it is drawn, at the width it has)
            parts.append(" · " + email)
        # the full times here (to the second): the list only has room for HH:MM
        stay = duration_compact(p.time_in_meeting(now))
        if p.status is Presence.IN:
            now_line = f"in since {clock_hms(p.join_ms)} ({stay})"
        elif p.status is Presence.WAITING:
            now_line = visible_text(p.detail or "waiting")
        else:
            now_line = f"left {clock_hms(p.leave_ms)}: {visible_text(p.leave_reason or 'left')}"
        parts += ["\n", (now_line, "$text-muted")]
        history = []
        if p.status is not Presence.IN and p.first_join_ms is not None:
            history.append(f"was in {stay}")
        if p.rejoin_count:
            history.append(f"rejoined {p.rejoin_count}×, first joined {clock_hms(p.first_join_ms)}")
        if history:
            parts += ["\n", (" · ".join(history), "$text-muted")]
        if p.flags:  # (the data problems: `Meeting.person_problems`)
            parts += ["\n", ("⚠ " + " · ".join(sorted(p.flags)), "$text-warning")]
        elif note := unseen_join_note(self.meeting, p.key):
            parts += ["\n", (note, "$text-muted")]
        if p.origin is not None:
            parts += [
                "\n",
                (p.origin.text, "$text-warning" if p.origin.inferred else "$text-muted"),
            ]
        elif self.meeting is not None and self.meeting.roster_at is not None:
            # beside people known from Zoom's API, say that this one's state was seen
            parts += ["\n", ("seen live", "$text-muted")]
        _show_rows(detail, Content.assemble(*parts))
