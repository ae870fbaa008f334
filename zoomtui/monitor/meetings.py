"""Who is in which meeting right now: a live tracker fed one ZoomEvent at a time. Pure: no I/O.

Zoom's delivery is neither ordered nor complete (PROTOCOL.md section 3), so the tracker
keeps, per participant, the *set* of presence transitions it has seen (join, leave,
waiting room in/out), each stamped with its own time (``join_time`` / ``leave_time`` /
``date_time``, else ``event_ts``), and derives the participant's state by folding them in
time order.  Consequences, by construction:

- order-tolerant: a ``participant_left`` older than the person's latest join does not
  remove them, wherever it arrives;
- idempotent: the same event applied twice changes nothing but a "duplicate" counter
  (dedupe key: event name, event_ts, participant key, the event's own time);
- the end state depends only on which events arrived, not on their order.

Meetings are keyed by uuid (one occurrence; ``id`` is reused across occurrences).  A
meeting is created on first sight from any event of a live occurrence, flagged "start
not seen" until ``meeting.started`` arrives.  ``meeting.ended`` marks everyone left at
``end_time``; later events are kept, and flagged "late" unless they are exits (Zoom sends
the leaves of a meeting it ends right after ``meeting.ended``).  Ended meetings stay for
``retain_ended`` seconds after we learned of the end, then `prune()` drops them (and
ignores stray events for them afterwards, so they do not come back as zombies).

Identity (PROTOCOL.md): a participant is keyed by ``participant_uuid``, else ``id``,
else ``user_id``.  Some event kinds carry fewer ids than others (the join-before-host
events carry only ``id``), so an alias index maps each id seen to its record, and two
records that turn out to be one person are merged.

Data problems are counted per meeting (`Meeting.flags`, `Meeting.problems()`) instead of
silently giving a wrong count: duplicate, late, out of order, left without join, join
after end, start not seen, participant without id, gap.

Peak count is exact: kept incrementally while transitions arrive in time order, and
recomputed by a sweep over every participant's in-meeting intervals (lazily, on read)
when one arrives out of order.

Waiting room: ``participant_joined_waiting_room`` / ``participant_put_in_waiting_room`` /
``participant_jbh_waiting`` put a person in the waiting state; ``participant_left_waiting_room``
/ ``participant_jbh_waiting_left`` take them out of it; ``participant_admitted`` and
``participant_jbh_joined`` count as entering the meeting (a ``participant_joined`` that
follows is then a no-op, not a rejoin).  Breakout rooms are not tracked: Zoom reports the
move as a ``participant_left`` from the main meeting, and that is what is shown.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import enum
import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zoomtui.zoom.protocol import ZoomEvent

__all__ = [
    "DEFAULT_RETAIN_ENDED",
    "FLAG_LABELS",
    "Meeting",
    "MeetingTracker",
    "Participant",
    "Presence",
]

#: Seconds an ended meeting stays listed (dimmed) after we learned that it ended.
DEFAULT_RETAIN_ENDED = 15 * 60.0
#: Pruned uuids remembered so stray late events do not resurrect them (oldest forgotten first).
_TOMBSTONES = 10_000


class Presence(enum.StrEnum):
    IN = "in"
    WAITING = "waiting"  # waiting room, or waiting for the host
    LEFT = "left"


# Transition ranks: the order of transitions that carry the same time and event_ts.
_WAIT, _UNWAIT, _JOIN, _LEAVE, _END = range(5)

#: event name suffix (after "meeting." / "webinar.") -> (rank, detail shown in the UI, the
#: participant field holding the transition's own time).
_PRESENCE: dict[str, tuple[int, str, str]] = {
    "participant_joined": (_JOIN, "", "join_time"),
    "participant_admitted": (_JOIN, "admitted from the waiting room", "date_time"),
    "participant_jbh_joined": (_JOIN, "joined before the host", "date_time"),
    "participant_left": (_LEAVE, "left", "leave_time"),
    "participant_joined_waiting_room": (_WAIT, "waiting room", "date_time"),
    "participant_put_in_waiting_room": (_WAIT, "put in the waiting room", "date_time"),
    "participant_jbh_waiting": (_WAIT, "waiting for the host", "date_time"),
    "participant_left_waiting_room": (_UNWAIT, "left the waiting room", "date_time"),
    "participant_jbh_waiting_left": (_UNWAIT, "left while waiting for the host", "date_time"),
}

#: Other events that belong to a live occurrence: they create the meeting when unseen.
#: Events about the scheduled meeting (created, registration_*, summary_*, ...) or sent
#: after it (qos_summary, feedback) do not: they would list meetings that are not running.
_LIVE_OTHER = frozenset(
    {
        "started",
        "ended",
        "participant_role_changed",
        "participant_joined_breakout_room",
        "participant_left_breakout_room",
        "participant_bind",
        "participant_qos",
        "sharing_started",
        "sharing_ended",
        "breakout_room_sharing_started",
        "breakout_room_sharing_ended",
        "live_streaming_started",
        "live_streaming_stopped",
        "alert",
        "chat_message_sent",
    }
)
_KINDS = ("meeting", "webinar")

#: What each flag means, for the UI's legend and tooltips.
FLAG_LABELS: dict[str, str] = {
    "start not seen": "the meeting.started event never arrived (started before monitoring, or lost)",
    "duplicate": "the same event arrived more than once (ignored)",
    "late": "events arrived after the meeting had ended",
    "out of order": "an event arrived after a newer one for the same person",
    "left without join": "someone left with no join seen (joined before monitoring, or lost)",
    "join after end": "someone joined after the meeting's end time",
    "participant without id": "a participant event had no participant_uuid, id or user_id",
    "gap": "the connection was down while the meeting ran: events may be missing",
}

_REASON_HEAD = re.compile(r"^.*?\breason:\s*", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def _clean_reason(text: Any) -> str:
    """Zoom's 'Jill left the meeting.<br>Reason: Host ended the meeting.' -> 'Host ended the meeting.'"""
    if not isinstance(text, str) or not text.strip():
        return "left"
    out = _TAGS.sub(" ", _REASON_HEAD.sub("", text, count=1))
    return " ".join(out.split()) or "left"


def _sid(v: Any) -> str | None:
    """An id as Zoom sends it (string or number) normalised to a non-empty str."""
    if isinstance(v, str):
        return v or None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None


def _ms(v: Any) -> int | None:
    """ISO 8601 time (Zoom: '2021-07-13T21:44:51Z') -> epoch ms; None when absent or bad."""
    if not isinstance(v, str) or not v:
        return None
    try:
        t = _dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)  # Zoom's times are UTC
    try:
        return int(t.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        return None


def _dt_of(ms: int | None) -> _dt.datetime | None:
    if ms is None:
        return None
    try:
        return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


# A transition: (time ms, event_ts ms, rank, detail).  Tuples sort in time order; at one
# time the event_ts breaks the tie, then the rank (a leave after a join at the same instant).
Transition = tuple[int, int, int, str]
_Key = tuple[int, int, int]


_ETS_LIMIT = 1 << 45  # protocol.py keeps event_ts below the year 3000 (< 2**45 ms)


def _pack(key: _Key) -> int:
    """(time, event_ts, rank) as one int in the same order (event_ts clamped to Zoom's range)."""
    t, ets, rank = key
    ets = min(max(ets, 0), _ETS_LIMIT - 1)
    return ((t * _ETS_LIMIT) + ets) * 8 + rank


@dataclass(eq=False, slots=True)
class Participant:
    """One person in one meeting occurrence, derived from the transitions seen for them."""

    key: str
    name: str | None = None
    email: str | None = None
    participant_uuid: str | None = None
    user_ref: str | None = None  # the participant's ``id`` (their Zoom user id when signed in)
    user_id: str | None = None  # per session: may change on rejoin
    status: Presence = Presence.LEFT
    #: why they left (Zoom's reason, cleaned), or which waiting state they are in
    detail: str = ""
    join_ms: int | None = None  # latest entry into the meeting
    first_join_ms: int | None = None
    leave_ms: int | None = None
    entries: int = 0  # times they went from outside to inside
    flags: frozenset[str] = frozenset()
    transitions: list[Transition] = field(default_factory=list)
    _closed_ms: int = 0  # in-meeting time of finished stays
    _in_since_ms: int | None = None
    #: the stays' starts and ends as packed keys (x2, +1 for a start), for the peak sweep
    _points: list[int] = field(default_factory=list)

    @property
    def is_in(self) -> bool:
        return self.status is Presence.IN

    @property
    def rejoin_count(self) -> int:
        return max(0, self.entries - 1)

    @property
    def join_time(self) -> _dt.datetime | None:
        return _dt_of(self.join_ms)

    @property
    def first_join_time(self) -> _dt.datetime | None:
        return _dt_of(self.first_join_ms)

    @property
    def leave_time(self) -> _dt.datetime | None:
        return _dt_of(self.leave_ms) if self.status is not Presence.IN else None

    @property
    def leave_reason(self) -> str | None:
        return self.detail if self.status is Presence.LEFT else None

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.key

    def time_in_meeting(self, now: float) -> float:
        """Seconds spent in the meeting so far (all stays; the open one counted up to `now`)."""
        total = self._closed_ms
        if self._in_since_ms is not None:
            total += max(0, int(now * 1000) - self._in_since_ms)
        return total / 1000

    # -- folding -----------------------------------------------------------------------
    def _fold(self, end: _Key | None) -> None:
        """Derive status, times and flags from the sorted transitions (and the meeting end)."""
        status: Presence | None = None
        detail = ""
        entries = 0
        first_join = last_join = leave = None
        closed = 0
        in_since: int | None = None
        in_key: _Key | None = None
        intervals: list[tuple[_Key, _Key | None]] = []
        flags: set[str] = set()
        ended = False
        synthetic_end = False
        for t, ets, rank, text in self.transitions:
            key = (t, ets, rank)
            if end is not None and not ended and key > end:
                ended = True
                if status is Presence.IN:
                    closed += max(0, end[0] - in_since)  # type: ignore[operator]
                    intervals.append((in_key, end))  # type: ignore[arg-type]
                    in_since = None
                    leave = end[0]
                if status is not None and status is not Presence.LEFT:
                    status, detail, synthetic_end = Presence.LEFT, "meeting ended", True
            if ended:
                # After the end only exits make sense; a leave's reason beats "meeting ended".
                if rank == _JOIN:
                    flags.add("join after end")
                elif rank == _LEAVE:
                    if status is None:
                        status, leave = Presence.LEFT, t
                        flags.add("left without join")
                        detail = text
                    elif synthetic_end:
                        detail, synthetic_end = text, False
                continue
            if rank == _JOIN:
                if status is not Presence.IN:
                    status, detail = Presence.IN, ""
                    in_since, in_key = t, key
                    entries += 1
                    last_join = t
                    if first_join is None:
                        first_join = t
            elif rank == _LEAVE:
                if status is Presence.IN:
                    closed += max(0, t - in_since)  # type: ignore[operator]
                    intervals.append((in_key, key))  # type: ignore[arg-type]
                    in_since = None
                elif entries == 0 and status is not Presence.WAITING:
                    flags.add("left without join")
                status, detail, leave = Presence.LEFT, text, t
            elif rank == _WAIT:
                if status is Presence.IN:
                    closed += max(0, t - in_since)  # type: ignore[operator]
                    intervals.append((in_key, key))  # type: ignore[arg-type]
                    in_since = None
                    leave = t
                status, detail = Presence.WAITING, text
            elif rank == _UNWAIT and status is Presence.WAITING:
                status, detail, leave = Presence.LEFT, text, t
        if end is not None and not ended and status is not None and status is not Presence.LEFT:
            if status is Presence.IN:
                closed += max(0, end[0] - in_since)  # type: ignore[operator]
                intervals.append((in_key, end))  # type: ignore[arg-type]
                in_since = None
                leave = end[0]
            status, detail = Presence.LEFT, "meeting ended"
        if status is Presence.IN:
            intervals.append((in_key, None))  # type: ignore[arg-type]
        if status is None and "join after end" in flags:
            detail = "joined after the meeting ended"
        self.status = status if status is not None else Presence.LEFT
        self.detail = detail
        self.entries = entries
        self.first_join_ms, self.join_ms, self.leave_ms = first_join, last_join, leave
        self._closed_ms, self._in_since_ms = closed, in_since
        points = []
        for start, stop in intervals:
            points.append(_pack(start) * 2 + 1)  # at one key an end sorts before a start
            if stop is not None:
                points.append(_pack(stop) * 2)
        self._points = points
        self.flags = frozenset(flags)


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
    event_count: int = 0
    participants: dict[str, Participant] = field(default_factory=dict)
    current_count: int = 0
    waiting_count: int = 0
    #: data problems seen, by flag name (see FLAG_LABELS)
    flags: Counter[str] = field(default_factory=Counter)
    #: bumped on every visible change of this meeting (for UI caches)
    version: int = 0
    _topic_key: tuple[int, str] = (-(2**62), "")
    _start_rank: tuple[bool, int] | None = None
    _end_key: _Key | None = None
    _peak: int = 0
    _peak_dirty: bool = False
    _max_key: _Key = (-(2**62), 0, 0)
    _aliases: dict[str, Participant] = field(default_factory=dict)
    _seen: set[tuple[Any, ...]] = field(default_factory=set)

    # -- reading -----------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        return not self.ended and not self.deleted

    @property
    def start_time(self) -> _dt.datetime | None:
        return _dt_of(self.start_ms)

    @property
    def end_time(self) -> _dt.datetime | None:
        return _dt_of(self.end_ms)

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

    def problems(self) -> list[str]:
        """Data problems in words, for the meetings pane ('start not seen', '2× duplicate')."""
        out = [] if self.start_seen else ["start not seen"]
        for name, n in self.flags.items():
            if n > 0:
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
        points = [x for p in self.participants.values() for x in p._points]
        if not points:
            return 0
        points.sort()
        starts = itertools.accumulate(map(operator.and_, points, itertools.repeat(1)))
        counts = map(
            operator.sub, map(operator.mul, starts, itertools.repeat(2)), itertools.count(1)
        )
        return max(0, max(counts))

    # -- changing ----------------------------------------------------------------------
    def _refold(self, p: Participant) -> None:
        """Re-derive one participant and keep the meeting's counters in step."""
        was_in, was_waiting, old_flags = (
            p.status is Presence.IN,
            p.status is Presence.WAITING,
            p.flags,
        )
        p._fold(self._end_key)
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

    def _note_order(self, key: _Key) -> None:
        """Keep the peak exact: in-order keys update it incrementally, others mark it dirty."""
        if key >= self._max_key:
            self._max_key = key
            if not self._peak_dirty and self.current_count > self._peak:
                self._peak = self.current_count
        else:
            self._peak_dirty = True


def _payload_of(event: ZoomEvent) -> dict:
    try:
        return event.payload
    except Exception:  # a hand-built event whose raw frame cannot be parsed: nothing to read
        return {}


def _object_of(event: ZoomEvent) -> dict:
    obj = _payload_of(event).get("object")
    return obj if isinstance(obj, dict) else {}


def _event_ts(event: ZoomEvent) -> int:
    ts = event.event_ts_ms
    return ts if ts is not None else int(event.received_at * 1000)


class MeetingTracker:
    """Live meetings and their participants, fed with `apply(event)`.

    `apply` returns the uuids of meetings whose visible state changed (so a UI refreshes
    only those), an empty set when the event concerned a tracked meeting but changed
    nothing shown, and None when the event is not about a meeting occurrence at all.
    `version` increases with every visible change.
    """

    def __init__(
        self,
        *,
        retain_ended: float = DEFAULT_RETAIN_ENDED,
        forget_idle_after: float | None = None,
    ) -> None:
        #: seconds an ended (or deleted) meeting stays listed after we learned of it
        self.retain_ended = retain_ended
        #: seconds after which a live meeting with no events is dropped (None: never).  A
        #: meeting whose end fell into a connection gap would otherwise stay live forever.
        self.forget_idle_after = forget_idle_after
        self.meetings: dict[str, Meeting] = {}
        self.version = 0
        self._by_id: dict[str, set[str]] = {}
        self._tombstones: dict[str, None] = {}

    # -- reading -----------------------------------------------------------------------
    def ordered(self) -> list[Meeting]:
        """Live meetings first (most recently started first), then finished ones (most
        recently finished first)."""
        live = [m for m in self.meetings.values() if m.is_live]
        done = [m for m in self.meetings.values() if not m.is_live]
        live.sort(
            key=lambda m: (
                -(m.start_ms if m.start_ms is not None else m.first_seen_at * 1000),
                m.uuid,
            )
        )
        done.sort(key=lambda m: (-(m.finished_seen_at or 0.0), m.uuid))
        return live + done

    def get(self, uuid: str) -> Meeting | None:
        return self.meetings.get(uuid)

    @property
    def live_count(self) -> int:
        return sum(1 for m in self.meetings.values() if m.is_live)

    # -- applying ----------------------------------------------------------------------
    def apply_all(self, events: Iterable[ZoomEvent]) -> set[str]:
        """Apply several events; the union of the meetings they changed."""
        changed: set[str] = set()
        for ev in events:
            c = self.apply(ev)
            if c:
                changed |= c
        return changed

    def apply(self, event: ZoomEvent) -> set[str] | None:
        """Apply one event (any kind; never raises on odd payloads)."""
        family, _, suffix = event.name.partition(".")
        if family not in _KINDS:
            return None
        if suffix == "updated":
            return self._updated(event)
        if suffix == "deleted":
            return self._deleted(event)
        presence = _PRESENCE.get(suffix)
        creates = presence is not None or suffix in _LIVE_OTHER
        m = self._meeting_for(event, family, creates)
        if m is None:
            return None
        changed = self._apply_to(m, event, suffix, presence, creates)
        if changed:
            m.version += 1
            self.version += 1
            return {m.uuid}
        return set()

    def note_gap(self, start: float, end: float) -> set[str]:
        """The connection was down from `start` to `end`: flag the meetings live in it."""
        changed = set()
        for m in self.meetings.values():
            if m.is_live and m.first_seen_at <= end:
                m.flags["gap"] += 1
                m.version += 1
                changed.add(m.uuid)
        if changed:
            self.version += 1
        return changed

    def prune(self, now: float) -> set[str]:
        """Drop meetings finished more than `retain_ended` s ago (and idle ones, if set)."""
        gone = set()
        for uuid, m in self.meetings.items():
            if m.finished_seen_at is not None:
                if now - m.finished_seen_at >= self.retain_ended:
                    gone.add(uuid)
            elif (
                self.forget_idle_after is not None
                and now - m.last_event_at >= self.forget_idle_after
            ):
                gone.add(uuid)
        for uuid in gone:
            m = self.meetings.pop(uuid)
            if m.id is not None:
                ids = self._by_id.get(m.id)
                if ids is not None:
                    ids.discard(uuid)
                    if not ids:
                        del self._by_id[m.id]
            self._tombstones[uuid] = None
        while len(self._tombstones) > _TOMBSTONES:
            del self._tombstones[next(iter(self._tombstones))]
        if gone:
            self.version += 1
        return gone

    # -- internals ---------------------------------------------------------------------
    def _meeting_for(self, event: ZoomEvent, kind: str, creates: bool) -> Meeting | None:
        uuid = event.meeting_uuid
        if uuid is None:
            # No uuid: attach to the one live occurrence with this id, if there is exactly one.
            uuids = self._by_id.get(event.meeting_id or "", ())
            live = [u for u in uuids if self.meetings[u].is_live]
            if len(live) != 1:
                return None
            uuid = live[0]
        m = self.meetings.get(uuid)
        if m is not None:
            return m
        if not creates or uuid in self._tombstones:
            return None
        m = Meeting(
            uuid=uuid, kind=kind, first_seen_at=event.received_at, last_event_at=event.received_at
        )
        self.meetings[uuid] = m
        return m

    def _apply_to(
        self,
        m: Meeting,
        event: ZoomEvent,
        suffix: str,
        presence: tuple[int, str, str] | None,
        live: bool,
    ) -> bool:
        obj = _object_of(event)
        part = obj.get("participant") if presence is not None else None
        if not isinstance(part, dict):
            part = None
        ets = _event_ts(event)
        # dedupe: the event's name, stamp, participant and own time
        own_time: Any = None
        if presence is not None and part is not None:
            own_time = part.get(presence[2])
        elif suffix == "ended":
            own_time = obj.get("end_time")
        elif suffix == "started":
            own_time = obj.get("start_time")
        # Dedupe the events that drive state (presence, start, end) by the event's name,
        # stamp, participant and own time.  Other kinds (qos every minute per person ...)
        # change nothing a repeat could spoil, and remembering them would grow without end.
        if presence is not None or suffix in ("started", "ended"):
            dkey = (
                event.name,
                event.event_ts_ms,
                event.participant_key,
                own_time if isinstance(own_time, str) else None,
            )
            if dkey in m._seen:
                m.flags["duplicate"] += 1
                if part is not None:  # a resend may still carry an id or a name the first lacked
                    self._resolve(m, event, part)
                return True
            m._seen.add(dkey)
        is_new = m.event_count == 0
        m.event_count += 1
        m.last_event_at = max(m.last_event_at, event.received_at)
        changed = is_new
        exit_event = presence is not None and presence[0] in (_LEAVE, _UNWAIT)
        if live and m.ended and not exit_event and suffix != "ended":
            m.flags["late"] += 1
            changed = True
        if live:  # scheduling events (created, registration_*) describe the schedule, not this run
            changed |= self._absorb_details(m, obj, ets, suffix)
        if suffix == "started":
            if not m.start_seen:
                m.start_seen = True
                changed = True
        elif suffix == "ended":
            changed |= self._end(m, event, obj, ets)
        elif presence is not None:
            changed |= self._presence(m, event, part, presence, ets)
        return changed

    def _absorb_details(self, m: Meeting, obj: dict, ets: int, suffix: str) -> bool:
        changed = False
        mid = _sid(obj.get("id"))
        if mid is not None and m.id is None:
            m.id = mid
            self._by_id.setdefault(mid, set()).add(m.uuid)
            changed = True
        topic = obj.get("topic")
        if isinstance(topic, str) and (ets, topic) >= m._topic_key:
            m._topic_key = (ets, topic)  # the newest stamp wins (the topic breaks a tie)
            if topic != m.topic:
                if m.topic is not None:
                    m.previous_topic = m.topic
                m.topic = topic
                changed = True
        host = _sid(obj.get("host_id"))
        if host is not None and m.host_id is None:
            m.host_id = host
            changed = True
        mtype = obj.get("type")
        if isinstance(mtype, int) and not isinstance(mtype, bool) and m.type is None:
            m.type = mtype
            changed = True
        start = _ms(obj.get("start_time"))
        if start is not None:
            # meeting.started's start_time beats any other event's; the earliest one wins
            rank = (suffix != "started", start)
            if m._start_rank is None or rank < m._start_rank:
                m._start_rank = rank
                if start != m.start_ms:
                    m.start_ms = start
                    changed = True
        return changed

    def _end(self, m: Meeting, event: ZoomEvent, obj: dict, ets: int) -> bool:
        end_ms = _ms(obj.get("end_time"))
        if end_ms is None:
            end_ms = ets
        key = (end_ms, ets, _END)
        if m._end_key is not None and m._end_key <= key:
            return False  # an earlier end is already known
        m._end_key = key
        m.end_ms = end_ms
        if not m.ended:
            m.ended = True
            if m.finished_seen_at is None:
                m.finished_seen_at = event.received_at
        for p in m.participants.values():
            m._refold(p)
        m._note_order(key)
        return True

    def _presence(
        self,
        m: Meeting,
        event: ZoomEvent,
        part: dict | None,
        presence: tuple[int, str, str],
        ets: int,
    ) -> bool:
        if part is None:
            m.flags["participant without id"] += 1
            return True
        p = self._resolve(m, event, part)
        if p is None:
            m.flags["participant without id"] += 1
            return True
        rank, detail, time_field = presence
        t = _ms(part.get(time_field))
        if t is None:
            # Zoom's own times have 1 s resolution: a fallback to event_ts is cut to the
            # second too, so the two sources compare fairly (event_ts then breaks the tie).
            t = ets - ets % 1000
        if rank == _LEAVE:
            detail = _clean_reason(part.get("leave_reason"))
        tr: Transition = (t, ets, rank, detail)
        trs = p.transitions
        if not trs or tr > trs[-1]:
            trs.append(tr)
        else:
            i = bisect.bisect_left(trs, tr)
            if i < len(trs) and trs[i] == tr:
                return False  # the same transition from another event (e.g. a resend)
            trs.insert(i, tr)
            m.flags["out of order"] += 1
        m._refold(p)
        m._note_order((t, ets, rank))
        return True

    def _resolve(self, m: Meeting, event: ZoomEvent, part: dict) -> Participant | None:
        """The record for this participant: by participant_uuid, else id, else user_id,
        through the aliases of every id seen; records found to be one person are merged."""
        pu = _sid(part.get("participant_uuid"))
        ref = _sid(part.get("id"))
        uid = _sid(part.get("user_id"))
        if pu is None and ref is None and uid is None:
            return None
        aliases = m._aliases
        wanted = (pu and "pu:" + pu, ref and "id:" + ref, uid and "uid:" + uid)
        found: list[Participant] = []
        for alias in wanted:
            r = aliases.get(alias) if alias else None
            if r is not None and r not in found:
                found.append(r)
        # Records with another participant_uuid are other sessions (the same user on two
        # devices shares an id): never merged, never matched.
        own_pu = pu or next((r.participant_uuid for r in found if r.participant_uuid), None)
        found = [r for r in found if r.participant_uuid is None or r.participant_uuid == own_pu]
        if not found:
            p = Participant(key=pu or ref or uid)  # type: ignore[arg-type]
            m.participants[p.key] = p
        else:
            p = next((r for r in found if r.participant_uuid is not None), found[0])
            for other in found:
                if other is not p:
                    self._merge(m, p, other)
        if pu is not None and p.participant_uuid is None:
            p.participant_uuid = pu
        if ref is not None and p.user_ref is None:
            p.user_ref = ref
        if uid is not None:
            p.user_id = uid
        name, email = part.get("user_name"), part.get("email")
        if isinstance(name, str) and name:
            p.name = name
        if isinstance(email, str) and email:
            p.email = email
        for alias in wanted:
            if alias and alias not in aliases:
                aliases[alias] = p
        best = p.participant_uuid or p.user_ref or p.key
        if best != p.key and best not in m.participants:
            del m.participants[p.key]
            p.key = best
            m.participants[best] = p
        return p

    def _merge(self, m: Meeting, into: Participant, other: Participant) -> None:
        m._forget_participant(other)
        into.transitions = sorted(set(into.transitions) | set(other.transitions))
        for attr in ("name", "email", "participant_uuid", "user_ref", "user_id"):
            if getattr(into, attr) is None:
                setattr(into, attr, getattr(other, attr))
        for alias, r in list(m._aliases.items()):
            if r is other:
                m._aliases[alias] = into
        m._refold(into)
        m._peak_dirty = True

    def _updated(self, event: ZoomEvent) -> set[str] | None:
        """meeting.updated: the object holds only the changed fields (and the id)."""
        obj = _object_of(event)
        mid = _sid(obj.get("id"))
        uuid = event.meeting_uuid
        targets = [uuid] if uuid in self.meetings else sorted(self._by_id.get(mid or "", ()))
        if not targets:
            return None
        topic = obj.get("topic")
        old = _payload_of(event).get("old_object")
        old_topic = old.get("topic") if isinstance(old, dict) else None
        ets = _event_ts(event)
        changed = set()
        for u in targets:
            m = self.meetings[u]
            m.last_event_at = max(m.last_event_at, event.received_at)
            if isinstance(topic, str) and (ets, topic) >= m._topic_key:
                m._topic_key = (ets, topic)
                if topic != m.topic:
                    m.previous_topic = old_topic if isinstance(old_topic, str) else m.topic
                    m.topic = topic
                    m.version += 1
                    changed.add(u)
        if changed:
            self.version += 1
        return changed

    def _deleted(self, event: ZoomEvent) -> set[str] | None:
        uuid = event.meeting_uuid
        targets = (
            [uuid] if uuid in self.meetings else sorted(self._by_id.get(event.meeting_id or "", ()))
        )
        if not targets:
            return None
        changed = set()
        for u in targets:
            m = self.meetings[u]
            if not m.deleted:
                m.deleted = True
                if m.finished_seen_at is None:
                    m.finished_seen_at = event.received_at
                m.version += 1
                changed.add(u)
        if changed:
            self.version += 1
        return changed
