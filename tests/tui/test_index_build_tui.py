"""The monitor over an archive an older zoomtui wrote: the panel shows the search index
being built, as the writer reports it, step by step to its end; `A` meanwhile searches
all the same and says the part not indexed yet is scanned.

The real app against the fake Zoom on loopback, a real SQLite archive of schema 1 opened
by the real writer (a thread, whose indexing steps the test lets through one by one:
`Gate`, never a sleep).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.content import Content

from tests.archivekit import CALM_HB, FAST, Gate, plan, screen_text, unindexed_archive, wait_until
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import ArchiveReader, archive_path
from zoomtui.monitor.archive.searchindex import IndexBuild
from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.archive_search import ArchiveSearchScreen
from zoomtui.tui.searching import DONE
from zoomtui.tui.widgets.connection_panel import archive_line
from zoomtui.zoom.updates import ConnectionState as S

PROFILE = "ops"
EVENTS = 300
CHUNK = 10
JOINED = "type:meeting.participant_joined"


def panel_says(app: ZoomtuiApp, text: str) -> bool:
    return text in screen_text(app)


def shown(app: ZoomtuiApp, indexed: int) -> str:
    """What the panel is to say of the build the writer noted when it had indexed
    `indexed` records (of the 300 events and the connection's first state changes,
    written before the build began: as many as were queued by then)."""
    assert app.archive is not None
    build = app.archive.index_build
    assert build is not None and build.indexed == indexed
    return f"archive: {build.words()} · search scans the rest"


async def test_the_panel_shows_the_index_build_as_it_goes_then_its_end(
    fake: FakeZoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = archive_path(PROFILE, base=tmp_path)
    path.parent.mkdir(parents=True)
    unindexed_archive(path, EVENTS)
    gate = Gate(monkeypatch)
    app = ZoomtuiApp(
        AppOptions(
            fake.settings(heartbeat_interval=CALM_HB, profile=PROFILE),
            profile=PROFILE,
            connection=ConnectionOptions(FAST),
            archive=plan(tmp_path, writer="thread", index_chunk=CHUNK),
        )
    )
    said: list[tuple[str, str]] = []
    notify = app.notify

    def recording(message: str, **kwargs: object) -> None:
        said.append((str(kwargs.get("title")), message))
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    async with app.run_test(size=(120, 30)) as pilot:
        try:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
            assert not panel_says(app, "archive:")  # nothing indexed, nothing said yet
            await asyncio.to_thread(gate.step)
            first = shown(app, 10)
            assert re.fullmatch(
                r"archive: indexing 3 % \(10 of 30\d records\) · search scans the rest", first
            )
            await wait_until(pilot, lambda: panel_says(app, first), what="the build shown")
            await asyncio.to_thread(gate.step, 5)
            moved = shown(app, 60)
            assert re.fullmatch(
                r"archive: indexing 19 % \(60 of 30\d records\) · search scans the rest", moved
            )
            await wait_until(pilot, lambda: panel_says(app, moved), what="the build moving")
            assert not panel_says(app, first)

            # A meanwhile: the whole answer, and the screen says how it is found
            await pilot.press("slash", *JOINED, "enter")
            await wait_until(pilot, lambda: app.event_view.applied_filter == JOINED, what="filter")
            await pilot.press("A")
            await wait_until(
                pilot, lambda: isinstance(app.screen, ArchiveSearchScreen), what="the search"
            )
            screen = app.screen
            assert isinstance(screen, ArchiveSearchScreen)
            await wait_until(pilot, lambda: screen.state == DONE, what="the search done")
            scanned = list(ArchiveReader(path).iter_events(filter=JOINED))
            assert scanned and screen.found == len(scanned)
            await pilot.pause()
            text = " ".join(screen_text(app).split())
            assert (
                "The archive's search index is still being built (19 % so far): the events "
                "it does not cover yet are scanned, so this search takes longer; none is "
                "missed." in text
            )
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is app.main, what="back to the list")

            gate.open()
            await wait_until(
                pilot, lambda: not panel_says(app, "archive:"), what="the build's line gone"
            )
            built = "Archive search index built"
            await wait_until(pilot, lambda: any(t == built for t, _ in said), what="the end")
            assert app.archive is not None and app.status.archive_index is not None
            total = app.status.archive_index.total
            assert app.status.archive_index == IndexBuild(total, total)
            assert [m for t, m in said if t == built] == [
                f"Searches of the archive use the index for all of it now ({total} records)."
            ]
        finally:
            gate.open()


def test_the_archive_line_puts_a_failure_before_the_build() -> None:
    status = LinkStatus(archive_index=IndexBuild(41, 100))
    assert archive_line(status).plain == (
        "archive: indexing 41 % (41 of 100 records) · search scans the rest"
    )
    status.archive_error = "The disk holding the event archive is full"
    assert archive_line(status).plain == "⚠ archive: The disk holding the event archive is full"
    status.archive_error = ""
    status.archive_index = IndexBuild(100, 100)
    assert archive_line(status) == Content("")
