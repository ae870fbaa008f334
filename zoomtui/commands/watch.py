"""`zoomtui watch`: headless and long-running, for a server.  No Textual.

The connection, the archive (as `tail` keeps it), the profile's alert rules and their
actions, and optionally a Prometheus endpoint (`--metrics 127.0.0.1:9464`).  stdout has
one line per alert (firing, cleared); stderr the connection's state, gaps and problems.

A bad rule stops it at start (exit 3) naming the rule and the field.  SIGTERM or Ctrl-C
stop it cleanly (exit 0): the connection is closed, the archive gets everything received
and says the monitor stopped, the queued alerts go out (bounded), the endpoint closes,
and an alert still open is named in the closing lines (no "cleared" line will follow it).
With `--forward-to` and `--metrics`, forwarding's figures are served too.
It stays up when displaced (a rule can say so; `on_displaced = "retake after 10m"` takes
the subscription back); it exits like `tail` when the connection fails for good (3, 4, 5),
for a service manager to restart or a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from zoomtui.commands.archiving import no_archive_option
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_OK,
    connection_options,
    on_displaced_option,
    overrides_from,
)
from zoomtui.commands.forwarding import (
    monitor_forward_options,
    monitor_forwarding,
    signing_words,
)
from zoomtui.commands.tail import TailRun, gap_text, state_text, stream
from zoomtui.monitor.session import MonitorSession, SessionSink
from zoomtui.redaction import install_log_redaction, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.words import counted
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged

if TYPE_CHECKING:
    from zoomtui.alerts import Alert, AlertEngine, RuleSet
    from zoomtui.forward import Forwarder, ForwardOptions

log = logging.getLogger("zoomtui.watch")


class WatchNotes(SessionSink):
    """The connection's story on stderr (as `tail` tells it); a failure ends the run."""

    def __init__(self, run: TailRun) -> None:
        self.run = run

    def on_state(self, change: StateChanged, live: bool) -> None:
        if change.state is ConnectionState.STOPPED and self.run.code is not None:
            return  # our own stop
        self.run.note(state_text(change))
        if change.state is ConnectionState.FAILED:
            self.run.failed()

    def on_gap(self, gap: Gap, live: bool) -> None:
        self.run.note(gap_text(gap))


def alert_line(alert: Alert) -> str:
    count = f" [x{alert.count}]" if alert.count > 1 else ""
    return f"{time.strftime('%Y-%m-%d %H:%M:%S')} {alert.text()}{count}"


class _Printer:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def __call__(self, alert: Alert) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            self.out.write(alert_line(alert) + "\n")
            self.out.flush()


async def run_watch(
    settings: ConnectionSettings,
    rules: RuleSet,
    *,
    archive: Any = None,
    metrics: tuple[str, int] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    handle_signals: bool = True,
    connection_kwargs: dict[str, Any] | None = None,
    clock: Any = time.time,
    forward: ForwardOptions | None = None,
) -> int:
    """Watch until a signal or a failure; returns the exit code.  `forward`: each live
    event to a webhook handler too (`--forward-to`), counted, never waited for."""
    from zoomtui.alerts.actions import AlertDispatcher
    from zoomtui.alerts.engine import TICK_SECONDS, AlertEngine
    from zoomtui.zoom.connection import ZoomConnection

    run = TailRun(err if err is not None else sys.stderr)
    session = MonitorSession(clock=clock)
    session.subscribe(WatchNotes(run))
    engine = AlertEngine(rules.rules, clock=clock)
    dispatcher = AlertDispatcher(rules.rules, report=run.note)
    engine.listen(_Printer(out if out is not None else sys.stdout))
    engine.listen(dispatcher.send)
    session.subscribe(engine)
    server = registry = None
    if metrics is not None:
        try:
            server, registry = _serve_metrics(metrics, session, engine, run)
        except OSError:
            dispatcher.close()
            return EXIT_CONFIG
    run.note(f"watching with {counted(len(rules.rules), 'alert rule')}")
    loop = asyncio.get_running_loop()
    ticker: list[asyncio.TimerHandle] = []

    def tick() -> None:
        engine.tick()
        if run.code is None:
            ticker[:] = [loop.call_later(TICK_SECONDS, tick)]

    tick()
    installed = _stop_on_signals(loop, run) if handle_signals else []
    forwarder = await _start_forwarding(session, forward, run, registry)
    try:
        session.record_to(archive)
        conn = ZoomConnection(settings, **(connection_kwargs or {}))
        run.failure = lambda: conn.failure
        await stream(conn, session, run, handle_signals=False)
    finally:
        for handle in ticker:
            handle.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        if forwarder is not None:
            await _stop_forwarding(forwarder, run)
        if archive is not None:
            await asyncio.to_thread(archive.close)
        await asyncio.to_thread(dispatcher.close)
        if server is not None:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
    say_still_open(engine, run, clock())
    if run.code == EXIT_OK:
        run.note("stopped; everything received is archived" if archive is not None else "stopped")
    return EXIT_OK if run.code is None else run.code


def say_still_open(engine: AlertEngine, run: TailRun, now: float) -> None:
    """The alerts whose condition had not cleared when the watch stopped: no "cleared" line
    will follow them, and the journal's reader should not take the silence for one."""
    from zoomtui.timefmt import duration_plain, iso_utc_ms

    still = engine.still_open()
    if not still:
        return
    run.note(f"{counted(len(still), 'alert')} still open at stop (not cleared):")
    for a in still:
        held = "" if a.notified else ", held back by its cooldown"
        times = counted(a.count, "time")
        run.note(
            f"  {a.rule}: open since {iso_utc_ms(a.since)} "
            f"({duration_plain(max(0.0, now - a.since))}), {times}{held}: {a.message}"
        )


def _serve_metrics(
    metrics: tuple[str, int], session: MonitorSession, engine: AlertEngine, run: TailRun
) -> tuple[Any, Any]:
    """`--metrics`: the session and the rules counted, served; returns the server and its
    registry (forwarding adds its figures there).  OSError (said): the address is taken."""
    from zoomtui.alerts.metrics import MetricsSink, serve

    sink = MetricsSink()
    sink.declare_rules([r.name for r in engine.rules], engine.open_by_rule)
    engine.listen(sink.on_alert)
    session.subscribe(sink)
    try:
        server, port = serve(sink, *metrics)
    except OSError as exc:
        run.note(f"cannot serve metrics on {metrics[0]}:{metrics[1]}: {exc.strerror or exc}")
        raise
    host = f"[{metrics[0]}]" if ":" in metrics[0] else metrics[0]
    run.note(f"metrics on http://{host}:{port}/metrics")
    return server, sink.registry


async def _start_forwarding(
    session: MonitorSession, forward: ForwardOptions | None, run: TailRun, registry: Any = None
) -> Forwarder | None:
    """`--forward-to`: a forwarder beside the rules (None: no forwarding), its figures in
    the metrics' `registry` when they are served."""
    if forward is None:
        return None
    from zoomtui.forward import Forwarder, ForwardSink

    forwarder = Forwarder(forward)
    names: dict[str, str] = {}
    if registry is not None:
        from zoomtui.forward.metrics import ForwardMetrics

        counted = ForwardMetrics(registry, forwarder)
        forwarder.on_result, forwarder.on_drop = counted.on_result, counted.on_drop
        names = counted.names
    signed = signing_words(forward.secret)
    for url in forward.routes.urls:
        named = f'; metrics handler="{names[url]}"' if url in names else ""
        run.note(f"forwarding to {url} ({signed}{named})")
    await forwarder.start()
    session.subscribe(ForwardSink(forwarder))
    return forwarder


async def _stop_forwarding(forwarder: Forwarder, run: TailRun) -> None:
    from zoomtui.commands.forwarding import summary_text

    left = await forwarder.aclose()
    run.note(f"forwarded: {summary_text(forwarder.stats(), left)}")


def _stop_on_signals(loop: asyncio.AbstractEventLoop, run: TailRun) -> list[signal.Signals]:
    """SIGTERM (a service manager) and SIGINT stop the watch cleanly, exit 0."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, run.stop, EXIT_OK)
            installed.append(sig)
    return installed


def _metrics_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from zoomtui.alerts.metrics import parse_listen

    try:
        return parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def load_profile_rules(profile: str, config_path: str | None) -> RuleSet:
    from zoomtui import config as cfg
    from zoomtui.alerts.rules import load_rules

    return load_rules(cfg.config_path(config_path), profile)


@click.command()
@connection_options
@click.option(
    "--metrics",
    "metrics",
    default=None,
    metavar="HOST:PORT",
    callback=_metrics_option,
    help="Serve Prometheus metrics on HOST:PORT (e.g. 127.0.0.1:9464; needs the "
    "'metrics' extra: prometheus-client).",
)
@no_archive_option
@on_displaced_option
@monitor_forward_options
@click.option("--heartbeat", type=click.FloatRange(min=0.01), default=None, hidden=True)
def command(
    metrics: tuple[str, int] | None,
    archive: bool | None,
    heartbeat: float | None,
    profile: str | None,
    config_path: str | None,
    forward_to: tuple[str, ...],
    unsigned: bool,
    **kwargs: object,
) -> None:
    """Run headless: connection, archive, alert rules and their actions, metrics.

    One line per alert on stdout; the connection's state on stderr.  SIGTERM stops it
    cleanly (exit 0).  Exit codes: 3 settings or a bad rule, 4 credentials or
    subscription rejected, 5 gave up.
    """
    install_log_redaction()
    logging.getLogger("zoomtui").addHandler(logging.NullHandler())
    overrides = overrides_from(kwargs)
    if heartbeat is not None:
        overrides["heartbeat_interval"] = heartbeat
    try:
        from zoomtui.credentials import resolve_settings

        settings = resolve_settings(
            profile=profile,
            config_path=Path(config_path) if config_path else None,
            overrides=overrides,
        )
        settings.check_transport()
        rules = load_profile_rules(settings.profile, config_path)
    except SettingsError as exc:
        click.echo(f"zoomtui watch: {redact(exc)}", err=True)
        sys.exit(EXIT_CONFIG)
    if metrics is not None:
        try:
            import prometheus_client  # noqa: F401
        except ImportError:
            click.echo(
                "zoomtui watch: --metrics needs prometheus-client: pip install 'zoomtui[metrics]'.",
                err=True,
            )
            sys.exit(EXIT_CONFIG)
    forward = monitor_forwarding(
        "watch",
        forward_to,
        unsigned=unsigned,
        profile=settings.profile,
        config_path=config_path,
        insecure=bool(kwargs.get("insecure_transport")),
    )
    from zoomtui.commands.archiving import plan_for, profile_values
    from zoomtui.profilestate import first_connection_of

    plan = plan_for(profile_values(settings.profile, config_path), archive=archive)
    store = plan.open(settings.profile)
    try:
        code = asyncio.run(
            run_watch(
                settings,
                rules,
                archive=store,
                metrics=metrics,
                connection_kwargs={"is_first_connection": first_connection_of},
                forward=forward,
            )
        )
    except KeyboardInterrupt:
        code = EXIT_OK
    sys.exit(code)
