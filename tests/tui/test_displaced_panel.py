"""The monitor displaced by another consumer of the subscription: the panel and the log say
so, plainly and apart from every other state, and the monitor does not reconnect."""

from __future__ import annotations

from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.eventlog import StateRow
from zoomtui.timefmt import age, clock_hms
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.confirm import ConfirmScreen
from zoomtui.tui.theme import STATE_GLYPHS, STATE_STYLES
from zoomtui.zoom.updates import ConnectionState as S


def test_every_state_has_a_glyph_and_a_style_and_displaced_looks_like_no_other() -> None:
    assert set(STATE_GLYPHS) == set(S) and set(STATE_STYLES) == set(S)
    others = [s for s in S if s is not S.DISPLACED]
    assert STATE_GLYPHS[S.DISPLACED] not in [STATE_GLYPHS[s] for s in others]
    assert STATE_STYLES[S.DISPLACED] not in [STATE_STYLES[s] for s in others]


async def test_the_panel_and_the_log_say_displaced_and_why(fake: FakeZoom, tui) -> None:
    # a heartbeat long enough that a loaded machine sees no dead link (the first goes at once)
    settings = fake.settings(heartbeat_interval=2.0)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await tui.wait_until(pilot, lambda: app.status.heartbeat_rtt is not None, what="a beat")
        consumer = await fake.start_consumer(heartbeat_interval=0.2)
        await tui.wait_until(pilot, lambda: app.status.state is S.DISPLACED, what="displaced")
        app.panel.refresh_status()
        await pilot.pause()
        text = tui.screen_text(app)
        assert "⇄ displaced" in text
        assert "another consumer most likely connected to this subscription" in text
        assert "c in the monitor" in text  # the hint: what connecting again does
        assert app.status.displaced and app.status.can_connect
        assert app.status.next_try_in(app.clock()) is None  # not by itself
        rows = [r for r in app.event_log if isinstance(r, StateRow)]
        assert rows[-1].state == "displaced"
        await consumer.stop()
        assert app.status.state is S.DISPLACED
        assert [c.consumer for c in fake.accepted_connections][-2:] == [None, "production-1"]
        assert app._exception is None


async def test_while_displaced_the_panel_counts_the_open_gap_with_its_start(
    fake: FakeZoom, tui
) -> None:
    # A gap is counted once the link is back; until then the panel must not say "gaps 0"
    # (no events lost) while events are being lost: it says the gap is open, since when.
    settings = fake.settings(heartbeat_interval=2.0)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        assert "gaps 0" in tui.screen_text(app) and "open" not in tui.screen_text(app)
        consumer = await fake.start_consumer(heartbeat_interval=0.2)
        await tui.wait_until(pilot, lambda: app.status.state is S.DISPLACED, what="displaced")
        app.panel.refresh_status()
        await pilot.pause()
        since = app.status.gap_open_since
        assert since is not None and app.status.gaps == 0
        text = tui.screen_text(app)
        assert "gaps 0" not in text
        assert f"gaps 1 (open {age(app.clock() - since)[:1]}" in text
        assert f"since {clock_hms(round(since * 1000))})" in text
        await consumer.stop()
        # taken back: the gap closes and is counted, nothing is open any more
        await pilot.press("c")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
        await pilot.press("tab", "enter")
        await tui.wait_until(pilot, lambda: app.status.gaps == 1, what="the gap closed")
        app.panel.refresh_status()
        await pilot.pause()
        text = tui.screen_text(app)
        assert app.status.gap_open_since is None
        assert "gaps 1" in text and "(open" not in text
