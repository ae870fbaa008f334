"""`zoomtui tail`: the event stream on stdout, for pipes and scripts. No Textual.

stdout carries events only (one line each, flushed): a human line by default, or with
`--json` the event object exactly as Zoom sent it plus `_received_at`.  Everything about
the connection (state changes with reasons, gaps, malformed frames, notices) goes to
stderr, so `zoomtui tail --json | jq` sees clean JSON and still shows gaps on the terminal.

Hydration (`zoomtui.monitor.hydrate`, unless the profile says `hydrate = false`): at the
start and after each gap, who is in each live meeting is asked of Zoom's Dashboard API.
Each answer is a line on stderr and, with `--json`, a record of its own on stdout:
`{"_record": "roster", "_received_at": ..., "meetings": [...]}`, with no `event` member, so
it never passes for an event Zoom sent.  Not with `--count` unless `--hydrate` asks: N
events wanted should not spend Dashboard API calls on rosters (`hydrate_for`).

tail drives a `MonitorSession` (no event log, no meeting tracker): its printing is a
sink of the session (`TailOutput`), and the session's recorder archives everything the
connection reports (the profile's archive; `--no-archive` turns it off).  `--since 30m`
first applies what the archive holds from then on through the same session (the same
lines, marked on stderr as history), then goes live.

Exit codes (zoomtui.commands.common): 0 done (--count/--duration reached, or the reader
of stdout went away), 3 settings, 4 credentials or subscription rejected, 5 given up,
6 displaced by another consumer of the subscription (unless `--on-displaced retake`),
130 Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from zoomtui.commands.archiving import no_archive_option, viewer_plan
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_DISPLACED,
    EXIT_GAVE_UP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    connection_options,
    filter_option,
    on_displaced_option,
    overrides_from,
)
from zoomtui.commands.hubbing import hub_from, hub_options
from zoomtui.monitor.lines import human_line, json_line
from zoomtui.monitor.rosterlines import roster_json_line, roster_summary
from zoomtui.monitor.session import MonitorSession, SessionSink
from zoomtui.monitor.source import UpdateSource
from zoomtui.redaction import install_log_redaction, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.timefmt import clock_ms, duration_short, duration_words
from zoomtui.visible import visible_lines, visible_text
from zoomtui.words import counted
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import ConnectionState, Gap, Notice, StateChanged, TokenInfo

if TYPE_CHECKING:
    from zoomtui.monitor.filters import Filter

EXIT_TERMINATED = 143  # 128 + SIGTERM
#: what tail says to do when displaced (the connection's hint speaks of the monitor's `c`)
DISPLACED_HINT = (
    "run tail again to take the subscription back (that disconnects the other consumer), "
    "or pass --on-displaced retake; a subscription of its own avoids this"
)
#: the kinds of archived record `--since` shows
HISTORY_KINDS = ("event", "gap", "state", "roster")


# -- formatting (stderr) ------------------------------------------------------------------
def state_text(u: StateChanged) -> str:
    reason = visible_text(u.reason)  # reasons carry server text: one line, no escapes
    text = f"{u.state.value}: {reason}"
    if u.state is ConnectionState.RECONNECTING and u.retry_in:
        text = f"reconnecting in {u.retry_in:.1f} s: {reason}"
    hint = DISPLACED_HINT if u.state is ConnectionState.DISPLACED else u.hint
    if hint:
        text += f"\n  hint: {visible_text(hint)}"
    return text


def gap_text(g: Gap) -> str:
    return (
        f"gap {clock_ms(g.start)}–{clock_ms(g.end)} ({duration_words(g.seconds)}): events in this "
        f"window were not received and Zoom does not replay them ({visible_text(g.reason)})"
    )


def hydrate_for(asked: bool | None, count: int | None) -> bool | None:
    """As asked (--hydrate/--no-hydrate), else off with --count (said), else the profile's."""
    if asked is not None or count is None:
        return asked
    click.echo("zoomtui: --count: no roster asked of Zoom's API (--hydrate asks)", err=True)
    return False


def _settings(
    profile: str | None, config_path: Path | None, overrides: dict[str, object]
) -> ConnectionSettings:
    """The connection settings.  A config file that cannot be read at all (not TOML...)
    stops tail only when tail needs it: with every setting in the environment and the
    options, it warns and goes on (such a file must not silence a pipe that never read
    it).  A wrong value in a readable file stops it, as it stops every command."""
    from zoomtui.config import ConfigUnreadable
    from zoomtui.credentials import resolve_settings

    try:
        return resolve_settings(profile=profile, config_path=config_path, overrides=overrides)
    except ConfigUnreadable as exc:
        broken = exc
    try:
        settings = resolve_settings(
            profile=profile, config_path=config_path, overrides=overrides, skip_config=True
        )
    except SettingsError:
        raise broken from None
    click.echo(
        f"zoomtui tail: warning: {redact(broken)} Going on without it: the environment and the "
        "options hold every setting needed.",
        err=True,
    )
    return settings


# -- one run --------------------------------------------------------------------------------
class TailRun:
    """How one run ends: the exit code, once decided, and the source to close then."""

    def __init__(self, err: IO[str]) -> None:
        self.err = err
        self.code: int | None = None
        self.source: UpdateSource | None = None
        #: why the connection failed, for the exit code (the source's `failure`)
        self.failure: Callable[[], object] = lambda: None
        #: the archive's next health check (`watch_archive`)
        self.archive_watch: asyncio.TimerHandle | None = None

    def note(self, text: str) -> None:
        """A line on stderr (redacted: reasons can carry server or exception text; and no
        control character from that text reaches the terminal)."""
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.err.write(f"zoomtui: {visible_lines(redact(text))}\n")
            self.err.flush()

    def stop(self, exit_code: int) -> None:
        """End with `exit_code` (the first reason to stop wins)."""
        if self.code is None:
            self.code = exit_code
            if self.source is not None:
                asyncio.get_running_loop().create_task(self.source.close())

    def failed(self) -> None:
        from zoomtui.zoom.connection import FailureKind

        kind = self.failure()
        self.stop(
            EXIT_GAVE_UP
            if kind is FailureKind.GAVE_UP
            else EXIT_CONFIG
            if kind is FailureKind.CONFIG
            else EXIT_CREDENTIALS
        )


class TailOutput(SessionSink):
    """What `tail` shows of what the session applies: events that pass the filter on
    stdout, one line each, flushed; the rest on stderr.  History too, marked as such."""

    history = True

    def __init__(
        self,
        run: TailRun,
        out: IO[bytes],
        *,
        matches: Callable[[ZoomEvent], bool] | None = None,
        as_json: bool = False,
        count: int | None = None,
    ) -> None:
        self.run = run
        self._write, self._flush = out.write, out.flush
        self._format = json_line if as_json else human_line
        self.as_json = as_json
        self.matches = matches
        self.count = count
        #: live events printed (what --count counts), and history events printed
        self.passed = 0
        self.history_shown = 0
        #: the reader of stdout went away (`| head`): print nothing more
        self.stdout_gone = False

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        if self.stdout_gone or (live and self.run.code is not None):
            return
        matches = self.matches
        if matches is not None and not matches(event):
            return
        try:
            self._write(self._format(event))
            self._flush()
        except BrokenPipeError:
            self.stdout_gone = True
            self.run.stop(EXIT_OK)
            return
        if not live:
            self.history_shown += 1
            return
        self.passed += 1
        if self.count is not None and self.passed >= self.count:
            self.run.stop(EXIT_OK)

    def on_state(self, change: StateChanged, live: bool) -> None:
        if not live:  # from the record, only failures are news
            if change.state is ConnectionState.FAILED:
                self.run.note(f"(history) {state_text(change)}")
            return
        if change.state is ConnectionState.STOPPED and self.run.code is not None:
            return  # our own close at the end: not news
        self.run.note(state_text(change))
        if change.state is ConnectionState.FAILED:
            self.run.failed()
        elif change.state is ConnectionState.DISPLACED and change.retry_in is None:
            self.run.stop(EXIT_DISPLACED)  # it waits for a person, and tail has none

    def on_gap(self, gap: Gap, live: bool) -> None:
        self.run.note(gap_text(gap) if live else "(history) " + gap_text(gap))

    def on_malformed(self, frame: MalformedFrame, live: bool) -> None:
        self.run.note(
            f"malformed frame ({counted(frame.size, 'byte')}): "
            f"{visible_text(frame.reason)}: {visible_text(frame.preview)}"
        )

    def on_notice(self, notice: Notice) -> None:
        self.run.note(f"notice: {visible_text(notice.text)}")

    def on_roster(self, snapshot: RosterSnapshot, live: bool) -> None:
        """A hydration: a line on stderr; with --json also its own record on stdout (never
        an event: `_record` says "roster").  One that could not be done is news for a
        person: stderr only."""
        self.run.note(roster_summary(snapshot) if live else "(history) " + roster_summary(snapshot))
        failed = bool(snapshot.problem) and not snapshot.kinds
        if self.as_json and live and not failed and not self.stdout_gone and self.run.code is None:
            try:
                self._write(roster_json_line(snapshot))
                self._flush()
            except BrokenPipeError:
                self.stdout_gone = True
                self.run.stop(EXIT_OK)

    def on_token(self, info: TokenInfo) -> None:
        left = info.expires_at - time.time()
        self.run.note(
            f"access token {'reused' if info.from_cache else 'obtained'} "
            f"(expires in {duration_short(left)}; scopes: "
            f"{visible_text(' '.join(info.scopes)) or 'none listed'})"
        )


# -- history ------------------------------------------------------------------------------
def show_history(
    session: MonitorSession, reader: Any, since: float, until: float, output: TailOutput
) -> None:
    """Apply the archived updates in [since, until) to the session, whose `TailOutput`
    prints them as live ones are printed (blocking: run it in a thread, before the
    connection starts).  Then say on stderr how much it was and what came after it."""
    from zoomtui.monitor.archive import ArchiveError
    from zoomtui.monitor.recording import HistoryTracker, read_history

    note = output.run.note
    seen = HistoryTracker()
    error = ""
    session.begin_history()
    try:
        for chunk in read_history(reader, since, until, seen=seen, kinds=HISTORY_KINDS):
            session.apply_history(chunk)
            if output.stdout_gone:
                break
    except ArchiveError as exc:
        error = f"the history could not be read: {exc}"
    downtime = session.end_history(seen, until).downtime
    if error:
        note(error)
        return
    if output.stdout_gone:
        return
    shown = output.history_shown
    if seen.count:
        where = f"since {clock_ms(since)[:8]}"
        note(f"{shown} archived event{'s' if shown != 1 else ''} {where} (history); live from here")
    if downtime is not None and downtime.seconds >= 1:
        note(
            f"nothing recorded from {clock_ms(downtime.start)[:8]} until now "
            f"({duration_words(downtime.seconds)}): {visible_text(downtime.reason)}"
        )


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
    connection_kwargs: dict[str, Any] | None = None,
    archive: Any = None,
    history: tuple[Any, float] | None = None,
) -> int:
    """Stream events until --count/--duration, a signal, or a failure. Returns the exit code.

    `archive`: an `Archive` every update goes to (closed at the end); `history`:
    (a reader, since) whose events are printed first.
    """
    from zoomtui.credentials.token_cache import shared_token_cache
    from zoomtui.zoom.connection import ZoomConnection

    out = out if out is not None else sys.stdout.buffer
    run = TailRun(err if err is not None else sys.stderr)
    output = TailOutput(run, out, matches=matches, as_json=as_json, count=count)
    # No event log and no meeting tracker: tail prints and forgets.
    session = MonitorSession(clock=time.time)
    session.subscribe(output)
    try:
        if history is not None:
            reader, since = history
            until = time.time()  # what the archive gets from now on is live
            await asyncio.to_thread(show_history, session, reader, since, until, output)
        if not output.stdout_gone:
            session.record_to(archive)
            # the token is shared with the other zoomtui processes of this profile
            kwargs = {"token_cache": shared_token_cache(settings), **(connection_kwargs or {})}
            conn = ZoomConnection(settings, give_up_after=give_up_after, **kwargs)
            run.failure = lambda: conn.failure
            from zoomtui.monitor.hydrate import Hydrator

            hydrator = Hydrator.start_for(session, conn, settings, session.receive)
            try:
                await stream(conn, session, run, duration=duration, handle_signals=handle_signals)
            finally:
                if hydrator is not None:
                    await hydrator.close()
    finally:
        if output.stdout_gone:
            _silence_stdout(out)
        if archive is not None:
            await asyncio.to_thread(archive.close)
    return EXIT_OK if run.code is None else run.code


async def stream(
    source: UpdateSource,
    session: MonitorSession,
    run: TailRun,
    *,
    duration: float | None = None,
    handle_signals: bool = True,
) -> None:
    """Hand every update of `source` to the session until the run stops (its sinks print,
    its recorder archives: every update, unfiltered and in order)."""
    loop = asyncio.get_running_loop()
    run.source = source
    installed: list[signal.Signals] = []
    if handle_signals:
        for sig, code in ((signal.SIGINT, EXIT_INTERRUPTED), (signal.SIGTERM, EXIT_TERMINATED)):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, run.stop, code)
                installed.append(sig)
    timer = loop.call_later(duration, run.stop, EXIT_OK) if duration is not None else None
    if session.archive is not None:
        watch_archive(session, run)
    receive = session.receive
    try:
        async for update in source.updates():
            receive(update)
    finally:
        for pending in (timer, run.archive_watch):
            if pending is not None:
                pending.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        await source.close()


def watch_archive(session: MonitorSession, run: TailRun) -> None:
    """Say once when the archive cannot be written (and when it can again), and when its
    writer starts and ends building the search index; tail goes on.  Looks once a second
    until the run stops."""
    index = session.check_index()
    if index is not None and index.build is not None:
        from zoomtui.monitor.archive.searchindex import approx_count  # loaded: it writes one

        total = approx_count(index.build.total)
        if index.started:
            run.note(
                f"archive: building the search index over {total} records in the background "
                "(searches scan what it does not cover yet)"
            )
        elif index.finished:
            run.note(f"archive: search index built ({total} records)")
    change = session.check_archive()
    if change is not None:
        run.note(f"archive: {change.error}" if change.error else "archive: writing again")
    run.archive_watch = None
    if run.code is None:
        run.archive_watch = asyncio.get_running_loop().call_later(1.0, watch_archive, session, run)


def _silence_stdout(out: IO[bytes]) -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)


def _hub_tail(
    hub: Any,
    flt: Filter | None,
    as_json: bool,
    count: int | None,
    duration: float | None,
    since: float | None,
    archive: Any = None,
) -> int:
    from zoomtui.commands.hubtail import run_hub_tail

    try:
        return asyncio.run(
            run_hub_tail(
                hub,
                matches=None if flt is None else flt.matches_event,
                as_json=as_json,
                count=count,
                duration=duration,
                since=since,
                archive=archive,
                server_filter=flt,
            )
        )
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


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
    help="Exit after N events (after the filter).  No roster from Zoom's API unless --hydrate.",
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
    help="First print what the archive (or with --hub, the hub) holds from WHEN on (30m, "
    "2h, 14:05, ISO 8601), then go live.  --count counts live events only.",
)
@click.option(
    "--hydrate/--no-hydrate",
    "hydrate",
    default=None,
    help="Ask Zoom's Dashboard API who is in each live meeting at the start and after each "
    "gap (roster records with --json).  Default: the profile's hydrate, but off with --count.",
)
@no_archive_option
@on_displaced_option
@hub_options
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
    hydrate: bool | None,
    archive: bool | None,
    heartbeat: float | None,
    profile: str | None,
    config_path: str | None,
    **kwargs: object,
) -> None:
    """Print events as they arrive (stdout), and the connection's state (stderr).

    Exit codes: 0 done, 3 settings, 4 credentials or subscription rejected, 5 gave up,
    6 displaced by another consumer of the subscription, 130 interrupted.
    """
    install_log_redaction()
    # State changes are reported on stderr already; keep logging's last-resort handler from
    # printing the same failure a second time.
    logging.getLogger("zoomtui").addHandler(logging.NullHandler())
    # --filter as the test an event must pass (None: every event passes); `@name` is a
    # saved filter of the config file.
    flt = filter_option(filter_text, config_path)
    matches = None if flt is None else flt.matches_event
    hub = hub_from(kwargs, required=False)
    since_at: float | None = None
    if since is not None:
        from zoomtui.monitor.when import WhenError, parse_when

        try:
            since_at = parse_when(since, time.time())
        except WhenError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    if hub is not None:  # a viewer of the team hub: no Zoom connection, an archive if asked
        kept = viewer_plan(profile, config_path, archive)
        store = kept[1].open(kept[0]) if kept is not None else None
        sys.exit(_hub_tail(hub, flt, as_json, count, duration, since_at, store))
    overrides = overrides_from(kwargs)
    if heartbeat is not None:
        overrides["heartbeat_interval"] = heartbeat
    overrides["hydrate"] = hydrate_for(hydrate, count)
    try:
        settings = _settings(profile, Path(config_path) if config_path else None, overrides)
        settings.check_transport()
    except SettingsError as exc:
        click.echo(f"zoomtui tail: {redact(exc)}", err=True)
        sys.exit(EXIT_CONFIG)
    from zoomtui.commands.archiving import plan_for, profile_values
    from zoomtui.monitor.archive import ArchiveReader, archive_path
    from zoomtui.profilestate import first_connection_of

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
                connection_kwargs={"is_first_connection": first_connection_of},
            )
        )
    except KeyboardInterrupt:  # Ctrl-C before the loop's own handler was in place
        code = EXIT_INTERRUPTED
    sys.exit(code)
