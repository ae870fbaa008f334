"""`doctor`'s archive step: the profile's local archive (what search, replay and export
read), looked at without changing a byte of it.

Quick on any size: SQLite's own metadata (`PRAGMA user_version`, page count and size),
the oldest and newest seq (each one look in the rowid's B-tree) and the search index's
progress mark; no count, no scan.  The file is opened read-only: with ``mode=ro`` while
its write-ahead log and shared-memory files are there (a monitor has it open: its latest
writes are in the log), else ``immutable=1``, as SQLite would otherwise create those two
files beside it, and leave them.  Without them nobody has the file open, so the file
itself holds everything.

Nothing tells a zoomtui writing the archive from one reading it, or from one that was
killed: the archive has no lock of its own (SQLite's locks let several zoomtuis write
it).  The write-ahead log being there is the cheap sign: the archive is open, or was
left so.

A file that is not a readable archive (corrupt, another program's, from a newer zoomtui)
fails the step: the monitor keeps nothing in it, and search, replay and export cannot read
it.  The rest (archiving off, a folder zoomtui cannot write) are warnings.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zoomtui.commands.common import EXIT_FAILURE
from zoomtui.words import counted

if TYPE_CHECKING:
    from zoomtui.commands.doctor import Report
    from zoomtui.monitor.archive import Retention

TITLE = "archive"
#: the first schema with the search index (`schema._schema_v2`)
INDEX_SCHEMA = 2


@dataclass(frozen=True, slots=True)
class _Finding:
    """What the step says: its state, its lines, and what to do."""

    status: str
    lines: list[str]
    todo: str = ""


def check_archive(report: Report, profile: str | None, config_path: str | None) -> None:
    from zoomtui import config as cfg
    from zoomtui.commands.archiving import plan_for, profile_values
    from zoomtui.monitor.archive import archive_path

    name = cfg.selected_profile(profile)
    try:
        cfg.check_profile_name(name)
    except cfg.ConfigError:
        report.step("skip", TITLE, f"no archive for profile {name!r}: not a usable name")
        return
    plan = plan_for(profile_values(name, config_path), archive=None)
    path = archive_path(name)
    if not plan.enabled:
        report.step(
            "warn",
            TITLE,
            [f"off (setting archive = false in profile {name})", f"file: {path}"],
            "Nothing received is kept for search, replay or export: remove archive = false "
            "from the profile (or run with --archive) to keep it.",
        )
        return
    found = inspect(path, plan.retention)
    report.step(found.status, TITLE, found.lines, found.todo, code=EXIT_FAILURE)


def inspect(path: Path, retention: Retention) -> _Finding:
    """What the archive at `path` is, in words, read without changing it."""
    lines = [f"file: {path}", f"retention: {_retention_words(retention)}"]
    folder_problem = _folder_problem(path)
    if not path.exists():
        lines.insert(1, "not there yet: the monitor creates it when it first receives something")
        if folder_problem:
            return _Finding("warn", [*lines, folder_problem], _FOLDER_TODO)
        return _Finding("ok", lines)
    lines.insert(1, f"size on disk: {_on_disk(path)}")
    try:
        facts, status, todo = _read_facts(path)
    except sqlite3.Error as exc:
        return _Finding(
            "fail",
            [*lines, f"cannot be read: {exc}"],
            f"The file is damaged or not an archive: move it aside (keep it if it matters), "
            f"and the monitor starts a new one; `sqlite3 {path.name} .recover > saved.sql` may "
            "save some of its records.",
        )
    lines += facts
    if path.with_name(path.name + "-wal").exists():
        lines.append(
            "its write-ahead log is there: a zoomtui has it open now (or one ended "
            "without closing it; the next one to open it tidies up)"
        )
    if folder_problem and status != "fail":
        return _Finding("warn", [*lines, folder_problem], _FOLDER_TODO)
    return _Finding(status, lines, todo)


_FOLDER_TODO = (
    "Make the folder (and the file) writable by this user, or the monitor keeps nothing; "
    "search, replay and export still read what is there."
)


def _retention_words(retention: Retention) -> str:
    age, size = retention.max_age_days, retention.max_size_mb
    parts = [
        f"{age:g} days" if age else "no age limit",
        f"at most {size:g} MB" if size else "no size limit",
    ]
    return ", ".join(parts) + " (archive_max_age_days, archive_max_size_mb)"


def _folder_problem(path: Path) -> str:
    """Why zoomtui could not create or write the archive at `path` ("" when it could)."""
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"this user cannot write {path.name}"
        folder = path.parent
    else:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the monitor creates the folders below this one
    if not folder.is_dir():
        return f"{folder} is not a folder: the archive cannot be created below it"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"this user cannot write the folder {folder}"
    return ""


def _on_disk(path: Path) -> str:
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    text = _bytes_words(size)
    if wal.exists():
        text += f" (+ {_bytes_words(wal.stat().st_size)} write-ahead log)"
    return text


def _bytes_words(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return counted(n, "byte")


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    shared = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
    if shared:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2.0)
        try:
            db.execute("PRAGMA user_version").fetchone()
            return db
        except sqlite3.OperationalError:
            db.close()  # shared memory this user cannot use: read the file as it is
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=2.0)


def _read_facts(path: Path) -> tuple[list[str], str, str]:
    """(lines, status, what to do) of a file that exists.  Raises sqlite3.Error."""
    db = _connect_read_only(path)
    try:
        return _facts(db, path)
    finally:
        db.close()


def _facts(db: sqlite3.Connection, path: Path) -> tuple[list[str], str, str]:
    from zoomtui.monitor.archive import SCHEMA_VERSION, foreign_reason

    version = db.execute("PRAGMA user_version").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    if version > SCHEMA_VERSION:
        return (
            [f"schema {version}: written by a newer zoomtui (this one knows {SCHEMA_VERSION})"],
            "fail",
            "Upgrade zoomtui: this one neither reads nor writes that file (it leaves it as it is).",
        )
    foreign = foreign_reason(db)
    if foreign is not None:
        return (
            [f"not a zoomtui archive: {foreign}"],
            "fail",
            f"Move {path.name} aside: zoomtui never writes into another program's file, so "
            "the monitor keeps nothing until it is gone.",
        )
    if version == 0:
        return (["empty: never written (the monitor sets it up when it opens it)"], "ok", "")
    lines = [
        f"pages: {_bytes_words(pages * page_size)} "
        f"({_bytes_words(free * page_size)} of them free for reuse)"
    ]
    if version < SCHEMA_VERSION:
        lines.append(
            f"schema {version}: the next monitor upgrades it in place to {SCHEMA_VERSION} "
            "(a moment: no record is rewritten)"
        )
    else:
        lines.append(f"schema {version} (current)")
    lines += _records_and_index(db, version)
    return lines, "ok", ""


def _records_and_index(db: sqlite3.Connection, version: int) -> list[str]:
    from zoomtui.monitor.archive.searchindex import approx_count, index_build, index_progress
    from zoomtui.timefmt import date_clock

    build = index_build(db)  # the oldest and newest seq: each one look in the B-tree
    if not build.total:
        return ["no records yet"]
    # min(at) and max(at): one look each in the `log_at` index
    oldest = db.execute("SELECT min(at) FROM log").fetchone()[0]
    newest = db.execute("SELECT max(at) FROM log").fetchone()[0]
    lines = [
        f"about {approx_count(build.total)} records, "
        f"from {date_clock(oldest)} to {date_clock(newest)}"
    ]
    progress = index_progress(db)
    if not progress.usable:
        why = (
            "none yet (an archive from an older zoomtui)"
            if version < INDEX_SCHEMA
            else "in a layout this zoomtui does not use"
        )
        lines.append(
            f"search index: {why}: searches read every record until the monitor builds "
            "it, in the background"
        )
    elif progress.complete:
        lines.append("search index: complete")
    else:
        lines.append(
            f"search index: {approx_count(build.indexed)} of {approx_count(build.total)} "
            "records indexed; the monitor builds the rest in the background (searches "
            "read the rest record by record meanwhile)"
        )
    return lines
