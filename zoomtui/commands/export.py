"""`zoomtui export`: archived events to a file or stdout, as JSON lines or CSV.

JSON lines are the events exactly as Zoom sent them plus ``_received_at``: the same
shape as ``zoomtui tail --json`` (one formatter, `tail.json_line`), so a script reads
live and archived events alike.  CSV is one flat row per event for spreadsheets.

Files are created owner-only (0600): they hold participants' names and e-mail
addresses.  An existing file is never overwritten without ``--force``.

The TUI exports what is on screen with `export_events(events, path, fmt)`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import click

from zoomtui.commands.tail import iso_utc_ms, json_line
from zoomtui.zoom.protocol import ZoomEvent

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "received_at",
    "event_ts",
    "event",
    "meeting_id",
    "meeting_uuid",
    "topic",
    "participant",
    "email",
    "lag_ms",
)


class ExportError(Exception):
    """The export file cannot be written; the message says why and what to do."""


# -- formats --------------------------------------------------------------------------------


def _cell(text: str | None) -> str:
    # Every text cell comes from Zoom's data: names and topics are typed by participants,
    # and ids are no safer (a meeting uuid is base64 and may start with + or -).  A leading
    # = + - @ would make a spreadsheet run it as a formula (CSV injection): such a cell
    # starts with ' instead.
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text


def csv_row(event: ZoomEvent) -> tuple[str, ...]:
    lag = event.lag
    return (
        iso_utc_ms(event.received_at),
        iso_utc_ms(event.event_ts_ms / 1000) if event.event_ts_ms is not None else "",
        _cell(event.name),
        _cell(event.meeting_id),
        _cell(event.meeting_uuid),
        _cell(event.topic),
        _cell(event.participant_name),
        _cell(event.participant_email),
        str(round(lag * 1000)) if lag is not None else "",
    )


def write_events(events: Iterable[ZoomEvent], out: IO[bytes], fmt: str = "jsonl") -> int:
    """Write `events` to a binary stream; returns how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    n = 0
    if fmt == "jsonl":
        write = out.write
        for ev in events:
            write(json_line(ev))
            n += 1
        out.flush()
        return n
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(CSV_COLUMNS)
        for ev in events:
            writer.writerow(csv_row(ev))
            n += 1
        text.flush()
    finally:
        text.detach()  # leave `out` open: it belongs to the caller
    return n


def open_private(path: str | os.PathLike[str], *, force: bool = False) -> IO[bytes]:
    """Create `path` owner-only (0600) for writing. Without `force` an existing file is
    an error; with it the file is truncated (never followed through a symlink)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ExportError(
            f"{path} already exists: choose another file or add --force to overwrite it."
        ) from None
    except OSError as exc:
        raise ExportError(f"Cannot create {path}: {exc.strerror or exc}.") from None
    with contextlib.suppress(OSError):  # e.g. a file system without modes
        os.fchmod(fd, 0o600)  # an existing file overwritten with --force keeps its old mode
    return os.fdopen(fd, "wb")


def export_events(
    events: Iterable[ZoomEvent],
    path: str | os.PathLike[str],
    fmt: str = "jsonl",
    *,
    force: bool = False,
) -> int:
    """Export events to a new owner-only file (the TUI's export). Returns the count.
    Raises `ExportError` with a message for the user."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}: use jsonl or csv.")
    created = not os.path.lexists(path)
    with open_private(path, force=force) as out:
        try:
            return write_events(events, out, fmt)
        except BaseException as exc:
            if created:  # no half-written file left behind
                with contextlib.suppress(OSError):
                    os.unlink(path)
            if isinstance(exc, OSError):
                raise ExportError(f"Writing {path} failed: {exc.strerror or exc}.") from None
            raise


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
    from zoomtui.monitor.archive import ArchiveError, ArchiveReader

    flt = None
    if filter_text:
        from zoomtui.monitor.filters import FilterError, compile_filter

        try:
            flt = compile_filter(filter_text)
        except FilterError as exc:
            raise click.BadParameter(str(exc), param_hint="--filter") from None
        if flt.is_empty:
            flt = None
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
            click.echo(f"Exported {n} event{'s' if n != 1 else ''} to {output}.", err=True)
    except (ArchiveError, ExportError) as exc:
        raise click.ClickException(str(exc)) from None
    if gaps:
        click.echo(
            f"Note: {gaps} gap{'s' if gaps != 1 else ''} in this window: events Zoom sent "
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
