"""`zoomtui tail`: the event stream on stdout, for pipes and scripts. No Textual.

stdout carries events only (one line each, flushed): a human line by default, or with
`--json` the event object exactly as Zoom sent it plus `_received_at`.  Everything about
the connection (state changes with reasons, gaps, malformed frames, notices) goes to
stderr, so `zoomtui tail --json | jq` sees clean JSON and still shows gaps on the terminal.

Everything the connection reports is archived (the profile's archive; `--no-archive`
turns it off), in one place: the top of the update loop.  `--since 30m` first prints
what the archive holds from then on (the same lines, marked on stderr as history),
then goes live.

Exit codes (zoomtui.commands.common): 0 done (--count/--duration reached, or the reader
of stdout went away), 3 settings, 4 credentials or subscription rejected, 5 given up,
130 Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import IO, Any

import click
import orjson

from zoomtui.commands.archiving import no_archive_option
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_GAVE_UP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    connection_options,
    overrides_from,
)
from zoomtui.redaction import install_log_redaction, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, Notice, StateChanged, TokenInfo

EXIT_TERMINATED = 143  # 128 + SIGTERM


# -- formatting ---------------------------------------------------------------------------
def iso_utc_ms(ts: float) -> str:
    """`2024-01-24T19:10:56.789Z`"""
    d = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def local_hms_ms(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"


def json_line(event: ZoomEvent) -> bytes:
    """The event object as Zoom sent it, plus `_received_at`, as one line of JSON."""
    body = orjson.dumps(event.body)  # key order is kept; the body is always a non-empty object
    return body[:-1] + b',"_received_at":"' + iso_utc_ms(event.received_at).encode() + b'"}\n'


def human_line(event: ZoomEvent) -> bytes:
    parts = [local_hms_ms(event.received_at), event.name]
    where = event.topic or event.meeting_id or event.meeting_uuid
    if where:
        parts.append(where)
    who = event.participant_name or ""
    if event.participant_email:
        who = f"{who} <{event.participant_email}>" if who else event.participant_email
    if who:
        parts.append(who)
    lag = event.lag
    if lag is not None and lag >= 2:
        parts.append(f"(lag {lag:.1f} s)")
    # Names from Zoom are data: keep them on one line whatever they contain.
    line = "  ".join(parts).replace("\n", " ").replace("\r", " ")
    return line.encode("utf-8", errors="replace") + b"\n"


def state_text(u: StateChanged) -> str:
    text = f"{u.state.value}: {u.reason}"
    if u.state is ConnectionState.RECONNECTING and u.retry_in:
        text = f"reconnecting in {u.retry_in:.1f} s: {u.reason}"
    if u.hint:
        text += f"\n  hint: {u.hint}"
    return text


def gap_text(g: Gap) -> str:
    return (
        f"gap {local_hms_ms(g.start)}–{local_hms_ms(g.end)} ({g.seconds:.1f} s): events in this "
        f"window were not received and Zoom does not replay them ({g.reason})"
    )


# -- the event pipeline -------------------------------------------------------------------
class EventPipeline:
    """filter -> sinks, for events.  The archive is not a sink here: it keeps every update
    (filtered out or not, states and gaps too), at the top of `run_tail`'s loop."""

    def __init__(
        self, matches: Callable[[ZoomEvent], bool] | None, sinks: list[Callable[[ZoomEvent], None]]
    ) -> None:
        self.matches = matches
        self.sinks = sinks
        self.passed = 0

    def __call__(self, event: ZoomEvent) -> bool:
        m = self.matches
        if m is not None and not m(event):
            return False
        for sink in self.sinks:
            sink(event)
        self.passed += 1
        return True


class _StdoutGone(Exception):
    """The reader of stdout went away (`| head`)."""


def _stdout_writer(
    out: IO[bytes], fmt: Callable[[ZoomEvent], bytes]
) -> Callable[[ZoomEvent], None]:
    write, flush = out.write, out.flush

    def sink(event: ZoomEvent) -> None:
        try:
            write(fmt(event))
            flush()
        except BrokenPipeError:
            raise _StdoutGone from None

    return sink


# -- history ------------------------------------------------------------------------------
def print_history(
    reader: Any, since: float, until: float, pipeline: EventPipeline, note: Callable[[str], None]
) -> int:
    """Print the archived events in [since, until) as live ones are printed (blocking: run
    it in a thread).  Gaps and failures in the record go to stderr.  Returns the count."""
    from zoomtui.monitor.archive import ArchiveError
    from zoomtui.monitor.recording import HistoryTracker, read_history

    seen = HistoryTracker()
    shown = 0
    try:
        for chunk in read_history(reader, since, until, seen=seen, kinds=("event", "gap", "state")):
            for record in chunk:
                u = record.update
                if u.__class__ is ZoomEvent:
                    shown += pipeline(u)
                elif isinstance(u, Gap):
                    note("(history) " + gap_text(u))
                elif isinstance(u, StateChanged) and u.state is ConnectionState.FAILED:
                    note(f"(history) {state_text(u)}")
    except ArchiveError as exc:
        note(f"the history could not be read: {exc}")
        return shown
    downtime = seen.downtime(until)
    if seen.count:
        where = f"since {local_hms_ms(since)[:8]}"
        note(f"{shown} archived event{'s' if shown != 1 else ''} {where} (history); live from here")
    if downtime is not None and downtime.seconds >= 1:
        note(
            f"nothing recorded from {local_hms_ms(downtime.start)[:8]} until now "
            f"({downtime.seconds:.0f} s): {downtime.reason}"
        )
    return shown


# -- the run ------------------------------------------------------------------------------
async def run_tail(
    settings: ConnectionSettings,
    *,
    matches: Callable[[ZoomEvent], bool] | None = None,
    as_json: bool = False,
    count: int | None = None,
    duration: float | None = None,
    give_up_after: int | None = None,
    out: IO[bytes] | None = None,
    err: IO[str] | None = None,
    handle_signals: bool = True,
    connection_kwargs: dict | None = None,
    archive: Any = None,
    history: tuple[Any, float] | None = None,
) -> int:
    """Stream events until --count/--duration, a signal, or a failure. Returns the exit code.

    `archive`: an `Archive` every update goes to (closed at the end); `history`:
    (a reader, since) whose events are printed first.
    """
    from zoomtui.zoom.connection import FailureKind, ZoomConnection

    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr

    def note(text: str) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):
            err.write(f"zoomtui: {redact(text)}\n")
            err.flush()

    pipeline = EventPipeline(matches, [_stdout_writer(out, json_line if as_json else human_line)])
    loop = asyncio.get_running_loop()
    if history is not None:
        reader, since = history
        until = time.time()  # what the archive gets from now on is live
        try:
            await asyncio.to_thread(
                print_history, reader, since, until, EventPipeline(matches, pipeline.sinks), note
            )
        except _StdoutGone:
            _silence_stdout(out)
            if archive is not None:
                await asyncio.to_thread(archive.close)
            return EXIT_OK
    conn = ZoomConnection(settings, give_up_after=give_up_after, **(connection_kwargs or {}))
    code: int | None = None
    record = None
    if archive is not None:
        from zoomtui.monitor.recording import Recorder, new_run_id

        record = Recorder(archive, new_run_id(time.time()))
        archive_said = [""]

        def watch_archive() -> None:
            # A disk or permission problem is said once (and when it clears); tail goes on.
            error = archive.error if archive.status == "failed" else ""
            if error != archive_said[0]:
                archive_said[0] = error
                note(f"archive: {error}" if error else "archive: writing again")
            if code is None:
                loop.call_later(1.0, watch_archive)

        watch_archive()

    def stop(exit_code: int) -> None:
        nonlocal code
        if code is None:
            code = exit_code
            loop.create_task(conn.close())

    installed: list[signal.Signals] = []
    if handle_signals:
        for sig, c in ((signal.SIGINT, EXIT_INTERRUPTED), (signal.SIGTERM, EXIT_TERMINATED)):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop, c)
                installed.append(sig)
    timer = loop.call_later(duration, stop, EXIT_OK) if duration is not None else None

    event_cls = ZoomEvent
    try:
        async for u in conn.updates():
            if record is not None:
                record(u)  # every update, unfiltered and in order: the one place tail archives
            if u.__class__ is event_cls:
                if code is None and pipeline(u) and count is not None and pipeline.passed >= count:
                    stop(EXIT_OK)
                continue
            if isinstance(u, StateChanged):
                if u.state is ConnectionState.STOPPED and code is not None:
                    continue  # our own close at the end: not news
                note(state_text(u))
                if u.state is ConnectionState.FAILED:
                    kind = conn.failure
                    stop(
                        EXIT_GAVE_UP
                        if kind is FailureKind.GAVE_UP
                        else EXIT_CONFIG
                        if kind is FailureKind.CONFIG
                        else EXIT_CREDENTIALS
                    )
            elif isinstance(u, Gap):
                note(gap_text(u))
            elif isinstance(u, MalformedFrame):
                note(f"malformed frame ({u.size:,} bytes): {u.reason}: {u.preview}")
            elif isinstance(u, Notice):
                note(f"notice: {u.text}")
            elif isinstance(u, TokenInfo):
                left = u.expires_at - time.time()
                note(
                    f"access token {'reused' if u.from_cache else 'obtained'} (expires in {left / 60:.0f} min; scopes: "
                    f"{' '.join(u.scopes) or 'none listed'})"
                )
    except _StdoutGone:
        code = EXIT_OK if code is None else code
        _silence_stdout(out)
    finally:
        if timer is not None:
            timer.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        await conn.close()
        if archive is not None:
            await asyncio.to_thread(archive.close)
    return EXIT_OK if code is None else code


def _silence_stdout(out: IO[bytes]) -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)


@click.command()
@connection_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per line: the event as Zoom sent it, plus _received_at.",
)
@click.option(
    "--filter",
    "filter_text",
    default=None,
    metavar="EXPR",
    help="Only events matching EXPR (the TUI's filter language, e.g. "
    "'type:meeting.participant_* user:ana').",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="Exit after N events (after the filter).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Exit after this many seconds.",
)
@click.option(
    "--give-up-after",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Exit with code 5 after N failed connection attempts in a row (default: keep retrying).",
)
@click.option(
    "--since",
    "since",
    default=None,
    metavar="WHEN",
    help="First print what the archive holds from WHEN on (30m, 2h, 14:05, ISO "
    "8601), then go live.  --count counts live events only.",
)
@no_archive_option
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.01),
    default=None,
    hidden=True,
    help="Heartbeat interval in seconds (tests).",
)
def command(
    as_json: bool,
    filter_text: str | None,
    count: int | None,
    duration: float | None,
    give_up_after: int | None,
    since: str | None,
    archive: bool | None,
    heartbeat: float | None,
    profile: str | None,
    config_path: str | None,
    **kwargs: object,
) -> None:
    """Print events as they arrive (stdout), and the connection's state (stderr).

    Exit codes: 0 done, 3 settings, 4 credentials or subscription rejected, 5 gave up,
    130 interrupted.
    """
    install_log_redaction()
    # State changes are reported on stderr already; keep logging's last-resort handler from
    # printing the same failure a second time.
    logging.getLogger("zoomtui").addHandler(logging.NullHandler())
    matches = None
    if filter_text:
        from zoomtui.monitor.filters import FilterError, compile_filter

        try:
            flt = compile_filter(filter_text)
        except FilterError as exc:
            raise click.BadParameter(str(exc), param_hint="--filter") from None
        matches = None if flt.is_empty else flt.matches_event
    since_at: float | None = None
    if since is not None:
        from zoomtui.monitor.when import WhenError, parse_when

        try:
            since_at = parse_when(since, time.time())
        except WhenError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    overrides = overrides_from(kwargs)
    if heartbeat is not None:
        overrides["heartbeat_interval"] = heartbeat
    try:
        from zoomtui.credentials import resolve_settings

        settings = resolve_settings(profile=profile, config_path=config_path, overrides=overrides)
        settings.check_transport()
    except SettingsError as exc:
        click.echo(f"zoomtui tail: {redact(exc)}", err=True)
        sys.exit(EXIT_CONFIG)
    from zoomtui.commands.archiving import plan_for, profile_values
    from zoomtui.monitor.archive import ArchiveReader, archive_path

    plan = plan_for(profile_values(settings.profile, config_path), archive=archive)
    store = plan.open(settings.profile)
    history = None
    if since_at is not None:  # read even with --no-archive: what earlier runs kept
        history = (
            store if store is not None else ArchiveReader(archive_path(settings.profile)),
            since_at,
        )
    try:
        code = asyncio.run(
            run_tail(
                settings,
                matches=matches,
                as_json=as_json,
                count=count,
                duration=duration,
                give_up_after=give_up_after,
                archive=store,
                history=history,
            )
        )
    except KeyboardInterrupt:  # Ctrl-C before the loop's own handler was in place
        code = EXIT_INTERRUPTED
    sys.exit(code)
