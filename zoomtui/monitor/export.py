"""Events to a file or a stream, as JSON lines or CSV (no Textual): what `zoomtui export`
and the TUI's "export view" (`e`) both write.

The line formats are `zoomtui.monitor.lines`.  Files are created owner-only (0600): they
hold participants' names and e-mail addresses.  An existing file is never overwritten
unless asked (`force`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from zoomtui.monitor.lines import CSV_COLUMNS, csv_row, json_line
from zoomtui.zoom.protocol import ZoomEvent

FORMATS = ("jsonl", "csv")


class ExportError(Exception):
    """The export file cannot be written; the message says why and what to do."""


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
    """Export events to a new owner-only file. Returns the count.
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


def view_export_name(now: float) -> str:
    """The file name of an export of the TUI's view: `zoomtui-export-20240124-191056.jsonl`."""
    return f"zoomtui-export-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.jsonl"


def view_export_folders() -> list[Path]:
    """Where the TUI's view export goes: the current folder, else (read-only, e.g. /) the
    data folder."""
    from zoomtui.monitor.archive import data_dir

    return [Path.cwd(), data_dir() / "exports"]


def export_to_first_folder(
    events: list[ZoomEvent], name: str, folders: Iterable[Path]
) -> tuple[int, Path]:
    """Write `events` as JSON lines to a new owner-only file `name` in the first of
    `folders` that takes it (a missing folder is created, owner-only).  Returns the count
    and the path; raises the last folder's `ExportError` when none does."""
    error = ExportError("No folder to export to.")
    for folder in folders:
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            return export_events(events, path, "jsonl"), path
        except OSError as exc:
            error = ExportError(f"Cannot create {folder}: {exc.strerror or exc}.")
        except ExportError as exc:
            error = exc
    raise error
