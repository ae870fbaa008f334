"""Starting what the monitor shows: a live connection, the demo's fake Zoom, an archive
played back.

Each is built as an `UpdateSource` and run the same way (`Sources._run_source`): in the
app's "zoom" worker, through a `ConnectionBridge` that hands every update to the
session's raw tap (the archive) and posts typed messages to the app.  Only one source
runs at a time (a new one replaces the old: `exclusive`).  Nothing from the network
reaches Textual's crash screen: a source that cannot even be built is shown as FAILED.

`c`, `r` and the palette drive the running source through `connect`, `disconnect` and
`reconnect`; a source that ended (failed, stopped) is started again from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from zoomtui.monitor.source import UpdateSource
from zoomtui.redaction import redact
from zoomtui.settings import ConnectionSettings
from zoomtui.tui.messages import StateUpdated
from zoomtui.tui.options import DemoOptions, HubChoice, ReplayChoice
from zoomtui.tui.worker import ConnectionBridge
from zoomtui.words import counted
from zoomtui.zoom.updates import ConnectionState, StateChanged

if TYPE_CHECKING:
    from zoomtui.fakezoom import FakeZoom
    from zoomtui.monitor.replay import ReplaySource
    from zoomtui.tui.app import ZoomtuiApp

#: the replay badge ("×10 · 1,234 of 5,000") is brought up to date this often (seconds)
REPLAY_TICK = 0.5


class Sources:
    """The app's one running source, and how to start, drive and stop it."""

    def __init__(self, app: ZoomtuiApp) -> None:
        self.app = app
        #: the running source (a `ZoomConnection`, a `ReplaySource`...); None: none yet
        self.connection: Any = None
        self.bridge: ConnectionBridge | None = None
        #: the settings connected with (the demo's: its fake's)
        self.settings: ConnectionSettings | None = None
        #: the demo being run, and its in-process fake Zoom
        self.demo: DemoOptions | None = None
        self.fake: FakeZoom | None = None
        #: the archive being played (None: live)
        self.replay: ReplaySource | None = None
        self._restart: Callable[[], None] | None = None  # how `c` starts it again
        #: asks Zoom's API who is in each meeting beside a live connection (None: off)
        self.hydrator: Any = None

    def start(self, source: ConnectionSettings | DemoOptions | ReplayChoice | HubChoice) -> None:
        if isinstance(source, ReplayChoice):
            self.start_replay(source)
        elif isinstance(source, HubChoice):
            self.start_hub(source)
        elif isinstance(source, DemoOptions):
            self.start_demo(source)
        else:
            self.connect_to(source)

    # -- the three kinds ---------------------------------------------------------------
    def connect_to(self, settings: ConnectionSettings) -> None:
        """Run a connection with these settings (replacing any other source)."""
        app = self.app
        self.settings = settings
        app.status.subscription_id = settings.subscription_id
        app.status.heartbeat_interval = settings.heartbeat_interval
        if self.demo is None:  # which account this is: on-call may have several profiles
            app.main.show_source(f"connection · profile {settings.profile}")
        self._restart = partial(self.connect_to, settings)
        app.open_archive(settings.profile or app.options.profile, demo=False)
        self._run_in_worker(self._run_connection(settings), "zoom-connection")

    def start_demo(self, options: DemoOptions) -> None:
        """Start the fake Zoom in this event loop and connect to it (the real code path)."""
        app = self.app
        self.demo = options
        self._restart = partial(self.start_demo, options)
        app.sub_title = "demo: a built-in fake Zoom on 127.0.0.1, made-up meetings"
        app.main.show_source("connection · demo: built-in fake Zoom, made-up meetings")
        app.open_archive("demo", demo=True)  # its own file: made-up meetings stay apart
        self._run_in_worker(self._run_demo(options), "zoom-demo")

    def start_replay(self, choice: ReplayChoice) -> None:
        """Play an archive through the same bridge and ingest path as a connection."""
        app, title = self.app, choice.title
        self.replay = choice.source
        self._restart = None
        app.status.replay = self.replay_badge()
        app.sub_title = f"replay: {title}" if title else "replay"
        app.main.show_source(f"connection · REPLAY of {title}" if title else "connection · REPLAY")
        app.set_interval(REPLAY_TICK, self.replay_tick, name="replay-badge")
        self._run_in_worker(self._run_replay(choice.source), "zoom-replay")

    def start_hub(self, choice: HubChoice) -> None:
        """Read the team hub: the panel shows the collector's link as it reported it; this
        app's own link to the hub is said in notifications."""
        app = self.app
        self._restart = None
        app.sub_title = f"hub: {choice.title}"
        app.main.show_source(f"connection · hub {choice.title} · the collector's link")
        choice.source.on_link = self._hub_link
        app.open_archive(app.options.profile, demo=False)  # (only with --archive: a plan)
        self._run_in_worker(self._run_hub(choice.source), "zoom-hub")

    def _hub_link(self, change: Any) -> None:
        text = change.detail or change.state
        if change.state == "connected":
            self.app.notify(text, title="Link to the hub", markup=False)
        else:
            self.app.notify(text, title="Link to the hub", severity="warning", markup=False)

    async def _run_hub(self, source: Any) -> None:
        await self._run_source(source)
        if source.error and not self.app.exiting:
            self.app.notify(source.error, title="Hub", severity="error", timeout=15, markup=False)

    def _run_in_worker(self, work: Any, name: str) -> None:
        self.app.run_worker(work, name=name, group="zoom", exclusive=True, exit_on_error=False)

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
                clock=options.fake_clock or self.app.clock,
            )
            await fake.start()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown as FAILED, never the crash screen
            self.failed(exc, "The built-in fake Zoom could not start.")
            return
        self.fake = fake
        try:
            if options.before_connect is not None:
                await options.before_connect(fake)
            settings = fake.settings(heartbeat_interval=options.heartbeat, hydrate=options.hydrate)
            self.settings = settings
            self.app.status.subscription_id = settings.subscription_id
            self.app.status.heartbeat_interval = settings.heartbeat_interval
            await self._run_connection(settings)
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):  # quitting anyway
                await asyncio.wait_for(fake.stop(), timeout=5)

    async def _run_connection(self, settings: ConnectionSettings) -> None:
        options = self.app.options
        try:
            from zoomtui.credentials.token_cache import shared_token_cache
            from zoomtui.zoom.connection import ZoomConnection

            factory = options.connection.factory or ZoomConnection
            clocks = options.clocks
            kwargs: dict[str, Any] = {
                "clock": self.app.clock,
                "monotonic": clocks.monotonic,
                # the token is shared with the other zoomtui processes of this profile
                "token_cache": shared_token_cache(settings),
            }
            if clocks.rng is not None:
                kwargs["rng"] = clocks.rng
            kwargs.update(options.connection.keywords)
            connection = factory(settings, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - bad settings etc: FAILED with the message
            self.failed(exc, "Check the settings (`zoomtui doctor` explains each one).")
            return
        await self._run_source(connection, settings)

    async def _run_replay(self, source: ReplaySource) -> None:
        app = self.app
        await self._run_source(source)
        if app.exiting:  # (ended because the app quits: nothing left to show)
            return
        self.replay_tick()
        app.refresh_bindings()  # nothing left to pause
        if source.error:
            app.notify(
                source.error, title="Replay stopped", severity="error", timeout=12, markup=False
            )
        elif source.finished:
            app.notify(
                f"{counted(source.played, 'recorded update')} played. The panes show the record "
                "as it stood at its end.",
                title="Replay finished",
                timeout=6,
                markup=False,
            )

    async def _run_source(
        self, source: UpdateSource, settings: ConnectionSettings | None = None
    ) -> None:
        """Drive `source` until it ends: each update to the session's raw tap (the archive),
        then to the app as messages.  A live connection (`settings`) is hydrated beside it
        (who is in each meeting, from Zoom's API) through the same bridge."""
        from zoomtui.monitor.hydrate import Hydrator

        app = self.app
        self.connection = source
        bridge = ConnectionBridge(
            source, app.post_message, observe=app.session.observe, clock=app.clock
        )
        self.bridge = bridge
        hydrator = None
        if settings is not None:
            hydrator = Hydrator.start_for(
                app.session, source, settings, bridge.deliver, clock=app.clock
            )
        self.hydrator = hydrator
        try:
            await bridge.run()
        finally:
            if hydrator is not None:
                await hydrator.close()

    def failed(self, exc: BaseException, hint: str) -> None:
        """Show a source that could not run as FAILED, with what to check."""
        app = self.app
        text = redact(str(exc)) or type(exc).__name__
        change = StateChanged(
            state=ConnectionState.FAILED,
            previous=app.status.state,
            reason=text,
            at=app.clock(),
            hint=hint,
        )
        app.post_message(StateUpdated(change))

    # -- driving it --------------------------------------------------------------------
    def alive(self) -> bool:
        """True while a worker runs a source that still listens to requests."""
        return (
            self.connection is not None
            and self.bridge is not None
            and any(w.group == "zoom" and w.is_running for w in self.app.workers)
        )

    def connect(self) -> None:
        if self.alive():
            self.connection.request_connect()
        elif self._restart is not None:
            self._restart()
        else:
            self.app.notify(
                "No credentials yet: run `zoomtui login` or `zoomtui demo`.",
                severity="warning",
                markup=False,
            )

    def disconnect(self) -> None:
        if self.alive():
            self.connection.request_disconnect()

    def reconnect(self) -> None:
        if self.alive():
            self.connection.request_reconnect()
        else:
            self.connect()

    async def stop(self, timeout: float = 5.0) -> None:
        """Close the source (and the demo's fake Zoom) and wait for it, so quitting leaves
        nothing half-open for the event loop's teardown to cancel mid-request."""
        app = self.app
        if self.fake is not None:
            # Quitting the demo: drop the fake's sockets first. Under a flood its sender waits
            # on a full socket and a polite close would wait seconds for it (nothing to lose:
            # the fake is ours and goes away too).
            for conn in list(self.fake.connections):
                with contextlib.suppress(Exception):
                    conn.cut()
        zoom = [w for w in app.workers if w.group == "zoom"]
        for worker in zoom:
            worker.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(app.workers.wait_for_complete(zoom), timeout)

    # -- a replay's badge and pause ----------------------------------------------------
    def replay_badge(self) -> str:
        source = self.replay
        if source is None:
            return ""
        speed = "instant" if source.speed is None else f"×{source.speed:g}"
        # records: events, state changes, gaps... (the panel counts events, the list rows)
        if source.total is None:
            where = counted(source.played, "record")
        else:
            where = f"{source.played:,} of {counted(source.total, 'record')}"
        if source.finished or source.error:
            return f"{speed} · ended · {where}"
        return f"{speed} · {'paused · ' if source.paused else ''}{where}"

    def replay_tick(self) -> None:
        badge = self.replay_badge()
        if badge != self.app.status.replay:
            self.app.status.replay = badge
            self.app.main.panel.refresh_status()

    def can_pause(self) -> bool:
        replay = self.replay
        return replay is not None and not (replay.finished or replay.error)

    def toggle_pause(self) -> None:
        if self.replay is not None and not self.replay.finished:
            self.replay.toggle_pause()
            self.replay_tick()
