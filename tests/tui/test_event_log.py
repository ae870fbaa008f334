"""The event list and the filter bar, driven through a small host app with Pilot."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _eventlog_support import LogHost, make_event, make_malformed
from textual import events
from textual.widgets import Input, Static

from tests.tui.conftest import wait_until
from tests.waits import StillMonotonic
from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.filters import compile_filter
from zoomtui.timefmt import clock_ms, lag_cell
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets import event_log as event_log_widget
from zoomtui.tui.widgets.event_log import Columns, EventLogView

SIZE = (160, 48)
USERS = ["Ana Lima", "Bo Chen", "Cy [bold]Dee[/bold]", "Dana"]
NAMES = [
    "meeting.participant_joined",
    "meeting.participant_left",
    "webinar.started",
    "recording.completed",
    "meeting.started",
]


def sample_log(n: int = 200, limit: int = 100_000) -> EventLog:
    log = EventLog(limit=limit)
    log.extend(make_event(i, NAMES[i % 5], meeting=i % 3, user=USERS[i % 4]) for i in range(n))
    return log


def view_lines(view: EventLogView) -> list[str]:
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def until(pilot, condition: Callable[[], bool]) -> None:
    """Let the app run until `condition()` holds (the filter bar throttles keystrokes)."""
    await wait_until(pilot, condition, what="the view to catch up")


async def test_rows_render_columns_gap_malformed_and_state() -> None:
    log = EventLog()
    first = make_event(
        0, "meeting.participant_joined", user="Ana [b]Lima[/b]", topic="Weekly [sync]"
    )
    late = make_event(1, "meeting.participant_left", user="Bo\x1b[31mChen", lag=720)
    gap = GapRow(
        start=first.received_at + 5, end=first.received_at + 12, reason="server closed 1006"
    )
    bad = make_malformed(3, "{not json at all")
    state = StateRow(state="reconnecting", reason="no heartbeat answer for 45 s", at=gap.end)
    log.extend([first, late, gap, bad, state])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = view_lines(app.view)
        header = lines[0]
        for title in ("received", "event", "meeting", "participant", "lag"):
            assert title in header
        assert lines[1].startswith(clock_ms(first.received_at))
        assert "meeting.participant_joined" in lines[1]
        # Zoom text is data: brackets stay as typed, control characters are made visible
        assert "Weekly [sync] 85746352400" in lines[1] and "Ana [b]Lima[/b]" in lines[1]
        assert lines[1].rstrip().endswith("0.2s")
        assert "Bo␛[31mChen" in lines[2] and lines[2].rstrip().endswith("12m")
        assert "⚠ gap" in lines[3] and "(7 s): events in this window were not delivered" in lines[3]
        assert "server closed 1006" in lines[3]
        assert "✗ malformed: not JSON" in lines[4] and "{not json at all" in lines[4]
        assert "● reconnecting · no heartbeat answer for 45 s" in lines[5]


async def test_rows_fill_the_width_exactly_at_any_width() -> None:
    log = EventLog()
    log.extend(
        [
            make_event(0, user="李雷 Wide 名前", topic="東京チーム 定例 " * 4),
            GapRow(start=0.0, end=7.0, reason="cut"),
            make_malformed(2),
            StateRow(state="connected", reason="", at=3.0),
        ]
    )
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        for width in (24, 33, 45, 60, 90, 200):
            await pilot.resize_terminal(width, 20)
            await pilot.pause()
            view = app.view
            inner = view.scrollable_content_region.width
            for y in range(6):
                assert view.render_line(y).cell_length == inner, (width, y)


def test_lag_format() -> None:
    assert [lag_cell(x, Columns.LAG) for x in (None, 0.04, 0.2, 12.4, 720, 7200, -0.3)] == [
        "",
        "0.0s",
        "0.2s",
        "12s",
        "12m",
        "2h 0m",
        "-0.3s",
    ]
    # Hours and days keep their second unit (an event 2 h late is not "2h" from 2 h 59);
    # squeezed, then dropped, so the text fits the lag column
    assert [lag_cell(x, Columns.LAG) for x in (7260, 86399, 90000, -86000, 10**7)] == [
        "2h 1m",
        "23h59m",
        "1d 1h",
        "-23h",
        "115d",
    ]
    assert all(len(lag_cell(x, Columns.LAG)) <= Columns.LAG for x in range(-(10**6), 10**6, 997))


async def test_late_lag_is_styled_as_a_warning() -> None:
    log = EventLog()
    log.extend([make_event(0, lag=0.2), make_event(1, lag=30)])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        late = app.view.get_component_rich_style("event-log--late")
        on_time = [seg.style for seg in app.view.render_line(1) if seg.text.strip() == "0.2s"][0]
        late_seg = [seg.style for seg in app.view.render_line(2) if seg.text.strip() == "30s"][0]
        assert late_seg.color == late.color and on_time.color != late.color


async def test_typing_a_filter_narrows_to_exactly_the_matching_events() -> None:
    log = sample_log(200)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"user:lima type:*joined")
        await until(pilot, lambda: app.view.applied_filter == "user:lima type:*joined")
        flt = compile_filter("user:lima type:*joined")
        expected = [r for r in sample_log(200) if flt.matches(r)]
        shown = list(log)
        assert len(shown) == len(expected) > 0
        assert [(r.name, r.participant_name, r.received_at) for r in shown] == [
            (r.name, r.participant_name, r.received_at) for r in expected
        ]
        assert str(app.bar.query_one("#filter-count", Static).render()) == f"{len(expected)} of 200"
        rows = [line for line in view_lines(app.view)[1:] if line.strip()]
        assert len(rows) == len(expected)
        assert all("Ana Lima" in line and "participant_joined" in line for line in rows), rows


async def test_bad_filter_shows_the_error_and_keeps_the_last_result() -> None:
    log = sample_log(40)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"bo")
        await until(pilot, lambda: app.view.applied_filter == "bo")
        narrowed = log.visible_count
        assert 0 < narrowed < 40
        app.bar.input.insert_text_at_cursor(" usr:x")  # pasted: one change
        await until(pilot, lambda: app.bar.has_class("-error"))
        error = str(app.bar.query_one("#filter-error", Static).render())
        assert "unknown field 'usr:'" in error and "did you mean user:" in error
        assert app.view.applied_filter == "bo" and log.visible_count == narrowed
        for _ in " usr:x":
            await pilot.press("backspace")
        await until(pilot, lambda: not app.bar.has_class("-error"))
        assert app.view.applied_filter == "bo" and log.visible_count == narrowed


async def test_escape_leaves_the_input_then_clears_the_filter() -> None:
    log = sample_log(40)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"dana")
        await pilot.press("escape")  # back to the list, filter kept (and applied at once)
        assert app.focused is app.view
        assert app.view.applied_filter == "dana" and log.visible_count == 10
        await pilot.press("escape")  # in the list: clears
        await pilot.pause()
        assert app.view.applied_filter == "" and log.visible_count == 40
        assert app.bar.input.value == ""
        assert app.view.check_action("clear_filter", ()) is False  # escape passes up now


async def test_enter_in_the_input_applies_and_returns_to_the_list() -> None:
    app = LogHost(sample_log(40))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"type:webinar.*", "enter")
        assert app.focused is app.view and app.view.applied_filter == "type:webinar.*"
        assert all(r.name == "webinar.started" for r in app.event_log)


async def test_follow_sticks_to_newest_and_pausing_counts_new_rows() -> None:
    log = sample_log(100)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        assert view.follow and view.cursor_index == 99
        assert view.scroll_offset.y == view.max_scroll_y > 0
        app.add([make_event(100 + i) for i in range(3)])
        # following, repaints are coalesced (FOLLOW_INTERVAL): wait for the next one
        await until(pilot, lambda: view.cursor_index == 102)
        assert view.scroll_offset.y == view.max_scroll_y

        await pilot.press("k")  # moving up pauses follow
        assert not view.follow and view.cursor_index == 101
        assert "paused · f follows" in str(view.border_subtitle)
        top = view.scroll_offset.y
        first_line = view_lines(view)[1]
        app.add([make_event(200 + i) for i in range(5)])
        await pilot.pause()
        assert view.pending == 5 and view.cursor_index == 101
        assert view.scroll_offset.y == top and view_lines(view)[1] == first_line
        assert "+5 new" in str(view.border_subtitle)
        follow_msgs = [m for m in app.messages if isinstance(m, EventLogView.FollowChanged)]
        assert (follow_msgs[-1].follow, follow_msgs[-1].pending) == (False, 5)

        await pilot.press("f")
        await pilot.pause()
        assert view.follow and view.pending == 0
        assert "]following[" in str(view.border_subtitle)  # (no pause key named here)
        assert view.cursor_index == log.visible_count - 1
        assert view.scroll_offset.y == view.max_scroll_y


async def test_a_burst_while_following_is_painted_once_and_pausing_flushes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = StillMonotonic()
    monkeypatch.setattr(event_log_widget, "time", clock)
    app = LogHost(sample_log(10))
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        # a repaint interval passes with nothing new, so the next row is painted at once
        clock.advance(2 * view.FOLLOW_INTERVAL)
        for k in range(20):
            app.add([make_event(100 + k)])
        assert view.cursor_index == 10  # the first batch is applied at once
        assert view._follow_timer is not None  # the other 19 wait for one repaint
        await until(pilot, lambda: view.cursor_index == 29)
        assert view._follow_timer is None and view.scroll_offset.y == view.max_scroll_y
        for k in range(5):
            app.add([make_event(200 + k)])
        await pilot.press("k")  # pausing first applies what was waiting, then moves up
        assert not view.follow and view.cursor_index == 33 and view.pending == 0


async def test_resizing_keeps_following_and_clearing_the_log_is_safe() -> None:
    log = sample_log(300)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert view.follow and view.scroll_offset.y == view.max_scroll_y
        assert view.virtual_size.width == view.scrollable_content_region.width
        log.clear()
        view.rows_added()
        await until(pilot, lambda: view.selected_row is None)
        assert view.render_line(1).text.strip() == ""
        app.add([make_event(1)])
        await until(pilot, lambda: view.selected_row is log.visible(0))


async def test_g_goes_to_the_oldest_and_G_resumes_follow() -> None:
    app = LogHost(sample_log(300))
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.press("g")
        assert not view.follow and view.cursor_index == 0 and view.scroll_offset.y == 0
        await pilot.press("pagedown")
        assert view.cursor_index == view.scrollable_content_region.height - 2
        await pilot.press("j", "j")
        assert view.cursor_index == view.scrollable_content_region.height
        await pilot.press("G")
        assert view.follow and view.cursor_index == 299


async def test_mouse_wheel_up_pauses_and_wheel_to_the_bottom_resumes() -> None:
    app = LogHost(sample_log(300))
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        wheel = dict(
            x=10, y=10, delta_x=0, delta_y=1, button=0, shift=False, meta=False, ctrl=False
        )
        view.post_message(events.MouseScrollUp(view, **wheel))
        await pilot.pause()
        assert not view.follow and view.scroll_offset.y < view.max_scroll_y
        view.post_message(events.MouseScrollDown(view, **wheel))
        await until(pilot, lambda: view.follow)


async def test_rows_dropped_while_paused_keep_the_view_still() -> None:
    log = sample_log(200, limit=200)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        for _ in range(60):
            await pilot.press("k")
        top_line = view_lines(view)[1]
        selected = view.selected_row
        app.add([make_event(1000 + i) for i in range(30)])  # 30 oldest rows dropped
        await pilot.pause()
        assert log.dropped == 30
        assert view_lines(view)[1] == top_line and view.selected_row is selected


async def test_enter_inspects_the_selected_row() -> None:
    log = sample_log(50)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("k", "k", "k", "enter")
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen)
        assert app.screen.row is log.visible(46)
        inspected = [m for m in app.messages if isinstance(m, EventLogView.Inspect)]
        assert len(inspected) == 1 and inspected[0].row is log.visible(46)


async def test_click_selects_a_row_and_double_click_inspects() -> None:
    log = sample_log(20)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        # Widget offset y: border (1) + header (1) + row index
        assert await pilot.click(EventLogView, offset=(20, 1 + 1 + 4))
        assert view.cursor_index == 4 and not view.follow
        assert await pilot.double_click(EventLogView, offset=(20, 1 + 1 + 6))
        await pilot.pause()
        assert isinstance(app.screen, InspectorScreen) and app.screen.row is log.visible(6)


async def test_quick_filters_narrow_by_meeting_then_type() -> None:
    log = sample_log(60)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        row = app.view.selected_row
        await pilot.press("M")
        await pilot.pause()
        assert app.view.applied_filter == f"meeting:{row.meeting_uuid}"
        assert app.bar.input.value == app.view.applied_filter  # the bar shows what the list did
        assert all(r.meeting_uuid == row.meeting_uuid for r in log) and log.visible_count == 20
        await pilot.press("T")
        await pilot.pause()
        assert app.view.applied_filter == f"meeting:{row.meeting_uuid} type:{row.name}"
        assert all(r.name == row.name and r.meeting_uuid == row.meeting_uuid for r in log)
        await pilot.press("P")
        await pilot.pause()
        assert all(r.participant_key == row.participant_key for r in log)


async def test_a_quick_filter_on_a_gap_says_there_is_nothing_to_filter() -> None:
    log = EventLog()
    log.extend([make_event(0), GapRow(start=1.0, end=2.0, reason="cut")])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("M")
        await pilot.pause()
        assert app.view.applied_filter == ""
        assert [n.message for n in app._notifications] == [
            "The selected row has no meeting to filter on."
        ]


async def test_theme_change_restyles_rows() -> None:
    app = LogHost(sample_log(10))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.view.render_line(1)
        app.theme = "textual-light"
        await pilot.pause()
        after = app.view.render_line(1)
        assert before.text == after.text and list(before) != list(after)


async def test_a_big_log_renders_only_what_is_on_screen() -> None:
    log = EventLog()
    base = [make_event(i, NAMES[i % 5], user=USERS[i % 4]) for i in range(1000)]
    log.extend(base * 100)  # 100,000 rows (shared objects are fine for the view)
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await pilot.pause()
        assert view.virtual_size.height == 100_001
        await pilot.press("g", "pagedown", "G")
        await pilot.pause()
        assert len(view._strips) <= 4 * view.scrollable_content_region.height


def test_bindings_have_ids() -> None:
    for binding in EventLogView.BINDINGS:
        assert binding.id and binding.id.startswith("events.")  # type: ignore[union-attr]
