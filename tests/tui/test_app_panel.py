"""The connection panel's model and formatting (no app needed)."""

from __future__ import annotations

from zoomtui.monitor.linkstatus import LinkStatus, RateMeter
from zoomtui.timefmt import age, duration_hms, expiry, milliseconds
from zoomtui.tui.widgets.connection_panel import metrics_line, state_line
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, StateChanged


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
