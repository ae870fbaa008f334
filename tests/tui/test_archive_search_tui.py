"""Searching the archive from the monitor (`A`): the real app against the fake Zoom on
loopback, a real SQLite archive written by the real writer.

The results are exactly `ArchiveReader.search()`'s for the filter, beyond the newest
events the live list holds; they stream in page by page (the test holds the reading
thread between two pages, never sleeps); `s` stops; `enter` inspects a result; live
events keep arriving in the live list meanwhile; without a filter or an archive, `A`
says why it cannot.
"""

from __future__ import annotations

import asyncio
import math
import threading
from pathlib import Path

import pytest

from tests.archivekit import (
    CALM_HB,
    FAST,
    content_of,
    plan,
    screen_text,
    sent_contents,
    traffic,
    wait_until,
    write_events,
)
from tests.waits import guard
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import ArchiveReader, archive_path
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.archive_search import (
    NO_ARCHIVE,
    NO_FILTER,
    ArchiveSearchScreen,
)
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.searching import (
    DONE,
    STOPPED,
    SearchEnded,
    SearchPage,
    SearchRequest,
    SearchStop,
    search_pages,
)
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

PROFILE = "ops"
#: the live list holds this many rows: the archive holds many more
LOG_LIMIT = 20
JOINED = "type:meeting.participant_joined"


def search_app(fake: FakeZoom, base: Path | None, **kwargs: object) -> ZoomtuiApp:
    options = AppOptions(
        fake.settings(heartbeat_interval=CALM_HB, profile=PROFILE),
        profile=PROFILE,
        connection=ConnectionOptions(FAST),
        archive=plan(base) if base is not None else None,
        log_limit=LOG_LIMIT,
        **kwargs,  # type: ignore[arg-type]
    )
    return ZoomtuiApp(options)


def toasts(app: ZoomtuiApp) -> list[str]:
    """Every toast the app asks for, as it asks (shown toasts come later and time out)."""
    said: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: object) -> None:
        said.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    return said


async def archived(pilot, app: ZoomtuiApp, fake: FakeZoom, count: int) -> list[ZoomEvent]:
    """Send `count` events, wait until the monitor has them and the archive holds them."""
    await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
    for event in traffic(count):
        await fake.inject(event)
    await wait_until(pilot, lambda: app.status.events == count, what=f"all {count} events")
    assert await asyncio.to_thread(app.archive.flush)
    reader = ArchiveReader(archive_path(PROFILE, base=app.options.archive.base))
    assert reader.count() == count
    return list(reader.search(JOINED))


async def filtered(pilot, app: ZoomtuiApp, text: str) -> None:
    await pilot.press("slash", *text, "enter")
    await wait_until(pilot, lambda: app.event_view.applied_filter == text, what="the filter")


def contents(events: object) -> list[str]:
    return [content_of(e) for e in events]  # type: ignore[attr-defined]


async def test_a_gives_exactly_the_archive_search_beyond_the_live_list(
    fake: FakeZoom, tmp_path: Path
) -> None:
    app = search_app(fake, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        expected = await archived(pilot, app, fake, 120)
        await filtered(pilot, app, JOINED)
        assert len(expected) > app.event_log.visible_count  # the list keeps the newest only
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, ArchiveSearchScreen), what="open")
        screen = app.screen
        assert isinstance(screen, ArchiveSearchScreen)
        await wait_until(pilot, lambda: screen.state == DONE, what="the search done")
        assert contents(screen.results) == contents(expected)
        assert all(type(e) is ZoomEvent for e in screen.results)
        await pilot.pause()
        text = screen_text(app)
        assert f"archived events · filter: {JOINED}" in text
        assert f"{len(expected)} events found · the whole archive searched" in text
        # escape: back to the live list, as it was
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main, what="back to the live list")
        assert app.event_view.applied_filter == JOINED


async def test_results_stream_page_by_page_stop_and_live_events_go_on(
    fake: FakeZoom, tmp_path: Path
) -> None:
    app = search_app(fake, tmp_path)
    held, go = threading.Event(), threading.Event()
    pages_seen: list[int] = []

    def between_pages(pages: int) -> None:  # the reading thread, after a page was taken
        pages_seen.append(pages)
        if pages in (1, 2):
            held.set()
            go.wait()
            go.clear()

    async with app.run_test(size=(160, 40)) as pilot:
        expected = await archived(pilot, app, fake, 120)
        assert len(expected) > 9
        await filtered(pilot, app, JOINED)
        # pages of exactly 3 (the time a page may wait is endless: a loaded machine can take
        # 0.1 s between two results, which posted a page of 1 and the wait for 3 never ended)
        screen = app.main.search_archive(
            page_size=3, page_wait=math.inf, between_pages=between_pages
        )
        assert screen is not None

        async def wait_held() -> None:
            async with guard("the search held between two pages"):
                while not held.is_set():
                    await pilot.pause(0.02)
            held.clear()

        await wait_held()
        await wait_until(pilot, lambda: screen.found == 3, what="the first page")
        assert screen.state == "searching" and "3 events found so far" in screen_text(app)
        # held between pages: live events keep arriving in the live list underneath
        before = app.status.events
        for event in traffic(5, seed=11):
            await fake.inject(event)
        await wait_until(pilot, lambda: app.status.events == before + 5, what="live events")
        log = app.event_log
        newest = log.row_by_seq(log.appended - 1)
        assert isinstance(newest, ZoomEvent) and content_of(newest) == sent_contents(fake)[-1]
        assert screen.found == 3 and app.screen is screen
        go.set()
        await wait_held()
        await wait_until(pilot, lambda: screen.found == 6, what="the second page")
        # s stops: what was found stays, nothing more is added
        await pilot.press("s")
        assert screen.state == STOPPED
        go.set()
        await wait_until(pilot, lambda: "stopped · 6 events found" in screen_text(app), what="said")
        assert contents(screen.results) == contents(expected[:6])
        assert pages_seen[-1] <= 3  # the thread stopped, it did not read on to the end


async def test_enter_inspects_a_result_and_n_steps_through_the_results(
    fake: FakeZoom, tmp_path: Path
) -> None:
    app = search_app(fake, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        expected = await archived(pilot, app, fake, 60)
        await filtered(pilot, app, JOINED)
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, ArchiveSearchScreen), what="open")
        screen = app.screen
        assert isinstance(screen, ArchiveSearchScreen)
        await wait_until(pilot, lambda: screen.state == DONE, what="the search done")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), what="inspector")
        inspector = app.screen
        assert isinstance(inspector, InspectorScreen)
        assert content_of(inspector.row) == content_of(expected[1])  # type: ignore[arg-type]
        assert f"event 2 of {len(expected)}" in screen_text(app)
        await pilot.press("n")
        assert content_of(inspector.row) == content_of(expected[2])  # type: ignore[arg-type]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="back to the results")
        assert screen.view.cursor == 2  # the list is on the row last shown


async def test_the_palette_entry_opens_the_search(fake: FakeZoom, tmp_path: Path) -> None:
    app = search_app(fake, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await archived(pilot, app, fake, 30)
        await filtered(pilot, app, JOINED)
        await pilot.press("ctrl+p", *"search the archive")
        await wait_until(
            pilot, lambda: "Search the archive for this filter" in screen_text(app), what="hit"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ArchiveSearchScreen), what="open")


@pytest.mark.parametrize("archive", [True, False])
async def test_a_says_why_it_cannot_search(fake: FakeZoom, tmp_path: Path, archive: bool) -> None:
    app = search_app(fake, tmp_path if archive else None)
    said = toasts(app)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        if archive:  # no filter yet
            await pilot.press("A")
            await wait_until(pilot, lambda: NO_FILTER in said, what="said: no filter")
        else:
            await filtered(pilot, app, JOINED)
            await pilot.press("A")
            await wait_until(pilot, lambda: NO_ARCHIVE in said, what="said: no archive")
        assert app.screen is app.main


async def test_help_lists_the_key(fake: FakeZoom, tmp_path: Path) -> None:
    app = search_app(fake, tmp_path)
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "Search the archive for the filter" in text
        assert "Archive search (A)" in text and "Stop searching" in text


@pytest.mark.parametrize(("page_wait", "sizes"), [(0.0, [1] * 7), (math.inf, [3, 3, 1])])
def test_a_page_not_full_is_posted_once_it_has_waited(
    tmp_path: Path, page_wait: float, sizes: list[int]
) -> None:
    """A slow search shows what it found without waiting for a full page: a page waits at
    most `page_wait` (no wait: every result is posted at once; endless: only full pages and
    the last)."""
    path = tmp_path / "archive.sqlite"
    write_events(path, 7)
    pages: list[int] = []
    ended: list[SearchEnded] = []

    def post(message: object) -> None:  # the UI's side, taking each page at once
        if isinstance(message, SearchPage):
            pages.append(len(message.events))
            message.taken.set()
        elif isinstance(message, SearchEnded):
            ended.append(message)

    request = SearchRequest(path, "", page_size=3, page_wait=page_wait)
    search_pages(post, request, SearchStop())
    assert pages == sizes
    assert [e.how for e in ended] == [DONE]
