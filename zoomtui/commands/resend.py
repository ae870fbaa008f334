"""`zoomtui resend`: deliver archived events to a webhook handler again, so an event missed
while the handler was down (or had a bug) can be delivered once it is back.

Each event is the archived frame's content, byte for byte, signed afresh with a new
timestamp (as Zoom's own retries are); stdout has one line per delivery, as `forward`'s.
Nothing is dropped: reading waits for room in the queue.  Exit code 0 when every event
was delivered, 1 when one was not, 3 for settings.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

import click

from zoomtui.commands.common import EXIT_CONFIG, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK
from zoomtui.commands.forwarding import (
    DeliveryPrinter,
    delivery_options,
    fail,
    forward_options_from,
    routes_from,
    say,
    summary_text,
    webhook_secret_for,
)
from zoomtui.forward import Forwarder, ForwardOptions
from zoomtui.redaction import install_log_redaction
from zoomtui.zoom.protocol import ZoomEvent

#: events read from the archive at a time (reading waits while the queue is full)
READ_CHUNK = 256


async def run_resend(
    events: Iterator[ZoomEvent],
    options: ForwardOptions,
    *,
    out: IO[bytes],
    err: IO[str],
    as_json: bool = False,
    wall_clock: Callable[[], float] = time.time,
) -> int:
    """Deliver every event of `events` (read in a thread of its own: SQLite keeps to the
    thread that opened it), then wait for the last answer.  Each is signed with the
    `wall_clock`'s now."""
    printer = DeliveryPrinter(out, as_json=as_json)
    reading = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="zoomtui-resend")
    loop = asyncio.get_running_loop()
    sent = 0
    try:
        async with Forwarder(options, on_result=printer, wall_clock=wall_clock) as forwarder:
            while True:
                chunk = await loop.run_in_executor(
                    reading, lambda: list(itertools.islice(events, READ_CHUNK))
                )
                if not chunk:
                    break
                for event in chunk:
                    sent += await forwarder.put(event)
            await forwarder.join()
            stats = forwarder.stats()
    finally:
        reading.shutdown(wait=False, cancel_futures=True)
    unrouted = forwarder.unrouted
    if not sent and not unrouted:
        say(err, "no archived event in that window passes the filter: nothing was resent")
        return EXIT_OK
    note = f"; {unrouted} matched no --to route" if unrouted else ""
    say(err, f"resent {sent} archived events: {summary_text(stats)}{note}")
    return EXIT_OK if stats.failed == 0 else EXIT_FAILURE


def archived_events(
    reader: Any, since: float, until: float | None, matches: Callable[[ZoomEvent], bool] | None
) -> Iterator[ZoomEvent]:
    """The archived events in [since, until) that pass the filter, oldest first."""
    for event in reader.iter_events(since, until):
        if matches is None or matches(event):
            yield event


def _when(text: str | None, name: str, now: float) -> float | None:
    if text is None:
        return None
    from zoomtui.monitor.when import WhenError, parse_when

    try:
        return parse_when(text, now)
    except WhenError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


@click.command()
@delivery_options
@click.option(
    "--since",
    required=True,
    metavar="WHEN",
    help="Resend the archived events from WHEN on (30m, 2h, 14:05, ISO 8601).",
)
@click.option("--until", default=None, metavar="WHEN", help="... and before WHEN (default: now).")
@click.option("--profile", default=None, envvar="ZOOMTUI_PROFILE", help="Whose archive.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file to use instead of the default one.",
)
@click.option(
    "--insecure-transport",
    is_flag=True,
    envvar="ZOOMTUI_INSECURE_TRANSPORT",
    help="Allow http:// to a non-loopback handler, for this run only.",
)
def command(
    to: tuple[str, ...],
    filter_text: str | None,
    as_json: bool,
    unsigned: bool,
    timeout: float,
    concurrency: int,
    since: str,
    until: str | None,
    profile: str | None,
    config_path: str | None,
    insecure_transport: bool,
) -> None:
    """Resend archived events to a webhook handler, signed afresh.

    \b
    zoomtui resend --since 2h --filter 'type:meeting.participant_*' --to http://localhost:3000/zoom
    """
    from zoomtui import config as cfg
    from zoomtui.commands.forwarding import matcher_for
    from zoomtui.monitor.archive import ArchiveError, ArchiveReader, archive_path

    install_log_redaction()
    routes = routes_from("resend", to, insecure_transport)
    matches = matcher_for(filter_text, config_path)
    now = time.time()
    since_at = _when(since, "--since", now)
    until_at = _when(until, "--until", now)
    assert since_at is not None
    secret = webhook_secret_for("resend", profile, config_path, unsigned=unsigned)
    options = forward_options_from(routes, secret, timeout=timeout, concurrency=concurrency)
    name = cfg.selected_profile(profile)
    reader = ArchiveReader(archive_path(name))
    if not reader.path.exists():
        fail("resend", f"profile '{name}' has no archive yet ({reader.path}): nothing to resend")
    events = archived_events(reader, since_at, until_at, matches)
    try:
        code = asyncio.run(
            run_resend(events, options, out=sys.stdout.buffer, err=sys.stderr, as_json=as_json)
        )
    except ArchiveError as exc:
        fail("resend", f"the archive could not be read: {exc}", EXIT_CONFIG)
        return
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    sys.exit(code)
