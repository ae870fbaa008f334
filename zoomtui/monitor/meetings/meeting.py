"""One occurrence of a meeting or webinar: its details, its people, and its counters.

`Meeting` owns every invariant of its state: the live and waiting counts follow its
participants' folds, its data-problem counter holds each participant's flags once, the
peak is exact (kept incrementally while transitions arrive in time order, swept again on
read after one that did not), and its alias index leads every id seen to one record.  The
tracker decides what an event means and calls the method named for it
(`absorb_details`, `record_presence`, `record_end`, ...); it writes no field itself.

Identity (PROTOCOL.md): a participant is keyed by ``participant_uuid``, else ``id``, else
``user_id``.  Some event kinds carry fewer ids than others (the join-before-host events
carry only ``id``, or only a name), so the alias index maps each id seen to its record, and
two records that turn out to be one person are merged (`Meeting.participant_for`).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import operator
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from zoomtui.monitor.meetings.fold import END, Key, Presence, Transition
from zoomtui.monitor.meetings.origin import Origin
from zoomtui.monitor.meetings.participant import ALREADY_THERE, TOO_OLD, Participant
from zoomtui.monitor.meetings.payload import datetime_of_ms, iso_ms, zoom_id

__all__ = ["FLAG_LABELS", "Meeting"]

#: What each flag means, for the UI's legend and tooltips.
FLAG_LABELS: dict[str, str] = {
    "start not seen": "the meeting.started event never arrived (started before monitoring, or lost)",
    "duplicate": "the same event arrived more than once (ignored)",
    "late": "events arrived after the meeting had ended",
    "out of order": "an event arrived after a newer one for the same person",
    "left without join": "someone left with no join seen, in a meeting watched from its start "
    "with no gap (the join was lost)",
    "join after end": "someone joined after the meeting's end time",
    "participant without id": "a participant event had no participant_uuid, id or user_id",
    "gap": "the connection was down while the meeting ran: events may be missing",
}

#: Person flags that are no data problem while joins may have gone unseen (`joins_unseen`):
#: a leave with no join seen is then someone who was in before we listened.
_UNSEEN_JOIN_FLAGS = frozenset({"left without join"})

#: Dedupe keys remembered per meeting: two generations of this many (or of twice the
#: meeting's participants, so a webinar's join and leave waves are both remembered).
_SEEN_GENERATION = 8192

Aliases = tuple[dict[str, Participant], dict[str, Participant], dict[str, Participant]]


@dataclass(eq=False, slots=True)
class Meeting:
    """One occurrence of a meeting or webinar (keyed by uuid)."""

    uuid: str
    kind: str  # "meeting" | "webinar"
    id: str | None = None
    topic: str | None = None
    previous_topic: str | None = None
    host_id: str | None = None
    type: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    start_seen: bool = False
    ended: bool = False
    deleted: bool = False
    first_seen_at: float = 0.0  # receive clock (epoch s)
    last_event_at: float = 0.0
    finished_seen_at: float | None = None  # when we learned it ended or was deleted
    #: end of a connection gap that came after this live meeting's last event (None once
    #: an event arrives again): its end may have been lost in that gap
    gap_since: float | None = None
    event_count: int = 0
    participants: dict[str, Participant] = field(default_factory=dict)
    current_count: int = 0
    waiting_count: int = 0
    #: data problems seen, by flag name (see FLAG_LABELS)
    flags: Counter[str] = field(default_factory=Counter)
    #: bumped on every visible change of this meeting (for UI caches)
    version: int = 0
    #: known from Zoom's API, or its end inferred after a gap (None: seen live)
    origin: Origin | None = None
    #: when Zoom's API last listed it with its roster (None: never): from then on, a person
    #: without an origin of their own is one seen live, and the details say so
    roster_at: float | None = None
    _topic_key: tuple[int, str] = (-(2**62), "")
    _start_rank: tuple[bool, int] | None = None
    _end_key: Key | None = None
    _peak: int = 0
    _peak_dirty: bool = False
    _max_key: Key = (-(2**62), 0, 0)
    #: the exact peak when someone's oldest transitions were summarised (see Participant.compact)
    _peak_floor: int = 0
    #: every id seen -> its record: by participant_uuid, by id, by user_id
    _aliases: Aliases = field(default_factory=lambda: ({}, {}, {}))
    #: records known by a name alone (a join before the host can carry nothing else), until
    #: an event with ids and that name claims one
    _name_only: dict[str, Participant] = field(default_factory=dict)
    #: dedupe keys of the events that drive state, newest generation and the one before
    #: (a bounded memory: a resend comes soon after the original, not hours later)
    _seen: set[tuple[Any, ...]] = field(default_factory=set)
    _seen_old: set[tuple[Any, ...]] = field(default_factory=set)

    # -- reading -----------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        return not self.ended and not self.deleted

    @property
    def start_time(self) -> _dt.datetime | None:
        return datetime_of_ms(self.start_ms)

    @property
    def end_time(self) -> _dt.datetime | None:
        return datetime_of_ms(self.end_ms)

    @property
    def peak_count(self) -> int:
        """The most people in the meeting at once, by the events' own times."""
        if self._peak_dirty:
            self._peak = self._sweep_peak()
            self._peak_dirty = False
        return self._peak

    def duration(self, now: float) -> float | None:
        """Seconds from start to end (or to `now` while live); None without a start time."""
        if self.start_ms is None:
            return None
        stop = self.end_ms if self.end_ms is not None else int(now * 1000)
        return max(0, stop - self.start_ms) / 1000

    @property
    def joins_unseen(self) -> bool:
        """Someone may have joined while nobody listened: the start was not seen (the
        monitor came in mid-meeting) or the link was down while it ran.  A leave with no
        join seen is then a person who was in before we listened, not a data problem.
        (Derived, not stamped on the leave: a late meeting.started makes it one again.)"""
        return not self.start_seen or self.flags.get("gap", 0) > 0

    @property
    def unseen_join_words(self) -> str:
        """What a leave with no join seen means here, while `joins_unseen`."""
        if not self.start_seen:
            return "was in before we listened (no join seen)"
        return "joined while the link was down (no join seen)"

    def problem_flags(self) -> dict[str, int]:
        """The data problems counted, by flag (see FLAG_LABELS): `flags` without those
        that are normal here (`joins_unseen`)."""
        benign = _UNSEEN_JOIN_FLAGS if self.joins_unseen else frozenset()
        return {f: n for f, n in self.flags.items() if n > 0 and f not in benign}

    def person_problems(self, p: Participant) -> frozenset[str]:
        """`p`'s flags that are data problems in this meeting (see `problem_flags`)."""
        return p.flags - _UNSEEN_JOIN_FLAGS if p.flags and self.joins_unseen else p.flags

    def problems(self) -> list[str]:
        """Data problems in words, for the meetings pane ('start not seen', '2× duplicate')."""
        out = [] if self.start_seen else ["start not seen"]
        for name, n in self.problem_flags().items():
            out.append(name if n == 1 else f"{n}× {name}")
        return out

    def ordered_participants(self) -> list[Participant]:
        """In (earliest join first), then waiting, then left (most recent first)."""
        inside = [p for p in self.participants.values() if p.status is Presence.IN]
        waiting = [p for p in self.participants.values() if p.status is Presence.WAITING]
        gone = [p for p in self.participants.values() if p.status is Presence.LEFT]
        inside.sort(key=lambda p: (p.join_ms or 0, p.display_name))
        waiting.sort(key=lambda p: p.display_name)
        gone.sort(key=lambda p: (-(p.leave_ms or 0), p.display_name))
        return inside + waiting + gone

    def _sweep_peak(self) -> int:
        """The most people inside at once: a sweep over every stay's start and end.

        This runs on read after an out-of-order event, so it is driven from C: with b_i = 1
        for a start and 0 for an end (sorted), the count after point i is 2*B_i - (i + 1)
        where B_i is the running sum of b.
        """
        floor = min(self._peak_floor, len(self.participants))
        points = [x for p in self.participants.values() for x in p.stay_points()]
        if not points:
            return floor
        points.sort()
        starts = itertools.accumulate(map(operator.and_, points, itertools.repeat(1)))
        counts: Iterator[int] = map(
            operator.sub, map(operator.mul, starts, itertools.repeat(2)), itertools.count(1)
        )
        return max(0, floor, max(counts))

    # -- what an event says (the tracker decides which applies) --------------------------
    def note_event(
        self, received_at: float, dedupe_key: tuple[Any, ...] | None = None
    ) -> bool | None:
        """One more event of this occurrence arrived; True when it is the first.

        `dedupe_key`, for the events that drive state: when an event with that key arrived
        recently, this one is counted as a duplicate and changes nothing else (None).  Two
        generations of keys are kept, each of `_SEEN_GENERATION` keys or twice the people
        (a webinar's join and leave waves both fit); an older resend is not recognised, and
        changes nothing anyway (its transition is already there)."""
        if dedupe_key is not None:
            seen = self._seen
            if dedupe_key in seen or dedupe_key in self._seen_old:
                self.flags["duplicate"] += 1
                return None
            if len(seen) >= _SEEN_GENERATION and len(seen) >= 2 * len(self.participants):
                self._seen_old, seen = seen, set()
                self._seen = seen
            seen.add(dedupe_key)
        first = self.event_count == 0
        self.event_count += 1
        # (`heard_from`, inlined: this runs for every event)
        if received_at > self.last_event_at:
            self.last_event_at = received_at
        self.gap_since = None
        return first

    def heard_from(self, received_at: float) -> None:
        """An event about this meeting arrived: it is not silent since a gap any more."""
        if received_at > self.last_event_at:
            self.last_event_at = received_at
        self.gap_since = None

    def note_problem(self, flag: str) -> None:
        """Count one data problem that is about the meeting, not a person (see FLAG_LABELS)."""
        self.flags[flag] += 1

    def note_gap(self, end: float) -> None:
        """The connection was down until `end` while this meeting ran: events may be missing,
        and if it has been silent since, its end may have been lost in the gap."""
        if self.last_event_at <= end:
            self.gap_since = end
        self.flags["gap"] += 1

    def note_started(self) -> bool:
        """meeting.started arrived; True the first time."""
        if self.start_seen:
            return False
        self.start_seen = True
        return True

    def note_finished(self, at: float) -> bool:
        """We learned at `at` that it ended or was deleted; True the first time (only the
        first counts for how long a finished meeting stays listed)."""
        if self.finished_seen_at is not None:
            return False
        self.finished_seen_at = at
        return True

    def mark_deleted(self) -> bool:
        """meeting.deleted; True the first time."""
        if self.deleted:
            return False
        self.deleted = True
        return True

    def mark_changed(self) -> None:
        """Something shown of this meeting changed: caches keyed on `version` refresh."""
        self.version += 1

    def absorb_details(self, obj: dict[str, Any], ets: int, from_started: bool) -> bool:
        """What one event of this live occurrence says about the meeting itself (`obj`, the
        payload's object, stamped `ets`); True when anything shown changed.  id, host and
        type are kept from the first event that has them (once known, not read again: this
        runs for every event); the newest topic wins; meeting.started's start_time beats any
        other event's (`from_started`), and the earliest one wins."""
        changed = False
        if self.id is None:
            mid = zoom_id(obj.get("id"))
            if mid is not None:
                self.id = mid
                changed = True
        topic = obj.get("topic")
        if isinstance(topic, str):
            if topic == self.topic:
                # The usual case, without a call (this runs for every event): the same
                # topic again, only its stamp moves on (what `retitle` would do).
                key = (ets, topic)
                if key >= self._topic_key:
                    self._topic_key = key
            elif self.retitle(topic, ets):
                changed = True
        if self.host_id is None:
            host = zoom_id(obj.get("host_id"))
            if host is not None:
                self.host_id = host
                changed = True
        if self.type is None:
            mtype = obj.get("type")
            if isinstance(mtype, int) and not isinstance(mtype, bool):
                self.type = mtype
                changed = True
        start = iso_ms(obj.get("start_time"))
        if start is not None:
            rank = (not from_started, start)
            if self._start_rank is None or rank < self._start_rank:
                self._start_rank = rank
                if start != self.start_ms:
                    self.start_ms = start
                    changed = True
        return changed

    def retitle(self, topic: str, ets: int, previous: str | None = None) -> bool:
        """The topic as of an event stamped `ets`: the newest stamp wins (the topic breaks a
        tie).  `previous`: what the event says the topic was (meeting.updated's old_object),
        else the topic we had.  True when the topic shown changed."""
        key = (ets, topic)
        if key < self._topic_key:
            return False
        self._topic_key = key
        if topic == self.topic:
            return False
        if previous is not None:
            self.previous_topic = previous
        elif self.topic is not None:
            self.previous_topic = self.topic
        self.topic = topic
        return True

    def record_end(self, end_ms: int, ets: int) -> bool:
        """meeting.ended at `end_ms` (stamped `ets`): everyone still in or waiting has left.
        False when an earlier end is already known (the earliest wins)."""
        key = (end_ms, ets, END)
        old = self._end_key
        if old is not None and old <= key:
            return False
        self._end_key = key
        self.end_ms = end_ms
        self.ended = True
        for p in self.participants.values():
            # The fold so far depends on the end only through transitions after it (old or
            # new); the usual end comes after everything, and only closes the open stays.
            last = p.newest_transition
            after = last is not None and (
                (last[0], last[1], last[2]) > key
                or (old is not None and (last[0], last[1], last[2]) > old)
            )
            self._refold(p, end_only=not after)
        self._note_order(key)
        return True

    def record_presence(
        self, p: Participant, tr: Transition, max_transitions: int, *, from_event: bool = True
    ) -> bool:
        """One presence transition of `p` (join, leave, waiting room); False when it was
        there already (the same transition from another event).  Past `max_transitions`,
        the person's oldest half is summarised.  `from_event` False: from Zoom's API, which
        describes the past and is never "out of order"."""
        trs = p.transitions
        if not trs or tr > trs[-1]:
            self._refold(p, tr)  # the newest: appended, one step of the fold
        else:
            placed = p.insert(tr)
            if placed == ALREADY_THERE:
                return False
            if from_event:
                self.flags["out of order"] += 1
            if placed == TOO_OLD:
                return True  # too late to place: counted, not applied
            self._refold(p)
        self._note_order(tr[:3])
        if len(p.transitions) > max_transitions:
            self._peak_floor = max(self._peak_floor, self.peak_count)  # before their old stays go
            p.compact(max_transitions // 2, self._end_key)
        return True

    def participant_for(self, part: dict[str, Any], by_name: bool = False) -> Participant | None:
        """The record for the person an event's ``participant`` object names (None: it has
        no participant_uuid, id or user_id, and no name where `by_name` allows one): by
        participant_uuid, else id, else user_id, through the aliases of every id seen;
        records found to be one person are merged, and the record learns the ids and names
        the event gives."""
        get = part.get
        pu = zoom_id(get("participant_uuid"))
        ref = zoom_id(get("id"))
        uid = zoom_id(get("user_id"))
        if pu is None and ref is None and uid is None:
            return self._named(get("user_name")) if by_name else None
        by_pu, by_ref, by_uid = self._aliases
        h_pu = by_pu.get(pu) if pu is not None else None
        h_ref = by_ref.get(ref) if ref is not None else None
        h_uid = by_uid.get(uid) if uid is not None else None
        p = h_pu or h_ref or h_uid
        if p is None and self._name_only:
            # ids never seen, and someone known so far by their name alone: them, most likely
            name = get("user_name")
            p = self._name_only.pop(name, None) if isinstance(name, str) else None
        if (
            p is not None
            and (h_ref is None or h_ref is p)
            and (h_uid is None or h_uid is p)
            and (pu is None or p.participant_uuid is None or p.participant_uuid == pu)
        ):
            pass  # the usual case: one known record (a new user_id on a rejoin is added below)
        else:
            p = self._settle_records(pu, ref, uid, (h_pu, h_ref, h_uid))
        name, email = get("user_name"), get("email")
        p.learn_identity(
            pu,
            ref,
            uid,
            name if name and isinstance(name, str) else None,
            email if email and isinstance(email, str) else None,
        )
        # ids not seen before now lead to this record (one seen before keeps its record:
        # another session of the same user, or this one)
        if h_pu is None and pu is not None:
            by_pu[pu] = p
        if h_ref is None and ref is not None:
            by_ref[ref] = p
        if h_uid is None and uid is not None:
            by_uid[uid] = p
        best = p.participant_uuid or p.user_ref or p.key
        if best != p.key and best not in self.participants:
            del self.participants[p.key]
            p.key = best
            self.participants[best] = p
        return p

    def _named(self, name: Any) -> Participant | None:
        """The record for someone an event names by `name` alone (None: no name): the one
        person of that name if there is one, else a record keyed by the name."""
        if not isinstance(name, str) or not name.strip():
            return None
        p = self._name_only.get(name)
        if p is not None:
            return p
        same = [r for r in self.participants.values() if r.name == name]
        if len(same) == 1:
            return same[0]
        key = f"name:{name}"
        if key in self.participants:  # (an id with that text: seen only in made-up data)
            key = next(
                k for n in itertools.count(2) if (k := f"{key}~{n}") not in self.participants
            )
        p = Participant(key=key, name=name)
        self.participants[key] = p
        self._name_only[name] = p
        return p

    # -- keeping the counters in step ------------------------------------------------------
    def _settle_records(
        self,
        pu: str | None,
        ref: str | None,
        uid: str | None,
        hits: tuple[Participant | None, Participant | None, Participant | None],
    ) -> Participant:
        """The ids lead to no record, or to several: a new record, or one with the others
        merged into it."""
        found: list[Participant] = []
        for r in hits:
            if r is not None and r not in found:
                found.append(r)
        # Records with another participant_uuid are other sessions (the same user on two
        # devices shares an id): never merged, never matched.
        own_pu = pu or next((r.participant_uuid for r in found if r.participant_uuid), None)
        found = [r for r in found if r.participant_uuid is None or r.participant_uuid == own_pu]
        if not found:
            key: str = pu or ref or uid  # type: ignore[assignment]  # the caller gave one of them
            if key in self.participants:
                # Another person's id of another kind with the same text (seen only in
                # made-up data): never overwrite their record.
                key = next(
                    k for n in itertools.count(2) if (k := f"{key}~{n}") not in self.participants
                )
            p = Participant(key=key)
            self.participants[key] = p
            return p
        p = next((r for r in found if r.participant_uuid is not None), found[0])
        for other in found:
            if other is not p:
                self._merge(p, other)
        return p

    def _merge(self, into: Participant, other: Participant) -> None:
        self._forget_participant(other)
        if other.has_newer_summary_than(into):
            # `into` takes the other's summary: the exact peak before their old stays go
            self._peak_floor = max(self._peak_floor, self.peak_count)
        into.absorb(other)
        for index in self._aliases:
            for ident, r in list(index.items()):
                if r is other:
                    index[ident] = into
        self._refold(into)
        self._peak_dirty = True

    def _refold(
        self, p: Participant, appended: Transition | None = None, *, end_only: bool = False
    ) -> None:
        """Re-derive one participant and keep the meeting's counters in step.
        `appended`: one transition newer than all of theirs, to append and fold;
        `end_only`: only the meeting's end changed, and it falls after all of theirs."""
        status, old_flags = p.status, p.flags
        was_in, was_waiting = status is Presence.IN, status is Presence.WAITING
        if appended is not None:
            p.advance(appended, self._end_key)
        elif end_only:
            p.apply_end(self._end_key)
        else:
            p.refold(self._end_key)
        self.current_count += (p.status is Presence.IN) - was_in
        self.waiting_count += (p.status is Presence.WAITING) - was_waiting
        if p.flags != old_flags:
            for f in old_flags - p.flags:
                self.flags[f] -= 1
                if self.flags[f] <= 0:
                    del self.flags[f]
            for f in p.flags - old_flags:
                self.flags[f] += 1

    def _forget_participant(self, p: Participant) -> None:
        self.current_count -= p.status is Presence.IN
        self.waiting_count -= p.status is Presence.WAITING
        for f in p.flags:
            self.flags[f] -= 1
            if self.flags[f] <= 0:
                del self.flags[f]
        del self.participants[p.key]

    def _note_order(self, key: Key) -> None:
        """Keep the peak exact: in-order keys update it incrementally, others mark it dirty."""
        if key >= self._max_key:
            self._max_key = key
            if not self._peak_dirty and self.current_count > self._peak:
                self._peak = self.current_count
        else:
            self._peak_dirty = True
