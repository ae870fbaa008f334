"""The event list, filter bar and inspector inside the real app, fed by the fake Zoom over loopback."""

from __future__ import annotations

from textual.widgets import Input, Static

from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.eventlog import GapRow
from zoomtui.monitor.filters import compile_filter
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.event_log import EventLogView
from zoomtui.tui.widgets.filter_bar import FilterBar
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S

SIZE = (160, 48)
PEOPLE = ["Ana Souza", "Bo Lindqvist", "[Ops] Priya Nair"]


def joined(i: int, meeting: int = 0) -> dict:
    who = PEOPLE[i % 3]
    return {
        "event": "meeting.participant_joined" if i % 2 == 0 else "meeting.participant_left",
        "event_ts": 1_741_960_992_000 + i,
        "payload": {
            "account_id": "acc",
            "object": {
                "id": str(85746352400 + meeting),
                "uuid": f"mtg{meeting}==",
                "topic": f"Room {meeting}",
                "participant": {
                    "user_name": who,
                    "id": f"p{i % 3}",
                    "email": f"p{i % 3}@example.com",
                },
            },
        },
    }


async def started(fake: FakeZoom, tui, pilot, app: ZoomtuiApp, n: int) -> EventLogView:
    await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
    for i in range(n):
        await fake.inject(joined(i, meeting=i % 2))
    await tui.wait_until(pilot, lambda: app.status.events == n, what=f"{n} events")
    view = app.query_one(EventLogView)
    await tui.wait_until(
        pilot,
        lambda: view.cursor_index == view.event_log.visible_count - 1,
        what="the list to follow",
    )
    return view


def app_for(fake: FakeZoom, tui) -> ZoomtuiApp:
    return ZoomtuiApp(
        AppOptions(
            fake.settings(heartbeat_interval=tui.CALM_HB), connection=ConnectionOptions(tui.FAST)
        )
    )


async def test_events_malformed_frames_and_gaps_appear_in_line(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=SIZE) as pilot:
        view = await started(fake, tui, pilot, app, 4)
        await fake.send_malformed(kind="not_json")
        await tui.wait_until(pilot, lambda: app.status.malformed == 1, what="the malformed frame")
        await fake.cut()
        await tui.wait_until(
            pilot, lambda: any(isinstance(r, GapRow) for r in app.event_log), what="a gap"
        )
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="reconnected")
        # the list repaints on its own schedule (FOLLOW_INTERVAL); a loaded box may be slower
        await tui.wait_until(pilot, lambda: "⚠ gap" in tui.screen_text(app), what="the gap row")
        assert view.follow
        text = tui.screen_text(app)
        assert "meeting.participant_joined" in text and "[Ops] Priya Nair" in text
        assert "✗ malformed: not JSON" in text
        assert "⚠ gap" in text and "events in this window were not delivered" in text
        assert any(isinstance(r, MalformedFrame) for r in app.event_log)


async def test_typing_a_filter_in_the_app_narrows_to_the_matching_events(
    fake: FakeZoom, tui
) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=SIZE) as pilot:
        view = await started(fake, tui, pilot, app, 12)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"user:priya type:*joined")
        await tui.wait_until(
            pilot, lambda: view.applied_filter == "user:priya type:*joined", what="the filter"
        )
        flt = compile_filter("user:priya type:*joined")
        shown = list(app.event_log)
        assert shown and all(isinstance(r, ZoomEvent) and flt.matches(r) for r in shown)
        assert len(shown) == sum(1 for i in range(12) if i % 3 == 2 and i % 2 == 0)
        count = str(app.query_one(FilterBar).query_one("#filter-count", Static).render())
        assert count.startswith(f"{len(shown)} of ")
        await pilot.press("escape")  # back to the list, filter kept
        assert app.focused is view and view.applied_filter
        await pilot.press("escape")  # in the list: clears it
        await pilot.pause()
        assert view.applied_filter == "" and app.query_one(FilterBar).input.value == ""


async def test_enter_inspects_in_the_app_and_the_list_follows_the_inspector(
    fake: FakeZoom, tui
) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=SIZE) as pilot:
        view = await started(fake, tui, pilot, app, 6)
        await pilot.press("k", "k", "enter")
        await tui.wait_until(
            pilot, lambda: isinstance(app.screen, InspectorScreen), what="inspector"
        )
        inspector = app.screen
        assert inspector.row is app.event_log.visible(view.cursor_index)
        row_index = app.event_log.index_of(inspector.row)
        await pilot.press("p")
        assert app.event_log.index_of(inspector.row) == row_index - 1
        await pilot.press("escape")
        await tui.wait_until(
            pilot, lambda: not isinstance(app.screen, InspectorScreen), what="closed"
        )
        assert view.cursor_index == row_index - 1


async def test_paused_list_counts_new_events_and_f_follows_again(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=SIZE) as pilot:
        view = await started(fake, tui, pilot, app, 5)
        await pilot.press("k")
        assert not view.follow
        for i in range(5, 8):
            await fake.inject(joined(i))
        await tui.wait_until(pilot, lambda: view.pending == 3, what="three pending")
        assert "+3 new" in str(view.border_subtitle)
        await pilot.press("f")
        await pilot.pause()
        assert view.follow and "following · space pauses" in str(view.border_subtitle)
        assert "new" not in str(view.border_subtitle)
        assert view.selected_row is app.event_log.visible(-1)


async def test_space_pauses_the_live_list_nothing_is_lost_and_space_follows_again(
    fake: FakeZoom, tui
) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=SIZE) as pilot:
        view = await started(fake, tui, pilot, app, 5)
        assert "following · space pauses" in str(view.border_subtitle)
        newest = view.selected_row
        top = view.scroll_offset.y
        await pilot.press("space")
        assert not view.follow
        assert "paused · space or f follows" in str(view.border_subtitle)
        for i in range(5, 40):  # more than a screenful arrives while paused
            await fake.inject(joined(i))
        await tui.wait_until(pilot, lambda: view.pending == 35, what="35 pending")
        assert "paused · +35 new · space or f follows" in str(view.border_subtitle)
        # the view held still; every event is in the log and the model
        assert view.selected_row is newest and view.scroll_offset.y == top
        assert app.status.events == 40
        assert app.event_log.visible_count == app.event_log.total
        await pilot.press("space")
        await pilot.pause()
        assert view.follow and view.pending == 0
        assert view.selected_row is app.event_log.visible(-1)
        assert view.scroll_offset.y == view.max_scroll_y > top
