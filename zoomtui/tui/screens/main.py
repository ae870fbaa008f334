"""The main screen: connection panel (top), filter bar and event list (left), meetings and
participants (right; `m` shows and hides them; below SIDE_PANE_FROM columns they start
hidden and the event list has the width), footer.

The screen owns the layout, the keys that act on it (filter, connect / disconnect /
reconnect, meetings, export the view, pause the list or a replay) and the wiring between its
widgets.  They never look each other up: each posts what it wants and the screen passes
it on (messages up, method calls down):

    FilterBar.FilterChanged       the list applies it; the bar shows the error, if any
    FilterBar.Closed              focus back to the list (the filter is noted as recent)
    FilterBar.SaveRequested       (ctrl+s) Save filter as…: `FilterMemory` asks a name
    EventLogView.FilterRequested  (M / P / T, escape) the bar shows it, the list applies it
    LogFilterRequested            (a meeting, a person in the side panes) the same
    EventLogView.Inspect          the inspector opens on the row

`A` searches the archive for the filter in effect, on a screen of its own
(`screens/archive_search.py`): the live list goes on under it.
    MeetingsPane.MeetingSelected  the participant panel shows that meeting

Moving between the panes is the screen's too (`focus_events`, `focus_meetings`,
`focus_participants`): the panes' keys name these actions, and an action runs while its
key is handled, so keys typed right after it already reach the newly focused pane.

The app feeds it what the session applied (`show_rows`, `refresh_panel_for`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, TextArea

from zoomtui.monitor.export import (
    ExportError,
    export_to_first_folder,
    view_export_folders,
    view_export_name,
)
from zoomtui.monitor.filters import FilterError
from zoomtui.monitor.session import Applied
from zoomtui.tui.filtermemory import FilterMemory
from zoomtui.tui.linkwords import DISCONNECT, RETAKE
from zoomtui.tui.screens.archive_search import ArchiveSearchScreen, open_search
from zoomtui.tui.screens.confirm import ConfirmScreen, Question
from zoomtui.tui.screens.connection_details import ConnectionDetailsScreen
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.connection_panel import ConnectionPanel
from zoomtui.tui.widgets.event_log import EventLogView
from zoomtui.tui.widgets.filter_bar import FilterBar
from zoomtui.tui.widgets.footer import FittingFooter
from zoomtui.tui.widgets.line_list import focus_now
from zoomtui.tui.widgets.meetings_pane import LogFilterRequested, MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantPanel
from zoomtui.words import counted
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState

if TYPE_CHECKING:
    from zoomtui.monitor.eventlog import Row
    from zoomtui.tui.app import ZoomtuiApp

#: actions that drive a live connection (a replay has none)
CONNECTION_ACTIONS = frozenset({"connect", "disconnect", "reconnect"})
#: the panel re-renders at most this often because of arriving events (state changes: at once)
PANEL_REFRESH_INTERVAL = 0.25
#: below this many columns the side pane (meetings, participants) starts hidden and the
#: event log has the width (`m` brings the pane back, beside the log): a narrower log
#: would lose its meeting and participant columns, and the pane would be cramped anyway
SIDE_PANE_FROM = 110
#: the footer's keys that never give way on a narrow screen: every other key is in help
FOOTER_KEEPS = ("help", "quit")
#: which footer keys give way first where not all fit (higher first, then the right-most):
#: c and r (the panel's border says them, and a replay's space), then f (the list's border
#: says space follows)
FOOTER_GIVES_WAY = {"connect": 3, "disconnect": 3, "reconnect": 3, "replay_pause": 3, "follow": 2}


class MainScreen(Screen[None]):
    """The monitor's one screen of its own; the inspector, help and first run go on top."""

    # (Textual loads a CSS_PATH only for screens it pushes, not for the default screen)
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        # j/k, g/G, enter, f (follow), escape (clear filter) belong to the event list
        # priority: checked when the key arrives, before it travels to the focused widget and
        # back, so keys typed right after `/` (fast, pasted, tmux send-keys) reach the input
        Binding("slash", "filter", "Filter", id="app.filter", priority=True),
        Binding("c", "connect", "Connect", id="connection.connect"),
        Binding("c", "disconnect", "Disconnect", id="connection.disconnect"),
        Binding("r", "reconnect", "Reconnect", id="connection.reconnect"),
        Binding("m", "meetings", "Meetings", id="view.meetings"),
        # the state, and the whole reason and hint the panel's state line cuts with "…"
        Binding(
            "i",
            "connection_details",
            "Connection details",
            id="connection.details",
            show=False,
        ),
        # not in the footer (full already): in the help screen and the palette
        Binding("e", "export_view", "Export view", id="view.export", show=False),
        Binding(
            "A",
            "search_archive",
            "Search the archive for the filter",
            id="view.search_archive",
            show=False,
        ),
        Binding("space", "replay_pause", "Pause/resume", id="replay.pause"),
        # live: hold the list still while events keep arriving (the border says which)
        Binding("space", "pause_view", "Pause / follow the list", id="view.pause", show=False),
    ]

    #: the event list has the focus when the screen first shows (not the filter input)
    AUTO_FOCUS = "#events"

    #: the screen has the class -narrow below SIDE_PANE_FROM columns (main.tcss)
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (SIDE_PANE_FROM, "-wide"),
    ]

    def __init__(self, app: ZoomtuiApp) -> None:
        super().__init__()
        self._panel_refreshed = 0.0
        # Built now, not in compose(): the app sets the panel's title as it starts a source,
        # which may be before this screen is composed.
        self.panel = ConnectionPanel(app.status, clock=app.clock)
        #: recent and saved filters (`@name` in a filter is expanded as it is compiled)
        self.filters = FilterMemory(app)
        self.filter_bar = FilterBar(id="filter")
        self.filter_bar.history = self.filters.recent
        self.event_view = EventLogView(
            app.event_log, compile_filter=self.filters.compile, id="events"
        )
        if app.replay is None:  # (a replay's space pauses the replay itself)
            self.event_view.follow_keys = ("space", "space or f")
        self.meetings_pane = MeetingsPane(app.meetings, clock=app.clock, id="meetings")
        self.participants = ParticipantPanel(app.meetings, clock=app.clock, id="participants")

    @property
    def monitor(self) -> ZoomtuiApp:
        return self.app  # type: ignore[return-value]  # Textual types it App[Any]; always ours

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.panel
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield self.filter_bar
                yield self.event_view
            with Vertical(id="side"):
                yield self.meetings_pane
                yield self.participants
        yield FittingFooter(keep=FOOTER_KEEPS, gives_way=FOOTER_GIVES_WAY)

    def on_mount(self) -> None:
        self.watch(self.event_view, "match_counts", self.filter_bar.show_counts)
        self.filters.say_problems()
        self.monitor.start()  # the source, the first-run form: now that there is a screen

    def show_source(self, title: str) -> None:
        """Say in the panel's border what the monitor shows (a profile, the demo, a replay)."""
        self.panel.border_title = Content(title)  # profile names, paths, URLs: never markup

    def focus_log(self) -> None:
        if self.event_view.is_attached:
            self.event_view.focus()

    # -- what the session applied ------------------------------------------------------
    def show_rows(self, applied: Applied) -> None:
        if applied.rows and self.event_view.is_attached:
            self.event_view.rows_added(applied.visible)

    def refresh_panel_for(self, applied: Applied) -> None:
        """The panel's counters move with every batch: re-rendered at most every
        PANEL_REFRESH_INTERVAL, but at once for a gap."""
        mono = time.monotonic()
        if applied.gaps or mono - self._panel_refreshed >= PANEL_REFRESH_INTERVAL:
            self._panel_refreshed = mono
            self.panel.refresh_status()

    def mark_history(self, boundary: int) -> None:
        if self.event_view.is_attached:
            self.event_view.mark_history(boundary)

    # -- the filter: the bar holds the text, the list applies it -----------------------
    def set_filter(self, text: str) -> None:
        """Filter the list now (a quick filter, a side pane, the palette): the bar shows it."""
        self.filter_bar.show_text(text)
        self._apply_filter(text)
        self._note_recent(text)

    def _note_recent(self, text: str) -> None:
        if self.event_view.filter_error is None:
            self.filters.remember(text)

    def _apply_filter(self, text: str) -> None:
        self.filter_bar.show_error(self.event_view.apply_filter(text))

    @on(FilterBar.FilterChanged)
    def _filter_typed(self, message: FilterBar.FilterChanged) -> None:
        message.stop()
        self._apply_filter(message.text)

    @on(FilterBar.Closed)
    def _filter_closed(self, message: FilterBar.Closed) -> None:
        message.stop()
        self._note_recent(self.filter_bar.text)
        self.event_view.focus()

    @on(FilterBar.SaveRequested)
    def _filter_save_requested(self, message: FilterBar.SaveRequested) -> None:
        message.stop()
        self.action_save_filter()

    def action_save_filter(self) -> None:
        """Save filter as… (ctrl+s in the filter, the palette): the filter in effect."""
        self.filters.ask_to_save(self.filter_bar.text, self.event_view.filter_error)

    @on(EventLogView.FilterRequested)
    @on(LogFilterRequested)
    def _filter_requested(self, message: EventLogView.FilterRequested) -> None:
        message.stop()
        self.set_filter(message.text)

    # -- the other widgets -----------------------------------------------------------
    @on(EventLogView.Inspect)
    def _inspect(self, message: EventLogView.Inspect) -> None:
        message.stop()

        def shown_last(row: Row | None) -> None:
            # The inspector steps with n/p: leave the list on the row last shown.
            if row is not None:
                self.event_view.select_row(row)

        inspector = InspectorScreen(
            self.monitor.event_log, message.row, forwarding=self.monitor.forwarding
        )
        self.app.push_screen(inspector, shown_last)

    @on(MeetingsPane.MeetingSelected)
    def _meeting_selected(self, message: MeetingsPane.MeetingSelected) -> None:
        message.stop()
        self.participants.show_meeting(message.uuid)

    # -- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        sources = self.monitor.sources
        if action == "replay_pause":
            return sources.can_pause()
        if action == "pause_view":
            return sources.replay is None
        if action in CONNECTION_ACTIONS and sources.replay is not None:
            return False  # a replay has no connection to drive
        if action in ("filter", "export_view", "search_archive") and self.app.screen is not self:
            return False  # the inspector or help is open (the inspector exports its own event)
        if action == "filter" and isinstance(self.focused, (Input, TextArea)):
            return False  # a `/` typed in a field (a uuid has them) is text
        if action in ("connect", "disconnect"):
            # displaced: the link is down, and `c` offers to take the subscription back
            up = sources.alive() and self.monitor.status.state not in (
                ConnectionState.STOPPED,
                ConnectionState.FAILED,
                ConnectionState.DISPLACED,
            )
            return up if action == "disconnect" else not up
        return True

    def action_connect(self) -> None:
        if self.monitor.status.displaced:  # that knocks the other consumer off: ask first
            self.ask(RETAKE, self.monitor.sources.connect)
        else:
            self.monitor.sources.connect()

    def action_disconnect(self) -> None:
        # `c` is one key, typed by accident or pasted into the wrong pane: ask first
        self.ask(DISCONNECT, self.monitor.sources.disconnect)

    def action_reconnect(self) -> None:
        if self.monitor.status.displaced:
            self.ask(RETAKE, self.monitor.sources.reconnect)
        else:
            self.monitor.sources.reconnect()

    def ask(self, question: Question, then: Callable[[], None]) -> None:
        """Ask `question` in a modal; `then()` only when the person confirms."""

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                then()

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_connection_details(self) -> None:
        """i: the link's state, since when, the whole reason and hint, on a screen."""
        self.app.push_screen(ConnectionDetailsScreen(self.monitor.status, self.monitor.clock))

    def action_replay_pause(self) -> None:
        self.monitor.sources.toggle_pause()

    def action_pause_view(self) -> None:
        """space, live: hold the list where it is (events still go into the log and are
        counted as new), or jump back to the newest and follow."""
        self.event_view.toggle_follow()

    def action_filter(self) -> None:
        # Focus now, not via Widget.focus() (which waits for the message queue): see BINDINGS.
        field = self.filter_bar.input
        self.set_focus(field)
        field.cursor_position = len(field.value)

    def action_clear_filter(self) -> None:
        self.set_filter("")

    def action_follow(self) -> None:
        self.event_view.action_follow()
        self.focus_log()

    def action_meetings(self) -> None:
        """m: to the meetings pane (showing the side column); from it, hide the column.

        The column's classes say what the user chose: -hidden (hidden at any width until
        `m` again), -shown (shown on a narrow screen too, where it starts hidden)."""
        side = self.query_one("#side")
        if self.focused is self.meetings_pane:
            side.set_classes("-hidden")
            self.set_focus(self.event_view)  # at once (focus() waits for the message queue)
        else:
            side.remove_class("-hidden")
            if self.has_class("-narrow"):
                side.add_class("-shown")
            self.set_focus(self.meetings_pane)

    @property
    def side_pane_shown(self) -> bool:
        """Whether the meetings pane and participants are on screen (by width or by `m`)."""
        side = self.query_one("#side")
        if side.has_class("-hidden"):
            return False
        return side.has_class("-shown") or not self.has_class("-narrow")

    def on_resize(self) -> None:
        # (the breakpoint classes are set by now: Screen._on_resize runs first)
        if not self.side_pane_shown and self.focused is not None:
            side = self.query_one("#side")
            if side in self.focused.ancestors:  # the pane it was in went away
                self.set_focus(self.event_view)

    def action_focus_events(self) -> None:
        focus_now(self.event_view)

    def action_focus_meetings(self) -> None:
        focus_now(self.meetings_pane)

    def action_focus_participants(self) -> None:
        self.participants.focus()  # the panel passes it on to its list, at once

    # -- the archive -------------------------------------------------------------------
    def action_search_archive(self) -> None:
        """A: the archive's events for the filter in effect, on a screen of their own (or
        a toast saying why not: no filter, no archive)."""
        self.search_archive()

    def search_archive(self, **request: Any) -> ArchiveSearchScreen | None:
        """Open the search (`request`: `SearchRequest` fields, e.g. a page size for tests)."""
        # with its saved filters (@name) expanded: the archive's planner knows no names
        text = self.event_view.applied_filter
        with contextlib.suppress(FilterError):  # (the live view says what is wrong)
            text = self.filters.saved.expand(text)
        return open_search(self.app, text, **request)

    # -- export ------------------------------------------------------------------------
    def action_export_view(self) -> None:
        """e: the events of the current (filtered) view to a new owner-only JSON Lines file."""
        name = view_export_name(time.time())
        # The view as it is now, taken here, on the UI thread: live rows keep changing it.
        rows = self.event_view.events_in_view()
        if not rows:
            self.notify(
                "Nothing to export: no events in the current view.",
                severity="warning",
                markup=False,
            )
            return
        self.run_worker(
            partial(self._export, rows, name, self.export_dirs()),
            thread=True,
            group="export",
            exit_on_error=False,
        )

    def export_dirs(self) -> list[Path]:
        """Where `e` writes: the current folder, else (read-only, e.g. /) the data folder."""
        return view_export_folders()

    def _export(self, rows: list[ZoomEvent], name: str, folders: list[Path]) -> None:
        # The same writer as `zoomtui export` (tail --json lines, an owner-only new file).
        app: Any = self.app
        try:
            count, path = export_to_first_folder(rows, name, folders)
        except ExportError as error:
            app.call_from_thread(
                app.notify, str(error), title="Export failed", severity="error", markup=False
            )
            return
        app.call_from_thread(
            app.notify,
            f"{counted(count, 'event')} written to {path}",
            title="Exported",
            markup=False,
        )
