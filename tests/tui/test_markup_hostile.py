"""Text from outside (Zoom's payloads, API and handler answers, exception messages, paths,
what a user typed) reaches the screen as plain text: never parsed as Textual markup, which
would raise on a stray closing tag and make `[@click=...]` a live action link."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.widgets._toast import Toast
from textual.widgets._tooltip import Tooltip

from zoomtui.alerts.rules import parse_rules
from zoomtui.fakezoom import FakeZoom, dashboard
from zoomtui.monitor.recentfilters import RecentFilters
from zoomtui.monitor.savedfilters import SavedFilters
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions, DemoOptions, FilterOptions
from zoomtui.zoom.updates import ConnectionState as S

#: a closing tag with no opening one (MarkupError when parsed), an action link, a style
HOSTILE_NAME = "[/x] [@click=app.quit]boom[/] [b]"
HOSTILE_TOPIC = "Q3 [red]plan[/red] [/]"

RULES = """
[profiles.default]

[[profiles.default.alerts]]
name = "anyone joined"
event = "type:meeting.participant_joined"
"""


def _joined(name: str, topic: str) -> dict:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1_741_960_992_000,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": "85746352415",
                "uuid": "u1==",
                "topic": topic,
                "participant": {"user_id": "1", "user_name": name, "email": "x@example.com"},
            },
        },
    }


def _toasts(app: ZoomtuiApp, title: str) -> list[Content]:
    """What the toasts whose title holds `title` show (title and message), as drawn."""
    shown = [toast.render() for toast in app.screen.query(Toast)]
    return [content for content in shown if title in content.plain.partition("\n")[0]]


async def test_an_alert_about_a_hostile_name_toasts_it_literally(fake: FakeZoom, tui: Any) -> None:
    rules = parse_rules(RULES, Path("config.toml"), "default").rules
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST), alerts=rules))
    async with app.run_test(size=(200, 40), notifications=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.inject(_joined(HOSTILE_NAME, HOSTILE_TOPIC))
        await tui.wait_until(pilot, lambda: app.alerts.alerts, what="the alert")
        await tui.wait_until(pilot, lambda: _toasts(app, "ALERT"), what="the alert's toast")
        (shown,) = _toasts(app, "ALERT")
        assert f"{HOSTILE_NAME} in {HOSTILE_TOPIC}" in shown.plain
        assert not [span for span in shown.spans if "@click" in str(span.style)]
        assert "[/x] [@click=app.quit]boom" in tui.screen_text(app)  # painted, and still running
        assert app.is_running


async def test_a_failing_actions_own_words_are_toasted_literally(fake: FakeZoom, tui: Any) -> None:
    # The first failure of an alert action is toasted with the command's output in it.
    says = f"import sys; print({HOSTILE_NAME!r}); sys.exit(3)"
    command = json.dumps([sys.executable, "-c", says])
    rules = parse_rules(RULES + f"command = {command}\n", Path("config.toml"), "default").rules
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST), alerts=rules))
    async with app.run_test(size=(200, 40), notifications=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.inject(_joined("Ana", "Board"))
        await tui.wait_until(pilot, lambda: _toasts(app, "alert action"), what="its toast")
        (shown,) = _toasts(app, "alert action")
        assert f"exited with 3: {HOSTILE_NAME}" in shown.plain
        assert not [span for span in shown.spans if "@click" in str(span.style)]
        assert app.is_running


async def test_zoom_api_words_in_the_roster_problem_are_plain(
    fake: FakeZoom, tui: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Zoom's API's message is part of the roster problem: the toast and the line's tooltip.
    monkeypatch.setattr(dashboard, "NO_DASHBOARD", {"code": 200, "message": HOSTILE_NAME})
    fake.dashboard.plan_has_dashboard = False
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, hydrate=True)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 48), notifications=True, tooltips=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.roster_problem, what="the problem")
        said = app.status.roster_problem
        assert HOSTILE_NAME in said
        await tui.wait_until(pilot, lambda: _toasts(app, "Rosters"), what="its toast")
        (shown,) = _toasts(app, "Rosters")
        assert said in shown.plain
        app.clear_notifications()  # (a toast may lie over the line)
        await pilot.hover("#roster-line")
        tooltip = app.screen.query_one(Tooltip)
        await tui.wait_until(pilot, lambda: tooltip.display, what="the line's tooltip")
        await pilot.pause()
        tip = tooltip.render()
        assert isinstance(tip, Content) and tip.plain == said
        assert not [span for span in tip.spans if "@click" in str(span.style)]
        assert app.is_running


async def test_a_profile_name_in_the_panels_title_is_plain(fake: FakeZoom, tui: Any) -> None:
    # The panel's border says the source: a profile name, a replay's file, a hub's URL
    # (an IPv6 one is `http://[::1]:8765`).
    profile = "ops [/x] [@click=app.quit]q[/] http://[::1]:8765"
    settings = fake.settings(heartbeat_interval=tui.CALM_HB, profile=profile)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(200, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await pilot.pause()
        assert f"connection · profile {profile}" in tui.screen_text(app).splitlines()[0]
        assert app.is_running


async def test_a_saved_filters_expression_in_the_palette_is_plain(tui: Any) -> None:
    expression = '"[/x] [@click=app.quit]q[/] [$x] [B]" -type:x'
    saved = SavedFilters({"odd": expression})
    app = ZoomtuiApp(
        AppOptions(
            DemoOptions(rate=5.0, heartbeat=tui.CALM_HB),
            filters=FilterOptions(recent=RecentFilters(None), saved=saved),
        )
    )
    async with app.run_test(size=(160, 40)) as pilot:
        # opened, the palette lists every command with its help (the saved filter's too)
        await pilot.press("ctrl+p")
        await tui.wait_until(pilot, lambda: "Reconnect now" in tui.screen_text(app), what="list")
        await pilot.press(*"filter: odd")
        await tui.wait_until(
            pilot, lambda: "Filter: odd" in tui.screen_text(app), what="the hit, searched"
        )
        assert expression in tui.screen_text(app)
        await pilot.press("enter")
        await tui.wait_until(pilot, lambda: app.event_view.applied_filter == expression)
        assert app.is_running
