"""The meeting tracker stays bounded under a long flood, and the bounds keep it correct.

- Ended meetings are kept by count as well as by age (a busy account ends one every few
  seconds): the oldest finished goes first, and stray events do not bring it back.
- A person who comes and goes all day keeps a bounded record: beyond `max_transitions`
  the oldest half is summarised.  Delivered in order, nothing shown differs from a
  tracker that kept everything; reordered within the kept window, nothing per person
  differs either (the peak is then exact up to the summarised stays).
- The dedupe memory of a meeting is bounded, and a resend of an old event still
  changes nothing.
"""

from __future__ import annotations

import random

from _zoom_events import T0, UUID, ended, joined, left, started
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_meetings_props import check_invariants, person_view
from zoomtui.monitor.meetings import DEFAULT_MAX_ENDED, MeetingTracker
from zoomtui.zoom.protocol import ZoomEvent


def meeting_uuid(i: int) -> str:
    return f"M{i:05d}=="


def people_view(tracker: MeetingTracker, now: float) -> dict:
    """What the panes show of each person (no arrival flags, no peak)."""
    return {
        uuid: {k: person_view(p, now) for k, p in m.participants.items()}
        for uuid, m in tracker.meetings.items()
    }


# --- ended meetings ---------------------------------------------------------------------------


def test_ended_meetings_are_kept_by_count_too() -> None:
    tracker = MeetingTracker(max_ended=3, retain_ended=10**9)
    for i in range(6):
        uuid, mid = meeting_uuid(i), 1000 + i
        tracker.apply(started(i, uuid=uuid, mid=mid))
        tracker.apply(joined("ana", i + 1, uuid=uuid, mid=mid))
    tracker.apply(started(50, uuid="live==", mid=99))
    for i in range(6):
        end = ended(100 + i, uuid=meeting_uuid(i), mid=1000 + i)
        end.received_at = T0 + 100 + i
        tracker.apply(end)
        check_invariants(tracker)
    finished = [m.uuid for m in tracker.ordered() if not m.is_live]
    # the three that finished last, most recent first; the live one stays whatever happens
    assert finished == [meeting_uuid(5), meeting_uuid(4), meeting_uuid(3)]
    assert tracker.get("live==") is not None
    # a stray event for a dropped meeting does not bring it back as a zombie
    assert tracker.apply(left("ana", 100, uuid=meeting_uuid(0), mid=1000)) is None
    assert tracker.get(meeting_uuid(0)) is None
    # nor does its id find it (a uuid-less event attaches to the one live occurrence)
    assert set(tracker._by_id) == {"1003", "1004", "1005", "99"}


def test_the_default_keeps_a_few_hundred_ended_meetings() -> None:
    tracker = MeetingTracker()
    assert tracker.max_ended == DEFAULT_MAX_ENDED
    for i in range(DEFAULT_MAX_ENDED + 50):
        tracker.apply(started(0, uuid=meeting_uuid(i), mid=1000 + i))
        tracker.apply(ended(10, uuid=meeting_uuid(i), mid=1000 + i))
    assert len(tracker.meetings) == DEFAULT_MAX_ENDED
    assert tracker.get(meeting_uuid(49)) is None and tracker.get(meeting_uuid(50)) is not None


def test_deleting_several_occurrences_at_once_when_at_the_limit() -> None:
    # meeting.deleted without a uuid reaches every occurrence with its id; finishing one of
    # them may drop another that is still to be visited: nothing breaks
    tracker = MeetingTracker(max_ended=1)
    tracker.apply(started(0, uuid="a==", mid=7))
    tracker.apply(started(0, uuid="b==", mid=7))
    from _zoom_events import ms, parse

    dele = parse({"event": "meeting.deleted", "event_ts": ms(10), "payload": {"object": {"id": 7}}})
    assert tracker.apply(dele)
    assert len(tracker.meetings) == 1
    check_invariants(tracker)


# --- long histories -----------------------------------------------------------------------


def flapping(sessions: int, who: str, start: float = 10.0, *, seed: int = 0) -> list[ZoomEvent]:
    """`who` joins and leaves `sessions` times (a bad network all day), in true order."""
    rng = random.Random(seed)
    out = []
    t = start
    for _ in range(sessions):
        out.append(joined(who, t))
        t += rng.randint(1, 30)
        out.append(left(who, t, reason=rng.choice(["network", "left the meeting"])))
        t += rng.randint(1, 10)
    return out


def test_a_person_who_comes_and_goes_all_day_keeps_a_bounded_record() -> None:
    events = [started(0)] + flapping(300, "ana") + [joined("bo", 5), joined("ana", 20_000)]
    bounded = MeetingTracker(max_transitions=16)
    full = MeetingTracker(max_transitions=10**9)
    for ev in events:
        bounded.apply(ev)
        full.apply(ev)
        check_invariants(bounded)
    now = T0 + 30_000
    assert people_view(bounded, now) == people_view(full, now)
    m, f = bounded.get(UUID), full.get(UUID)
    assert m is not None and f is not None
    assert len(m.participants["PU-ana"].transitions) <= 16
    assert len(f.participants["PU-ana"].transitions) == 601
    assert (m.current_count, m.peak_count) == (f.current_count, f.peak_count) == (2, 2)
    assert m.participants["PU-ana"].rejoin_count == 300
    # the meeting's end closes the open stays the same way
    for t in (bounded, full):
        t.apply(ended(25_000))
    assert people_view(bounded, now) == people_view(full, now)


def test_an_event_older_than_the_summary_is_counted_not_applied() -> None:
    tracker = MeetingTracker(max_transitions=8)
    events = flapping(20, "ana")
    late = events.pop(3)  # an early leave, held back past a dozen newer transitions
    for ev in events:
        tracker.apply(ev)
    m = tracker.get(UUID)
    assert m is not None
    before = people_view(tracker, T0 + 10**5)
    out_of_order = m.flags["out of order"]
    assert tracker.apply(late) == {UUID}
    assert m.flags["out of order"] == out_of_order + 1
    assert people_view(tracker, T0 + 10**5) == before
    check_invariants(tracker)


@st.composite
def long_histories(draw: st.DrawFn) -> list[ZoomEvent]:
    events: list[ZoomEvent] = []
    for who in draw(st.lists(st.sampled_from(["ana", "bo", "cy"]), min_size=1, unique=True)):
        t = float(draw(st.integers(0, 30)))
        for _ in range(draw(st.integers(5, 25))):
            events.append(joined(who, t))
            t += draw(st.integers(1, 40))
            if draw(st.integers(0, 9)) == 0:
                break  # still in
            events.append(left(who, t, reason=draw(st.sampled_from(["a", "b"]))))
            t += draw(st.integers(0, 20))
    # one true order: by the events' own times (each person's steps have distinct times)
    events.sort(key=lambda ev: (ev.event_ts_ms, ev.name))
    if draw(st.booleans()):
        events.append(ended(max(e.event_ts_ms or 0 for e in events) / 1000 - T0 + 5))
    return events


@settings(max_examples=150, deadline=None)
@given(long_histories(), st.randoms(use_true_random=False))
def test_reordered_within_the_kept_window_ends_like_everything_kept(
    events: list[ZoomEvent], rnd: random.Random
) -> None:
    # Each event moves at most 3 places, fewer than the 4 newest transitions a person
    # keeps after a summary (max_transitions=8): every late one still lands in the window.
    moved = sorted(range(len(events)), key=lambda i: i + rnd.uniform(0, 3.5))
    delivered = [events[i] for i in moved]
    bounded = MeetingTracker(max_transitions=8)
    for ev in delivered:
        bounded.apply(ev)
        check_invariants(bounded)
    full = MeetingTracker(max_transitions=10**9)
    for ev in events:
        full.apply(ev)
    now = T0 + 10**5
    assert people_view(bounded, now) == people_view(full, now)
    for uuid, m in bounded.meetings.items():
        f = full.meetings[uuid]
        assert (m.current_count, m.waiting_count, m.ended) == (
            f.current_count,
            f.waiting_count,
            f.ended,
        )
        assert all(len(p.transitions) <= 8 for p in m.participants.values())


# --- dedupe memory -------------------------------------------------------------------------


def test_dedupe_memory_is_bounded_and_an_old_resend_changes_nothing() -> None:
    from zoomtui.monitor.meetings import meeting as meetings

    # One person coming and going all day: the dedupe memory stays bounded (it grows
    # with the number of people instead, so a webinar's waves are remembered whole).
    tracker = MeetingTracker()
    events = flapping(meetings._SEEN_GENERATION + 100, "ana")
    for ev in events:
        tracker.apply(ev)
    m = tracker.get(UUID)
    assert m is not None
    assert len(m._seen) + len(m._seen_old) <= 2 * meetings._SEEN_GENERATION
    before = people_view(tracker, T0 + 10**6)
    count = m.flags["duplicate"]
    assert tracker.apply(events[-1]) == {UUID}  # recent: remembered, counted
    assert m.flags["duplicate"] == count + 1
    tracker.apply(events[0])  # forgotten, and older than the summary: changes nothing
    assert people_view(tracker, T0 + 10**6) == before


def test_a_webinar_remembers_both_waves_for_dedupe() -> None:
    from zoomtui.monitor.meetings import meeting as meetings

    n = meetings._SEEN_GENERATION + 500
    tracker = MeetingTracker()
    joins = [joined(f"p{i}", 1 + i / 100) for i in range(n)]
    leaves = [left(f"p{i}", 1000 + i / 100) for i in range(n)]
    for ev in joins + leaves:
        tracker.apply(ev)
    m = tracker.get(UUID)
    assert m is not None
    for ev in joins + leaves:  # every one a resend: all recognised
        tracker.apply(ev)
    assert m.flags["duplicate"] == 2 * n
    assert m.current_count == 0
