"""While the history loads on start, the panel says so: live events wait behind it.

Under a flood, a big archive took a minute and more to read; meanwhile the panel read
"events 0 · last event –" beside "connected", a link that looks dead.  Here the reading
thread is held before it says it is done (every batch is in, the live rows wait), live
events arrive, and the panel must say what was read and how many live updates wait; once
the history is in, the line goes and the events are counted.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from textual.message import Message

from tests.archivekit import CALM_HB, FAST, content_of, plan, sent_contents, traffic
from tests.tui.conftest import wait_until
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive, ArchiveReader, archive_path
from zoomtui.monitor.recording import HistoryMark
from zoomtui.monitor.session import Applied
from zoomtui.tui import app as app_module
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.history import CUT_NOTE_SECONDS, HistoryBatch, HistoryDone
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame
from zoomtui.zoom.updates import Update

PROFILE = "ops"
ARCHIVED = 1200


@pytest.fixture
def held_done(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The history's reading thread waits for this before it says the history is done."""
    gate = threading.Event()
    load = app_module.load_history

    def load_then_wait(post: Callable[[Message], object], *args: object) -> None:
        def posting(message: Message) -> object:
            if isinstance(message, HistoryDone):
                gate.wait(300)  # (a guard: the test sets it)
            return post(message)

        load(posting, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "load_history", load_then_wait)
    return gate


def panel_text(app: ZoomtuiApp) -> str:
    return str(app.panel.query_one("#history-line").render())


def archive_events(tmp_path: Path, n: int) -> None:
    """`n` events of an earlier run, received in the last ten minutes (within the window)."""
    with Archive.open(PROFILE, base=tmp_path) as archive:
        for i, ev in enumerate(traffic(n, start=1000.0)):
            archive.add(parse_frame(message_frame(ev), archive._clock() - 600 + i * 0.1), "old:1")


def history_app(fake: FakeZoom, tmp_path: Path) -> ZoomtuiApp:
    """The monitor on `fake`, loading the last hour of the archive in `tmp_path` on start."""
    settings = fake.settings(heartbeat_interval=CALM_HB, profile=PROFILE)
    return ZoomtuiApp(
        AppOptions(
            settings,
            profile=PROFILE,
            connection=ConnectionOptions(FAST),
            archive=plan(tmp_path, history=3600),
        )
    )


async def test_the_panel_says_the_history_loads_and_what_waits_behind_it(
    fake: FakeZoom, tmp_path: Path, held_done: threading.Event
) -> None:
    archive_events(tmp_path, ARCHIVED)
    app = history_app(fake, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(fake.open_connections()) == 1, what="connected")
        for ev in traffic(3, seed=11):
            await fake.inject(ev)
        await wait_until(pilot, lambda: app.session.held >= 3, what="live rows held back")
        assert app.history_state == "loading" and app.status.events == 0
        app.panel.refresh_status()
        await wait_until(pilot, lambda: "waiting" in panel_text(app), what="the history line")
        line = panel_text(app)
        assert f"history: {ARCHIVED:,} records read from the last 60 min" in line
        assert f"{app.session.held} live updates waiting behind it" in line
        assert app.panel.has_class("-history-loading")

        held_done.set()
        await wait_until(pilot, lambda: app.history_state == "done", what="the history")
        await wait_until(pilot, lambda: app.status.events == 3, what="the live events counted")
        app.panel.refresh_status()
        await wait_until(
            pilot, lambda: not app.panel.has_class("-history-loading"), what="the line to go"
        )
        assert panel_text(app) == ""


CAP = 40
LIVE = 150
BIG = 2500  # three batches of the reading thread


async def test_a_flood_while_the_history_loads_cuts_it_short_live_first(
    fake: FakeZoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live updates waiting behind the history were unbounded: under a flood, with a big
    archive, they grew to 2.7 GB.  Here the reading thread is held after its first batch
    while live events arrive: at most CAP wait, then the history stops where it is, the
    log says so, and every live event follows in order; the archive keeps everything."""
    archive_events(tmp_path, BIG)
    gate = threading.Event()
    load = app_module.load_history
    batches = 0

    def load_held_after_one_batch(post: Callable[[Message], object], *args: object) -> None:
        def posting(message: Message) -> object:
            nonlocal batches
            if isinstance(message, HistoryBatch):
                batches += 1
                if batches == 2:
                    gate.wait(300)  # (a guard: the test sets it)
            return post(message)

        load(posting, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "load_history", load_held_after_one_batch)
    monkeypatch.setattr(app_module, "hold_limit_for", lambda log_limit: CAP)
    app = history_app(fake, tmp_path)
    most_held = 0
    apply_batch = app.session.apply_batch

    def watched(updates: Iterable[Update]) -> Applied:
        nonlocal most_held
        applied = apply_batch(updates)
        most_held = max(most_held, app.session.held)  # what waits until the next batch
        return applied

    monkeypatch.setattr(app.session, "apply_batch", watched)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.event_log.total >= 1000, what="the first batch")
        await wait_until(pilot, lambda: len(fake.open_connections()) == 1, what="connected")
        assert app.history_state == "loading"
        for ev in traffic(LIVE, seed=11):
            await fake.inject(ev)
        await wait_until(pilot, lambda: app.status.events == LIVE, what="every live event")
        cut = app.session.history_cut
        assert cut is not None and cut.cut_at and app.history_state == "done"
        # the batch the thread had in hand when the history stopped is not applied
        gate.set()
        await wait_until(
            pilot,
            lambda: all(w.is_finished for w in app.workers if w.group == "history"),
            what="the reading thread to stop",
        )
        rows = list(app.event_log)
        marks = [i for i, r in enumerate(rows) if isinstance(r, HistoryMark)]
        assert len(marks) == 1
        mark = rows[marks[0]]
        assert mark.text.startswith("history stopped at ")
        assert "A searches the rest of the archive" in mark.text
        assert all(isinstance(r, ZoomEvent) for r in rows[: marks[0]])
        assert marks[0] == 1000  # the first batch, and no more
        live = [content_of(r) for r in rows[marks[0] + 1 :] if isinstance(r, ZoomEvent)]
        assert live == sent_contents(fake) and len(live) == LIVE
        assert gc.isenabled()
        toasts = [n.message for n in app._notifications if n.title == "History"]
        assert len(toasts) == 1 and toasts[0].startswith("History stopped at ")
        # the log's line scrolls away under a flood: the panel says it a while
        app.panel.refresh_status()
        assert panel_text(app) == mark.text
        later = app.clock() + CUT_NOTE_SECONDS
        monkeypatch.setattr(app, "clock", lambda: later)
        app.panel.refresh_status()
        await wait_until(
            pilot, lambda: not app.panel.has_class("-history-loading"), what="the line to go"
        )
    assert 0 < most_held < CAP
    reader = ArchiveReader(archive_path(PROFILE, base=tmp_path))
    archived = [content_of(e) for e in reader.iter_events()]
    assert len(archived) == BIG + LIVE and archived[BIG:] == sent_contents(fake)
