"""The subscription column: a list of events from several subscriptions (a hub's viewer)
says which each came through; one of a single subscription, or of a direct connection,
has no such column; and on a narrow list it gives way before the meeting does."""

from __future__ import annotations

from _eventlog_support import LogHost, make_event

from tests.tui.conftest import wait_until
from zoomtui.monitor.eventlog import EventLog
from zoomtui.tui.widgets.event_rows import Columns
from zoomtui.zoom.protocol import ZoomEvent


def _from(subscription: str | None, i: int) -> ZoomEvent:
    event = make_event(i, meeting=1, user=f"user-{i}", topic="Weekly sync")
    event.subscription_id = subscription
    return event


def _lines(app: LogHost, rows: int) -> list[str]:
    return [app.view.render_line(y).text for y in range(rows + 1)]


async def test_a_second_subscription_brings_the_column_and_a_narrow_list_drops_it() -> None:
    log = EventLog()
    log.extend([_from("Sub-One", 0), _from("Sub-One", 1), _from(None, 2)])
    app = LogHost(log)
    async with app.run_test(size=(120, 20)) as pilot:
        view = app.view
        await wait_until(pilot, lambda: "Weekly sync" in view.render_line(1).text, "the rows")
        header = view.render_line(0).text
        assert " sub " not in header and "Sub-One" not in view.render_line(1).text

        log.extend([_from("Sub-Two-0123456789", 3)])
        view.rows_added()
        await wait_until(pilot, lambda: " sub " in view.render_line(0).text, "the sub column")
        header, one, _, direct, two = _lines(app, 4)
        column = header.index(" sub ") + 1
        assert header.index("event") < column < header.index("meeting")
        assert one[column:].startswith("Sub-One ")
        assert two[column:].startswith("Sub-Two-0…")  # cut to its column, marked
        assert direct[column : column + 10].strip() == ""  # a direct event has none
        for row in (one, two):
            assert "Weekly sync" in row and "user-" in row  # meeting and participant stay

        await pilot.resize_terminal(56, 20)
        await wait_until(pilot, lambda: " sub " not in view.render_line(0).text, "it gives way")
        assert "Sub-" not in " ".join(_lines(app, 4))


def test_the_column_gives_way_before_the_meeting_and_participant() -> None:
    roomy = Columns(120, 26, sub_cells=10)
    assert roomy.sub == 10 and roomy.meeting and roomy.participant
    # time, event, sub, meeting, participant and lag, a space between each: the whole width
    cells = roomy.name + roomy.sub + roomy.meeting + roomy.participant
    assert Columns.TIME + cells + Columns.LAG + 5 == 120
    squeezed = Columns(70, 26, sub_cells=10)
    assert squeezed.sub == 0 and squeezed.meeting and squeezed.participant
    assert Columns(40, 26, sub_cells=10).sub == 0
    assert Columns(120, 26).sub == 0  # one subscription: no column
