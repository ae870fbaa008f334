"""`zoomtui doctor`'s archive step, against real archive files: where the archive is, its
size, retention, schema and search index, and what is wrong with it; read without
changing a byte (nor leaving a file beside it)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.archivekit import unindexed_archive, write_events
from tests.connhelpers import ThreadedFake
from zoomtui.commands.doctor import command
from zoomtui.monitor.archive import archive_path
from zoomtui.monitor.archive.searchindex import index_step

START = 1_700_000_000.0


@pytest.fixture(scope="module")
def tf():
    with ThreadedFake() as fake:
        yield fake


def doctor(tf: ThreadedFake, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(command, ["--no-connect", *args], env=tf.env())
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output.splitlines()


def archive_block(lines: list[str]) -> list[str]:
    """The archive step's lines: its first and those indented under it."""
    start = next(i for i, line in enumerate(lines) if line[2:].startswith("archive"))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


def write_archive(path: Path, n: int, *, indexed: int | None = None) -> None:
    """An archive of `n` events at the current schema, its search index covering the
    first `indexed` records (None: all of them)."""
    write_events(path, n, START)
    db = sqlite3.connect(path, isolation_level=None)
    if indexed is None:
        while index_step(db):
            pass
    elif indexed:
        index_step(db, chunk=indexed)
    db.close()


def untouched(path: Path) -> tuple[bytes, int, list[str]]:
    """What doctor must not change: the file's bytes and mtime, and the folder's files."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def test_a_complete_archive(tf: ThreadedFake) -> None:
    path = archive_path("default")
    write_archive(path, 300)
    before = untouched(path)
    code, lines = doctor(tf)
    assert code == 0, lines
    block = archive_block(lines)
    assert block[0] == f"✓ archive: file: {path}"
    assert block[1].startswith("size on disk: ") and block[1].endswith(" kB")
    assert block[2] == (
        "retention: 30 days, at most 1024 MB (archive_max_age_days, archive_max_size_mb)"
    )
    assert "schema 3 (current)" in block
    assert any(line.startswith("about 300 records, from 2023-11-1") for line in block)
    assert "search index: complete" in block
    assert not any("write-ahead log" in line for line in block)
    assert lines[-1] == "All checks passed."
    assert untouched(path) == before


def test_a_partly_indexed_archive_and_one_without_an_index(tf: ThreadedFake) -> None:
    path = archive_path("default")
    write_archive(path, 500, indexed=120)
    before = untouched(path)
    code, lines = doctor(tf)
    assert code == 0, lines
    block = archive_block(lines)
    indexed = next(line for line in block if line.startswith("search index:"))
    # the mark stops at the 120th event; the records are the events here
    assert indexed.startswith("search index: 120 of 500 records indexed; the monitor builds ")
    assert untouched(path) == before

    path.unlink()
    unindexed_archive(path, 200)
    before = untouched(path)
    code, lines = doctor(tf)
    assert code == 0, lines
    block = archive_block(lines)
    assert "schema 1: the next monitor upgrades it in place to 3" in block[4]
    assert "about 200 records" in block[5]
    assert block[6].startswith("search index: none yet (an archive from an older zoomtui)")
    assert untouched(path) == before


def test_an_archive_open_by_a_monitor_is_read_as_it_is_written(tf: ThreadedFake) -> None:
    """A writer holding the file in WAL mode, with rows only in its write-ahead log:
    doctor reads them (mode=ro shares the log), and says the log is there."""
    path = archive_path("default")
    write_archive(path, 50)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO log (kind, at) SELECT kind, at + 1000 FROM log WHERE seq <= 50")
        before = untouched(path)
        code, lines = doctor(tf)
        assert code == 0, lines
        block = archive_block(lines)
        assert any(line.startswith("about 100 records") for line in block), block
        assert any("write-ahead log" in line and "has it open" in line for line in block)
        assert "search index: 50 of 100 records indexed" in " ".join(block)
        assert untouched(path) == before
    finally:
        writer.close()


def test_a_corrupt_file_fails_the_step_and_says_what_to_do(tf: ThreadedFake) -> None:
    path = archive_path("default")
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(64 * 1024))
    before = untouched(path)
    code, lines = doctor(tf)
    assert code == 1, lines
    block = archive_block(lines)
    assert block[0] == f"✗ archive: file: {path}"
    assert "cannot be read: file is not a database" in block
    assert block[-1].startswith("→ The file is damaged or not an archive: move it aside")
    assert lines[-1] == "1 check(s) failed: archive."
    assert untouched(path) == before


def test_another_programs_database_fails_the_step(tf: ThreadedFake) -> None:
    path = archive_path("default")
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()
    code, lines = doctor(tf)
    assert code == 1
    assert "not a zoomtui archive: it holds table of its own: notes" in archive_block(lines)


def test_an_archive_from_a_newer_zoomtui_fails_the_step(tf: ThreadedFake) -> None:
    path = archive_path("default")
    write_archive(path, 10)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = untouched(path)
    code, lines = doctor(tf)
    assert code == 1
    block = archive_block(lines)
    assert "schema 99: written by a newer zoomtui (this one knows 3)" in block
    assert block[-1].startswith("→ Upgrade zoomtui")
    assert untouched(path) == before


def test_no_archive_yet(tf: ThreadedFake) -> None:
    path = archive_path("default")
    code, lines = doctor(tf)
    assert code == 0, lines
    block = archive_block(lines)
    assert block[0] == f"✓ archive: file: {path}"
    assert block[1].startswith("not there yet: the monitor creates it")
    assert not path.parent.exists()  # doctor created nothing


def test_a_folder_the_archive_cannot_be_made_in_is_a_warning(tf: ThreadedFake) -> None:
    path = archive_path("default")
    path.parent.parent.mkdir(parents=True)
    path.parent.write_text("a file where the archive folder goes\n")
    code, lines = doctor(tf)
    assert code == 0, lines
    block = archive_block(lines)
    assert block[0].startswith("! archive: ")
    assert f"{path.parent} is not a folder: the archive cannot be created below it" in block
    assert block[-1].startswith("→ Make the folder (and the file) writable by this user")


def test_archive_off_in_the_profile(tf: ThreadedFake, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.default]\narchive = false\narchive_max_age_days = 7\n", encoding="utf-8"
    )
    code, lines = doctor(tf, "--config", str(config))
    assert code == 0, lines
    block = archive_block(lines)
    assert block[0] == "! archive: off (setting archive = false in profile default)"
    assert block[-1].startswith("→ Nothing received is kept for search, replay or export")


def test_retention_from_the_profile(tf: ThreadedFake, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.default]\narchive_max_age_days = 7\narchive_max_size_mb = 0\n",
        encoding="utf-8",
    )
    code, lines = doctor(tf, "--config", str(config))
    assert code == 0, lines
    assert (
        "retention: 7 days, no size limit (archive_max_age_days, archive_max_size_mb)"
        in archive_block(lines)
    )
