"""Fixtures for the app-shell tests: a fake Zoom on loopback, stable clocks, and helpers to
wait for the app and read its screen as text (the `tui` fixture, so test modules need
not import this file)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tests.connhelpers import CALM_HB
from tests.waits import guard
from zoomtui.fakezoom import FakeZoom

#: a fixed moment (2025-03-14 14:03:12 UTC) for screens that must not show the wall clock
FIXED_NOW = 1741960992.0


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def fake() -> AsyncIterator[FakeZoom]:
    """A quiet fake Zoom (nothing is sent unless a test injects it) on 127.0.0.1, port 0."""
    async with FakeZoom(host="127.0.0.1", port=0, oauth_port=0, seed=1, scenario=None) as server:
        yield server


#: quick reconnects for tests: the backoff after a cut is milliseconds, not seconds
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "open_timeout": 5.0}


async def wait_until(
    pilot: Pilot, predicate: Callable[[], object], what: str = "condition"
) -> None:
    """Let the app run until `predicate()` holds.

    The predicate reads the app's state, which its widgets change in their message
    handlers and timer callbacks (Textual signals neither to a test), so it is read again
    after every turn of the app: each widget has handled what was queued for it, then the
    app ran on for 20 ms.  No deadline (tests/waits.py): under load this takes longer, and
    that is all."""
    async with guard(what):
        while not predicate():
            await pilot.pause(0.02)


def screen_text(app: App) -> str:
    """The current screen as plain text (what a user would read)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


async def screen_shows(pilot: Pilot, app: App, *texts: str, what: str = "") -> str:
    """Wait for one screen that shows every one of `texts`, and return what it showed.

    The log, the panel and the side panes are painted on turns of their own (the log's
    follow repaint, the panes' polls, the panel's ages timer), so a model condition (a
    counter, a state) can hold while the screen still shows what was painted before.  And
    one read must find them all: two reads may each see a different one late.  (Assert what
    must NOT be shown on a read after this one.)"""
    shown = ""

    def shows() -> bool:
        nonlocal shown
        shown = screen_text(app)
        return all(text in shown for text in texts)

    await wait_until(pilot, shows, what or f"a screen showing {texts!r}")
    return shown


def freeze_for_snapshot(app: App) -> None:
    """What makes a screenshot stable: no blinking cursor, no animation, no toasts."""
    app.animation_level = "none"
    app.clear_notifications()
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


@pytest.fixture
def tui() -> SimpleNamespace:
    """The helpers above: tui.wait_until, tui.screen_text, tui.screen_shows, tui.freeze,
    tui.FixedClock, tui.FAST, tui.CALM_HB."""
    return SimpleNamespace(
        wait_until=wait_until,
        screen_text=screen_text,
        screen_shows=screen_shows,
        freeze=freeze_for_snapshot,
        FixedClock=FixedClock,
        FIXED_NOW=FIXED_NOW,
        FAST=FAST,
        CALM_HB=CALM_HB,
    )
