"""`zoomtui search EXPR`: the archive asked in the filter language, through its index.

The fastest way to ask what zoomtui received: ``zoomtui search user:souza --since 7d``.
The output is `tail`'s (one formatter, `zoomtui.monitor.lines`): a human line per event
(with a line naming the day whenever it changes: an archive spans days), or with
``--json`` the event exactly as Zoom sent it plus ``_received_at``.  ``--explain`` says
how the filter is answered (which terms the index narrows, which are checked row by
row) instead of searching.  Notes go to stderr, so ``--json | jq`` sees clean JSON.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import click

from zoomtui.zoom.protocol import ZoomEvent


def write_lines(events: Iterable[ZoomEvent], out: IO[bytes], as_json: bool) -> int:
    """Write `events` as `tail` prints them; a human listing names each new local day."""
    from zoomtui.monitor.lines import human_line, json_line

    n = 0
    day = ""
    for ev in events:
        if as_json:
            out.write(json_line(ev))
        else:
            today = time.strftime("%a %Y-%m-%d", time.localtime(ev.received_at))
            if today != day:
                day = today
                out.write(f"-- {day} --\n".encode())
            out.write(human_line(ev))
        n += 1
    out.flush()
    return n


@click.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("expr", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option(
    "--profile",
    default=None,
    envvar="ZOOMTUI_PROFILE",
    help="Profile whose archive to search (default: 'default').",
)
@click.option("--demo", is_flag=True, help="Search the demo's archive instead of a profile's.")
@click.option(
    "--archive",
    "archive_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Search this archive file (e.g. one copied off another machine).",
)
@click.option(
    "--since",
    default=None,
    metavar="WHEN",
    help="From this time: 7d, 2h, 30m, 14:05, or ISO 8601 (2024-05-01T14:05Z).",
)
@click.option("--until", default=None, metavar="WHEN", help="Up to this time (same forms).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="At most N events (the first N in time order).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per line: the event as Zoom sent it, plus _received_at.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say how EXPR would be answered (what the index narrows, what is scanned); "
    "search nothing.",
)
def command(
    expr: tuple[str, ...],
    profile: str | None,
    demo: bool,
    archive_file: Path | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    as_json: bool,
    explain: bool,
) -> None:
    """Search the archive for events matching EXPR, in the filter language of the TUI:
    user:ana, meeting:85746352415, type:meeting.participant_* -user:bot, or free words.

    Several arguments are one filter (`zoomtui search user:ana type:*joined -user:bot`):
    a negated term is never read as an option.
    """
    from zoomtui.commands.archiving import archive_to_read, time_bounds
    from zoomtui.commands.common import filter_option
    from zoomtui.monitor.archive import ArchiveError, ArchiveReader
    from zoomtui.monitor.filters import compile_filter

    for word in expr:  # (a negated term is an argument, a mistyped option is not)
        if word.startswith("--"):
            raise click.NoSuchOption(word.split("=")[0])
    # (`@name`: a saved filter of the config file; an empty filter finds every event)
    flt = filter_option(" ".join(expr), param_hint="EXPR") or compile_filter("")
    bounds = time_bounds(since, until, time.time())
    path, _ = archive_to_read(archive_file, profile, demo)
    reader = ArchiveReader(path)
    try:
        if explain:
            for line in reader.explain_search(flt):
                click.echo(line)
            return
        progress = reader.index_progress()
        if progress.pending_rows:
            click.echo(
                f"Note: {progress.pending_rows:,} of {progress.last_seq:,} archive rows are "
                "not indexed yet (the monitor indexes them in the background): they are "
                "scanned.",
                err=True,
            )
        events = reader.search(flt, bounds["since"], bounds["until"], limit)
        sys.stdout.flush()
        try:
            n = write_lines(events, sys.stdout.buffer, as_json)
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            from zoomtui.commands.export import _silence_stdout

            _silence_stdout()
            return
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if n == 0:
        click.echo("No events matched.", err=True)
