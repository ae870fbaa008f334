"""The zoomtui app shell: one `MainScreen` (the layout and its keys), the global keys
(help, quit, the palette), and the models behind the screen.

The models (event log, meeting tracker, link status, archive, history hold-back) live
in a `MonitorSession` (zoomtui.monitor.session, no Textual): the app applies to it what
the worker posts and has the main screen show what changed.  The source runs in a
Textual async worker (`zoomtui.tui.sources`: a `ConnectionBridge`, group "zoom") that
hands every update to the session's raw tap (the archive) and posts typed messages;
nothing from the network can reach Textual's crash screen.

Sources (`UpdateSource`): a `ZoomConnection` (`zoomtui`/`run`), the same against an
in-process fake Zoom (`demo`), or a `ReplaySource` over an archive (`zoomtui replay`):
the same bridge, session and panes.  History on start is read in a thread
(`zoomtui.tui.history`) and applied through the session, which holds live rows back
until it is in, so the log stays in order.

Everything the app starts with is one `AppOptions` (zoomtui.tui.options); everything
time-related goes through its clocks, so tests and screenshots show stable times.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from zoomtui.alerts.alert import Alert
from zoomtui.monitor.archive.searchindex import approx_count
from zoomtui.monitor.eventlog import EventLog
from zoomtui.monitor.gcpolicy import FULL_INTERVAL, GcPolicy
from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import history_cut_words
from zoomtui.monitor.session import NOTHING, Applied, HistoryEnd, MonitorSession
from zoomtui.redaction import redact
from zoomtui.settings import ConnectionSettings
from zoomtui.timefmt import minutes_or_hours
from zoomtui.tui.alerting import TuiAlerts
from zoomtui.tui.forwarding import TuiForwarding
from zoomtui.tui.history import (
    CUT_NOTE_SECONDS,
    HistoryBatch,
    HistoryDone,
    hold_limit_for,
    load_history,
    loading_words,
)
from zoomtui.tui.linkwords import DISPLACED_TITLE, connected_toast, displaced_toast
from zoomtui.tui.messages import (
    HeartbeatAnswered,
    NoticeReceived,
    RowsArrived,
    StateUpdated,
    TokenObtained,
)
from zoomtui.tui.options import AppOptions, DemoOptions
from zoomtui.tui.palette import SavedFilterCommands, ZoomtuiCommands
from zoomtui.tui.screens.archive_search import ARCHIVE_SEARCH_KEYS
from zoomtui.tui.screens.first_run import DEMO, FirstRunResult, FirstRunScreen
from zoomtui.tui.screens.help import BindingSection, HelpScreen
from zoomtui.tui.screens.main import CONNECTION_ACTIONS, MainScreen
from zoomtui.tui.sources import Sources
from zoomtui.tui.widgets.connection_panel import ConnectionPanel
from zoomtui.tui.widgets.event_log import EventLogView
from zoomtui.tui.widgets.filter_bar import FilterBar
from zoomtui.tui.widgets.meetings_pane import MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantList
from zoomtui.tui.worker import CRASH_HINT
from zoomtui.words import counted
from zoomtui.zoom.updates import ConnectionState, StateChanged, Update

__all__ = ["AppOptions", "DemoOptions", "ZoomtuiApp"]

#: ended meetings older than the tracker's retention are dropped this often (seconds)
PRUNE_INTERVAL = 5.0
#: the archive's health is looked at this often (seconds): the writer never touches the UI
ARCHIVE_CHECK_INTERVAL = 1.0


def _redact_stacks(stacks: list[Any]) -> None:
    """Redact the text of a rich traceback (`Traceback.extract(...).stacks`) in place."""
    for stack in stacks:
        stack.exc_value = redact(stack.exc_value)
        stack.notes = [redact(note) for note in stack.notes]
        for frame in stack.frames:
            frame.line = redact(frame.line)
        if stack.syntax_error is not None:
            stack.syntax_error.line = redact(stack.syntax_error.line)
            stack.syntax_error.msg = redact(stack.syntax_error.msg)
        for group in stack.exceptions:  # an ExceptionGroup's members
            _redact_stacks(group.stacks)


class ZoomtuiApp(App[int]):
    """The monitor.  Give it `AppOptions`: settings, a demo, a replay, or none (first run)."""

    TITLE = "zoomtui"
    COMMANDS = App.COMMANDS | {ZoomtuiCommands, SavedFilterCommands}

    #: the global keys; the main screen has its own (MainScreen.BINDINGS)
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("exclamation_mark", "alerts", "Alerts", id="app.alerts", show=False),
    ]

    def __init__(self, options: AppOptions | None = None) -> None:
        super().__init__()
        if options is not None and not isinstance(options, AppOptions):
            # the constructor once took settings and 21 keywords; say what it takes now
            raise TypeError(f"ZoomtuiApp takes AppOptions, not {type(options).__name__}")
        self.options = options = options or AppOptions()
        self.clock = options.clock
        self.monotonic = options.clocks.monotonic
        #: a `ReplaySource`: play an archive instead of connecting (its clock is the app's)
        self.replay = options.replay
        settings = options.source if isinstance(options.source, ConnectionSettings) else None
        #: the models the panes render (event log; meeting tracker, bounded: at most a few
        #: hundred ended meetings, old ones dropped every PRUNE_INTERVAL; link status; archive)
        self.session = MonitorSession(
            clock=self.clock,
            event_log=EventLog(limit=options.log_limit),
            meetings=MeetingTracker(),
            subscription_id=settings.subscription_id if settings else "",
        )
        #: the garbage collector tuned for a large, acyclic working set (see gcpolicy)
        self.gc_policy = GcPolicy()
        self.sources = Sources(self)
        #: the profile's alert rules at work (a sink of the session), and their alerts
        self.alerts = TuiAlerts(self, options.alerts)
        #: `--forward-to`: live events to a webhook handler (a sink of the session)
        self.forwarding = TuiForwarding(self, options.forward)
        #: the one screen of the app's own (made when Textual asks for it, at start)
        self.main: MainScreen
        self._notices_seen: set[str] = set()
        self._archive_target: tuple[str, bool] | None = None
        self._history_stop = threading.Event()
        self._history_window = 0.0
        self._history_read = 0
        self._gc_was_enabled = True
        if options.theme in self.available_themes:  # (else Textual's default)
            self.theme = options.theme
        #: the theme as started or last kept: a change from it is the person's choice
        self._theme_kept = self.theme

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self)
        return self.main

    # -- the session's models and the main screen's parts, as tests know them -----------
    @property
    def event_log(self) -> EventLog:
        assert self.session.event_log is not None
        return self.session.event_log

    @property
    def meetings(self) -> MeetingTracker:
        assert self.session.meetings is not None
        return self.session.meetings

    @property
    def status(self) -> LinkStatus:
        return self.session.status

    @property
    def archive(self) -> Any:
        """The archive being written (None: off, or nothing started yet)."""
        return self.session.archive

    @property
    def history_state(self) -> str:
        """The history on start: "none" (not loaded), "loading" or "done"."""
        return self.session.history_state

    @property
    def panel(self) -> ConnectionPanel:
        return self.main.panel

    @property
    def event_view(self) -> EventLogView:
        return self.main.event_view

    @property
    def filter_bar(self) -> FilterBar:
        return self.main.filter_bar

    @property
    def demo(self) -> DemoOptions | None:
        """The demo running (None: not a demo)."""
        return self.sources.demo

    @property
    def fake(self) -> Any:
        """The demo's in-process fake Zoom (None: not a demo, or not started yet)."""
        return self.sources.fake

    @property
    def connection(self) -> Any:
        """The running source (a `ZoomConnection`, a `ReplaySource`...)."""
        return self.sources.connection

    def _fatal_error(self) -> None:
        """Textual's crash report prints each frame's locals, and a local may hold a token, the
        token-bearing WebSocket URL or a secret.  Print the traceback without locals, redacted.

        Needed, and private: Textual has no public hook for its crash report.  This overrides
        `App._fatal_error` and uses `_exit_renderables` and `_close_messages_no_wait` as
        `App._fatal_error` does in Textual 8.2.8 (checked there; pyproject pins textual to
        8.2.x); tests/tui/test_app.py::test_crash_report_has_no_locals_and_no_secret fails
        if a later Textual stops calling it."""
        import io
        import sys

        import rich
        from rich.console import Console
        from rich.text import Text
        from rich.traceback import Traceback

        self.bell()
        exc_type, exc_value, tb = sys.exc_info()
        if exc_type is None or exc_value is None:  # not called while handling an exception
            report = "zoomtui stopped on an unexpected error."
        else:
            # Redact the text before layout: the renderer folds a long word across lines, and
            # a token cut in two (Zoom's are hundreds of characters) no longer matches redact().
            trace = Traceback.extract(exc_type, exc_value, tb, show_locals=False)
            _redact_stacks(trace.stacks)
            # Plain text (no colour codes between a key and its value); redacted once more.
            out = io.StringIO()
            Console(file=out, width=self.console.width, color_system=None, highlight=False).print(
                Traceback(trace, show_locals=False, width=None, suppress=[rich])
            )
            report = redact(out.getvalue())
        self._exit_renderables.append(Text(report))
        self._close_messages_no_wait()

    @property
    def exiting(self) -> bool:
        """True once the app is on its way out (quit, crash, shutdown under way).  The worker
        posts until it is cancelled, after the screens are gone: what arrives then is ignored."""
        if self.return_code is not None or not self.is_running:  # exit() or a crash set it
            return True
        try:
            return not self.screen_stack
        except KeyError:  # the mode's stack is gone already
            return True

    # -- starting --------------------------------------------------------------------
    def start(self) -> None:
        """Start what the options say, once the main screen is up (it calls this when
        mounted): a connection's first frames then do not wait behind the first layout,
        and what is alive after the first refresh is the app as started."""
        options = self.options
        if options.source is not None:
            self.sources.start(options.source)
        else:
            first_run = options.first_run
            self.push_screen(
                FirstRunScreen(
                    profile=options.profile,
                    reason=first_run.reason,
                    config_path=first_run.config_path,
                    saver=first_run.saver,
                    **first_run.form,
                ),
                self._first_run_done,
            )
        self.set_interval(PRUNE_INTERVAL, self._prune_meetings, name="meetings-prune")
        self.alerts.start()
        self.forwarding.start()
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        # Once the first screen is up: what is alive then is the app itself, frozen.
        self.call_after_refresh(self._install_gc_policy)

    def _theme_chosen(self, theme: Theme) -> None:
        """A theme picked in the monitor (ctrl+p, "theme") is kept for the next run."""
        store = self.options.theme_store
        if store is None or theme.name == self._theme_kept:
            return
        self._theme_kept = theme.name
        self.run_worker(
            partial(self._keep_theme, store, theme.name),
            thread=True,
            group="theme",
            exit_on_error=False,
        )

    def _keep_theme(self, store: Callable[[str], None], name: str) -> None:
        try:
            store(name)
        except Exception as exc:  # noqa: BLE001 - a preference not kept: said, never a crash
            self.call_from_thread(
                self.notify,
                redact(str(exc)),
                title="The theme is not kept for the next run",
                severity="warning",
                markup=False,
            )

    def _install_gc_policy(self) -> None:
        if self.gc_policy.install():
            self.set_interval(FULL_INTERVAL, self.gc_policy.collect, name="gc-full")

    def _prune_meetings(self) -> None:
        """The one place ended meetings are dropped by age (the tracker caps their number)."""
        self.session.prune_meetings()

    def _first_run_done(self, result: FirstRunResult | None) -> None:
        if result == DEMO:
            self.sources.start_demo(self.options.first_run.demo)
        elif isinstance(result, ConnectionSettings):
            self.sources.connect_to(result)
        self.main.focus_log()

    async def on_unmount(self) -> None:
        self.gc_policy.uninstall()
        self._history_stop.set()
        if self.history_state == "loading" and self._gc_was_enabled:
            gc.enable()  # quit before the history was in: collections as before
        # Say in the record that the monitor stopped (the cancelled worker cannot).
        self.session.record_stop("zoomtui quit")
        await self.sources.stop()
        await self.forwarding.aclose()
        await asyncio.to_thread(self.alerts.close)
        if self.archive is not None:
            # The writer's last batch and its join: a few ms, off the event loop.
            await asyncio.to_thread(self.session.close_archive)

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        # Belt and braces: the bridge catches everything, but should anything escape a "zoom"
        # worker it is shown as FAILED here (exit_on_error=False keeps the crash screen away).
        if event.worker.group == "zoom" and event.state is WorkerState.ERROR and not self.exiting:
            error = event.worker.error
            self.sources.failed(
                error if error is not None else RuntimeError("worker failed"), CRASH_HINT
            )

    # -- the archive -------------------------------------------------------------------
    def open_archive(self, profile: str, *, demo: bool) -> None:
        """Open the archive for what we connect to (once), and load its history."""
        plan = self.options.archive
        if plan is None or not plan.enabled or self._archive_target == (profile, demo):
            return
        old = self.session.record_to(plan.open(profile, demo=demo))
        if old is not None:  # first run chose another target: close the old one
            self.run_worker(old.close, thread=True, group="archive-close", exit_on_error=False)
        self._archive_target = (profile, demo)
        self._check_archive()
        self.set_interval(ARCHIVE_CHECK_INTERVAL, self._check_archive, name="archive-status")
        # History of what the app was started for (first run -> demo: none; the demo's
        # seeded meetings would meet themselves again).
        started_as_demo = isinstance(self.options.source, DemoOptions)
        if plan.history and self.history_state == "none" and demo == started_as_demo:
            self._start_history(plan.history)

    def _check_archive(self) -> None:
        """Show a disk or permission problem in the panel (and toast it); clear it when the
        archive recovers.  Show how far a search index build has come, and toast its end.
        Polled: the writer thread never touches the UI."""
        index = self.session.check_index()
        if index is not None:
            self.main.panel.refresh_status()
            if index.finished and index.build is not None:
                self.notify(
                    f"Searches of the archive use the index for all of it now "
                    f"({approx_count(index.build.total)} records).",
                    title="Archive search index built",
                    timeout=5,
                    markup=False,
                )
        change = self.session.check_archive()
        if change is None:
            return
        self.main.panel.refresh_status()
        if change.error:
            self.notify(
                change.error,
                title="Events are not being archived",
                severity="error",
                timeout=10,
                markup=False,
            )
        else:
            self.notify(
                "The archive is written again; what it missed is recorded as a gap.",
                title="Events are archived again",
                timeout=5,
                markup=False,
            )

    # -- history on start ------------------------------------------------------------
    def _start_history(self, seconds: float) -> None:
        """Read the last `seconds` from the archive in a thread; hold live rows meanwhile."""
        # Live first: at most this many live updates wait, then the history stops.
        self.session.begin_history(hold_limit_for(self.options.log_limit))
        # Loading allocates hundreds of thousands of objects that live on: each full
        # collection meanwhile walked them all (200-300 ms stalls per batch, measured in
        # benchmarks/history_load.py).  No collections while loading; then the loaded
        # history is frozen out of every later full collection (it is freed by reference
        # counting when the log or the tracker drop it: rows and meetings hold no cycles).
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        until = self.clock()  # what the archive gets from now on is live, not history
        self._history_window = seconds
        self.main.panel.history_note = lambda: loading_words(
            self._history_read, seconds, self.session.held
        )
        self.run_worker(
            partial(
                load_history,
                self.post_message,
                self.archive,
                until - seconds,
                until,
                self._history_stop.is_set,
            ),
            thread=True,
            name="history",
            group="history",
            exit_on_error=False,
        )

    @on(HistoryBatch)
    def _history_batch(self, message: HistoryBatch) -> None:
        try:
            if not self.exiting:
                self._history_read += len(message.records)
                self.main.show_rows(self.session.apply_history(message.records))
        finally:
            message.taken.set()  # the reading thread goes on

    @on(HistoryDone)
    def _history_done(self, message: HistoryDone) -> None:
        if self.exiting or self.session.history_cut is not None:
            return  # (cut short: `_applied` said so)
        end = self.session.end_history(message.seen, message.until)
        self._history_over(end, end.applied)
        seen = message.seen
        window = minutes_or_hours(self._history_window)
        if message.error:
            self.notify(
                f"The history could not be read: {message.error}",
                title="History",
                severity="warning",
                timeout=8,
                markup=False,
            )
        elif seen.events:
            self.notify(
                f"{counted(seen.events, 'event')} from the last {window}, dimmed above the line.",
                title="History",
                timeout=4,
                markup=False,
            )

    def _history_over(self, end: HistoryEnd, applied: Applied) -> None:
        """The history is in, or cut short: its line, the collector as before, `applied`."""
        self.main.panel.history_note = None
        self.main.mark_history(end.boundary)
        if self._gc_was_enabled:
            gc.enable()
        gc.freeze()
        self.main.show_rows(applied)
        self.main.refresh_panel_for(applied)

    def _applied(self, applied: Applied) -> Applied:
        """What a live update applied.  Too many waited: the session cut the history short
        and applied them; the reading thread stops, and the person is told."""
        end = self.session.history_cut
        if end is None or self._history_stop.is_set():
            return applied
        self._history_stop.set()
        self._history_over(end, applied)
        # The log's line scrolls away in seconds under a flood: the panel says it a while.
        words, until = history_cut_words(end.cut_at or 0.0), self.clock() + CUT_NOTE_SECONDS
        self.main.panel.history_note = lambda: words if self.clock() < until else ""
        said = words[:1].upper() + words[1:]
        self.notify(said, title="History", severity="warning", markup=False)
        return NOTHING  # (shown with the history's end)

    # -- messages from the worker: applied to the session, then what changed is shown -----
    @on(RowsArrived)
    def _rows_arrived(self, message: RowsArrived) -> None:
        if not self.exiting:
            self.ingest(message.rows)

    def ingest(self, rows: Iterable[Update]) -> None:
        """Received rows to the session (event log, meeting tracker, panel counters), then
        to the screen.  While the history loads, the session holds them back."""
        applied = self._applied(self.session.apply_batch(rows))
        self.main.show_rows(applied)
        self.main.refresh_panel_for(applied)

    @on(StateUpdated)
    def _state_updated(self, message: StateUpdated) -> None:
        if self.exiting:
            return
        change = message.change
        previous = self.status.state
        self.main.show_rows(self._applied(self.session.apply(change)))
        self.main.panel.refresh_status()
        self.refresh_bindings()
        if self.replay is not None:
            self.sources.replay_tick()
        else:  # (a recorded "connected" is not news)
            self._toast(change, previous)

    def _toast(self, change: StateChanged, previous: ConnectionState) -> None:
        reason = self.status.reason
        if change.state is ConnectionState.CONNECTED and previous is not ConnectionState.CONNECTED:
            said, severity, timeout = connected_toast(self.status)
            self.notify(said, title="Connected", severity=severity, timeout=timeout, markup=False)
        elif change.state is ConnectionState.FAILED:
            text = reason + (f"\n{self.status.hint}" if self.status.hint else "")
            self.notify(text, title="Connection failed", severity="error", timeout=12, markup=False)
        elif change.state is ConnectionState.DISPLACED:
            self.notify(
                displaced_toast(self.status, self.clock()),
                title=DISPLACED_TITLE,
                severity="warning",
                timeout=15,
                markup=False,
            )
        elif "displaced" in reason.lower():  # `retake`: it reconnects, and says why
            self.notify(reason, title="Displaced?", severity="warning", timeout=8, markup=False)

    @on(HeartbeatAnswered)
    @on(TokenObtained)
    def _link_news(self, message: HeartbeatAnswered | TokenObtained) -> None:
        if self.exiting:
            return
        self._applied(self.session.apply(message.update))
        self.main.panel.refresh_status()

    @on(NoticeReceived)
    def _notice(self, message: NoticeReceived) -> None:
        if self.exiting:
            return
        self._applied(self.session.apply(message.notice))
        module = message.notice.envelope.module
        # once per module: a chatty server must not bury the screen
        if module in self._notices_seen:
            return
        self._notices_seen.add(module)
        self.notify(
            redact(message.notice.text), title=f"Zoom sent “{module}”", timeout=6, markup=False
        )

    # -- the global keys ---------------------------------------------------------------
    def action_alerts(self) -> None:
        """The alerts of this run; the one chosen opens its event or gap."""
        from zoomtui.tui.screens.alerts import AlertsScreen

        alerts = AlertsScreen(self.alerts.alerts, self.alerts.rules, demo=self.demo is not None)
        self.push_screen(alerts, self._open_alert)

    def _open_alert(self, alert: Alert | None) -> None:
        if alert is not None:
            self.alerts.open(alert)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[BindingSection]:
        replaying = self.replay is not None

        def offered(b: Binding) -> bool:
            # a replay has no connection to drive, a live run nothing to pause
            if b.action == "replay_pause":
                return replaying
            if b.action == "pause_view":  # a replay's space pauses the replay
                return not replaying
            return not (replaying and b.action in CONNECTION_ACTIONS)

        keys = [*MainScreen.BINDINGS, *self.BINDINGS]
        sections: list[BindingSection] = [
            (
                "Connection and app",
                [
                    *(b for b in keys if isinstance(b, Binding) and offered(b)),
                    Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Command palette"),
                ],
            )
        ]
        sections.append(("Event list", EventLogView.BINDINGS))
        sections.append(("In the filter", FilterBar.BINDINGS))
        sections.append(("Meetings (m)", MeetingsPane.BINDINGS))
        sections.append(("Participants", ParticipantList.BINDINGS))
        sections.append(("Archive search (A)", ARCHIVE_SEARCH_KEYS))
        return sections
