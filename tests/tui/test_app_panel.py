"""The connection panel's model and formatting (no app needed)."""

from __future__ import annotations

from zoomtui.monitor.linkstatus import LinkStatus, RateMeter
from zoomtui.timefmt import age, duration_hms, expiry, milliseconds
from zoomtui.tui.widgets.connection_panel import (
    counter_figures,
    figures_content,
    fit_figures,
    link_figures,
    metrics_line,
    state_line,
)
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, StateChanged, TokenInfo


def change(
    to: S, reason: str = "", hint: str = "", at: float = 100.0, retry_in: float | None = None
):
    return StateChanged(
        state=to, previous=S.IDLE, reason=reason or to.value, at=at, hint=hint, retry_in=retry_in
    )


def test_formats() -> None:
    assert duration_hms(0) == "00:00:00"
    assert duration_hms(41 * 60 + 7 + 3600) == "01:41:07"
    assert duration_hms(86400 + 5) == "1d 00:00:05"
    assert [age(s) for s in (0.21, 14, 180, 7300)] == ["0.2s", "14s", "3m", "2h"]
    assert [expiry(s) for s in (-1, 90, 3120)] == ["expired", "90s", "52m"]
    assert [milliseconds(s) for s in (0.0004, 0.038)] == ["0.4 ms", "38 ms"]


def test_rate_meter_keeps_sixty_seconds() -> None:
    meter = RateMeter()
    meter.add(10, 1000.2)
    meter.add(5, 1000.9)
    meter.add(20, 1003.0)
    series = meter.series(1003.5)
    assert len(series) == 60 and series[-1] == 20 and series[-4] == 15
    assert meter.rate(1003.5) == (15 + 20) / 5
    assert meter.series(1100.0) == [0.0] * 60  # all older than the window


def test_reconnects_count_returns_of_the_link_and_gaps_add_up() -> None:
    st = LinkStatus(subscription_id="9fXabcdefk2")
    for s in (
        S.AUTHENTICATING,
        S.CONNECTING,
        S.CONNECTED,
        S.RECONNECTING,
        S.AUTHENTICATING,
        S.RECONNECTING,
        S.CONNECTING,
        S.CONNECTED,
    ):
        st.on_state(change(s))
    assert st.reconnects == 1
    st.on_rows(3, 1, [Gap(10.0, 17.0, "server closed 1006")], last_event_at=20.0, now=20.0)
    assert (st.events, st.malformed, st.gaps, st.gap_seconds) == (3, 1, 1, 7.0)


def test_reasons_and_hints_are_redacted() -> None:
    st = LinkStatus()
    st.on_state(
        change(
            S.FAILED,
            reason="GET /ws?access_token=abc.def.ghi failed",
            hint="Authorization: Bearer abcdefghijklmnop",
        )
    )
    assert "abc.def.ghi" not in st.reason and "abcdefghijklmnop" not in st.hint


def test_lines_show_state_time_and_a_masked_subscription() -> None:
    st = LinkStatus(subscription_id="9fXabcdefk2")
    st.on_state(change(S.RECONNECTING, reason="server closed 1006", at=100.0, retry_in=8.0))
    text = state_line(st, now=102.0).plain
    assert text.startswith("◌ reconnecting 00:00:02 · server closed 1006")
    assert "next try in 6s" in text
    metrics = metrics_line(st, now=102.0).plain
    assert "sub 9fX…k2" in metrics and "9fXabcdefk2" not in metrics
    assert "hb –" in metrics and "token –" in metrics


# -- a heartbeat answer overdue, and a narrow panel --------------------------------------
def connected_at(at: float, interval: float = 30.0) -> LinkStatus:
    st = LinkStatus(subscription_id="9fXabcdefk2", heartbeat_interval=interval)
    st.on_state(change(S.CONNECTED, reason="build_connection accepted", at=at))
    return st


def test_a_heartbeat_answer_past_the_dead_link_limit_is_overdue() -> None:
    st = connected_at(100.0)
    st.on_heartbeat(Heartbeat(rtt=0.04, at=110.0))
    assert st.heartbeat_overdue(155.0) is None  # 45 s: the limit (1.5 intervals of 30 s)
    assert st.heartbeat_overdue(155.5) == 45.5
    assert st.heartbeat_overdue(110.0 + 12 * 60) == 12 * 60
    # reconnected since that answer: the new link counts from its start
    st.on_state(change(S.RECONNECTING, at=300.0))
    assert st.heartbeat_overdue(400.0) is None  # not "connected": nothing to contradict
    st.on_state(change(S.CONNECTED, at=400.0))
    assert st.heartbeat_overdue(440.0) is None and st.heartbeat_overdue(446.0) == 46.0
    st.replay = "×1 · 3 of 10"  # a replay's heartbeats were never recorded
    assert st.heartbeat_overdue(1000.0) is None


def test_connected_is_never_shown_beside_an_overdue_answer_without_the_stall() -> None:
    st = connected_at(100.0)
    st.on_heartbeat(Heartbeat(rtt=0.0, at=100.0))
    for silent in (1, 30, 44, 46, 90, 12 * 60, 5 * 3600):
        now = 100.0 + silent
        state = state_line(st, now).plain
        assert state.startswith("● connected")
        metrics = metrics_line(st, now).plain
        stalled = "link looks stalled" in state
        assert stalled == (silent > 45), silent
        if stalled:  # first after the state and its time: a narrow panel still shows it
            assert state.index("stalled") < state.index("build_connection")
            assert f"no heartbeat answer for {age(silent)}" in state
            assert f"hb 0.0 ms {age(silent)} ago" in metrics


def test_a_narrow_panel_keeps_the_counters_and_drops_the_lesser_figures_first() -> None:
    st = connected_at(100.0)
    st.on_heartbeat(Heartbeat(rtt=0.04, at=101.0))
    st.on_token(TokenInfo(expires_at=4000.0, scopes=(), obtained_at=100.0))
    st.on_rows(1566, 2, [Gap(10.0, 17.0, "server closed 1006")], last_event_at=101.0, now=101.0)
    st.reconnects = 3
    figures, counters = link_figures(st, 102.0), counter_figures(st)
    assert [c.label for c in counters] == ["reconnects", "gaps", "malformed"]
    order = [
        "dups",
        "lag",
        "ev/s",
        "last event",
        "sub",
        "events",
        "token",
        "hb",
    ]  # first goes first
    cells = {f.label: len(figures_content([f]).plain) for f in figures}
    for width in range(200, 20, -1):
        kept, spark = fit_figures(figures, counters, width)
        labels = [f.label for f in kept]
        assert labels == [f.label for f in figures if f.label in labels]  # in their order
        line = figures_content(kept).plain + " · " + figures_content(counters).plain
        assert len(line) <= width or labels == []
        if len(labels) < len(figures):
            assert spark == 0
        else:
            assert spark == 0 or len(line) - len(" · ") + 2 + spark <= width
        # a lesser figure stays only where a greater one went for want of room and the
        # lesser, shorter, still fits
        for gone in set(order) - set(labels):
            for label in labels:
                assert order.index(label) > order.index(gone) or cells[label] < cells[gone]
    # 80 columns (76 cells inside the panel): the state's figures and every counter
    kept, _ = fit_figures(figures, counters, 76)
    assert {"hb", "token"} <= {f.label for f in kept}
    # overdue: the heartbeat stays to the end
    stalled = link_figures(st, 101.0 + 600)
    kept, _ = fit_figures(stalled, counters, 40)
    assert [f.label for f in kept] == ["hb"]


def test_a_replay_says_the_recorded_state_before_its_progress() -> None:
    """At 80 columns the progress pushed the state off the line ("· ● c…")."""
    st = connected_at(100.0)
    st.replay = "instant · ended · 2,441 of 2,441 records"
    text = state_line(st, now=160.0).plain
    assert text.startswith(" REPLAY ")
    assert "● connected 00:01:00 · instant · ended · 2,441 of 2,441 records" in text
    assert text.index("● connected") < 40  # whole on the narrowest panel


def test_a_gap_is_open_while_the_link_is_down_after_being_up_and_counted_once_closed() -> None:
    st = LinkStatus()
    st.on_state(change(S.CONNECTING, at=10.0))  # never up yet: nothing is being lost
    assert st.gap_open_since is None
    st.on_state(change(S.CONNECTED, at=11.0))
    down = StateChanged(S.RECONNECTING, S.CONNECTED, "dropped", 100.0, gap_since=95.0)
    st.on_state(down)
    assert st.gap_open_for(142.0) == 47.0
    (_, gaps) = counter_figures(st, 142.0)
    assert gaps.value.startswith("1 (open 47s, since ") and gaps.style
    assert counter_figures(st)[1].value == "0"  # (no clock: the closed ones only)
    st.on_state(StateChanged(S.CONNECTED, S.CONNECTING, "back", 150.0, gap_since=95.0))
    st.on_rows(0, 0, [Gap(95.0, 150.0, "dropped")], None, 150.0)
    assert st.gap_open_since is None and counter_figures(st, 160.0)[1].value == "1"
    # quitting reports the gap first and stops with none open
    st.on_state(StateChanged(S.STOPPED, S.CONNECTED, "closed", 170.0))
    assert st.gap_open_since is None and counter_figures(st, 180.0)[1].value == "1"


def test_events_per_second_keep_a_tenth_only_where_it_tells_something() -> None:
    from zoomtui.tui.widgets.connection_panel import per_second

    assert [per_second(r) for r in (0.0, 0.2, 12.4, 80.0, 99.8)] == [
        "0.0",
        "0.2",
        "12.4",
        "80.0",
        "99.8",
    ]  # as they always were (the screenshots show them)
    assert [per_second(r) for r in (99.96, 100.0, 16102.0, 1234567.4)] == [
        "100",
        "100",
        "16,102",
        "1,234,567",
    ]
