"""Lag and duplicates in the monitor: a frame received twice is marked in the log (at 80
columns too), and the panel shows the lag's p50/p95 over the last minute and the
duplicates counted, figures that give way on a narrow panel before the counters."""

from __future__ import annotations

from zoomtui.fakezoom import FakeZoom
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, Clocks, ConnectionOptions
from zoomtui.tui.widgets.event_rows import DUPLICATE_MARK
from zoomtui.zoom.updates import ConnectionState as S

#: the app's standing clock (tests/tui/conftest.py's FIXED_NOW)
NOW = 1741960992.0


def _started(meeting: str, lag: float) -> dict:
    """A meeting.started stamped `lag` seconds before the app's (standing) clock."""
    return {
        "event": "meeting.started",
        "event_ts": round((NOW - lag) * 1000),
        "payload": {"account_id": "acc", "object": {"id": meeting, "topic": f"Topic {meeting}"}},
    }


def _panel_lines(app: ZoomtuiApp, text: str) -> list[str]:
    region = app.main.panel.region
    return [row[region.x : region.right] for row in text.splitlines()[region.y : region.bottom]]


def _log_rows(app: ZoomtuiApp, text: str, topic: str) -> list[str]:
    """The event list's rows about `topic`, as shown (the side pane cut off)."""
    region = app.event_view.region
    rows = [row[region.x : region.right] for row in text.splitlines()[region.y : region.bottom]]
    return [row.rstrip(" │▏▕▐▌") for row in rows if topic in row]


async def test_a_duplicate_is_marked_and_the_panel_counts_it_with_the_lag(
    fake: FakeZoom, tui
) -> None:
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    clocks = Clocks(wall=tui.FixedClock(NOW))
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST), clocks=clocks))
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        once = _started("111", lag=0.2)
        for event in (once, _started("222", 0.2), _started("333", 30), _started("444", 30)):
            await fake.inject(event)
        await tui.wait_until(pilot, lambda: app.status.events == 4, what="four events")

        def painted() -> bool:  # the log and the panel paint on their own turns
            text = tui.screen_text(app)
            panel = "".join(_panel_lines(app, text))
            return len(_log_rows(app, text, "Topic 444")) == 1 and "dups 0" in panel

        await tui.wait_until(pilot, painted, what="the fourth row and the panel's figures")
        assert DUPLICATE_MARK not in tui.screen_text(app)
        await fake.inject(once)  # the very frame again
        await tui.wait_until(pilot, lambda: app.status.events == 5, what="the copy")

        def shown() -> bool:  # the panel and the log paint on their own turns: wait for both
            text = tui.screen_text(app)
            panel = "".join(_panel_lines(app, text))
            return "dups 1" in panel and len(_log_rows(app, text, "Topic 111")) == 2

        await tui.wait_until(pilot, shown, what="the panel counting it and the copy's row")
        text = tui.screen_text(app)
        first, copy = _log_rows(app, text, "Topic 111")
        assert DUPLICATE_MARK not in first and first.endswith("0.2s")
        assert copy.endswith(f"{DUPLICATE_MARK}0.2s")
        assert all(DUPLICATE_MARK not in r for r in _log_rows(app, text, "Topic 333"))
        # lags 0.2, 0.2, 30, 30 and the copy's 0.2 (its event_ts is the first's)
        (figures,) = [line for line in _panel_lines(app, text) if "dups" in line]
        assert "lag p50 0.2s p95 30s" in figures and "dups 1" in figures

        await pilot.resize_terminal(80, 24)
        await tui.wait_until(pilot, lambda: app.size.width == 80, what="80 columns")
        await tui.wait_until(
            pilot,
            lambda: "lag p50" not in tui.screen_text(app),
            what="the lag giving way on a narrow panel",
        )
        text = tui.screen_text(app)
        panel = "\n".join(_panel_lines(app, text))
        assert "reconnects 0" in panel and "gaps 0" in panel and "dups 1" in panel
        (copy,) = [r for r in _log_rows(app, text, "Topic 111") if DUPLICATE_MARK in r]
        assert copy.endswith(f"{DUPLICATE_MARK}0.2s")


async def test_a_high_event_rate_reads_like_the_counts_beside_it(fake: FakeZoom, tui) -> None:
    """ev/s at a flood's rate has thousands separators and no tenth, like "events 80,515";
    a slow rate keeps its tenth (the panel redraws on its own timer: wait for it)."""
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    clocks = Clocks(wall=tui.FixedClock(NOW))
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST), clocks=clocks))
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        # what the session records for a batch of rows (a flood's five seconds at once)
        app.status.on_rows(62, 0, [], NOW, NOW)

        def figures() -> str:
            return "".join(_panel_lines(app, tui.screen_text(app)))

        def shows(*texts: str) -> bool:
            line = figures()
            return all(text in line for text in texts)

        # one screen with the count and the rate: the line is painted with its new text
        # before the layout gives it its new width, so one frame can show the rate cut
        await tui.wait_until(pilot, lambda: shows("events 62", "ev/s 12.4 "), what="the first")
        app.status.on_rows(80_453, 0, [], NOW, NOW)
        await tui.wait_until(pilot, lambda: shows("events 80,515", "ev/s 16,103 "), what="flood")
