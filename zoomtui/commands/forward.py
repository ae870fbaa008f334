"""`zoomtui forward`: deliver the subscription's events to a local webhook handler, signed
exactly as Zoom signs webhooks, with no public URL and no tunnel.

forward drives a `MonitorSession` as `tail` does (same connection, same archive, same
state lines on stderr); forwarding is a sink of it (`ForwardSink`), so a slow or dead
handler fills a bounded queue and is counted, and never slows what the session takes in.
stdout: one line per delivery (`--json` for pipes).  `--check` only sends Zoom's
URL-validation challenge to each handler and says whether it answers it right, in time.

Exit codes: as `tail` (0 done, 3 settings, 4 credentials, 5 gave up, 6 displaced, 130
interrupted); with `--check`, 0 when every handler passes and 1 when one does not.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from zoomtui.commands.archiving import no_archive_option
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    connection_options,
    on_displaced_option,
    overrides_from,
)
from zoomtui.commands.forwarding import (
    DEFAULT_RETRY_FACTOR,
    DeliveryPrinter,
    delivery_options,
    fail,
    forward_options_from,
    matcher_for,
    routes_from,
    signing_words,
    summary_text,
    webhook_secret_for,
)
from zoomtui.commands.tail import TailOutput, TailRun, stream
from zoomtui.forward import (
    CHECK_DEADLINE,
    DEFAULT_QUEUE_LIMIT,
    Delivery,
    Forwarder,
    ForwardOptions,
    ForwardSink,
    Routes,
    check_handler,
)
from zoomtui.monitor.session import MonitorSession
from zoomtui.redaction import Secret, install_log_redaction, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import ZoomEvent

#: how often a full queue is said (the events it drops are counted between two notes)
OVERFLOW_NOTE_EVERY = 1.0


class ConnectionNews(TailOutput):
    """tail's stderr lines about the connection (states, gaps, malformed frames), and its
    way of ending a run; the events themselves are the forwarder's."""

    history = False

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        return


class OverflowNotes:
    """Says, at most once a second, that the queue is full and how many events it dropped."""

    def __init__(self, forwarder: Forwarder, run: TailRun) -> None:
        self.forwarder = forwarder
        self.run = run
        self.said = 0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(OVERFLOW_NOTE_EVERY, self._look)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._look(again=False)

    def _look(self, again: bool = True) -> None:
        stats = self.forwarder.stats()
        if stats.dropped > self.said:
            self.run.note(
                f"forwarding queue full ({stats.queued}/{stats.queue_limit} waiting, oldest "
                f"{stats.oldest_wait:.1f} s, {stats.in_flight} on their way): "
                f"{stats.dropped - self.said} events not forwarded since the last note "
                f"({stats.dropped} in all); the monitor and the archive have them"
            )
            self.said = stats.dropped
        if again and self.run.code is None:
            self._timer = asyncio.get_running_loop().call_later(OVERFLOW_NOTE_EVERY, self._look)


async def run_forward(
    settings: ConnectionSettings,
    options: ForwardOptions,
    *,
    matches: Any = None,
    out: IO[bytes] | None = None,
    err: IO[str] | None = None,
    as_json: bool = False,
    duration: float | None = None,
    handle_signals: bool = True,
    connection_kwargs: dict[str, Any] | None = None,
    archive: Any = None,
    give_up_after: int | None = None,
    count: int | None = None,
    wall_clock: Any = time.time,
) -> int:
    """Forward live events until --count deliveries, --duration, a signal, or a failure.
    Returns the exit code."""
    from zoomtui.zoom.connection import ZoomConnection

    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    run = TailRun(err)
    printer = DeliveryPrinter(out, as_json=as_json)
    session = MonitorSession(clock=time.time)
    session.subscribe(ConnectionNews(run, out))
    signed = signing_words(options.secret)
    for url in options.routes.urls:
        run.note(f"forwarding to {url} ({signed})")

    def reported(delivery: Delivery) -> None:
        printer(delivery)
        if count is not None and printer.seen >= count:
            run.stop(EXIT_OK)

    forwarder = Forwarder(options, on_result=reported, wall_clock=wall_clock)
    await forwarder.start()
    notes = OverflowNotes(forwarder, run)
    try:
        session.subscribe(ForwardSink(forwarder, matches))
        session.record_to(archive)
        conn = ZoomConnection(settings, give_up_after=give_up_after, **(connection_kwargs or {}))
        run.failure = lambda: conn.failure
        notes.start()
        await stream(conn, session, run, duration=duration, handle_signals=handle_signals)
    finally:
        notes.stop()
        left = await forwarder.aclose()
        run.note(f"forwarded: {summary_text(forwarder.stats(), left)}")
        if archive is not None:
            await asyncio.to_thread(archive.close)
    return EXIT_OK if run.code is None else run.code


async def run_checks(
    routes: Routes,
    secret: Secret,
    *,
    out: IO[bytes],
    deadline: float = CHECK_DEADLINE,
) -> int:
    """Zoom's URL-validation challenge to each handler: one line each, 0 when all pass."""
    failed = 0
    for url in routes.urls:
        result = await check_handler(url, secret, deadline=deadline)
        if result.ok:
            line = f"ok    {url}  answered the challenge right in {result.latency * 1000:.0f} ms"
        else:
            failed += 1
            line = f"FAIL  {url}  {visible_text(result.problem)}"
        out.write((line + "\n").encode("utf-8", "replace"))
        out.flush()
    return EXIT_OK if not failed else EXIT_FAILURE


@click.command()
@connection_options
@delivery_options
@click.option(
    "--retry",
    is_flag=True,
    help="Try a failed delivery again on Zoom's schedule (about 5, 20 and 60 minutes later), "
    "compressed by --retry-factor.",
)
@click.option(
    "--retry-factor",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_RETRY_FACTOR,
    show_default=True,
    help="How much faster than Zoom to retry (60: after 5 s, 20 s and 60 s).",
)
@click.option(
    "--queue-size",
    type=click.IntRange(min=1, max=1_000_000),
    default=DEFAULT_QUEUE_LIMIT,
    show_default=True,
    help="Events that may wait for the handler; beyond it they are counted, not forwarded.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Only send Zoom's endpoint.url_validation challenge to each handler and say whether "
    "it answers right within 3 s (no connection to Zoom).",
)
@click.option(
    "--check-deadline",
    type=click.FloatRange(min=0.01),
    default=CHECK_DEADLINE,
    hidden=True,
    help="Seconds the handler has to answer the challenge (Zoom: 3; tests).",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after N deliveries (attempts, whatever their result).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Stop after this many seconds.",
)
@no_archive_option
@on_displaced_option
@click.option("--heartbeat", type=click.FloatRange(min=0.01), default=None, hidden=True)
def command(
    to: tuple[str, ...],
    filter_text: str | None,
    as_json: bool,
    unsigned: bool,
    timeout: float,
    concurrency: int,
    retry: bool,
    retry_factor: float,
    queue_size: int,
    check: bool,
    check_deadline: float,
    count: int | None,
    duration: float | None,
    archive: bool | None,
    heartbeat: float | None,
    profile: str | None,
    config_path: str | None,
    **kwargs: Any,
) -> None:
    """Forward events to a webhook handler, signed as Zoom signs webhooks.

    \b
    zoomtui forward --to http://localhost:3000/zoom
    zoomtui forward --to 'meeting.participant_*=http://localhost:3000/p' --to http://localhost:3000/rest
    zoomtui forward --to http://localhost:3000/zoom --check

    Signs with the webhook secret token (ZOOM_WEBHOOK_SECRET_TOKEN, else the one `zoomtui
    login` kept). One line per delivery on stdout; the connection's news on stderr.
    """
    install_log_redaction()
    logging.getLogger("zoomtui").addHandler(logging.NullHandler())
    insecure = bool(kwargs.get("insecure_transport"))
    routes = routes_from("forward", to, insecure)
    matches = matcher_for(filter_text, config_path)
    if check:
        from zoomtui.credentials.webhook import CHECK_NEEDS_THE_TOKEN

        # --unsigned is no way out here: the challenge's answer is made with the token
        secret = webhook_secret_for(
            "forward", profile, config_path, unsigned=False, needed_for=CHECK_NEEDS_THE_TOKEN
        )
        assert secret is not None
        code = asyncio.run(
            run_checks(routes, secret, out=sys.stdout.buffer, deadline=check_deadline)
        )
        sys.exit(code)
    secret = webhook_secret_for("forward", profile, config_path, unsigned=unsigned)
    options = forward_options_from(
        routes,
        secret,
        timeout=timeout,
        concurrency=concurrency,
        queue_limit=queue_size,
        retry_factor=retry_factor if retry else None,
    )
    settings = _settings(profile, config_path, kwargs, heartbeat)
    limits = (count, duration)
    sys.exit(_run(settings, options, matches, as_json, limits, archive, config_path))


def _settings(
    profile: str | None, config_path: str | None, kwargs: dict[str, Any], heartbeat: float | None
) -> ConnectionSettings:
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
    except SettingsError as exc:
        fail("forward", redact(exc), EXIT_CONFIG)
        raise
    return settings


def _run(
    settings: ConnectionSettings,
    options: ForwardOptions,
    matches: Any,
    as_json: bool,
    limits: tuple[int | None, float | None],
    archive: bool | None,
    config_path: str | None,
) -> int:
    from zoomtui.commands.archiving import plan_for, profile_values
    from zoomtui.profilestate import first_connection_of

    plan = plan_for(profile_values(settings.profile, config_path), archive=archive)
    try:
        return asyncio.run(
            run_forward(
                settings,
                options,
                matches=matches,
                as_json=as_json,
                count=limits[0],
                duration=limits[1],
                archive=plan.open(settings.profile),
                connection_kwargs={"is_first_connection": first_connection_of},
            )
        )
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
