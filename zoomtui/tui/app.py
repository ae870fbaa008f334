"""The zoomtui app shell: connection panel on top, event log (left), side pane
(right, for the meetings helper), footer.

The models (event log, meeting tracker, link status, archive, history hold-back) live
in a `MonitorSession` (zoomtui.monitor.session, no Textual): the app applies to it what
the worker posts and renders what changed.  The source runs in a Textual async worker
(`ConnectionBridge`, group "zoom") that hands every update to the session's raw tap
(the archive) and posts typed messages; nothing from the network can reach Textual's
crash screen.

Sources (`UpdateSource`): a `ZoomConnection` (`zoomtui`/`run`), the same against an
in-process fake Zoom (`demo`), or a `ReplaySource` over an archive (`zoomtui replay`):
the same bridge, session and panes.  History on start is read in a thread
(`zoomtui.tui.history`) and applied through the session, which holds live rows back
until it is in, so the log stays in order.

Everything time-related goes through the injectable `clock`, so tests and
screenshots show stable times.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, TextArea
from textual.worker import Worker, WorkerState

from zoomtui.monitor.eventlog import EventLog
from zoomtui.monitor.export import (
    ExportError,
    export_to_first_folder,
    view_export_folders,
    view_export_name,
)
from zoomtui.monitor.gcpolicy import FULL_INTERVAL, GcPolicy
from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import ArchivePlan
from zoomtui.monitor.session import Applied, MonitorSession
from zoomtui.monitor.source import UpdateSource
from zoomtui.redaction import mask_id, redact
from zoomtui.settings import ConnectionSettings
from zoomtui.tui.history import HistoryBatch, HistoryDone, load_history
from zoomtui.tui.messages import (
    HeartbeatAnswered,
    NoticeReceived,
    RowsArrived,
    StateUpdated,
    TokenObtained,
)
from zoomtui.tui.screens.first_run import DEMO, FirstRunResult, FirstRunScreen, Saver
from zoomtui.tui.screens.help import BindingSection, HelpScreen
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.connection_panel import ConnectionPanel
from zoomtui.tui.widgets.event_log import EventLogView
from zoomtui.tui.widgets.filter_bar import FilterBar
from zoomtui.tui.widgets.meetings_pane import LogFilterRequested, MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantList, ParticipantPanel
from zoomtui.tui.worker import CRASH_HINT, ConnectionBridge
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, StateChanged, Update

#: app actions that only make sense on the main screen
MAIN_SCREEN_ACTIONS = frozenset(
    {"filter", "connect", "disconnect", "reconnect", "meetings", "export_view"}
)
#: actions that drive a live connection (a replay has none)
CONNECTION_ACTIONS = frozenset({"connect", "disconnect", "reconnect"})
#: the panel re-renders at most this often because of arriving events (state changes: at once)
PANEL_REFRESH_INTERVAL = 0.25
#: ended meetings older than the tracker's retention are dropped this often (seconds)
PRUNE_INTERVAL = 5.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """`zoomtui demo`: a fake Zoom started in-process, in the app's own event loop."""

    seed: int = 1
    rate: float | Literal["max"] = 15.0
    heartbeat: float = 30.0
    scenario: str = "demo"
    events: int | None = None
    token_ttl: float = 3600
    #: the fake's clock (stamps event_ts); None: the app's clock
    fake_clock: Callable[[], float] | None = None


class ZoomtuiCommands(Provider):
    """The app's own actions in the command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app = self.app
        assert isinstance(app, ZoomtuiApp)
        return [
            ("Connect", "Connect to Zoom (or start again after a failure)", app.action_connect),
            (
                "Disconnect",
                "Close the connection; events sent meanwhile are lost",
                app.action_disconnect,
            ),
            (
                "Reconnect now",
                "Drop the connection and connect again, skipping any wait",
                app.action_reconnect,
            ),
            ("Clear filter", "Show every event again", app.action_clear_filter),
            ("Follow", "Stick to the newest event", app.action_follow),
            (
                "Export view",
                "Write the events in the current view to a JSON Lines file",
                app.action_export_view,
            ),
            (
                "Toggle dark mode",
                "Switch between the light and the dark theme",
                app.action_toggle_dark,
            ),
            ("Meetings", "Show or hide the meetings pane", app.action_meetings),
            ("Help", "Every key, and the filter language", app.action_help),
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


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
    """The monitor. Give it settings, a demo, or a reason why there are no settings."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "zoomtui"
    COMMANDS = App.COMMANDS | {ZoomtuiCommands}

    BINDINGS = [
        # j/k, g/G, enter, f (follow), escape (clear filter) belong to the event list
        # priority: checked when the key arrives, before it travels to the focused widget and
        # back, so keys typed right after `/` (fast, pasted, tmux send-keys) reach the input
        Binding("slash", "filter", "Filter", id="app.filter", priority=True),
        Binding("c", "connect", "Connect", id="connection.connect"),
        Binding("c", "disconnect", "Disconnect", id="connection.disconnect"),
        Binding("r", "reconnect", "Reconnect", id="connection.reconnect"),
        Binding("m", "meetings", "Meetings", id="view.meetings"),
        # not in the footer (full already): in the help screen and the palette
        Binding("e", "export_view", "Export view", id="view.export", show=False),
        Binding("space", "replay_pause", "Pause/resume", id="replay.pause"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        settings: ConnectionSettings | None = None,
        *,
        demo: DemoOptions | None = None,
        first_run_demo: DemoOptions | None = None,
        settings_error: str | None = None,
        profile: str = "default",
        config_path: Path | None = None,
        saver: Saver | None = None,
        first_run_options: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        connection_options: dict[str, Any] | None = None,
        connection_factory: Callable[..., Any] | None = None,
        log_limit: int = 100_000,
        archive: ArchivePlan | None = None,
        replay: Any = None,
        replay_title: str = "",
    ) -> None:
        super().__init__()
        #: what to archive and how much history to load (None: no archive, as in most tests)
        self.archive_plan = archive
        #: a `ReplaySource`: play an archive instead of connecting (its clock is the app's)
        self.replay = replay
        self.replay_title = replay_title
        if replay is not None and clock is time.time:
            clock = replay.now
        self.settings = settings
        self.demo = demo
        self._started_as_demo = demo is not None
        #: what `d` on the first-run screen starts
        self.first_run_demo = first_run_demo or DemoOptions()
        self.settings_error = settings_error
        self.profile = profile
        self.config_path = config_path
        self.saver = saver
        #: FirstRunScreen keywords: prefill, oauth_url, ws_url, insecure_transport, resolver
        self.first_run_options = dict(first_run_options or {})
        self.clock = clock
        self.monotonic = monotonic
        self.rng = rng
        #: extra ZoomConnection keywords (backoff_base, give_up_after...)
        self.connection_options = dict(connection_options or {})
        #: builds the connection: ZoomConnection unless a test or benchmark wants its own subclass
        self.connection_factory = connection_factory
        #: the models the panes render (event log; meeting tracker, bounded: at most a few
        #: hundred ended meetings, old ones dropped every PRUNE_INTERVAL; link status; archive)
        self.session = MonitorSession(
            clock=clock,
            event_log=EventLog(limit=log_limit),
            meetings=MeetingTracker(),
            subscription_id=settings.subscription_id if settings else "",
        )
        #: the garbage collector tuned for a large, acyclic working set (see gcpolicy)
        self.gc_policy = GcPolicy()
        self.connection: Any = None
        self.bridge: ConnectionBridge | None = None
        self.fake: Any = None  # the in-process fake Zoom of the demo
        self._start: Callable[[], None] | None = None  # how to (re)start the worker
        self._panel_refreshed = 0.0
        self._notices_seen: set[str] = set()
        self._archive_target: tuple[str, bool] | None = None
        self._history_stop = threading.Event()
        self._history_window = 0.0
        self._gc_was_enabled = True

    # -- the session's models, as the panes and tests know them -------------------------
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

    def _fatal_error(self) -> None:
        """Textual's crash report prints each frame's locals, and a local may hold a token, the
        token-bearing WebSocket URL or a secret.  Print the traceback without locals, redacted.
        (Overrides a private Textual method: checked against Textual 8.2; a test covers it.)"""
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

    # -- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self._panel = ConnectionPanel(self.status, clock=self.clock)
        yield self._panel
        with Horizontal(id="main"):
            with Vertical(id="left"):
                self._filter_bar = FilterBar("#events", id="filter")
                self._event_view = EventLogView(self.event_log, id="events")
                yield self._filter_bar
                yield self._event_view
            with Vertical(id="side"):
                yield MeetingsPane(self.meetings, clock=self.clock, id="meetings")
                yield ParticipantPanel(self.meetings, clock=self.clock, id="participants")
        yield Footer()

    def on_mount(self) -> None:
        if self.replay is not None:
            self.start_replay(self.replay)
        elif self.demo is not None:
            self.start_demo(self.demo)
        elif self.settings is not None:
            self.connect_to(self.settings)
        else:
            self.push_screen(
                FirstRunScreen(
                    profile=self.profile,
                    reason=self.settings_error or "",
                    config_path=self.config_path,
                    saver=self.saver,
                    **self.first_run_options,
                ),
                self._first_run_done,
            )
        self._focus_log()
        self.set_interval(PRUNE_INTERVAL, self._prune_meetings, name="meetings-prune")
        # Once the first screen is up: what is alive then is the app itself, frozen.
        self.call_after_refresh(self._install_gc_policy)

    def _install_gc_policy(self) -> None:
        if self.gc_policy.install():
            self.set_interval(FULL_INTERVAL, self.gc_policy.collect, name="gc-full")

    @property
    def exiting(self) -> bool:
        """True once the app is on its way out (quit, crash, shutdown under way).  The worker
        posts until it is cancelled, after the screens are gone: what arrives then is ignored."""
        return self._exit or not self.is_running or not self._screen_stacks.get(self._current_mode)

    def _prune_meetings(self) -> None:
        """The one place ended meetings are dropped by age (the tracker caps their number)."""
        self.session.prune_meetings()

    async def on_unmount(self) -> None:
        self.gc_policy.uninstall()
        self._history_stop.set()
        if self.history_state == "loading" and self._gc_was_enabled:
            gc.enable()  # quit before the history was in: collections as before
        # Say in the record that the monitor stopped (the cancelled worker cannot).
        self.session.record_stop("zoomtui quit")
        await self.stop_connection()
        if self.archive is not None:
            # The writer's last batch and its join: a few ms, off the event loop.
            await asyncio.to_thread(self.session.close_archive)

    async def stop_connection(self, timeout: float = 5.0) -> None:
        """Close the connection (and the demo's fake Zoom) and wait for it, so quitting leaves
        nothing half-open for the event loop's teardown to cancel mid-request."""
        if self.fake is not None:
            # Quitting the demo: drop the fake's sockets first. Under a flood its sender waits
            # on a full socket and a polite close would wait seconds for it (nothing to lose:
            # the fake is ours and goes away too).
            for conn in list(self.fake.connections):
                with contextlib.suppress(Exception):
                    conn.cut()
        zoom = [w for w in self.workers if w.group == "zoom"]
        for worker in zoom:
            worker.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self.workers.wait_for_complete(zoom), timeout)

    @property
    def panel(self) -> ConnectionPanel:
        return self._panel

    @property
    def event_view(self) -> EventLogView:
        return self._event_view

    @property
    def filter_bar(self) -> FilterBar:
        return self._filter_bar

    def _focus_log(self) -> None:
        if self._event_view.is_attached:
            self._event_view.focus()

    # -- starting the connection -----------------------------------------------------
    def _first_run_done(self, result: FirstRunResult | None) -> None:
        if result == DEMO:
            self.start_demo(self.first_run_demo)
        elif isinstance(result, ConnectionSettings):
            self.connect_to(result)
        self._focus_log()

    def connect_to(self, settings: ConnectionSettings) -> None:
        """Run a connection with these settings in the "zoom" worker (replacing any other)."""
        self.settings = settings
        self.status.subscription_id = settings.subscription_id
        if self.demo is None:  # which account this is: on-call may have several profiles
            self._panel.border_title = f"connection · profile {settings.profile}"
        self._start = partial(self.connect_to, settings)
        self._open_archive(settings.profile or self.profile, demo=False)
        self.run_worker(
            self._run_connection(settings),
            name="zoom-connection",
            group="zoom",
            exclusive=True,
            exit_on_error=False,
        )

    def start_demo(self, options: DemoOptions) -> None:
        """Start the fake Zoom in this event loop and connect to it (the real code path)."""
        self.demo = options
        self._start = partial(self.start_demo, options)
        self.sub_title = "demo: a built-in fake Zoom on 127.0.0.1, made-up meetings"
        self._panel.border_title = "connection · demo: built-in fake Zoom, made-up meetings"
        self._open_archive("demo", demo=True)  # its own file: made-up meetings stay apart
        self.run_worker(
            self._run_demo(options),
            name="zoom-demo",
            group="zoom",
            exclusive=True,
            exit_on_error=False,
        )

    async def _run_demo(self, options: DemoOptions) -> None:
        try:
            from zoomtui.fakezoom import FakeZoom

            fake = FakeZoom(
                host="127.0.0.1",
                port=0,
                oauth_port=0,
                seed=options.seed,
                scenario=options.scenario,
                rate=options.rate,
                events=options.events,
                token_ttl=options.token_ttl,
                clock=options.fake_clock or self.clock,
            )
            await fake.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as FAILED, never the crash screen
            self._worker_failed(exc, "The built-in fake Zoom could not start.")
            return
        self.fake = fake
        try:
            settings = fake.settings(heartbeat_interval=options.heartbeat)
            self.settings = settings
            self.status.subscription_id = settings.subscription_id
            await self._run_connection(settings)
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):  # quitting anyway
                await asyncio.wait_for(fake.stop(), timeout=5)

    async def _run_connection(self, settings: ConnectionSettings) -> None:
        try:
            from zoomtui.zoom.connection import ZoomConnection

            factory = self.connection_factory or ZoomConnection
            kwargs: dict[str, Any] = {"clock": self.clock, "monotonic": self.monotonic}
            if self.rng is not None:
                kwargs["rng"] = self.rng
            kwargs.update(self.connection_options)
            connection = factory(settings, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - bad settings etc: FAILED with the message
            self._worker_failed(exc, "Check the settings (`zoomtui doctor` explains each one).")
            return
        await self._run_source(connection)

    async def _run_source(self, source: UpdateSource) -> None:
        """Drive `source` until it ends: each update to the session's raw tap (the archive),
        then to the app as messages."""
        self.connection = source
        bridge = ConnectionBridge(
            source, self.post_message, observe=self.session.observe, clock=self.clock
        )
        self.bridge = bridge
        await bridge.run()

    # -- the archive -------------------------------------------------------------------
    def _open_archive(self, profile: str, *, demo: bool) -> None:
        """Open the archive for what we connect to (once), and load its history."""
        plan = self.archive_plan
        if plan is None or not plan.enabled or self._archive_target == (profile, demo):
            return
        old = self.session.record_to(plan.open(profile, demo=demo))
        if old is not None:  # first run chose another target: close the old one
            self.run_worker(old.close, thread=True, group="archive-close", exit_on_error=False)
        self._archive_target = (profile, demo)
        self._check_archive()
        self.set_interval(1.0, self._check_archive, name="archive-status")
        # History of what the app was started for (first run -> demo: none; the demo's
        # seeded meetings would meet themselves again).
        if plan.history and self.history_state == "none" and demo == self._started_as_demo:
            self._start_history(plan.history)

    def _check_archive(self) -> None:
        """Show a disk or permission problem in the panel (and toast it); clear it when the
        archive recovers.  Polled: the writer thread never touches the UI."""
        change = self.session.check_archive()
        if change is None:
            return
        self.panel.refresh_status()
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
        self.session.begin_history()
        # Loading allocates hundreds of thousands of objects that live on: each full
        # collection meanwhile walked them all (200-300 ms stalls per batch, measured in
        # benchmarks/history_load.py).  No collections while loading; then the loaded
        # history is frozen out of every later full collection (it is freed by reference
        # counting when the log or the tracker drop it: rows and meetings hold no cycles).
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        until = self.clock()  # what the archive gets from now on is live, not history
        self._history_window = seconds
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
                self._show_rows(self.session.apply_history(message.records))
        finally:
            message.taken.set()  # the reading thread goes on

    @on(HistoryDone)
    def _history_done(self, message: HistoryDone) -> None:
        if self.exiting:
            return
        end = self.session.end_history(message.seen, message.until)
        if self._event_view.is_attached:
            self._event_view.mark_history(end.boundary)
        if self._gc_was_enabled:
            gc.enable()
        gc.freeze()
        self._show_rows(end.applied)
        self._refresh_panel_for(end.applied)
        seen = message.seen
        window = _span_words(self._history_window)
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
                f"{seen.events:,} events from the last {window}, dimmed above the line.",
                title="History",
                timeout=4,
                markup=False,
            )

    # -- replay ------------------------------------------------------------------------
    def start_replay(self, source: Any) -> None:
        """Play an archive through the same bridge and ingest path as a connection."""
        self._start = None
        self.status.replay = self._replay_badge()
        self.sub_title = f"replay: {self.replay_title}" if self.replay_title else "replay"
        self._panel.border_title = (
            f"connection · REPLAY of {self.replay_title}"
            if self.replay_title
            else "connection · REPLAY"
        )
        self.set_interval(0.5, self._replay_tick, name="replay-badge")
        self.run_worker(
            self._run_replay(source),
            name="zoom-replay",
            group="zoom",
            exclusive=True,
            exit_on_error=False,
        )

    async def _run_replay(self, source: Any) -> None:
        await self._run_source(source)
        if self.exiting:  # (ended because the app quits: nothing left to show)
            return
        self._replay_tick()
        self.refresh_bindings()  # nothing left to pause
        if source.error:
            self.notify(
                source.error, title="Replay stopped", severity="error", timeout=12, markup=False
            )
        elif source.finished:
            self.notify(
                f"{source.played:,} recorded updates played. The panes show the record "
                "as it stood at its end.",
                title="Replay finished",
                timeout=6,
            )

    def _replay_badge(self) -> str:
        source = self.replay
        if source is None:
            return ""
        speed = "instant" if source.speed is None else f"×{source.speed:g}"
        total = f" of {source.total:,}" if source.total is not None else ""
        where = f"{source.played:,}{total}"
        if source.finished or source.error:
            return f"{speed} · ended · {where}"
        return f"{speed} · {'paused · ' if source.paused else ''}{where}"

    def _replay_tick(self) -> None:
        badge = self._replay_badge()
        if badge != self.status.replay:
            self.status.replay = badge
            self.panel.refresh_status()

    def action_replay_pause(self) -> None:
        if self.replay is not None and not self.replay.finished:
            self.replay.toggle_pause()
            self._replay_tick()

    def _worker_failed(self, exc: BaseException, hint: str) -> None:
        text = redact(str(exc)) or type(exc).__name__
        self.post_message(
            StateUpdated(
                StateChanged(
                    state=ConnectionState.FAILED,
                    previous=self.status.state,
                    reason=text,
                    at=self.clock(),
                    hint=hint,
                )
            )
        )

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        # Belt and braces: the bridge catches everything, but should anything escape a "zoom"
        # worker it is shown as FAILED here (exit_on_error=False keeps the crash screen away).
        if event.worker.group == "zoom" and event.state is WorkerState.ERROR and not self.exiting:
            error = event.worker.error
            self._worker_failed(
                error if error is not None else RuntimeError("worker failed"), CRASH_HINT
            )

    def _connection_alive(self) -> bool:
        """True while a worker runs a connection that still listens to requests."""
        return (
            self.connection is not None
            and self.bridge is not None
            and any(w.group == "zoom" and w.is_running for w in self.workers)
        )

    # -- messages from the worker: applied to the session, then what changed is shown -----
    @on(RowsArrived)
    def _rows_arrived(self, message: RowsArrived) -> None:
        if not self.exiting:
            self.ingest(message.rows)

    def ingest(self, rows: Iterable[Update]) -> None:
        """Received rows to the session (event log, meeting tracker, panel counters), then
        to the screen.  While the history loads, the session holds them back."""
        applied = self.session.apply_batch(rows)
        self._show_rows(applied)
        self._refresh_panel_for(applied)

    def _show_rows(self, applied: Applied) -> None:
        if applied.rows and self._event_view.is_attached:
            self._event_view.rows_added(applied.visible)

    def _refresh_panel_for(self, applied: Applied) -> None:
        """The panel's counters move with every batch: re-rendered at most every
        PANEL_REFRESH_INTERVAL, but at once for a gap."""
        mono = time.monotonic()
        if applied.gaps or mono - self._panel_refreshed >= PANEL_REFRESH_INTERVAL:
            self._panel_refreshed = mono
            self.panel.refresh_status()

    @on(StateUpdated)
    def _state_updated(self, message: StateUpdated) -> None:
        if self.exiting:
            return
        change = message.change
        previous = self.status.state
        self._show_rows(self.session.apply(change))
        self.panel.refresh_status()
        self.refresh_bindings()
        if self.replay is not None:
            self._replay_tick()
        if self.replay is None:  # a recorded "connected" is not news
            self._toast(change, previous)

    def _toast(self, change: StateChanged, previous: ConnectionState) -> None:
        reason = self.status.reason
        if change.state is ConnectionState.CONNECTED and previous is not ConnectionState.CONNECTED:
            sub = mask_id(self.status.subscription_id)
            self.notify(f"Receiving events for subscription {sub}.", title="Connected", timeout=3)
        elif change.state is ConnectionState.FAILED:
            text = reason + (f"\n{self.status.hint}" if self.status.hint else "")
            self.notify(text, title="Connection failed", severity="error", timeout=12, markup=False)
        elif "displaced" in reason.lower():
            self.notify(reason, title="Displaced?", severity="warning", timeout=8, markup=False)

    @on(HeartbeatAnswered)
    @on(TokenObtained)
    def _link_news(self, message: HeartbeatAnswered | TokenObtained) -> None:
        if self.exiting:
            return
        self.session.apply(message.update)
        self.panel.refresh_status()

    @on(NoticeReceived)
    def _notice(self, message: NoticeReceived) -> None:
        if self.exiting:
            return
        self.session.apply(message.notice)
        module = message.notice.envelope.module
        if (
            module in self._notices_seen
        ):  # once per module: a chatty server must not bury the screen
            return
        self._notices_seen.add(module)
        self.notify(
            redact(message.notice.text), title=f"Zoom sent “{module}”", timeout=6, markup=False
        )

    # -- actions ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_SCREEN_ACTIONS and isinstance(self.screen, FirstRunScreen):
            return False  # nothing to connect, filter or show yet: keep the footer to the point
        if action == "replay_pause":
            return self.replay is not None and not (self.replay.finished or self.replay.error)
        if action in CONNECTION_ACTIONS and self.replay is not None:
            return False  # a replay has no connection to drive
        if action == "export_view" and self.screen is not self.screen_stack[0]:
            return False  # the inspector exports its own event
        if action == "filter" and isinstance(self.focused, (Input, TextArea)):
            return False  # a `/` typed in a field (a uuid has them) is text
        if action == "filter" and self.screen is not self.screen_stack[0]:
            return False  # the inspector or help is open
        if action in ("connect", "disconnect"):
            up = self._connection_alive() and self.status.state not in (
                ConnectionState.STOPPED,
                ConnectionState.FAILED,
            )
            return up if action == "disconnect" else not up
        return True

    def action_connect(self) -> None:
        if self._connection_alive():
            self.connection.request_connect()
        elif self._start is not None:
            self._start()
        else:
            self.notify(
                "No credentials yet: run `zoomtui login` or `zoomtui demo`.", severity="warning"
            )

    def action_disconnect(self) -> None:
        if self._connection_alive():
            self.connection.request_disconnect()

    def action_reconnect(self) -> None:
        if self._connection_alive():
            self.connection.request_reconnect()
        else:
            self.action_connect()

    def action_filter(self) -> None:
        # Focus now, not via Widget.focus() (which waits for the message queue): see BINDINGS.
        field = self._filter_bar.input
        self.screen.set_focus(field)
        field.cursor_position = len(field.value)

    def action_clear_filter(self) -> None:
        self._filter_bar.clear()

    def action_follow(self) -> None:
        self._event_view.action_follow()
        self._focus_log()

    @on(EventLogView.Inspect)
    def _inspect(self, message: EventLogView.Inspect) -> None:
        def shown_last(row: Any) -> None:
            # The inspector steps with n/p: leave the list on the row last shown.
            if row is not None:
                self._event_view.select_row(row)

        self.push_screen(InspectorScreen(self.event_log, message.row), shown_last)

    def action_meetings(self) -> None:
        """m: to the meetings pane (showing the side column); from it, hide the column."""
        side = self.query_one("#side")
        pane = self.query_one(MeetingsPane)
        # set_focus: at once (focus() waits for the message queue to move it)
        if self.focused is pane:
            side.add_class("-hidden")
            self.screen.set_focus(self._event_view)
        else:
            side.remove_class("-hidden")
            self.screen.set_focus(pane)

    @on(LogFilterRequested)
    def _filter_log(self, message: LogFilterRequested) -> None:
        self._filter_bar.set_text(message.text)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[BindingSection]:
        replaying = self.replay is not None

        def offered(b: Binding) -> bool:
            # a replay has no connection to drive, a live run nothing to pause
            if b.action == "replay_pause":
                return replaying
            return not (replaying and b.action in CONNECTION_ACTIONS)

        sections: list[BindingSection] = [
            (
                "Connection and app",
                [
                    *(b for b in self.BINDINGS if isinstance(b, Binding) and offered(b)),
                    Binding(self.COMMAND_PALETTE_BINDING, "command_palette", "Command palette"),
                ],
            )
        ]
        sections.append(("Event list", EventLogView.BINDINGS))
        sections.append(("In the filter", FilterBar.BINDINGS))
        sections.append(("Meetings (m)", MeetingsPane.BINDINGS))
        sections.append(("Participants", ParticipantList.BINDINGS))
        return sections

    def action_export_view(self) -> None:
        """e: the events of the current (filtered) view to a new owner-only JSON Lines file."""
        name = view_export_name(time.time())
        # The view as it is now (iterating the log gives the filtered view, oldest first);
        # taken here, on the UI thread, because live rows keep changing the log.
        rows = [r for r in self.event_log if type(r) is ZoomEvent]
        if not rows:
            self.notify("Nothing to export: no events in the current view.", severity="warning")
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
        try:
            count, path = export_to_first_folder(rows, name, folders)
        except ExportError as error:
            self.call_from_thread(
                self.notify, str(error), title="Export failed", severity="error", markup=False
            )
            return
        self.call_from_thread(
            self.notify, f"{count:,} events written to {path}", title="Exported", markup=False
        )


def _span_words(seconds: float) -> str:
    """3600 -> "60 min", 7200 -> "2 h"."""
    if seconds >= 7200 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"
