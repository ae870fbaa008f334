"""Realistic Zoom traffic from a seed: a pure generator, usable without a server.

`scenario_events(seed, clock_start, rate=...)` yields event dicts shaped like
Zoom's (PROTOCOL.md section 3, the shapes of ../shared/zoom-samples), forever.
The same arguments always give the same events: the demo, the screenshots and
the tests depend on it.  Nothing here reads a global random source, nor a clock
unless given a flood's; event ``i`` is stamped ``clock_start + i / rate`` (the
scheduler sends it then), minus a delay for the few events that arrive late.  A
flood is sent faster than its rate: given its clock, no event is stamped past it.

The opening minute plays every quirk a client must survive, so a short run
shows them all; after it, a random but bounded world carries on:

- several meetings and a webinar at once; participants joining, leaving,
  rejoining (a new ``user_id`` each session, a stable ``participant_uuid``);
- a ``participant_left`` that arrives after the same person's rejoin (with an
  earlier ``event_ts``);
- an instant meeting whose ``meeting.started`` never comes;
- ``object.id`` a string in started/ended/participant events and a number in
  created/updated/deleted/recording events; uuids with ``+``, ``/`` and ``=``
  (one starting with ``/``, one holding ``//``: the double-encoding cases);
- ``meeting.created`` / ``updated`` / ``deleted``, ``recording.completed``,
  ``user.created``; names with ``[brackets]`` (Rich markup traps) and non-ASCII;
- a few events stamped seconds to minutes before they are sent (late).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from zoomtui.fakezoom.cast import (
    CROWD,
    GUESTS,
    HOSTS,
    NEW_USERS,
    PEOPLE,
    PHONE_GUEST,
    REASON_ENDED,
    REASON_LEFT,
    REASON_NETWORK,
    TIMEZONES,
    TOPICS,
    WEBINAR_TOPICS,
    iso_seconds,
    meeting_uuid,
    user_id,
)
from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS

# ---------------------------------------------------------------------------------
# the world


@dataclass(slots=True)
class Person:
    name: str
    email: str
    zoom_id: str  # "" for guests
    participant_uuid: str | None  # None for the phone guest (identity falls back to user_id)
    phone: str | None = None


@dataclass(slots=True)
class Session:
    user_id: str  # Zoom's per-session participant id: changes on rejoin
    join_time: str
    joined_at: float = 0.0  # the world's clock at the join (join_time is whole seconds)


@dataclass(slots=True)
class Meeting:
    id: int
    uuid: str
    host_id: str
    topic: str
    type: int  # 1 instant, 2 scheduled, 8 recurring, 5 webinar
    timezone: str
    start_time: str
    kind: str = "meeting"  # or "webinar"
    in_room: dict[int, Session] = field(default_factory=dict)  # person index -> session
    events_left: int = 100  # ends after about this many more events of the world
    #: who joined or left here in the millisecond `acted_ms` (a flood's world lets nobody
    #: come or go twice in one: a monitor would take the second for a copy)
    acted_now: set[int] = field(default_factory=set)
    acted_ms: int = -1
    updated_ms: int = -1  # the millisecond of its last meeting.updated (the same: a copy)


class _World:
    """Everything the generator knows; each method returns the events for one happening."""

    def __init__(
        self,
        seed: int,
        clock_start: float,
        rate: float,
        account_id: str,
        clock: Callable[[], float] | None = None,
        crowd: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.clock_start = clock_start
        self.rate = rate
        self.account_id = account_id
        #: a flood's clock: no event is stamped past it (None: stamped by the schedule alone)
        self.clock = clock
        self.clock_ms = math.floor(clock() * 1000) if clock is not None else 0
        rng = self.rng
        self.people = [Person(n, e, user_id(rng), user_id(rng)) for n, e in PEOPLE]
        self.people += [
            Person(
                g,
                "",
                "",
                None if g == PHONE_GUEST else user_id(rng),
                "15550100" if g == PHONE_GUEST else None,
            )
            for g in GUESTS
        ]
        self.hosts = [(user_id(rng), f, la, em) for f, la, em in HOSTS]
        self.live: list[Meeting] = []
        self.scheduled: deque[Meeting] = deque(maxlen=12)  # created, not yet started or deleted
        self.next_user_id = 16778240 + rng.randrange(1000) * 1024
        self.index = 0  # of the next event emitted
        self.new_users = 0
        self.pending_recordings: list[tuple[int, Meeting]] = []  # (due index, ended meeting)
        #: many events share a millisecond (a flood, or a rate above 1,000/s): many more
        #: people (cast.CROWD), none of whom comes or goes twice in one millisecond
        self.crowded = clock is not None or crowd
        if self.crowded:
            self.people += [Person(n, e, user_id(rng), user_id(rng)) for n, e in CROWD]
        self._now = clock_start  # the world's time at the next event (seconds) ...
        self.now_ms = round(clock_start * 1000)  # ... and its event_ts

    # -- time -----------------------------------------------------------------------
    def now(self) -> float:
        return self._now

    def advance(self, happening_done: bool) -> None:
        """On to the next event: at its slot in the schedule (``clock_start + index / rate``)
        or, for a flood sent faster than that, at the clock, read once a happening: Zoom stamps
        when a thing happened, never a time still to come."""
        self.index += 1
        scheduled = self.clock_start + self.index / self.rate
        scheduled_ms = round(scheduled * 1000)
        if self.clock is not None and happening_done:
            # (never backwards, should the system clock be set back)
            self.clock_ms = max(self.clock_ms, math.floor(self.clock() * 1000))
        if self.clock is None or scheduled_ms <= self.clock_ms:
            self._now, self.now_ms = scheduled, scheduled_ms
        else:
            self.now_ms = max(self.now_ms, self.clock_ms)
            self._now = self.now_ms / 1000

    def pick(self, m: Meeting, people: list[int]) -> int | None:
        """One of `people` at random who did not come or go in `m` this millisecond (None:
        nobody).  Only a crowded world shares a millisecond among events; elsewhere this is
        `rng.choice(people)`, so a seed gives the same events as it always did."""
        rng = self.rng
        if not people:
            return None
        if not self.crowded:
            return rng.choice(people)
        busy = m.acted_now if m.acted_ms == self.now_ms else ()
        for _ in range(3):  # most are free: a few draws cost less than a filtered copy
            p = rng.choice(people)
            if p not in busy:
                return p
        free = [p for p in people if p not in busy]
        return rng.choice(free) if free else None

    def acted(self, m: Meeting, p: int) -> None:
        """`p` joined or left `m` now."""
        if m.acted_ms != self.now_ms:
            m.acted_ms, m.acted_now = self.now_ms, set()
        m.acted_now.add(p)

    def stamp(
        self, event: str, payload: dict, *, late_ms: int = 0, extra: dict | None = None
    ) -> dict:
        # event_ts holds minus the delay for now: `scenario_events` adds the time of the slot
        # the event is sent in, so the events of one happening are stamped one by one.
        body: dict = {"event": event, "event_ts": -late_ms}
        if extra:
            body.update(extra)
        body["payload"] = {"account_id": self.account_id, **payload}
        return body

    # -- meetings -----------------------------------------------------------------------
    def new_meeting(
        self,
        *,
        kind: str = "meeting",
        uuid_wish: str = "",
        instant: bool = False,
        topic: str | None = None,
    ) -> Meeting:
        rng = self.rng
        host = rng.choice(self.hosts)
        if kind == "webinar":
            mid = rng.randint(9_100_000_000, 9_999_999_999)
            mtype, topic = 5, topic or rng.choice(WEBINAR_TOPICS)
        else:
            mid = rng.randint(81_000_000_000, 99_999_999_999)
            mtype = 1 if instant else rng.choice((2, 2, 8))
            topic = topic or ("Zoom meeting" if instant else rng.choice(TOPICS))
        return Meeting(
            id=mid,
            uuid=meeting_uuid(rng, uuid_wish),
            host_id=host[0],
            topic=topic,
            type=mtype,
            timezone=rng.choice(TIMEZONES),
            start_time=iso_seconds(self.now()),
            kind=kind,
            events_left=rng.randint(80, 220),
        )

    def _object(self, m: Meeting, *, numeric_id: bool = False) -> dict:
        return {
            "id": m.id if numeric_id else str(m.id),
            "uuid": m.uuid,
            "host_id": m.host_id,
            "topic": m.topic,
            "type": m.type,
            "start_time": m.start_time,
            "timezone": m.timezone,
            "duration": 60,
        }

    def started(self, m: Meeting) -> list[dict]:
        m.start_time = iso_seconds(self.now())
        self.live.append(m)
        return [self.stamp(f"{m.kind}.started", {"object": self._object(m)})]

    def ended(self, m: Meeting) -> list[dict]:
        out = [self.left(m, p, REASON_ENDED) for p in list(m.in_room)]
        obj = self._object(m)
        obj["end_time"] = iso_seconds(self.now())
        out.append(self.stamp(f"{m.kind}.ended", {"object": obj}))
        self.live.remove(m)
        return out

    def joined(self, m: Meeting, p: int) -> dict:
        person = self.people[p]
        self.next_user_id += 1
        sess = Session(
            user_id=str(self.next_user_id), join_time=iso_seconds(self.now()), joined_at=self.now()
        )
        m.in_room[p] = sess
        self.acted(m, p)
        part = {"user_id": sess.user_id, "user_name": person.name, "id": person.zoom_id}
        if person.participant_uuid:
            part["participant_uuid"] = person.participant_uuid
        part["join_time"] = sess.join_time
        part["email"] = person.email
        if m.kind == "webinar":
            part["registrant_id"] = user_id(self.rng)
        if person.zoom_id:
            part["participant_user_id"] = person.zoom_id
        if person.phone:
            part["phone_number"] = person.phone
        obj = self._object(m)
        obj["participant"] = part
        return self.stamp(f"{m.kind}.participant_joined", {"object": obj})

    def left(
        self, m: Meeting, p: int, why: str, *, session: Session | None = None, late_ms: int = 0
    ) -> dict:
        person = self.people[p]
        sess = session or m.in_room.pop(p)
        self.acted(m, p)
        part = {"user_id": sess.user_id}
        # user_name is sometimes missing from participant_left (PROTOCOL.md section 3)
        if self.rng.random() >= 0.1:
            part["user_name"] = person.name
        part["id"] = person.zoom_id
        if person.participant_uuid:
            part["participant_uuid"] = person.participant_uuid
        # A late `left` is stamped in the past, but never before the session's own join:
        # Zoom delivers late, it does not time-travel (that would be "left without join").
        now = self.now()
        leave_at = now - late_ms / 1000
        if late_ms and leave_at <= sess.joined_at:
            leave_at = sess.joined_at + (now - sess.joined_at) / 4
            late_ms = round((now - leave_at) * 1000)
        part["leave_time"] = iso_seconds(leave_at)
        part["leave_reason"] = f"{person.name} left the meeting.<br>Reason: {why}"
        part["email"] = person.email
        if person.phone:
            part["phone_number"] = person.phone
        obj = self._object(m)
        obj["participant"] = part
        return self.stamp(f"{m.kind}.participant_left", {"object": obj}, late_ms=late_ms)

    def rejoin_with_late_left(self, m: Meeting, p: int) -> list[dict]:
        """A dropped connection and a quick rejoin, where Zoom delivers the `left` after the
        new `joined` (stamped earlier than it): the client must not mark the person gone."""
        old = m.in_room.pop(p)
        join = self.joined(m, p)
        # the left goes out in the next slot, stamped before the join
        left = self.left(
            m,
            p,
            REASON_NETWORK,
            session=old,
            late_ms=self.rng.randint(1500, 4000) + round(1000 / self.rate),
        )
        return [join, left]

    # -- account events -------------------------------------------------------------------
    def _operator(self) -> dict:
        h = self.hosts[0]
        return {"operator": h[3], "operator_id": h[0]}

    def created(self, m: Meeting) -> list[dict]:
        self.scheduled.append(m)
        obj = self._object(m, numeric_id=True)
        obj["start_time"] = iso_seconds(self.now() + 3600 * self.rng.randint(1, 72))
        obj["join_url"] = f"https://us02web.zoom.us/j/{m.id}?pwd={user_id(self.rng)}"
        obj["password"] = f"{self.rng.randrange(10**6):06d}"
        obj["settings"] = {
            "join_before_host": self.rng.random() < 0.5,
            "waiting_room": True,
            "host_video": True,
            "participant_video": False,
        }
        return [
            self.stamp(
                "meeting.created", {**self._operator(), "operation": "single", "object": obj}
            )
        ]

    def updated(self, m: Meeting) -> list[dict]:
        old_topic = m.topic
        m.topic = self.rng.choice([t for t in TOPICS if t != old_topic])
        m.updated_ms = self.now_ms
        payload = {
            **self._operator(),
            "scope": "single",
            "time_stamp": self.now_ms,
            "object": {"id": m.id, "topic": m.topic},
            "old_object": {"id": m.id, "topic": old_topic},
        }
        return [self.stamp("meeting.updated", payload)]

    def deleted(self, m: Meeting) -> list[dict]:
        self.scheduled.remove(m)
        obj = {
            "uuid": m.uuid,
            "id": m.id,
            "host_id": m.host_id,
            "topic": m.topic,
            "type": m.type,
            "start_time": m.start_time,
            "duration": 60,
            "timezone": m.timezone,
        }
        return [
            self.stamp(
                "meeting.deleted", {**self._operator(), "operation": "single", "object": obj}
            )
        ]

    def recording_completed(self, m: Meeting, *, late_ms: int = 0) -> list[dict]:
        rng = self.rng
        host = next(h for h in self.hosts if h[0] == m.host_id)
        files: list[dict[str, Any]] = []
        for rtype, ftype in (("shared_screen_with_speaker_view", "MP4"), ("audio_only", "M4A")):
            fid = (
                f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
                f"{rng.getrandbits(16):04x}-{rng.getrandbits(48):012x}"
            )
            files.append(
                {
                    "id": fid,
                    "meeting_id": m.uuid,
                    "recording_start": m.start_time,
                    "recording_end": iso_seconds(self.now() - 60),
                    "recording_type": rtype,
                    "file_type": ftype,
                    "file_size": rng.randint(200_000, 90_000_000),
                    "file_extension": ftype,
                    "play_url": f"https://us02web.zoom.us/rec/play/{user_id(rng)}",
                    "download_url": f"https://us02web.zoom.us/rec/download/{user_id(rng)}",
                    "status": "completed",
                }
            )
        obj = self._object(m, numeric_id=True)
        obj.update(
            {
                "account_id": self.account_id,
                "host_email": host[3],
                "share_url": f"https://us02web.zoom.us/rec/share/{user_id(rng)}",
                "total_size": sum(f["file_size"] for f in files),
                "recording_count": len(files),
                "recording_files": files,
            }
        )
        # download_token is a short-lived credential in real traffic: obviously fake here
        return [
            self.stamp(
                "recording.completed",
                {"object": obj},
                late_ms=late_ms,
                extra={"download_token": "fake-download-token-" + user_id(rng)},
            )
        ]

    def user_created(self) -> list[dict]:
        first, last = NEW_USERS[self.new_users % len(NEW_USERS)]
        self.new_users += 1
        n = self.new_users
        email = f"{first.lower()}.{last.lower()}{n}@example.com".replace("á", "a")
        obj = {
            "id": user_id(self.rng),
            "first_name": first,
            "last_name": last,
            "display_name": f"{first} {last}",
            "email": email,
            "type": 1,
        }
        return [
            self.stamp(
                "user.created", {**self._operator(), "creation_type": "create", "object": obj}
            )
        ]

    # -- choosing what happens next ---------------------------------------------------------
    def absent(self) -> list[int]:
        """People in no live meeting (one person, one meeting at a time)."""
        busy = {p for m in self.live for p in m.in_room}
        # (in C: a flood's world asks this of 165 people some 10,000 times a second)
        return list(itertools.filterfalse(busy.__contains__, range(len(self.people))))

    def opening(self) -> Iterator[list[dict]]:
        """The first minute: every quirk, in a plausible order."""
        rng = self.rng
        weekly = self.new_meeting(uuid_wish="+/", topic="Weekly sync")
        yield self.created(weekly)
        self.scheduled.remove(weekly)
        yield self.started(weekly)
        # the brackets names and the non-ASCII ones come early
        for p in (0, 2, 3, 11, 6):
            yield [self.joined(weekly, p)]
        webinar = self.new_meeting(kind="webinar", uuid_wish="//")
        yield self.started(webinar)
        for p in (7, 8, 10):
            yield [self.joined(webinar, p)]
        # an instant meeting whose meeting.started never comes; its uuid starts with '/'
        instant = self.new_meeting(instant=True, uuid_wish="lead/")
        self.live.append(instant)  # live, but meeting.started is never sent
        for p in (4, 5, len(PEOPLE) + 2):  # ... with the phone guest (no participant_uuid)
            yield [self.joined(instant, p)]
        yield self.rejoin_with_late_left(weekly, 3)
        yield [self.joined(weekly, 1)]
        yield self.user_created()
        planning = self.new_meeting(topic="Sprint planning")
        yield self.created(planning)
        yield self.updated(planning)
        # a late one: stamped a minute and a half before it is sent
        yield [self.left(webinar, 8, REASON_LEFT, late_ms=rng.randint(60_000, 120_000))]
        yield [self.joined(webinar, 9)]
        yield self.rejoin_with_late_left(instant, len(PEOPLE) + 2)  # identity by user_id changes
        doomed = self.new_meeting()
        yield self.created(doomed)
        yield self.deleted(doomed)
        # a short meeting that ends and, a little later, its recording
        standup = self.new_meeting(topic="東京チーム 定例")
        yield self.started(standup)
        for p in (12, 13, 14):
            yield [self.joined(standup, p)]
        yield [self.left(standup, 13, REASON_LEFT)]
        yield self.ended(standup)
        yield [self.joined(weekly, 15)]
        yield self.recording_completed(standup)

    def step(self) -> list[dict]:
        """One happening of the steady state."""
        rng = self.rng
        for m in self.live:
            m.events_left -= 1
        ending = [m for m in self.live if m.events_left <= 0]
        if ending:
            m = ending[0]
            out = self.ended(m)  # a meeting that never announced its start still ends
            if rng.random() < 0.6 and m.kind == "meeting":
                self.pending_recordings.append((self.index + rng.randint(20, 60), m))
            return out
        due = [r for r in self.pending_recordings if r[0] <= self.index]
        if due:
            self.pending_recordings.remove(due[0])
            return self.recording_completed(due[0][1])
        roll = rng.random()
        scheduled = self._schedule_step(roll)
        return scheduled if scheduled is not None else self._room_step(roll)

    def _schedule_step(self, roll: float) -> list[dict] | None:
        """A meeting starts, or one is scheduled, changed or deleted (None: none is)."""
        rng = self.rng
        meetings = [m for m in self.live if m.kind == "meeting"]
        if len(meetings) < 2 or (roll < 0.02 and len(meetings) < 4):
            if self.scheduled and rng.random() < 0.5:
                m = self.scheduled.popleft()
            else:
                m = self.new_meeting(uuid_wish=rng.choice(("", "", "+/")))
            return self.started(m)
        if roll < 0.03:
            if not any(m.kind == "webinar" for m in self.live):
                return self.started(self.new_meeting(kind="webinar"))
        elif roll < 0.045:
            return self.created(self.new_meeting())
        elif roll < 0.055 and self.scheduled:
            m = rng.choice(list(self.scheduled))
            # (changed twice in one millisecond, A->B->A->B, it would be a byte copy: a flood's)
            if not self.crowded or m.updated_ms != self.now_ms:
                return self.updated(m)
        elif roll < 0.06 and self.scheduled:
            return self.deleted(rng.choice(list(self.scheduled)))
        elif roll < 0.065:
            return self.user_created()
        return None

    def _room_step(self, roll: float) -> list[dict]:
        """Someone joins or leaves a live meeting (or rejoins, or the room empties)."""
        rng = self.rng
        m = rng.choice(self.live)
        inside = list(m.in_room)
        # (`pick`: in a flood, nobody who already came or went in this millisecond)
        if roll < 0.085 and (p := self.pick(m, inside)) is not None:
            return self.rejoin_with_late_left(m, p)
        absent = self.absent()
        join_bias = 0.75 if len(inside) < 4 else 0.5 if len(inside) < 10 else 0.3
        joining = absent and (not inside or rng.random() < join_bias)
        if joining and (p := self.pick(m, absent)) is not None:
            return [self.joined(m, p)]
        if not inside:  # everyone is busy elsewhere and this room is empty: it ends
            return self.ended(m)
        if (p := self.pick(m, inside)) is None:  # a flood's room where all came or went
            q = self.pick(m, absent)
            return [self.joined(m, q)] if q is not None else self.user_created()
        late = rng.randint(5_000, 150_000) if rng.random() < 0.03 else 0
        why = REASON_NETWORK if rng.random() < 0.15 else REASON_LEFT
        return [self.left(m, p, why, late_ms=late)]


def scenario_events(
    seed: int,
    clock_start: float,
    *,
    rate: float = 20.0,
    account_id: str = DEMO_CREDENTIALS.account_id,
    clock: Callable[[], float] | None = None,
    crowd: bool = False,
) -> Iterator[dict]:
    """Zoom events for `seed`, forever; event i is stamped ``clock_start + i / rate`` seconds
    (milliseconds in ``event_ts``), minus its delay when it is one of the late ones.

    `clock`, for a flood (sent faster than `rate`): no event is stamped past the clock's
    time as it is made, and many share a millisecond; the world then has a crowd of people,
    none of whom comes or goes twice in one millisecond.  Without it, nothing reads a clock.
    `crowd`: that crowd without a clock, for a rate above 1,000/s (events share milliseconds
    too); without either, a seed gives the events it always gave."""
    if rate <= 0:
        raise ValueError("rate must be above zero")
    world = _World(seed, clock_start, rate, account_id, clock, crowd)
    for batch in itertools.chain(world.opening(), iter(world.step, None)):
        last = len(batch) - 1
        for k, ev in enumerate(batch):
            ev["event_ts"] += world.now_ms
            yield ev
            world.advance(k == last)
