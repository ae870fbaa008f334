"""`zoomtui export`: archived events to a file or stdout, as JSON lines or CSV.

JSON lines are the events exactly as Zoom sent them plus ``_received_at``: the same
shape as ``zoomtui tail --json`` (one formatter, `zoomtui.monitor.lines.json_line`), so a
script reads live and archived events alike.  CSV is one flat row per event for
spreadsheets.

Files are created owner-only (0600): they hold participants' names and e-mail
addresses.  An existing file is never overwritten without ``--force``.  The writing
itself is `zoomtui.monitor.export`, which the TUI's "export view" shares.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from zoomtui.monitor.export import FORMATS, ExportError, export_events, write_events
from zoomtui.words import counted


def format_for(path: Path | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "csv" if path is not None and path.suffix.lower() == ".csv" else "jsonl"


# -- the command ----------------------------------------------------------------------------


@click.command("export")
@click.option(
    "--profile",
    default=None,
    envvar="ZOOMTUI_PROFILE",
    help="Profile whose archive to read (default: 'default').",
)
@click.option("--demo", is_flag=True, help="Read the demo's archive instead of a profile's.")
@click.option(
    "--archive",
    "archive_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read this archive file (e.g. one copied off another machine).",
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
    "--since",
    default=None,
    metavar="WHEN",
    help="From this time: 2h, 30m, 1d, 14:05, or ISO 8601 (2024-05-01T14:05Z).",
)
@click.option("--until", default=None, metavar="WHEN", help="Up to this time (same forms).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="jsonl (events as Zoom sent them, plus _received_at) or csv. "
    "Default: csv for a .csv file, else jsonl.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE (created owner-only, 0600) instead of stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def command(
    profile: str | None,
    demo: bool,
    archive_file: Path | None,
    filter_text: str | None,
    since: str | None,
    until: str | None,
    fmt: str | None,
    output: Path | None,
    force: bool,
) -> None:
    """Export archived events (what zoomtui received: Zoom never replays them).

    Any CSV cell that would start a spreadsheet formula (= + - @) gets a leading ',
    ids and event names included.
    """
    import time

    from zoomtui.commands.archiving import archive_to_read, time_bounds
    from zoomtui.commands.common import filter_option
    from zoomtui.monitor.archive import ArchiveError, ArchiveReader

    flt = filter_option(filter_text)  # (`@name`: a saved filter of the config file)
    now = time.time()
    bounds = time_bounds(since, until, now)
    path, _ = archive_to_read(archive_file, profile, demo)
    reader = ArchiveReader(path)
    fmt = format_for(output, fmt)
    events = reader.iter_events(since=bounds["since"], until=bounds["until"], filter=flt)
    try:
        gaps = sum(1 for _ in reader.iter_records(bounds["since"], bounds["until"], kinds=("gap",)))
        if output is None:
            sys.stdout.flush()
            out = sys.stdout.buffer  # (click.get_binary_stream is deprecated in Click 8.3)
            try:
                n = write_events(events, out, fmt)
            except BrokenPipeError:  # `| head`: the reader has what it wanted
                _silence_stdout()
                return
        else:
            n = export_events(events, output, fmt, force=force)
            click.echo(f"Exported {counted(n, 'event')} to {output}.", err=True)
    except (ArchiveError, ExportError) as exc:
        raise click.ClickException(str(exc)) from None
    if gaps:
        click.echo(
            f"Note: {counted(gaps, 'gap')} in this window: events Zoom sent "
            "while zoomtui was not connected were never received.",
            err=True,
        )
    if n == 0 and output is None:
        click.echo("No events matched.", err=True)


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
