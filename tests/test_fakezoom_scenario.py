"""The seeded scenario generator, without a server: determinism and the quirks of real traffic."""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from zoomtui.fakezoom import scenario_events
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

T0 = 1_700_000_000.0
#: the opening of a run plays every quirk; tests look no further than this
OPENING = 60


def take(n: int, seed: int = 1, rate: float = 20.0, clock_start: float = T0) -> list[dict]:
    return list(itertools.islice(scenario_events(seed, clock_start, rate=rate), n))


def obj(ev: dict) -> dict:
    return ev["payload"].get("object", {})


def part(ev: dict) -> dict:
    return obj(ev).get("participant", {})


SEEDS = [1, 2, 3, 42, 1234]


def test_same_seed_same_events_whatever_the_global_random_state() -> None:
    a = take(2000, seed=5)
    random.seed(999)
    random.random()
    assert take(2000, seed=5) == a


def test_different_seeds_differ() -> None:
    assert take(200, seed=1) != take(200, seed=2)


def test_clock_start_and_rate_only_move_timestamps() -> None:
    a, b = take(300, clock_start=T0), take(300, clock_start=T0 + 10)
    assert all(x["event_ts"] + 10_000 == y["event_ts"] for x, y in zip(a, b, strict=True))
    for x, y in zip(a, b, strict=True):
        x.pop("event_ts"), y.pop("event_ts")
    assert [e["event"] for e in a] == [e["event"] for e in b]


def test_event_ts_follows_the_schedule_and_a_few_are_late() -> None:
    evs = take(3000, rate=20)
    scheduled = [round((T0 + i / 20) * 1000) for i in range(len(evs))]
    assert all(
        e["event_ts"] <= s for e, s in zip(evs, scheduled, strict=True)
    )  # never from the future
    on_time = sum(e["event_ts"] >= s - 50 for e, s in zip(evs, scheduled, strict=True))
    assert on_time > 0.9 * len(evs)
    late = [
        s - e["event_ts"] for e, s in zip(evs, scheduled, strict=True) if s - e["event_ts"] >= 5000
    ]
    assert late, "some events must arrive late"
    assert max(late) <= 200_000


@pytest.mark.parametrize("seed", SEEDS)
def test_every_event_is_a_well_formed_zoom_event(seed: int) -> None:
    for ev in take(1500, seed=seed):
        parsed = parse_frame(message_frame(ev), 0.0)
        assert isinstance(parsed, ZoomEvent), parsed
        assert parsed.account_id == "demo-account-0001"
        assert isinstance(ev["event_ts"], int)


@pytest.mark.parametrize("seed", SEEDS)
def test_id_types_are_string_or_number_by_family(seed: int) -> None:
    string_ids = {
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "webinar.started",
        "webinar.ended",
        "webinar.participant_joined",
        "webinar.participant_left",
    }
    number_ids = {"meeting.created", "meeting.updated", "meeting.deleted", "recording.completed"}
    seen = set()
    for ev in take(OPENING, seed=seed):
        name, mid = ev["event"], obj(ev).get("id")
        if name in string_ids:
            assert isinstance(mid, str) and mid.isdigit()
        elif name in number_ids:
            assert isinstance(mid, int) and not isinstance(mid, bool)
        seen.add(name)
    assert seen >= string_ids - {"webinar.ended"} | number_ids | {"user.created"}


@pytest.mark.parametrize("seed", SEEDS)
def test_uuids_carry_plus_slash_and_equals_including_the_double_encoding_cases(seed: int) -> None:
    uuids = {obj(e)["uuid"] for e in take(OPENING, seed=seed) if "uuid" in obj(e)}
    assert any("+" in u and "/" in u for u in uuids)
    assert all(u.endswith("==") for u in uuids)
    assert any(u.startswith("/") for u in uuids)
    assert any("//" in u for u in uuids)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_left_arrives_after_the_same_persons_rejoin(seed: int) -> None:
    evs = take(OPENING, seed=seed)
    found = False
    for join, left in itertools.pairwise(evs):
        if not (
            join["event"].endswith("participant_joined")
            and left["event"].endswith("participant_left")
        ):
            continue
        pj, pl = part(join), part(left)
        same = pj.get("participant_uuid", pj["user_id"]) == pl.get(
            "participant_uuid", pl["user_id"]
        )
        if same and pj["user_id"] != pl["user_id"] and left["event_ts"] < join["event_ts"]:
            found = True
    assert found


@pytest.mark.parametrize("seed", SEEDS)
def test_a_meeting_whose_started_never_comes(seed: int) -> None:
    evs = take(OPENING, seed=seed)
    started = {obj(e)["uuid"] for e in evs if e["event"] == "meeting.started"}
    joined = {obj(e)["uuid"] for e in evs if e["event"] == "meeting.participant_joined"}
    assert joined - started


@pytest.mark.parametrize("seed", SEEDS)
def test_names_with_brackets_and_non_ascii_and_a_webinar(seed: int) -> None:
    evs = take(OPENING, seed=seed)
    names = {part(e).get("user_name") for e in evs} - {None}
    assert any("[" in n and "]" in n for n in names)
    assert any(not n.isascii() for n in names)
    assert any(not obj(e).get("topic", "").isascii() for e in evs)
    assert any(e["event"] == "webinar.started" for e in evs)


def test_rejoin_gives_a_new_user_id_but_the_same_participant_uuid() -> None:
    by_person: dict[str, set[str]] = defaultdict(set)
    for ev in take(OPENING):
        if ev["event"].endswith("participant_joined") and "participant_uuid" in part(ev):
            by_person[part(ev)["participant_uuid"]].add(part(ev)["user_id"])
    assert any(len(ids) > 1 for ids in by_person.values())


def test_a_phone_guest_has_no_participant_uuid() -> None:
    phone = [part(e) for e in take(OPENING) if part(e).get("phone_number")]
    assert phone and all("participant_uuid" not in p and p["id"] == "" for p in phone)


def test_participant_left_sometimes_lacks_user_name() -> None:
    lefts = [part(e) for e in take(3000) if e["event"].endswith("participant_left")]
    missing = sum("user_name" not in p for p in lefts)
    assert 0 < missing < len(lefts) / 3


@pytest.mark.parametrize("seed", SEEDS)
def test_the_world_stays_consistent(seed: int) -> None:
    """Every left follows a join of the same session; nobody is in two rooms; meetings end."""
    in_room: dict[str, str] = {}  # user_id (session) -> meeting uuid
    ended = 0
    for ev in take(5000, seed=seed):
        name, p = ev["event"], part(ev)
        if name.endswith("participant_joined"):
            assert p["user_id"] not in in_room
            in_room[p["user_id"]] = obj(ev)["uuid"]
        elif name.endswith("participant_left"):
            assert in_room.pop(p["user_id"]) == obj(ev)["uuid"]
        elif name.endswith(".ended"):
            ended += 1
            assert obj(ev)["uuid"] not in in_room.values()
            assert obj(ev)["end_time"].endswith("Z")
    assert ended > 5
    assert len(in_room) <= 21  # the cast is bounded: memory is too


def test_account_events_have_zoom_shapes() -> None:
    evs = {}
    for ev in take(OPENING):
        evs.setdefault(ev["event"], ev)
    created = evs["meeting.created"]["payload"]
    assert created["operator"] and created["object"]["join_url"].startswith("https://")
    updated = evs["meeting.updated"]["payload"]
    assert updated["object"]["topic"] != updated["old_object"]["topic"]
    rec = evs["recording.completed"]
    assert rec["download_token"] and rec["payload"]["object"]["recording_files"]
    assert rec["payload"]["object"]["recording_count"] == len(
        rec["payload"]["object"]["recording_files"]
    )
    user = evs["user.created"]["payload"]["object"]
    assert {"id", "email", "type"} <= set(user)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        next(scenario_events(1, T0, rate=0))


def test_a_late_left_is_never_stamped_before_that_sessions_join() -> None:
    """Late is not time travel: a tracker fed the scenario must never see 'left without join'."""
    from zoomtui.monitor.meetings import MeetingTracker
    from zoomtui.zoom.protocol import message_frame, parse_frame

    for rate in (5.0, 15.0, 200.0):
        tracker = MeetingTracker()
        for i, ev in enumerate(scenario_events(3, 1_700_000_000.0, rate=rate)):
            if i >= 4000:
                break
            tracker.apply(parse_frame(message_frame(ev), 1_700_000_000.0 + i / rate))
        flags = {f for m in tracker.meetings.values() for f, n in m.flags.items() if n}
        assert "left without join" not in flags, rate
        assert "out of order" in flags  # the late lefts are still there


# --- a flood, stamped by the clock ----------------------------------------------------------


class TickingClock:
    """A clock that moves `step` seconds at every read (the scenario reads it once a
    happening): step 5e-5 is a flood of about 20 events a millisecond, as the fake sends at
    rate max; 0 is a clock that never moves, the worst case."""

    def __init__(self, step: float, start: float = T0) -> None:
        self.step = step
        self.time = start

    def __call__(self) -> float:
        self.time += self.step
        return self.time


def flood(seed: int, clock: TickingClock, n: int) -> Iterator[dict]:
    """What the fake's endless flood plays: 1,000/s nominal, from a world begun 0.1 s ago."""
    return itertools.islice(scenario_events(seed, clock.time - 0.1, rate=1000.0, clock=clock), n)


def test_a_flood_is_never_stamped_past_its_clock_and_keeps_up_with_it() -> None:
    clock = TickingClock(5e-5)
    stamps = []
    for ev in flood(1, clock, 20_000):
        assert ev["event_ts"] <= clock.time * 1000  # nothing from the future
        stamps.append(ev["event_ts"])
    # on time: within a millisecond of the clock (it is read once a happening) ...
    assert max(stamps) >= clock.time * 1000 - 1
    # ... and many events share one (a flood), while the late ones keep their delay
    assert len(set(stamps)) < len(stamps) / 5
    assert sum(b < a for a, b in itertools.pairwise(stamps)) > 50


def mix(events: Iterable[dict]) -> dict[str, float]:
    names = Counter(ev["event"] for ev in events)
    total = sum(names.values())
    return {name: n / total for name, n in names.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_a_flood_plays_the_demo_world_in_the_same_mix(seed: int) -> None:
    """Its crowd lets nobody come or go twice in one millisecond without changing what
    happens: with the demo's 21 people, user.created stood in for the comings and goings
    nobody was free for (1.7 % of a flood instead of 0.5 %)."""
    paced = mix(take(30_000, seed=seed, rate=1000.0))
    flooded = mix(flood(seed, TickingClock(5e-5), 30_000))
    assert set(flooded) == set(paced)
    for name, share in paced.items():
        assert abs(flooded[name] - share) < 0.002 + share / 4, (name, share, flooded[name])


@pytest.mark.parametrize(
    ("seed", "step"), [(1, 5e-5), (2, 5e-5), (3, 5e-6), (4, 0.0)], ids=["20", "20", "200", "still"]
)
def test_a_monitor_fed_a_flood_drops_no_event_as_a_copy(seed: int, step: float) -> None:
    """Many events share a millisecond in a flood, but no person comes or goes twice in one in
    a meeting: the tracker, which drops an event with the name, stamp, person and time of one
    it has seen, must find no duplicate (nor a byte copy), and the rosters Zoom holds."""
    from zoomtui.fakezoom.truth import LiveTruth
    from zoomtui.monitor.meetings import MeetingTracker

    tracker, truth, frames = MeetingTracker(), LiveTruth(), set()
    for ev in flood(seed, TickingClock(step), 15_000):
        frame = message_frame(ev)
        assert frame not in frames
        frames.add(frame)
        truth.apply(ev)
        tracker.apply(parse_frame(frame, T0))
    flags = Counter()
    for m in tracker.meetings.values():
        flags.update(m.flags)
    assert flags["duplicate"] == 0 and flags["left without join"] == 0
    live = [m for m in tracker.meetings.values() if m.is_live]
    rosters = {m.uuid: {p.display_name for p in m.participants.values() if p.is_in} for m in live}
    assert rosters == truth.roster()


def test_a_paced_rate_above_one_event_a_millisecond_drops_no_event_as_a_copy() -> None:
    """Paced at 5,000/s, five events share each millisecond of the schedule: what the fake
    plays there has the flood's crowd too (with the demo's 21 people a tracker dropped 36 of
    these 30,000 events as copies); its stamps stay the schedule's."""
    from zoomtui.fakezoom.schedule import play_scenario
    from zoomtui.monitor.meetings import MeetingTracker

    tracker = MeetingTracker()
    played = play_scenario("demo", 1, lambda: T0, Path(), 5000.0)
    for i, ev in enumerate(itertools.islice(played, 30_000)):
        assert isinstance(ev, dict) and ev["event_ts"] <= round((T0 + i / 5000) * 1000)
        tracker.apply(parse_frame(message_frame(ev), T0))
    assert sum(m.flags["duplicate"] for m in tracker.meetings.values()) == 0


# --- the "shapes" scenario: every shape seen in real captures ---------------------------------


def test_the_shapes_scenario_plays_every_real_shape() -> None:
    from zoomtui.fakezoom import shapes_events
    from zoomtui.fakezoom.shapes import LATE_SECONDS
    from zoomtui.monitor.meetings import MeetingTracker

    bodies = list(shapes_events(T0, rate=20.0))
    assert bodies == list(shapes_events(T0, rate=20.0))  # fixed: no randomness
    names = [b["event"] for b in bodies]
    assert "user.updated " in names  # a trailing space, as in one of Zoom's own examples
    reasons = [part(b).get("leave_reason", "") for b in bodies]
    assert any("<br>Reason: " in r for r in reasons)  # the documented form
    assert any(" Reason : " in r for r in reasons)  # a space before the colon
    guests = [part(b) for b in bodies if part(b).get("id") == ""]
    assert guests and all(len(g["participant_uuid"]) == 36 for g in guests)  # GUIDs
    (jbh,) = [b for b in bodies if b["event"] == "meeting.participant_jbh_joined"]
    assert part(jbh) == {"user_name": "Early Bird"}  # only a name
    first_end = names.index("meeting.ended")
    after_end = [b for b in bodies[first_end:] if b["event"] == "meeting.participant_left"]
    assert len(after_end) == 2 and {obj(b)["uuid"] for b in after_end} == {obj(bodies[0])["uuid"]}
    assert [b for b in bodies if "event_ts" not in b] == [bodies[-1]]  # an end without a stamp
    late = [b for b in bodies if "event_ts" in b and b["event_ts"] <= (T0 - LATE_SECONDS) * 1000]
    assert [b["event"] for b in late] == ["user.deactivated"]
    emails = [obj(b).get("email") for b in bodies if not b["event"].startswith("meeting.")]
    assert "jchill@example.com" in emails and len([e for e in emails if e]) >= 3

    # through the parser and the tracker: what a client should end up knowing
    tracker = MeetingTracker()
    events = []
    for i, body in enumerate(bodies):
        ev = parse_frame(message_frame(body), T0 + i / 20.0 + 0.05)
        assert isinstance(ev, ZoomEvent), body
        events.append(ev)
        tracker.apply(ev)
    assert [e.name for e in events if e.name == "user.updated"] == ["user.updated"]
    by_topic = {m.topic: m for m in tracker.meetings.values()}
    assert set(by_topic) == {"Shapes review", "Office hours"}
    review, office = by_topic["Shapes review"], by_topic["Office hours"]
    assert not review.is_live and not office.is_live
    assert {p.display_name: p.leave_reason for p in review.participants.values()} == {
        "Rosa Quintero": "Host ended the meeting.",
        "Guest 4821": "Host ended the meeting.",
        "iPhone": "lost connection, network issue.",
    }
    assert review.problems() == [] and office.problems() == []
    (bird,) = office.participants.values()  # the name-only jbh and the join with ids: one
    assert bird.display_name == "Early Bird" and bird.participant_uuid is not None
