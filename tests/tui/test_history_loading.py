"""While the history loads on start, the panel says so: live events wait behind it.

Under a flood, a big archive took a minute and more to read; meanwhile the panel read
"events 0 · last event –" beside "connected", a link that looks dead.  Here the reading
thread is held before it says it is done (every batch is in, the live rows wait), live
events arrive, and the panel must say what was read and how many live updates wait; once
the history is in, the line goes and the events are counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.message import Message

from tests.archivekit import CALM_HB, FAST, plan, traffic
from tests.tui.conftest import wait_until
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive
from zoomtui.tui import app as app_module
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.history import HistoryDone
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.zoom.protocol import message_frame, parse_frame

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


async def test_the_panel_says_the_history_loads_and_what_waits_behind_it(
    fake: FakeZoom, tmp_path: Path, held_done: threading.Event
) -> None:
    with Archive.open(PROFILE, base=tmp_path) as archive:
        for i, ev in enumerate(traffic(ARCHIVED, start=1000.0)):
            archive.add(parse_frame(message_frame(ev), archive._clock() - 600 + i * 0.1), "old:1")
    settings = fake.settings(heartbeat_interval=CALM_HB, profile=PROFILE)
    app = ZoomtuiApp(
        AppOptions(
            settings,
            profile=PROFILE,
            connection=ConnectionOptions(FAST),
            archive=plan(tmp_path, history=3600),
        )
    )
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
