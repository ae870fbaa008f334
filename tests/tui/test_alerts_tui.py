"""Alerts in the monitor: a toast and the bell for each one (through a session sink), the
alerts list (`!`, and the palette), and Enter on an alert opens its event or its gap."""

from __future__ import annotations

from pathlib import Path

from zoomtui.alerts.rules import parse_rules
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.eventlog import GapRow
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.alerts import AlertsScreen
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

RULES = """
[profiles.default]

[[profiles.default.alerts]]
name = "VIP joined"
event = "type:meeting.participant_joined user:ceo@example.com"

[[profiles.default.alerts]]
name = "any gap"
gap_longer_than = 0
"""


def _joined(email: str) -> dict:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1_741_960_992_000,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": "85746352415",
                "uuid": "u1==",
                "topic": "Board",
                "participant": {"user_id": "1", "user_name": "The CEO", "email": email},
            },
        },
    }


def _app(fake: FakeZoom, tui) -> ZoomtuiApp:
    rules = parse_rules(RULES, Path("config.toml"), "default").rules
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    return ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST), alerts=rules))


async def test_an_alert_toasts_rings_and_opens_its_event(fake: FakeZoom, tui) -> None:
    app = _app(fake, tui)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.inject(_joined("someone@example.com"))
        await fake.inject(_joined("ceo@example.com"))
        await tui.wait_until(pilot, lambda: app.status.events == 2, what="two events")
        await tui.wait_until(pilot, lambda: app.alerts.alerts, what="the alert")
        (alert,) = app.alerts.alerts
        assert alert.rule == "VIP joined" and bells == [1]
        assert any(n.title == "zoomtui ALERT: VIP joined" for n in app._notifications)
        await pilot.press("exclamation_mark")
        await tui.wait_until(pilot, lambda: "Alerts (1)" in tui.screen_text(app), what="list")
        text = tui.screen_text(app)
        assert "Alerts (1)" in text and "VIP joined" in text and "The CEO" in text
        await pilot.press("enter")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), what="event")
        assert app.screen.row is alert.event  # type: ignore[attr-defined]
        assert isinstance(alert.event, ZoomEvent)


async def test_the_list_shows_how_far_an_open_alert_has_grown(fake: FakeZoom, tui) -> None:
    """A flood is one alert, sent once: while it is open the list shows the count so far."""
    app = _app(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        for _ in range(3):
            await fake.inject(_joined("ceo@example.com"))
        await tui.wait_until(pilot, lambda: app.status.events == 3, what="three events")
        (alert,) = app.alerts.alerts
        assert alert.state == "firing" and alert.count == 3
        await pilot.press("exclamation_mark")
        await tui.wait_until(pilot, lambda: "Alerts (1)" in tui.screen_text(app), what="list")
        (line,) = [row for row in tui.screen_text(app).splitlines() if "VIP joined  x3" in row]
        assert "firing" in line and "The CEO" in line


async def test_an_alert_about_a_gap_selects_the_gap_in_the_list(fake: FakeZoom, tui) -> None:
    app = _app(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.cut()
        await tui.wait_until(pilot, lambda: app.alerts.alerts, what="the gap's alert")
        app.action_alerts()
        await tui.wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), what="list")
        await pilot.press("enter")
        await tui.wait_until(pilot, lambda: not isinstance(app.screen, AlertsScreen), what="closed")
        row = app.event_view.selected_row
        assert isinstance(row, GapRow) and (row.start, row.end) == app.alerts.alerts[0].gap


async def test_the_palette_offers_the_alerts_list(fake: FakeZoom, tui) -> None:
    from zoomtui.tui.palette import ZoomtuiCommands

    app = ZoomtuiApp(AppOptions(fake.settings(heartbeat_interval=tui.CALM_HB)))
    async with app.run_test(size=(160, 40)) as pilot:
        provider = ZoomtuiCommands(app.screen)
        commands = {name: callback for name, _, callback in provider._commands()}
        commands["Alerts"]()
        await tui.wait_until(
            pilot,
            lambda: "No alert rules in this profile" in tui.screen_text(app),
            what="the alerts list, saying there are no rules",
        )


async def test_the_demo_says_where_alert_rules_come_from(tui) -> None:
    """The demo has no profile, so "add [[profiles.NAME.alerts]]" alone would point at
    nothing: it says rules come from a profile's config, and how to get one."""
    from zoomtui.tui.options import DemoOptions

    app = ZoomtuiApp(AppOptions(DemoOptions(rate=5.0, heartbeat=tui.CALM_HB)))
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.demo is not None, what="the demo")
        await pilot.press("exclamation_mark")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, AlertsScreen), what="list")
        await tui.wait_until(
            pilot, lambda: "No alert rules" in tui.screen_text(app), what="the rules line"
        )
        said = " ".join(tui.screen_text(app).split())
        assert "the demo has no profile" in said and "zoomtui login" in said
        assert "in this profile" not in said
