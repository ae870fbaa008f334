"""The inspector: the whole event, times and lag, next/previous through the filtered view, copy."""

from __future__ import annotations

import orjson
from _eventlog_support import LogHost, make_event, make_malformed
from textual.widgets import Static

from zoomtui.monitor.eventlog import EventLog, GapRow
from zoomtui.tui.screens.inspector import MAX_LINES, InspectorScreen, JsonPrinter, hex_dump
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

SIZE = (160, 48)


def text_of(screen: InspectorScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def events_log() -> EventLog:
    log = EventLog()
    users = ["Ana Lima", "Bo Chen"]
    log.extend(
        make_event(i, meeting=i % 2, user=users[i % 2], lag=0.2 if i != 3 else 90)
        for i in range(10)
    )
    return log


async def open_inspector(app: LogHost, pilot, ups: int = 0) -> InspectorScreen:
    await pilot.pause()
    for _ in range(ups):
        await pilot.press("k")
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, InspectorScreen)
    return app.screen


async def test_shows_the_event_json_raw_frame_times_and_lag() -> None:
    log = events_log()
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot, ups=6)  # row 3: 90 s late
        ev = screen.row
        assert isinstance(ev, ZoomEvent) and ev is log.visible(3)
        assert ev._body is None  # shown, then released again: the log stays compact
        summary = text_of(screen, "#inspector-summary")
        assert "meeting.participant_joined" in summary
        assert "received" in summary and "event time" in summary and "UTC" in summary
        assert "1m late" in summary
        assert "Bo Chen <bo.chen@example.com>" in summary and "Topic 1" in summary
        body = screen.body_text
        assert orjson.loads(body) == ev.body  # the highlighted JSON is the event, unfolded
        assert screen.raw_text == ev.raw
        heading = text_of(screen, "#inspector-heading")
        assert heading.startswith("event JSON · r shows the raw frame (")
        await pilot.press("r")
        assert text_of(screen, "#inspector-heading").startswith("raw frame (")
        assert screen.focused is screen.query_one("#inspector-raw-pane")
        assert screen.query_one("#inspector").border_title == "event 4 of 10"


async def test_n_and_p_step_through_the_filtered_view() -> None:
    log = events_log()
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"bo", "enter")
        assert log.visible_count == 5
        screen = await open_inspector(app, pilot, ups=4)  # the first Bo row (event 1)
        assert screen.row is log.visible(0)
        await pilot.press("n")
        assert screen.row is log.visible(1) and screen.row.participant_name == "Bo Chen"
        assert screen.query_one("#inspector").border_title == "event 2 of 5"
        await pilot.press("p", "p")  # the second p is at the start: a bell, no move
        assert screen.row is log.visible(0)
        await pilot.press("j", "j")
        assert screen.row is log.visible(2)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, InspectorScreen)
        assert app.view.selected_row is log.visible(2)  # the list follows the inspector


async def test_y_copies_the_event_json_and_Y_the_raw_frame() -> None:
    log = events_log()
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot)
        await pilot.press("y")
        assert orjson.loads(app.clipboard) == screen.row.body
        assert "\n  " in app.clipboard  # pretty-printed
        await pilot.press("Y")
        assert app.clipboard == screen.row.raw
        titles = [n.title for n in app._notifications]
        assert titles.count("Copied to the clipboard") == 2


async def test_malformed_frame_shows_reason_and_bytes() -> None:
    log = EventLog()
    bad = make_malformed(0, '{"module": "message", "content": \x01 oops')
    binary = parse_frame(b"\x00\xffbinary", 1.0)
    log.extend([bad, binary])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot, ups=1)
        assert screen.row is bad
        assert "not JSON" in text_of(screen, "#inspector-summary")
        assert "␁ oops" in screen.body_text  # control bytes made visible
        assert "7b 22 6d 6f" in screen.raw_text  # hex dump
        await pilot.press("n")
        assert screen.row is binary
        assert "binary frame" in text_of(screen, "#inspector-summary")
        assert "\\x00\\xffbinary".replace("\\x00", "␀") in screen.body_text


async def test_gap_row_shows_its_interval() -> None:
    log = EventLog()
    gap = GapRow(start=1_706_123_456.0, end=1_706_123_463.0, reason="server closed 1006")
    log.extend([make_event(0), gap])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot)
        assert screen.row is gap
        summary = text_of(screen, "#inspector-summary")
        assert "7 s" in summary and "server closed 1006" in summary
        assert "not delivered" in screen.body_text


async def test_long_arrays_are_folded_until_e() -> None:
    body = {
        "event": "meeting.summary_completed",
        "event_ts": 1706123456000,
        "payload": {"object": {"items": list(range(100)), "note": "x" * 5000}},
    }
    ev = parse_frame(message_frame(body), 1_706_123_457.0)
    log = EventLog()
    log.extend([ev])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot)
        folded = screen.body_text
        assert "… 95 more items (e expands)" in folded and "… 3,000 more characters" in folded
        assert "2 long arrays/strings: e expands" in text_of(screen, "#inspector-summary")
        await pilot.press("e")
        assert orjson.loads(screen.body_text) == body


async def test_a_huge_expanded_event_is_cut_and_only_what_is_on_screen_is_rendered() -> None:
    body = {
        "event": "meeting.summary_completed",
        "event_ts": 1706123456000,
        "payload": {"object": {"items": [{"i": i} for i in range(30_000)]}},
    }
    ev = parse_frame(message_frame(body), 1_706_123_457.0)
    assert isinstance(ev, ZoomEvent)
    log = EventLog()
    log.extend([ev])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        view = screen.query_one("#inspector-json")
        assert len(view.lines) == MAX_LINES + 1
        assert view.lines[-1].plain.startswith("… cut at 20,000 lines")
        app.animation_level = "none"  # no smooth scroll: every frame in between would render
        view._strips.clear()
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 19_000
        assert len(view._strips) <= view.size.height


def test_json_printer_escapes_control_characters_and_keeps_brackets() -> None:
    from rich.style import Style

    styles = {k: Style() for k in ("key", "string", "number", "literal", "fold")}
    printer = JsonPrinter(styles)
    printer.render({"name": "Ana [b]\x1b[31m", "n": [1, 2.5, None, True]})
    text = printer.text
    assert "\x1b" not in text.plain
    assert orjson.loads(text.plain) == {"name": "Ana [b]\x1b[31m", "n": [1, 2.5, None, True]}


def test_hex_dump_layout() -> None:
    assert hex_dump(b"AB\x00") == "00000000  41 42 00" + " " * 39 + "  AB."


async def test_an_event_nested_1024_deep_opens_and_y_copies_it_digit_for_digit() -> None:
    """Before: `y` on such an event (past 254 levels) raised "Recursion limit reached" and
    Textual's crash screen came up; a number past 64 bits was copied as a float."""
    from tests.reliability.framekit import BIG, deep_event_text, message_with_content_string

    text = deep_event_text(1024)
    ev = parse_frame(message_with_content_string(text), 1_706_123_457.0)
    assert isinstance(ev, ZoomEvent)
    log = EventLog()
    log.extend([make_event(0), ev])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(app, pilot)
        assert screen.row is ev
        assert "[…]" in screen.body_text
        assert "past 64 levels shown as […]" in text_of(screen, "#inspector-summary")
        await pilot.press("y")
        await pilot.pause()
        copied = app.clipboard
        assert isinstance(app.screen, InspectorScreen)
        assert "\n  " in copied and BIG in copied and "e+22" not in copied
        assert "".join(copied.split()) == "".join(text.split())  # the same tokens
