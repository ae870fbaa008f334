"""Properties of the meeting tracker under random interleavings, duplicates and nonsense.

- A consistent history (people joining, leaving, rejoining, waiting; a start and maybe an
  end), delivered in any order with any duplicates, ends in the same state as delivered in
  order, and that state is what the history says (who is in, waiting, the exact peak).
- Any pile of presence events, however inconsistent, never crashes the tracker, never gives
  a negative or inflated count, and gives the same state whatever the arrival order.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from _zoom_events import T0, UUID, at, ended, participant_event, started
from hypothesis import given, settings
from hypothesis import strategies as st

from zoomtui.monitor.meetings import MeetingTracker, Participant, Presence
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

PEOPLE = ["ana", "bo", "cy", "dee"]
ARRIVAL_FLAGS = {"duplicate", "late", "out of order"}  # about delivery, not about the state


def identity(who: str) -> dict[str, str]:
    return {
        "participant_uuid": f"PU-{who}",
        "id": f"id-{who}",
        "user_id": f"uid-{who}",
        "user_name": who.capitalize(),
        "email": f"{who}@example.com",
    }


def person_view(p: Participant, now: float) -> tuple:
    """What the panes show of one person."""
    return (
        p.status,
        p.detail,
        p.entries,
        p.first_join_ms,
        p.join_ms,
        p.leave_ms,
        p.flags,
        p.time_in_meeting(now),
        p.name,
    )


def snapshot(tracker: MeetingTracker, now: float) -> dict:
    """Everything shown about presence, leaving out the flags that describe delivery."""
    out = {}
    for uuid, m in tracker.meetings.items():
        people = {k: person_view(p, now) for k, p in m.participants.items()}
        flags = {f: n for f, n in m.flags.items() if f not in ARRIVAL_FLAGS}
        out[uuid] = (
            m.current_count,
            m.waiting_count,
            m.peak_count,
            m.ended,
            m.end_ms,
            m.start_seen,
            m.start_ms,
            m.topic,
            flags,
            people,
        )
    return out


def assert_same(a: dict, b: dict) -> None:
    """Equal snapshots, or the first difference spelled out (pytest truncates big tuples)."""
    assert a.keys() == b.keys()
    for uuid in a:
        *head_a, people_a = a[uuid]
        *head_b, people_b = b[uuid]
        assert head_a == head_b, uuid
        assert people_a.keys() == people_b.keys(), uuid
        for k in people_a:
            assert people_a[k] == people_b[k], (uuid, k)


def check_invariants(tracker: MeetingTracker) -> None:
    for m in tracker.meetings.values():
        inside = sum(p.status is Presence.IN for p in m.participants.values())
        waiting = sum(p.status is Presence.WAITING for p in m.participants.values())
        assert m.current_count == inside >= 0
        assert m.waiting_count == waiting >= 0
        assert m.current_count + m.waiting_count <= len(m.participants)
        assert m.current_count <= m.peak_count <= len(m.participants)
        assert all(n > 0 for n in m.flags.values())
        if m.ended:
            assert m.current_count == 0 and m.waiting_count == 0
        for p in m.participants.values():
            assert p.rejoin_count >= 0 and p.time_in_meeting(T0 + 10**6) >= 0


# --- a consistent history ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    t: int  # seconds after T0 (Zoom's payload times have 1 s resolution)
    who: str | None  # None for meeting.started / meeting.ended
    what: str  # joined | left | waiting | admitted | started | ended


@st.composite
def histories(draw: st.DrawFn) -> list[Step]:
    steps: list[Step] = []
    for who in draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4, unique=True)):
        t = draw(st.integers(0, 30))
        for _ in range(draw(st.integers(1, 3))):  # sessions
            if draw(st.booleans()):
                steps.append(Step(t, who, "waiting"))
                t += draw(st.integers(0, 20))
                steps.append(Step(t, who, draw(st.sampled_from(["admitted", "joined"]))))
            else:
                steps.append(Step(t, who, "joined"))
            t += draw(st.integers(0, 60))
            if draw(st.integers(0, 4)) == 0:
                break  # still in
            steps.append(Step(t, who, "left"))
            t += draw(st.integers(0, 30))
    if draw(st.booleans()):
        steps.append(Step(0, None, "started"))
    if draw(st.booleans()):
        steps.append(Step(draw(st.integers(0, 250)), None, "ended"))
    # One true order: by time; at one time the drawn order (joins before leaves of one person).
    order = sorted(range(len(steps)), key=lambda i: steps[i].t)
    return [steps[i] for i in order]


_NAMES = {
    "joined": "participant_joined",
    "left": "participant_left",
    "waiting": "participant_joined_waiting_room",
    "admitted": "participant_admitted",
}


def to_events(history: list[Step]) -> list[ZoomEvent]:
    """The history as Zoom events; event_ts orders the steps that share a second."""
    out = []
    for i, s in enumerate(history):
        ts = s.t + i / 1000  # ms within the second, in true order
        if s.what == "started":
            out.append(started(s.t, ts=ts))
        elif s.what == "ended":
            out.append(ended(s.t, ts=ts, start=0))
        else:
            reason = "gone" if s.what == "left" else None
            out.append(
                participant_event(_NAMES[s.what], identity(s.who), s.t, ts=ts, reason=reason)  # type: ignore[arg-type]
            )
    return out


def expected(history: list[Step]) -> tuple[dict[str, str], int]:
    """Who is where at the end, and the peak, by walking the history in order."""
    state: dict[str, str] = {}
    inside: set[str] = set()
    peak = 0
    over = False
    for s in history:
        if s.what == "ended":
            over = True
            state = {k: "left" for k in state}
            inside.clear()
            continue
        if over or s.who is None:
            continue
        if s.what in ("joined", "admitted"):
            state[s.who] = "in"
            inside.add(s.who)
            peak = max(peak, len(inside))
        elif s.what == "waiting":
            state[s.who] = "waiting"
            inside.discard(s.who)
        elif s.what == "left":
            state[s.who] = "left"
            inside.discard(s.who)
    return state, peak


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.integers(0, 6))
def test_any_arrival_order_with_duplicates_ends_like_the_true_order(
    history: list[Step], rnd: random.Random, dups: int
) -> None:
    events = to_events(history)
    in_order = MeetingTracker()
    for ev in events:
        in_order.apply(ev)
        check_invariants(in_order)

    delivered = events + [rnd.choice(events) for _ in range(dups)]
    rnd.shuffle(delivered)
    shuffled = MeetingTracker()
    for ev in delivered:
        shuffled.apply(ev)
        check_invariants(shuffled)

    now = T0 + 400
    assert_same(snapshot(shuffled, now), snapshot(in_order, now))

    (m,) = in_order.meetings.values()
    state, peak = expected(history)
    got = {p.key.removeprefix("PU-"): p.status.value for p in m.participants.values()}
    assert {k: v for k, v in got.items() if k in state} == state
    assert m.peak_count == peak
    assert m.current_count == sum(v == "in" for v in state.values())
    assert m.flags["duplicate"] == 0
    assert shuffled.meetings[UUID].flags["duplicate"] >= min(dups, 1)


# --- nonsense --------------------------------------------------------------------------------

KINDS = [
    "participant_joined",
    "participant_left",
    "participant_joined_waiting_room",
    "participant_left_waiting_room",
    "participant_put_in_waiting_room",
    "participant_admitted",
    "participant_jbh_waiting",
    "participant_jbh_joined",
    "participant_jbh_waiting_left",
]
ID_SETS = [
    ("participant_uuid", "id", "user_id"),
    ("participant_uuid",),
    ("id",),
    ("user_id",),
    ("id", "user_id"),
    ("participant_uuid", "user_id"),
]


@st.composite
def nonsense(draw: st.DrawFn) -> ZoomEvent:
    what = draw(st.sampled_from([*KINDS, "started", "ended"]))
    t = draw(st.integers(0, 120))
    ts = t + draw(st.integers(-5, 5))
    uuid = draw(st.sampled_from([UUID, "other=="]))
    kind = draw(st.sampled_from(["meeting", "webinar"]))
    if what == "started":
        return started(t, ts=ts, uuid=uuid, kind=kind)
    if what == "ended":
        return ended(t, ts=ts, uuid=uuid, kind=kind)
    who = draw(st.sampled_from(PEOPLE))
    full = identity(who)
    part = {k: full[k] for k in draw(st.sampled_from(ID_SETS))}
    if draw(st.booleans()):
        part["user_name"] = full["user_name"]
    time_field = None if draw(st.integers(0, 5)) else "nothing"  # sometimes no own time
    return participant_event(
        what, part, t, ts=ts, uuid=uuid, kind=kind, time_field=time_field, reason="why"
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(nonsense(), max_size=25), st.randoms(use_true_random=False))
def test_inconsistent_events_never_crash_and_do_not_depend_on_order(
    events: list[ZoomEvent], rnd: random.Random
) -> None:
    a = MeetingTracker()
    for ev in events:
        assert isinstance(a.apply(ev), set)
        check_invariants(a)
    again = list(events)
    rnd.shuffle(again)
    b = MeetingTracker()
    for ev in again:
        b.apply(ev)
        check_invariants(b)
    now = T0 + 300
    assert_same(snapshot(a, now), snapshot(b, now))
    for ev in events:  # everything again: duplicates only
        a.apply(ev)
    assert_same(snapshot(a, now), snapshot(b, now))


def test_time_strings_match_the_clock() -> None:
    assert at(0) == "2024-01-24T19:10:56Z"


# --- any payload -----------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)
_times = _json | st.sampled_from(
    [
        "2024-01-24T19:10:56Z",
        "2024-01-24T19:10:56",
        "2024-01-24T19:10:56.123+05:30",
        "not a time",
        "",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ]
)
_ids = _json | st.sampled_from(["PU-ana", "id-ana", "uid-ana", 16778240, ""])
_participant = st.fixed_dictionaries(
    {},
    optional={
        "participant_uuid": _ids,
        "id": _ids,
        "user_id": _ids,
        "user_name": _json,
        "email": _json,
        "join_time": _times,
        "leave_time": _times,
        "date_time": _times,
        "leave_reason": _json,
    },
)
_object = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from([123, "123", 1.5]) | _json,
        "uuid": st.sampled_from([UUID, "other=="]) | _json,
        "topic": _json,
        "host_id": _json,
        "type": _json,
        "start_time": _times,
        "end_time": _times,
        "participant": _participant | _json,
    },
)
_names = st.sampled_from(
    [
        f"{kind}.{what}"
        for kind in ("meeting", "webinar")
        for what in [*KINDS, "started", "ended", "updated", "deleted", "participant_qos", "created"]
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(_names, _object, st.none() | st.integers(-(2**40), 2**46), _json), max_size=12
    )
)
def test_any_payload_never_raises(items: list) -> None:
    tracker = MeetingTracker()
    for name, obj, ts, old in items:
        body = {"event": name, "event_ts": ts, "payload": {"object": obj, "old_object": old}}
        ev = parse_frame(message_frame(json.dumps(body)), T0)
        if not isinstance(ev, ZoomEvent):
            continue
        result = tracker.apply(ev)
        assert result is None or isinstance(result, set)
        check_invariants(tracker)
        for m in tracker.ordered():
            m.problems()
            m.duration(T0)
            for p in m.ordered_participants():
                assert p.time_in_meeting(T0 + 10) >= 0
                p.join_time, p.leave_time, p.display_name  # noqa: B018
    tracker.prune(T0 + 10**9)
    check_invariants(tracker)
