"""Shared helpers for the event-log tests: real frames through the real parser."""

from __future__ import annotations

from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, message_frame, parse_frame

T0 = 1_706_123_456.0  # a fixed receive clock: 2024-01-24 19:10:56 UTC


def make_event(
    i: int,
    name: str = "meeting.participant_joined",
    *,
    meeting: int = 0,
    user: str | None = None,
    lag: float = 0.2,
    topic: str | None = None,
) -> ZoomEvent:
    """Event number i, received at T0 + i/10 s, stamped `lag` seconds earlier."""
    received = T0 + i / 10
    body = {
        "event": name,
        "event_ts": int((received - lag) * 1000),
        "payload": {
            "account_id": "AcCt1",
            "object": {
                "id": 85746352400 + meeting,
                "uuid": f"mtg-{meeting}==",
                "topic": topic if topic is not None else f"Topic {meeting}",
                "participant": {
                    "user_name": user if user is not None else f"User {i}",
                    "id": f"pid-{user or i}",
                    "email": f"{(user or f'user{i}').lower().replace(' ', '.')}@example.com",
                },
            },
        },
    }
    ev = parse_frame(message_frame(body), received)
    assert isinstance(ev, ZoomEvent)
    return ev


def make_malformed(i: int, text: str = "{not json") -> MalformedFrame:
    mf = parse_frame(text, T0 + i / 10)
    assert isinstance(mf, MalformedFrame)
    return mf


class SubstringFilter:
    """A tiny stand-in for `filters.compile_filter` results in model tests."""

    def __init__(self, needle: str) -> None:
        self.needle = needle.lower()

    def matches(self, row: object) -> bool:
        text = getattr(row, "search_text", None)
        return text is not None and self.needle in text


# -- a tiny host app: the filter bar and the list, wired as the real app wires them ----------

from textual.app import App, ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402

from zoomtui.monitor.eventlog import EventLog, Row  # noqa: E402
from zoomtui.tui.screens.inspector import InspectorScreen  # noqa: E402
from zoomtui.tui.widgets.event_log import EventLogView  # noqa: E402
from zoomtui.tui.widgets.filter_bar import FilterBar  # noqa: E402


class LogHost(App[None]):
    """FilterBar + EventLogView over one EventLog; enter opens the inspector."""

    BINDINGS = [Binding("slash", "filter", "Filter", id="app.filter")]

    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self.event_log = log
        self.messages: list[object] = []

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter")
        yield EventLogView(self.event_log, id="events")

    def on_mount(self) -> None:
        self.view.focus()
        self.view.rows_added()
        self.watch(self.view, "match_counts", self.bar.show_counts)

    @property
    def view(self) -> EventLogView:
        return self.query_one(EventLogView)

    @property
    def bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def add(self, rows: list[Row]) -> None:
        self.event_log.extend(rows)
        self.view.rows_added()

    def action_filter(self) -> None:
        self.bar.focus_input()

    # the widgets' messages, passed on as the main screen passes them on
    def on_filter_bar_filter_changed(self, message: FilterBar.FilterChanged) -> None:
        self.bar.show_error(self.view.apply_filter(message.text))

    def on_filter_bar_closed(self) -> None:
        self.view.focus()

    def on_event_log_view_filter_requested(self, message: EventLogView.FilterRequested) -> None:
        self.bar.show_text(message.text)
        self.bar.show_error(self.view.apply_filter(message.text))

    def on_event_log_view_inspect(self, message: EventLogView.Inspect) -> None:
        self.messages.append(message)

        def back(row: Row | None) -> None:
            if row is not None:
                self.view.select_row(row)

        self.push_screen(InspectorScreen(self.event_log, message.row), back)

    def on_event_log_view_follow_changed(self, message: EventLogView.FollowChanged) -> None:
        self.messages.append(message)


def screen_text(app: App) -> str:
    """What the terminal would show, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
