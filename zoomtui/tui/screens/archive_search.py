"""Searching the archive for the live list's filter: a screen of its own (`A`).

The live list holds the newest events only (100,000 by default); the archive holds what
the monitor ever received.  `A` (or the palette's "Search the archive for this filter")
asks the archive for every event the filter matches: the results stream in page by page
from a thread (`zoomtui.tui.searching`), into a list of their own, drawn dimmed as
archived rows are; the border counts what was found so far.  `s` stops the search,
`escape` stops it and goes back to the live list, `enter` inspects a result with the
inspector (n/p step through the results).

Live events keep arriving in their own place: the session goes on applying them to the
live list under this screen, which never touches it.

While the archive's writer is still building the search index (an archive of an older
zoomtui, upgraded in place), the screen says so: the search is exact all the same, the
events the index does not cover yet are scanned (`zoomtui.monitor.archive.search`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from zoomtui.monitor.archive.searchindex import IndexBuild
from zoomtui.monitor.eventlog import EventLog, Row
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.searching import (
    DONE,
    FAILED,
    LIMIT,
    STOPPED,
    SearchEnded,
    SearchPage,
    SearchRequest,
    SearchStop,
    search_pages,
)
from zoomtui.tui.widgets.archive_results import ArchiveResultsView
from zoomtui.words import counted

if TYPE_CHECKING:
    from zoomtui.tui.app import ZoomtuiApp

#: how it is searching (before SearchEnded)
SEARCHING = "searching"

#: why `A` cannot search (said in a toast)
NO_FILTER = (
    "Set a filter first (/): A asks the archive for every event the filter matches, "
    "beyond the newest ones held in the list."
)
NO_ARCHIVE = (
    "This monitor keeps no archive (started with --no-archive, or archive = false in the "
    "profile): there is nothing to search beyond the events in the list."
)
NOT_OPEN = "The archive is not open yet (nothing is connected): there is nothing to search."


def index_note(build: IndexBuild | None) -> str:
    """What a search while the index is being built does (empty when it is not)."""
    if build is None or build.complete:
        return ""
    return (
        f"The archive's search index is still being built ({build.percent} % so far): "
        "the events it does not cover yet are scanned, so this search takes longer; "
        "none is missed."
    )


def archive_file(app: ZoomtuiApp) -> Path | str:
    """The archive file `A` searches (the one written, or the one replayed), or why none."""
    replay = app.replay
    if replay is not None:
        return Path(replay.reader.path)
    archive = app.archive
    if archive is not None:
        return Path(archive.path)
    plan = app.options.archive
    return NO_ARCHIVE if plan is None or not plan.enabled else NOT_OPEN


class ArchiveSearchScreen(Screen[None]):
    """The archive's answer to one filter, streaming in; the live list waits underneath."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "stop", "Stop searching", id="search.stop"),
        Binding("escape", "back", "Back to the live list", id="search.back"),
    ]

    DEFAULT_CSS = """
    ArchiveSearchScreen {
        & > #search-about { height: auto; padding: 0 1; color: $text-muted; }
        & > #search-error { height: auto; padding: 0 1; color: $text-error; display: none; }
        & > #search-error.-shown { display: block; }
        & > ArchiveResultsView { height: 1fr; }
    }
    """

    AUTO_FOCUS = "#results"

    def __init__(self, request: SearchRequest, index: IndexBuild | None = None) -> None:
        super().__init__()
        self.request = request
        #: the search index build under way as the search starts (None: none)
        self.index = index
        #: the results, in an event log of their own (the inspector steps through it)
        self.results = EventLog(limit=max(1, request.limit))
        self.view = ArchiveResultsView(self.results, id="results")
        #: SEARCHING, then how it ended: DONE, STOPPED, LIMIT or FAILED
        self.state = SEARCHING
        self.error: str | None = None
        self.pages = 0
        self._stop = SearchStop()

    @property
    def found(self) -> int:
        """Events found so far."""
        return self.results.visible_count

    def compose(self) -> ComposeResult:
        about = Text("Events from the archive that match the filter, oldest first. ")
        about.append("Live events keep arriving in the monitor's list: escape goes back to it.")
        note = index_note(self.index)
        if note:
            about.append(f"\n{note}")
        yield Static(about, id="search-about", markup=False)
        yield Static(id="search-error", markup=False)
        yield self.view
        yield Footer()

    def on_mount(self) -> None:
        self.view.border_title = Text.assemble(
            "archived events", (f" · filter: {self.request.filter_text}", "bold")
        )
        self._show_state()
        self.run_worker(
            partial(search_pages, self.post_message, self.request, self._stop),
            thread=True,
            name="archive-search",
            group="archive-search",
            exit_on_error=False,
        )

    def on_unmount(self) -> None:
        self._stop.stop()  # (the thread ends at its next event, or its query is interrupted)

    # -- what the reading thread posts ---------------------------------------------------
    @on(SearchPage)
    def _page(self, message: SearchPage) -> None:
        try:
            if self.state == SEARCHING:
                self.results.extend(message.events)
                self.pages += 1
                self.view.rows_added()
                self._show_state()
        finally:
            message.taken.set()  # the reading thread goes on

    @on(SearchEnded)
    def _ended(self, message: SearchEnded) -> None:
        if self.state == SEARCHING or message.how == FAILED:
            self.state = message.how
        self.error = message.error
        if message.error:
            error = self.query_one("#search-error", Static)
            error.update(f"The archive could not be searched: {message.error}")
            error.add_class("-shown")
        self._show_state()
        self.refresh_bindings()

    def _show_state(self) -> None:
        found = counted(self.found, "event")
        words = {
            SEARCHING: f"{found} found so far · searching… s stops",
            DONE: f"{found} found · the whole archive searched",
            STOPPED: f"stopped · {found} found",
            LIMIT: f"the first {found} · narrow the filter to see the rest",
            FAILED: f"the search failed · {found} found",
        }[self.state]
        self.view.border_subtitle = Text(words)

    # -- keys ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.state == SEARCHING
        return True

    def action_stop(self) -> None:
        """s: stop where it is; the results found so far stay."""
        if self.state != SEARCHING:
            return
        self._stop.stop()
        self.state = STOPPED  # (pages still in flight are not added)
        self._show_state()
        self.refresh_bindings()

    def action_back(self) -> None:
        self._stop.stop()
        self.dismiss()

    @on(ArchiveResultsView.Inspect)
    def _inspect(self, message: ArchiveResultsView.Inspect) -> None:
        message.stop()

        def shown_last(row: Row | None) -> None:
            if row is not None:
                self.view.select_row(row)

        self.app.push_screen(InspectorScreen(self.results, message.row), shown_last)


#: the keys of the search screen and its list, for the help screen
ARCHIVE_SEARCH_KEYS: list[BindingType] = [
    *ArchiveSearchScreen.BINDINGS,
    *ArchiveResultsView.BINDINGS,
]


def open_search(app: Any, filter_text: str, **request: Any) -> ArchiveSearchScreen | None:
    """Open the search of the archive for `filter_text`, or say why it cannot be."""
    if not filter_text.strip():
        app.notify(NO_FILTER, title="Search the archive", severity="warning", markup=False)
        return None
    path = archive_file(app)
    if isinstance(path, str):
        app.notify(path, title="Search the archive", severity="warning", markup=False)
        return None
    # the build of the archive being written (a replay's file is only read)
    index = None if app.replay is not None else app.status.archive_index
    screen = ArchiveSearchScreen(SearchRequest(path, filter_text.strip(), **request), index)
    app.push_screen(screen)
    return screen
