"""Displaced by another consumer (usually production), the monitor never takes the
subscription back on one key: `c` and `r` ask first, the safe answer is the default, the
panel counts down to a policy's retake, and a toast says what happened."""

from __future__ import annotations

from textual.widgets import Button

from tests.waits import HANG_GUARD
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.linkstatus import RETAKE_QUESTION
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.linkwords import DISPLACED_TITLE, countdown_words
from zoomtui.tui.options import AppOptions, Clocks, ConnectionOptions
from zoomtui.tui.screens.confirm import ConfirmScreen
from zoomtui.zoom.updates import ConnectionState as S


async def _displaced(fake: FakeZoom, pilot, app: ZoomtuiApp, tui) -> None:
    await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
    await tui.wait_until(pilot, lambda: app.status.heartbeat_rtt is not None, what="a beat")
    await fake.start_consumer(heartbeat_interval=0.2)
    await tui.wait_until(pilot, lambda: app.status.state is S.DISPLACED, what="displaced")


def _zoomtui_connections(fake: FakeZoom) -> int:
    return sum(1 for c in fake.accepted_connections if c.consumer is None)


async def test_c_and_r_ask_first_and_enter_keeps_zoomtui_off(fake: FakeZoom, tui) -> None:
    settings = fake.settings(heartbeat_interval=2.0)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 40)) as pilot:
        await _displaced(fake, pilot, app, tui)
        ours = _zoomtui_connections(fake)
        for key in ("c", "r"):
            await pilot.press(key)
            await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
            screen = app.screen
            assert isinstance(screen, ConfirmScreen)
            text = tui.screen_text(app)
            assert "Take the subscription back?" in text
            assert "probably your production" in text and "Connect anyway?" in text
            assert RETAKE_QUESTION.startswith("Another consumer")
            # the default answer is the safe one: enter on it keeps zoomtui off
            assert isinstance(screen.focused, Button) and screen.focused.id == "confirm-keep"
            await pilot.press("enter")
            await tui.wait_until(pilot, lambda: app.screen is app.main, what="closed")
            # keys that are letters never confirm (a paste into the wrong pane)
            await pilot.press(key, "y", "e", "s")
            await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
            await pilot.press("escape")
            await tui.wait_until(pilot, lambda: app.screen is app.main, what="closed")
        await pilot.pause()
        assert app.status.state is S.DISPLACED
        assert _zoomtui_connections(fake) == ours
        assert fake.consumers[0].connected  # production stays on
        # the acting button, chosen on purpose, takes it back
        await pilot.press("c")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
        await pilot.press("tab", "enter")
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="taken back")
        await fake.consumers[0].wait_displaced(n=1, timeout=HANG_GUARD)
        assert _zoomtui_connections(fake) == ours + 1


async def test_the_panel_counts_down_to_a_retake_and_a_toast_says_displaced(
    fake: FakeZoom, tui
) -> None:
    clock = tui.FixedClock()
    settings = fake.settings(heartbeat_interval=2.0, on_displaced="retake after 10m")
    app = ZoomtuiApp(
        AppOptions(settings, connection=ConnectionOptions(tui.FAST), clocks=Clocks(wall=clock))
    )
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await _displaced(fake, pilot, app, tui)
        left = app.status.next_try_in(clock())
        assert left is not None and left >= 600
        toasts = [(n.title, n.message) for n in app._notifications]
        (said,) = [m for t, m in toasts if t == DISPLACED_TITLE]
        assert "probably your production integration" in said
        assert f"takes the subscription back in {countdown_words(left)}" in said
        await tui.wait_until(
            pilot,
            lambda: f"takes it back in {countdown_words(left)}" in tui.screen_text(app),
            what="the countdown",
        )
        # the panel's own timer moves it on, once a second
        clock.advance(347.6)
        later = countdown_words(left - 347.6)
        assert later != countdown_words(left)
        await tui.wait_until(
            pilot, lambda: f"takes it back in {later}" in tui.screen_text(app), what="moved on"
        )
        assert "c take the subscription back (asks first)" in tui.screen_text(app)


async def test_waiting_for_a_person_says_so_in_the_panel_and_the_toast(fake: FakeZoom, tui) -> None:
    settings = fake.settings(heartbeat_interval=2.0)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await _displaced(fake, pilot, app, tui)
        await tui.wait_until(
            pilot, lambda: "stays off until you press c" in tui.screen_text(app), what="panel"
        )
        (said,) = [n.message for n in app._notifications if n.title == DISPLACED_TITLE]
        assert "c takes the subscription back after asking" in said
        # the footer offers connect (take back), not disconnect
        assert app.main.check_action("connect", ()) and not app.main.check_action("disconnect", ())


def test_countdown_words() -> None:
    assert countdown_words(252) == "4 min 12 s"
    assert countdown_words(42.4) == "42 s"
    assert countdown_words(3900) == "1 h 05 min"
    assert countdown_words(-3) == "0 s"


async def _connected_toast(fake: FakeZoom, tui, keywords: dict) -> tuple[str, str]:
    """A monitor at 80x24 until it connects: the "Connected" toast's message and severity."""
    settings = fake.settings(heartbeat_interval=2.0)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(keywords)))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await tui.wait_until(
            pilot, lambda: any(n.title == "Connected" for n in app._notifications), what="toast"
        )
        (toast,) = [n for n in app._notifications if n.title == "Connected"]
        return toast.message, toast.severity


async def test_the_first_connection_of_a_profile_says_whole_in_a_toast_that_it_may_displace(
    fake: FakeZoom, tui
) -> None:
    """The state line cuts the once-said notice at any width (80 or 160 columns): the toast
    says it whole; later connections of the profile toast plainly."""
    said_before: set[str] = set()

    def first_connection_of(profile: str) -> bool:
        first = profile not in said_before
        said_before.add(profile)
        return first

    keywords = {**tui.FAST, "is_first_connection": first_connection_of}
    message, severity = await _connected_toast(fake, tui, keywords)
    assert "Zoom allows one connection per subscription" in message
    assert "production integration" in message and severity == "warning"
    message, severity = await _connected_toast(fake, tui, keywords)
    assert message == "Receiving events for subscription dem…01."
    assert severity == "information"
