"""Text from outside (Zoom's payloads, API and handler answers, exception messages, paths,
what a user typed) reaches the screen as plain text: never parsed as Textual markup, which
would raise on a stray closing tag and make `[@click=...]` a live action link."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.widgets._toast import Toast

from zoomtui.alerts.rules import parse_rules
from zoomtui.fakezoom import FakeZoom
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
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


async def test_an_alert_about_a_hostile_name_toasts_it_literally(fake: FakeZoom, tui) -> None:
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
