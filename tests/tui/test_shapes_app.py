"""Events that are not about a meeting, inside the real app fed by the fake Zoom: their subject
is shown where the meeting goes, found by `user:` and free words, and shown in the inspector;
an event two hours late reads as such in the lag column."""

from __future__ import annotations

import time

from zoomtui.fakezoom import FakeZoom
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.event_log import EventLogView
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

SIZE = (160, 48)

USER_CREATED = {
    "event": "user.created",
    "payload": {
        "account_id": "acc",
        "operator": "admin@example.com",
        "object": {
            "id": "KdYKjnimT4KPd8FFgQt9FQ",
            "first_name": "Jill",
            "last_name": "Chill",
            "email": "jchill@example.com",
            "type": 1,
        },
    },
}
MEETING_JOINED = {
    "event": "meeting.participant_joined",
    "payload": {
        "account_id": "acc",
        "object": {
            "id": "85746352400",
            "uuid": "mtg0==",
            "topic": "Room 0",
            "participant": {"user_name": "Ana Souza", "id": "p0", "email": "ana@example.com"},
        },
    },
}


async def test_a_user_created_shows_its_email_and_user_finds_it(fake: FakeZoom, tui) -> None:
    # Zoom's own heartbeat: a short one lets a busy machine's stall read as a dead link, and
    # the reconnect's line would then be the row the inspector opens
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=SIZE) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        now_ms = round(time.time() * 1000)
        await fake.inject({**MEETING_JOINED, "event_ts": now_ms})
        # stamped two hours before it is sent: Zoom has delivered events that late
        await fake.inject({**USER_CREATED, "event_ts": now_ms - 2 * 3600 * 1000})
        await tui.wait_until(pilot, lambda: app.status.events == 2, what="two events")
        view = app.query_one(EventLogView)
        await tui.wait_until(
            pilot, lambda: "jchill@example.com" in tui.screen_text(app), what="the email"
        )
        (line,) = [row for row in tui.screen_text(app).splitlines() if "user.created" in row]
        assert "Jill Chill <jchill@example.com>" in line  # where the meeting goes
        assert "2h 0m" in line  # the lag column

        await pilot.press("slash")
        await pilot.press(*"user:jchill@example.com")
        await tui.wait_until(
            pilot, lambda: view.applied_filter == "user:jchill@example.com", what="the filter"
        )
        shown = list(app.event_log)
        assert [r.name for r in shown if isinstance(r, ZoomEvent)] == ["user.created"]

        await pilot.press("escape")  # back to the list, filter kept
        await pilot.press("enter")
        await tui.wait_until(
            pilot, lambda: isinstance(app.screen, InspectorScreen), what="the inspector"
        )
        text = tui.screen_text(app)
        assert "subject" in text and "Jill Chill <jchill@example.com>" in text
        assert "2h 0m late" in text
