"""The search index built over an archive that has none yet (one an older zoomtui wrote),
and how far it has come on its way to the monitor: the writer's `IndexBuild` (in its
reports from the writer process, as it is from a writer thread), the session's
`check_index`, tail's notes.

Real SQLite files written by the real writers; the writer thread's steps are held
between two by a gate the test opens (`Gate`), never timed.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archivekit import Gate, unindexed_archive
from tests.waits import poll_until
from zoomtui.commands.common import EXIT_OK
from zoomtui.commands.tail import TailRun, watch_archive
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention, migrate
from zoomtui.monitor.archive.searchindex import (
    BUILD_SHOWN_FROM_CHUNKS,
    IndexBuild,
    approx_count,
    index_build,
    index_step,
)
from zoomtui.monitor.session import IndexChange, MonitorSession

KEEP_ALL = Retention(max_age_days=None, max_size_mb=None)
#: event rows per indexing step: a small archive takes many steps
CHUNK = 10
#: events in the archive to upgrade: a build is said from BUILD_SHOWN_FROM_CHUNKS chunks on
EVENTS = 300
assert EVENTS >= BUILD_SHOWN_FROM_CHUNKS * CHUNK


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    path = tmp_path / "a.sqlite3"
    unindexed_archive(path, EVENTS)
    return path


@pytest.fixture
def gated_archive(old_archive: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """The old archive opened by a writer thread whose indexing steps the test lets through."""
    gate = Gate(monkeypatch)
    archive = Archive(old_archive, retention=KEEP_ALL, writer="thread", index_chunk=CHUNK)
    try:
        yield archive, gate
    finally:
        gate.open()
        archive.close()


def test_a_build_counts_the_records_from_the_oldest_to_the_newest(old_archive: Path) -> None:
    db = sqlite3.connect(old_archive, isolation_level=None)
    migrate(db)
    assert index_build(db) == IndexBuild(0, EVENTS)
    assert index_step(db, chunk=CHUNK)
    assert index_build(db) == IndexBuild(CHUNK, EVENTS)
    # Retention takes the oldest rows (indexed or not): what is left is the whole.
    db.execute("DELETE FROM log WHERE seq <= 25")
    assert index_build(db) == IndexBuild(0, EVENTS - 25)
    while index_step(db, chunk=CHUNK):
        pass
    assert index_build(db) == IndexBuild(EVENTS - 25, EVENTS - 25)
    db.execute("DELETE FROM log")
    assert index_build(db) == IndexBuild(0, 0)
    assert index_build(db).complete
    db.close()


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (IndexBuild(0, 300), "indexing 0 % (0 of 300 records)"),
        (IndexBuild(299, 300), "indexing 99 % (299 of 300 records)"),  # never 100 % early
        (IndexBuild(1_234_567, 3_000_000), "indexing 41 % (1.2 M of 3.0 M records)"),
        (IndexBuild(41_234, 412_000), "indexing 10 % (41.2 k of 412 k records)"),
        (IndexBuild(9_999, 99_950), "indexing 10 % (9,999 of 100 k records)"),
        (IndexBuild(999_500, 123_000_000), "indexing 0 % (1.0 M of 123 M records)"),
        (IndexBuild(3_000, 3_000), "search index built (3,000 records)"),
    ],
)
def test_a_build_in_words(build: IndexBuild, words: str) -> None:
    assert build.words() == words


def test_counts_in_four_figures_at_most() -> None:
    assert [approx_count(n) for n in (0, 950, 9_999, 10_000, 99_949, 999_499)] == [
        "0",
        "950",
        "9,999",
        "10.0 k",
        "99.9 k",
        "999 k",
    ]
    assert approx_count(2_500_000_000) == "2,500 M"


def test_the_writer_says_how_far_each_step_took_the_build_and_when_it_ended(
    gated_archive: tuple,
) -> None:
    archive, gate = gated_archive
    assert archive.index_build is None  # nothing indexed yet
    gate.step()
    assert archive.index_build == IndexBuild(CHUNK, EVENTS)
    gate.step(5)
    assert archive.index_build == IndexBuild(6 * CHUNK, EVENTS)
    reader = ArchiveReader(archive.path)  # what a search sees: the same mark
    assert reader.index_progress().upto == 6 * CHUNK
    gate.open()
    poll_until(lambda: archive.index_build == IndexBuild(EVENTS, EVENTS), "the build to end")
    assert reader.index_progress().complete


def test_a_few_rows_to_index_are_no_build(tmp_path: Path) -> None:
    # The usual look behind the writes (a chunk or less), and even some chunks, say nothing.
    path = tmp_path / "a.sqlite3"
    unindexed_archive(path, BUILD_SHOWN_FROM_CHUNKS * CHUNK - 1)
    archive = Archive(path, retention=KEEP_ALL, writer="thread", index_chunk=CHUNK)
    try:
        reader = ArchiveReader(path)
        poll_until(lambda: reader.index_progress().complete, "the index to catch up")
        assert archive.index_build is None
    finally:
        archive.close()


def test_the_writer_process_reports_the_build_until_it_ends(old_archive: Path) -> None:
    archive = Archive(old_archive, retention=KEEP_ALL, index_chunk=CHUNK)  # the writer process
    seen: list[IndexBuild] = []

    def ended() -> bool:
        build = archive.index_build
        if build is not None and build not in seen:
            seen.append(build)
        return build is not None and build.complete

    try:
        assert archive.writer_pid is not None
        poll_until(ended, "the writer process to report the build's end")
    finally:
        archive.close()
    assert seen[-1] == IndexBuild(EVENTS, EVENTS)
    assert ArchiveReader(old_archive).index_progress().complete
    # every report on the way: within the archive, each further than the one before
    assert all(b.total == EVENTS for b in seen)
    assert [b.indexed for b in seen] == sorted({b.indexed for b in seen})


def test_the_session_says_when_a_build_starts_moves_and_ends(gated_archive: tuple) -> None:
    archive, gate = gated_archive
    session = MonitorSession(clock=lambda: 0.0)
    assert session.check_index() is None  # no archive
    session.record_to(archive, "run")
    assert session.check_index() is None  # no build said yet
    gate.step()
    first = IndexBuild(CHUNK, EVENTS)
    assert session.check_index() == IndexChange(first, started=True)
    assert session.status.archive_index == first
    assert session.check_index() is None  # said once
    gate.step()
    assert session.check_index() == IndexChange(IndexBuild(2 * CHUNK, EVENTS))
    gate.open()
    poll_until(lambda: archive.index_build.complete, "the build to end")
    done = IndexBuild(EVENTS, EVENTS)
    assert session.check_index() == IndexChange(done, finished=True)
    assert session.status.archive_index == done


def test_tail_notes_when_the_build_starts_and_when_it_ends(gated_archive: tuple) -> None:
    archive, gate = gated_archive
    session = MonitorSession(clock=lambda: 0.0)
    session.record_to(archive, "run")
    err = io.StringIO()
    run = TailRun(err)
    run.code = EXIT_OK  # (no next look scheduled: the test looks itself)
    for _ in range(3):
        gate.step()
        watch_archive(session, run)
    gate.open()
    poll_until(lambda: archive.index_build.complete, "the build to end")
    watch_archive(session, run)
    watch_archive(session, run)
    assert err.getvalue().splitlines() == [
        "zoomtui: archive: building the search index over 300 records in the background "
        "(searches scan what it does not cover yet)",
        "zoomtui: archive: search index built (300 records)",
    ]
