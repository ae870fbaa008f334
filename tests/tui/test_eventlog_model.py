"""The bounded event log: dropping, the filtered index under drops, compact retained events."""

from __future__ import annotations

import pytest
from _eventlog_support import SubstringFilter, make_event, make_malformed
from hypothesis import given, settings
from hypothesis import strategies as st

from zoomtui.monitor.eventlog import DEFAULT_LOG_LIMIT, EventLog, GapRow, StateRow
from zoomtui.zoom.protocol import ZoomEvent


def names(log: EventLog) -> list[str]:
    return [r.participant_name for r in log]  # type: ignore[union-attr]


def test_default_limit_is_100k() -> None:
    assert EventLog().limit == DEFAULT_LOG_LIMIT == 100_000
    with pytest.raises(ValueError):
        EventLog(limit=0)


def test_extend_keeps_order_and_counts() -> None:
    log = EventLog(limit=10)
    assert log.extend([make_event(i) for i in range(4)]) == 4
    assert (log.total, log.visible_count, log.dropped) == (4, 4, 0)
    assert names(log) == ["User 0", "User 1", "User 2", "User 3"]
    assert log.visible(-1).participant_name == "User 3"  # type: ignore[union-attr]
    assert log.extend([]) == 0


def test_drops_oldest_beyond_limit() -> None:
    log = EventLog(limit=5)
    log.extend([make_event(i) for i in range(3)])
    added = log.extend([make_event(i) for i in range(3, 8)])
    assert added == 5
    assert (log.total, log.dropped, log.appended) == (5, 3, 8)
    assert names(log) == [f"User {i}" for i in range(3, 8)]
    assert log.row_by_seq(2) is None and log.row_by_seq(3) is log.visible(0)


def test_batch_larger_than_limit_keeps_newest_and_counts_only_kept() -> None:
    log = EventLog(limit=3)
    assert log.extend([make_event(i) for i in range(10)]) == 3
    assert names(log) == ["User 7", "User 8", "User 9"]
    log.set_filter(SubstringFilter("user 1"))  # none of 7..9 contains "user 1"
    assert log.visible_count == 0
    # 10..19 all match, but only the newest three are retained and counted as added
    assert log.extend([make_event(i) for i in range(10, 20)]) == 3
    assert names(log) == ["User 17", "User 18", "User 19"]


def test_filter_narrows_and_new_rows_are_filtered_incrementally() -> None:
    log = EventLog(limit=100)
    log.extend([make_event(i, user="Ana" if i % 3 == 0 else "Bo") for i in range(9)])
    log.set_filter(SubstringFilter("ana"))
    assert log.visible_count == 3 and log.total == 9
    assert log.extend([make_event(9, user="Ana"), make_event(10, user="Bo")]) == 1
    assert [log.seq_at(i) for i in range(log.visible_count)] == [0, 3, 6, 9]
    log.set_filter(None)
    assert log.visible_count == 11


def test_index_stays_right_when_filtered_rows_are_dropped() -> None:
    log = EventLog(limit=6)
    log.set_filter(SubstringFilter("ana"))
    log.extend([make_event(i, user="Ana" if i % 2 == 0 else "Bo") for i in range(6)])
    assert [log.seq_at(i) for i in range(log.visible_count)] == [0, 2, 4]
    log.extend([make_event(6, user="Bo"), make_event(7, user="Bo"), make_event(8, user="Ana")])
    # seqs 0..2 dropped: the visible index must forget seq 0 and 2 but keep 4
    assert [log.seq_at(i) for i in range(log.visible_count)] == [4, 8]
    assert log.visible_index_of_seq(4) == 0 and log.visible_index_of_seq(2) is None
    assert log.visible_index_of_seq(7) is None  # retained but hidden
    assert log.nearest_visible_index(5) == 1


def test_visible_out_of_range_raises_index_error() -> None:
    log = EventLog()
    with pytest.raises(IndexError):
        log.visible(0)


def test_release_drops_bodies_and_reparses_on_demand() -> None:
    ev = make_event(1)
    assert ev._body is not None  # the parser caches the body it decoded
    log = EventLog()
    log.extend([ev])
    assert ev._body is None
    assert ev.body["event"] == "meeting.participant_joined"  # parsed again from raw


def test_gap_rows_pass_every_filter_and_other_rows_go_through_it() -> None:
    log = EventLog()
    gap = GapRow(start=10.0, end=17.0, reason="server closed 1006")
    state = StateRow(state="reconnecting", reason="server closed 1006", at=17.0)
    bad = make_malformed(2)
    log.extend([make_event(0, user="Ana"), gap, state, bad, make_event(1, user="Bo")])
    log.set_filter(SubstringFilter("ana"))
    assert [type(r).__name__ for r in log] == ["ZoomEvent", "GapRow"]
    assert gap.seconds == 7.0 and gap.received_at == 10.0 and state.received_at == 17.0


def test_index_of_finds_retained_rows_by_identity() -> None:
    log = EventLog(limit=4)
    evs = [make_event(i, user="Ana" if i % 2 else "Bo") for i in range(6)]
    log.extend(evs)
    assert log.index_of(evs[5]) == 3 and log.index_of(evs[0]) is None
    log.set_filter(SubstringFilter("ana"))
    assert log.index_of(evs[5]) == 1 and log.index_of(evs[4]) is None


def test_long_run_compacts_storage_and_keeps_indices() -> None:
    log = EventLog(limit=1000)
    log.set_filter(SubstringFilter("user 7"))
    rows = [make_event(i) for i in range(200)]
    for _round in range(60):  # 12,000 rows through a 1,000-row log, compaction included
        log.extend(rows)
    assert log.total == 1000 and log.dropped == 11_000
    assert len(log._rows) <= 2 * 1000 + 4096 + 200
    seqs = [log.seq_at(i) for i in range(log.visible_count)]
    assert seqs == sorted(seqs) and seqs[0] >= log.dropped
    expected = [
        s for s in range(log.dropped, log.appended) if "user 7" in rows[s % 200].search_text
    ]
    assert seqs == expected


def test_clear_forgets_rows_but_keeps_filter() -> None:
    log = EventLog()
    flt = SubstringFilter("ana")
    log.set_filter(flt)
    log.extend([make_event(0, user="Ana")])
    log.clear()
    assert (log.total, log.visible_count, log.filter) == (0, 0, flt)
    log.extend([make_event(1, user="Ana"), make_event(2, user="Bo")])
    assert log.visible_count == 1


# A reference model: the visible rows are the retained rows that pass the filter.
_POOL = [make_event(i, user=["Ana", "Bo", "Cy"][i % 3]) for i in range(30)] + [
    GapRow(start=1.0, end=2.0, reason="cut"),
    make_malformed(99),
    StateRow(state="reconnecting", reason="server closed 1006 ana", at=3.0),
]
_FILTERS = [
    None,
    "ana",
    "bo",
    "zzz",
    "user",
    "real:ana",
    "real:-type:gap",
    "real:type:malformed",
    "real:-user:bo",
    "real:closed",
]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("extend"), st.lists(st.integers(0, len(_POOL) - 1), max_size=12)),
        st.tuples(st.just("filter"), st.sampled_from(_FILTERS)),
    ),
    max_size=25,
)


def _make_filter(spec: str | None):
    from zoomtui.monitor.filters import compile_filter

    if spec is None:
        return None
    if spec.startswith("real:"):
        return compile_filter(spec[5:])
    return SubstringFilter(spec)


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(1, 15), operations=ops)
def test_matches_a_naive_reference(limit: int, operations: list) -> None:
    log = EventLog(limit=limit)
    retained: list = []
    flt = None
    spec: str | None = None

    def passes(row: object) -> bool:
        if flt is None:
            return True
        if isinstance(row, GapRow):
            return spec != "real:-type:gap"
        if isinstance(flt, SubstringFilter):
            return isinstance(row, ZoomEvent) and flt.matches(row)
        return flt.matches(row)

    for op, arg in operations:
        if op == "extend":
            batch = [_POOL[k] for k in arg]
            retained = (retained + batch)[-limit:]
            kept_new = batch[len(batch) - min(len(batch), limit, len(retained)) :] if batch else []
            added = log.extend(batch)
            assert added == sum(1 for r in kept_new if passes(r))
        else:
            spec = arg
            flt = _make_filter(arg)
            log.set_filter(flt)
        visible = [r for r in retained if passes(r)]
        assert log.total == len(retained)
        assert log.visible_count == len(visible)
        assert all(a is b for a, b in zip(list(log), visible, strict=True))


def test_with_the_real_filter_language() -> None:
    from zoomtui.monitor.filters import compile_filter

    log = EventLog()
    gap = GapRow(start=10.0, end=17.0, reason="server closed 1006")
    bad = make_malformed(3)
    log.extend(
        [
            make_event(0, "meeting.participant_joined", user="Ana"),
            make_event(1, "meeting.participant_left", user="Ana"),
            gap,
            make_event(2, "webinar.started", meeting=7),
            bad,
        ]
    )
    log.set_filter(compile_filter("type:participant_joined"))
    assert [getattr(r, "name", type(r).__name__) for r in log] == [
        "meeting.participant_joined",
        "GapRow",
    ]
    log.set_filter(compile_filter("user:ana -type:gap"))
    assert [getattr(r, "name", None) for r in log] == [
        "meeting.participant_joined",
        "meeting.participant_left",
    ]
    log.set_filter(compile_filter("type:malformed"))
    assert list(log) == [gap, bad]
    batch = [make_event(5), bad, gap]
    assert log.extend(batch) == 2 and batch == [batch[0], bad, gap]  # the caller's list untouched
    assert list(log)[-2:] == [bad, gap]
    log.set_filter(compile_filter("-family:g*"))  # a negated glob covering "gap" hides gaps too
    assert gap not in list(log)
