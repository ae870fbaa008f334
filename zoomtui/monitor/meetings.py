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
ignores stray events for them afterwards, so they do not come back as zombies); at most
``max_ended`` are kept whatever their age (a busy account ends a meeting every few
seconds), the oldest finished going first.

Bounded per person too: the newest ``max_transitions`` transitions are kept; beyond, the
oldest half is folded into a summary (`Participant._compact`).  Reordering is local (a
late event is seconds or minutes late, not dozens of a person's transitions late), so
everything shown stays exact; a transition older than the summary is counted "out of
order" and not applied, and the meeting's peak keeps the exact value it had when the
summarised stays went (it can be off by those people if late events then change the
past).  Only people who come and go dozens of times ever reach this.  Dedupe keys are
kept for the last two generations of ``_SEEN_GENERATION`` events per meeting (more in a
big webinar: twice its participants); an older resend still changes nothing (its
transition is already there), it is just not counted.

In time order (the usual case) a transition costs one step of the fold, not a fold of
the person's whole history, and a meeting's end only closes the stays still open.

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
import functools
import itertools
import operator
import re
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zoomtui.zoom.protocol import ZoomEvent

__all__ = [
    "DEFAULT_MAX_ENDED",
    "DEFAULT_MAX_TRANSITIONS",
    "DEFAULT_RETAIN_ENDED",
    "FLAG_LABELS",
    "Meeting",
    "MeetingTracker",
    "Participant",
    "Presence",
]

#: Seconds an ended meeting stays listed (dimmed) after we learned that it ended.
DEFAULT_RETAIN_ENDED = 15 * 60.0
#: Ended (or deleted) meetings kept at most, however recent: a busy account ends a
#: meeting every few seconds, and each one holds its participants' histories.
DEFAULT_MAX_ENDED = 200
#: Transitions kept per person; older ones are summarised (see `Participant._compact`).
#: Far above what anyone does in a meeting, so the summary is for pathological streams.
DEFAULT_MAX_TRANSITIONS = 64
#: Live meetings whose last event came before a connection gap may have ended inside it
#: (Zoom never re-sends a lost `meeting.ended`), so they could stay "live" forever. They
#: keep their place (a quiet meeting is normal) but are bounded: dropped after this long
#: with no event, and at most `DEFAULT_MAX_GAP_STALE` of them, the longest idle going first.
DEFAULT_FORGET_AFTER_GAP = 6 * 3600.0
DEFAULT_MAX_GAP_STALE = 200
#: Dedupe keys remembered per meeting: two generations of this many (or of twice the
#: meeting's participants, so a webinar's join and leave waves are both remembered).
_SEEN_GENERATION = 8192
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
    if not isinstance(text, str):
        return "left"
    return _cleaned(text)


@functools.lru_cache(maxsize=1024)
def _cleaned(text: str) -> str:
    # Cached: the same few reasons (per person) come with every leave; one string each.
    if not text.strip():
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
    return _iso_ms(v)


@functools.lru_cache(maxsize=4096)
def _iso_ms(v: str) -> int | None:
    # Cached: a meeting's start_time comes with each of its events, and at a few thousand
    # events a second many share their join or leave second.
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


_NO_FLAGS: frozenset[str] = frozenset()
_JOIN_AFTER_END = frozenset({"join after end"})
_LEFT_WITHOUT_JOIN = frozenset({"left without join"})


class _Fold:
    """The state of a fold over one person's transitions, before the meeting's end is
    applied to an open stay (`Participant._finish` does that).  Kept between events, so
    a transition that arrives in time order costs one step instead of a fold of all of
    them; the base of a person whose oldest transitions were summarised is one too."""

    __slots__ = (
        "closed",
        "detail",
        "ended",
        "entries",
        "first_join",
        "flags",
        "in_key",
        "in_since",
        "last_join",
        "leave",
        "points",
        "status",
        "synthetic_end",
    )

    def __init__(self) -> None:
        self.status: Presence | None = None
        self.detail = ""
        self.entries = 0
        self.first_join: int | None = None
        self.last_join: int | None = None
        self.leave: int | None = None
        self.closed = 0  # in-meeting ms of finished stays
        self.in_since: int | None = None
        self.in_key: _Key | None = None
        # (immutable and shared: a fold per new person allocates as little as it can)
        self.flags: frozenset[str] = _NO_FLAGS
        self.ended = False  # a transition after the meeting's end was folded
        self.synthetic_end = False  # "meeting ended" stands for a leave not seen yet
        #: the finished stays' starts and ends as packed keys (x2, +1 for a start); None: none
        self.points: list[int] | None = None

    def copy(self) -> _Fold:
        c = _Fold.__new__(_Fold)
        c.status, c.detail, c.entries = self.status, self.detail, self.entries
        c.first_join, c.last_join, c.leave = self.first_join, self.last_join, self.leave
        c.closed, c.in_since, c.in_key = self.closed, self.in_since, self.in_key
        c.flags = self.flags
        c.ended, c.synthetic_end = self.ended, self.synthetic_end
        c.points = None if self.points is None else list(self.points)
        return c

    def _close(self, until: int, key: _Key) -> None:
        """The open stay ends at `key` (time `until`)."""
        self.closed += max(0, until - self.in_since)  # type: ignore[operator]
        points = self.points
        if points is None:
            points = self.points = []
        points.append(_pack(self.in_key) * 2 + 1)  # type: ignore[arg-type]
        points.append(_pack(key) * 2)  # at one key an end sorts before a start
        self.in_since = None

    def step(self, tr: Transition, end: _Key | None) -> None:
        """Fold one more transition (the newest so far) given the meeting's end."""
        t, ets, rank, text = tr
        status = self.status
        if end is not None and not self.ended and (t, ets, rank) > end:
            self.ended = True
            if status is Presence.IN:
                self._close(end[0], end)
                self.leave = end[0]
            if status is not None and status is not Presence.LEFT:
                status = self.status = Presence.LEFT
                self.detail, self.synthetic_end = "meeting ended", True
        if self.ended:
            # After the end only exits make sense; a leave's reason beats "meeting ended".
            if rank == _JOIN:
                self.flags |= _JOIN_AFTER_END
            elif rank == _LEAVE:
                if status is None:
                    self.status, self.leave, self.detail = Presence.LEFT, t, text
                    self.flags |= _LEFT_WITHOUT_JOIN
                elif self.synthetic_end:
                    self.detail, self.synthetic_end = text, False
            return
        if rank == _JOIN:
            if status is not Presence.IN:
                self.status, self.detail = Presence.IN, ""
                self.in_since, self.in_key = t, (t, ets, rank)
                self.entries += 1
                self.last_join = t
                if self.first_join is None:
                    self.first_join = t
        elif rank == _LEAVE:
            if status is Presence.IN:
                self._close(t, (t, ets, rank))
            elif self.entries == 0 and status is not Presence.WAITING:
                self.flags |= _LEFT_WITHOUT_JOIN
            self.status, self.detail, self.leave = Presence.LEFT, text, t
        elif rank == _WAIT:
            if status is Presence.IN:
                self._close(t, (t, ets, rank))
                self.leave = t
            self.status, self.detail = Presence.WAITING, text
        elif rank == _UNWAIT and status is Presence.WAITING:
            self.status, self.detail, self.leave = Presence.LEFT, text, t


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
    #: the newest transitions, in time order (older ones are summarised in `_base`)
    transitions: list[Transition] = field(default_factory=list)
    _closed_ms: int = 0  # in-meeting time of finished stays
    _in_since_ms: int | None = None
    #: the fold of `transitions` so far (None: not folded yet)
    _run: _Fold | None = None
    #: the fold of the transitions dropped from the front of `transitions` (None: none were)
    _base: _Fold | None = None
    #: the newest transition summarised in `_base`
    _base_key: Transition | None = None
    #: the open stay (start, None), or the one the meeting's end closed (start, end)
    _last_stay: tuple[_Key, _Key | None] | None = None

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
        run = self._base.copy() if self._base is not None else _Fold()
        step = run.step
        for tr in self.transitions:
            step(tr, end)
        self._run = run
        self._finish(end)

    def _advance(self, tr: Transition, end: _Key | None) -> None:
        """`tr` was appended as the newest transition: one step, not a whole fold."""
        run = self._run
        if run is None:
            self._fold(end)
            return
        run.step(tr, end)
        self._finish(end)

    def _finish(self, end: _Key | None) -> None:
        """Publish the fold: the meeting's end closes a stay still open at the last transition."""
        run = self._run
        assert run is not None
        status, detail, leave = run.status, run.detail, run.leave
        closed, in_since, flags = run.closed, run.in_since, run.flags
        stay: tuple[_Key, _Key | None] | None = None
        if end is not None and not run.ended and status is not None and status is not Presence.LEFT:
            if status is Presence.IN:
                closed += max(0, end[0] - in_since)  # type: ignore[operator]
                stay = (run.in_key, end)  # type: ignore[assignment]
                in_since = None
                leave = end[0]
            status, detail = Presence.LEFT, "meeting ended"
        if status is Presence.IN:
            stay = (run.in_key, None)  # type: ignore[assignment]
        if status is None and "join after end" in flags:
            detail = "joined after the meeting ended"
        self.status = status if status is not None else Presence.LEFT
        self.detail = detail
        self.entries = run.entries
        self.first_join_ms, self.join_ms, self.leave_ms = run.first_join, run.last_join, leave
        self._closed_ms, self._in_since_ms = closed, in_since
        self._last_stay = stay
        if flags is not self.flags:
            self.flags = flags

    def _compact(self, keep: int, end: _Key | None) -> None:
        """Fold all but the newest `keep` transitions into the base: a person who comes and
        goes all day costs a bounded record.  Order tolerance needs only recent history:
        a transition older than the base is counted out of order and otherwise ignored."""
        trs = self.transitions
        cut = len(trs) - keep
        if cut <= 0:
            return
        base = self._base.copy() if self._base is not None else _Fold()
        for tr in trs[:cut]:
            base.step(tr, end)
        base.points = None  # the meeting keeps the peak they gave (Meeting._peak_floor)
        self._base = base
        self._base_key = trs[cut - 1]
        del trs[:cut]
        self._fold(end)

    @property
    def _points(self) -> list[int]:
        """Every stay's start and end as packed keys, for the meeting's peak sweep."""
        run = self._run
        points = list(run.points) if run is not None and run.points else []
        stay = self._last_stay
        if stay is not None:  # packed here: a sweep is rare, a fold is per event
            points.append(_pack(stay[0]) * 2 + 1)
            if stay[1] is not None:
                points.append(_pack(stay[1]) * 2)
        return points


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
    _topic_key: tuple[int, str] = (-(2**62), "")
    _start_rank: tuple[bool, int] | None = None
    _end_key: _Key | None = None
    _peak: int = 0
    _peak_dirty: bool = False
    _max_key: _Key = (-(2**62), 0, 0)
    #: the exact peak when someone's oldest transitions were summarised (see Participant._compact)
    _peak_floor: int = 0
    #: every id seen -> its record: by participant_uuid, by id, by user_id
    _aliases: tuple[dict[str, Participant], dict[str, Participant], dict[str, Participant]] = field(
        default_factory=lambda: ({}, {}, {})
    )
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
        floor = min(self._peak_floor, len(self.participants))
        points = [x for p in self.participants.values() for x in p._points]
        if not points:
            return floor
        points.sort()
        starts = itertools.accumulate(map(operator.and_, points, itertools.repeat(1)))
        counts = map(
            operator.sub, map(operator.mul, starts, itertools.repeat(2)), itertools.count(1)
        )
        return max(0, floor, max(counts))

    # -- changing ----------------------------------------------------------------------
    def _refold(
        self, p: Participant, appended: Transition | None = None, *, end_only: bool = False
    ) -> None:
        """Re-derive one participant and keep the meeting's counters in step.
        `appended`: the one transition added since the last fold, the newest of them;
        `end_only`: only the meeting's end changed, and it falls after all of theirs."""
        was_in, was_waiting, old_flags = (
            p.status is Presence.IN,
            p.status is Presence.WAITING,
            p.flags,
        )
        if appended is not None:
            p._advance(appended, self._end_key)
        elif end_only and p._run is not None:
            p._finish(self._end_key)
        else:
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
    try:
        body = event.body
    except Exception:  # a hand-built event whose raw frame cannot be parsed: nothing to read
        return {}
    payload = body.get("payload")
    if payload.__class__ is not dict and not isinstance(payload, dict):
        return {}
    obj = payload.get("object")
    return obj if obj.__class__ is dict or isinstance(obj, dict) else {}


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
        max_ended: int = DEFAULT_MAX_ENDED,
        max_transitions: int = DEFAULT_MAX_TRANSITIONS,
        forget_after_gap: float | None = DEFAULT_FORGET_AFTER_GAP,
        max_gap_stale: int = DEFAULT_MAX_GAP_STALE,
    ) -> None:
        #: seconds an ended (or deleted) meeting stays listed after we learned of it
        self.retain_ended = retain_ended
        #: seconds after which a live meeting with no events is dropped (None: never).  A
        #: meeting whose end fell into a connection gap would otherwise stay live forever.
        self.forget_idle_after = forget_idle_after
        #: seconds with no event after which a live meeting last heard of before a gap is
        #: dropped (None: never), and how many such meetings are kept at most
        self.forget_after_gap = forget_after_gap
        self.max_gap_stale = max(0, max_gap_stale)
        #: ended meetings kept at most: the oldest finished goes as soon as one more ends
        self.max_ended = max(0, max_ended)
        #: transitions kept per person (at least 2); beyond, the oldest half is summarised
        self.max_transitions = max(2, max_transitions)
        self.meetings: dict[str, Meeting] = {}
        self.version = 0
        self._by_id: dict[str, set[str]] = {}
        # (OrderedDicts: dropping the oldest is popitem(last=False), O(1); next(iter(dict))
        # after many deletions at the front walks their empty slots)
        self._tombstones: OrderedDict[str, None] = OrderedDict()
        #: finished meetings, in the order we learned they finished
        self._finished: OrderedDict[str, None] = OrderedDict()

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
                if m.last_event_at <= end:
                    m.gap_since = end
                m.flags["gap"] += 1
                m.version += 1
                changed.add(m.uuid)
        if changed:
            self.version += 1
        return changed

    def prune(self, now: float) -> set[str]:
        """Drop meetings finished more than `retain_ended` s ago, idle ones (if set), and
        live ones whose end may have been lost in a gap (`forget_after_gap`, `max_gap_stale`).
        (The count limit, `max_ended`, holds at all times: `apply` keeps it.)"""
        gone = set()
        stale: list[Meeting] = []
        for uuid, m in self.meetings.items():
            if m.finished_seen_at is not None:
                if now - m.finished_seen_at >= self.retain_ended:
                    gone.add(uuid)
            elif (
                self.forget_idle_after is not None
                and now - m.last_event_at >= self.forget_idle_after
            ):
                gone.add(uuid)
            elif m.gap_since is not None:
                if (
                    self.forget_after_gap is not None
                    and now - m.last_event_at >= self.forget_after_gap
                ):
                    gone.add(uuid)
                else:
                    stale.append(m)
        if len(stale) > self.max_gap_stale:
            stale.sort(key=lambda m: m.last_event_at)
            gone.update(m.uuid for m in stale[: len(stale) - self.max_gap_stale])
        for uuid in gone:
            self._drop(uuid)
        if gone:
            self.version += 1
        return gone

    def _drop(self, uuid: str) -> None:
        """Forget a meeting, and ignore stray events for it from now on (no zombies)."""
        m = self.meetings.pop(uuid)
        self._finished.pop(uuid, None)
        if m.id is not None:
            ids = self._by_id.get(m.id)
            if ids is not None:
                ids.discard(uuid)
                if not ids:
                    del self._by_id[m.id]
        self._tombstones[uuid] = None
        if len(self._tombstones) > _TOMBSTONES:
            self._tombstones.popitem(last=False)

    def _finished_now(self, m: Meeting, at: float) -> None:
        """`m` just ended or was deleted: note when, and keep at most `max_ended` of them."""
        m.finished_seen_at = at
        finished = self._finished
        finished[m.uuid] = None
        while len(finished) > self.max_ended:
            self._drop(finished.popitem(last=False)[0])

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
            seen = m._seen
            if dkey in seen or dkey in m._seen_old:
                m.flags["duplicate"] += 1
                if part is not None:  # a resend may still carry an id or a name the first lacked
                    self._resolve(m, event, part)
                return True
            if len(seen) >= _SEEN_GENERATION and len(seen) >= 2 * len(m.participants):
                m._seen_old, seen = seen, set()
                m._seen = seen
            seen.add(dkey)
        is_new = m.event_count == 0
        m.event_count += 1
        m.last_event_at = max(m.last_event_at, event.received_at)
        m.gap_since = None
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
        # (id, host and type are kept from the first event that has them: once known, not
        # read again; this runs for every event of a live meeting)
        if m.id is None:
            mid = _sid(obj.get("id"))
            if mid is not None:
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
        if m.host_id is None:
            host = _sid(obj.get("host_id"))
            if host is not None:
                m.host_id = host
                changed = True
        if m.type is None:
            mtype = obj.get("type")
            if isinstance(mtype, int) and not isinstance(mtype, bool):
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
        old = m._end_key
        if old is not None and old <= key:
            return False  # an earlier end is already known
        m._end_key = key
        m.end_ms = end_ms
        if not m.ended:
            m.ended = True
            if m.finished_seen_at is None:
                self._finished_now(m, event.received_at)
        for p in m.participants.values():
            # The fold so far depends on the end only through transitions after it (old or
            # new); the usual end comes after everything, and only closes the open stays.
            last = p.transitions[-1] if p.transitions else p._base_key
            after = last is not None and (
                (last[0], last[1], last[2]) > key
                or (old is not None and (last[0], last[1], last[2]) > old)
            )
            m._refold(p, end_only=not after)
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
            m._refold(p, tr)  # the newest: one step
        else:
            if p._base_key is not None and tr <= p._base_key:
                # Older than everything kept for this person (who has come and gone more
                # than `max_transitions` times): too late to place, counted, not applied.
                m.flags["out of order"] += 1
                return True
            i = bisect.bisect_left(trs, tr)
            if i < len(trs) and trs[i] == tr:
                return False  # the same transition from another event (e.g. a resend)
            trs.insert(i, tr)
            m.flags["out of order"] += 1
            m._refold(p)
        m._note_order((t, ets, rank))
        if len(trs) > self.max_transitions:
            m._peak_floor = max(m._peak_floor, m.peak_count)  # before their old stays go
            p._compact(self.max_transitions // 2, m._end_key)
        return True

    def _resolve(self, m: Meeting, event: ZoomEvent, part: dict) -> Participant | None:
        """The record for this participant: by participant_uuid, else id, else user_id,
        through the aliases of every id seen; records found to be one person are merged."""
        get = part.get
        pu = _sid(get("participant_uuid"))
        ref = _sid(get("id"))
        uid = _sid(get("user_id"))
        if pu is None and ref is None and uid is None:
            return None
        by_pu, by_ref, by_uid = m._aliases
        h_pu = by_pu.get(pu) if pu is not None else None
        h_ref = by_ref.get(ref) if ref is not None else None
        h_uid = by_uid.get(uid) if uid is not None else None
        p = h_pu or h_ref or h_uid
        if (
            p is not None
            and (h_ref is None or h_ref is p)
            and (h_uid is None or h_uid is p)
            and (pu is None or p.participant_uuid is None or p.participant_uuid == pu)
        ):
            pass  # the usual case: one known record (a new user_id on a rejoin is added below)
        else:
            found: list[Participant] = []
            for r in (h_pu, h_ref, h_uid):
                if r is not None and r not in found:
                    found.append(r)
            # Records with another participant_uuid are other sessions (the same user on two
            # devices shares an id): never merged, never matched.
            own_pu = pu or next((r.participant_uuid for r in found if r.participant_uuid), None)
            found = [r for r in found if r.participant_uuid is None or r.participant_uuid == own_pu]
            if not found:
                key: str = pu or ref or uid  # type: ignore[assignment]
                if key in m.participants:
                    # Another person's id of another kind with the same text (seen only in
                    # made-up data): never overwrite their record.
                    key = next(
                        k for n in itertools.count(2) if (k := f"{key}~{n}") not in m.participants
                    )
                p = Participant(key=key)
                m.participants[key] = p
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
        name, email = get("user_name"), get("email")
        if name and isinstance(name, str):
            p.name = name
        if email and isinstance(email, str):
            p.email = email
        # ids not seen before now lead to this record (one seen before keeps its record:
        # another session of the same user, or this one)
        if h_pu is None and pu is not None:
            by_pu[pu] = p
        if h_ref is None and ref is not None:
            by_ref[ref] = p
        if h_uid is None and uid is not None:
            by_uid[uid] = p
        best = p.participant_uuid or p.user_ref or p.key
        if best != p.key and best not in m.participants:
            del m.participants[p.key]
            p.key = best
            m.participants[best] = p
        return p

    def _merge(self, m: Meeting, into: Participant, other: Participant) -> None:
        m._forget_participant(other)
        trs = set(into.transitions) | set(other.transitions)
        if other._base is not None and (into._base_key is None or other._base_key > into._base_key):  # type: ignore[operator]
            # (both summarised: rare; the newer summary stands for both, approximately)
            m._peak_floor = max(m._peak_floor, m.peak_count)
            into._base, into._base_key = other._base, other._base_key
        if into._base_key is not None:
            trs = {tr for tr in trs if tr > into._base_key}  # type: ignore[operator]
        into.transitions = sorted(trs)
        for attr in ("name", "email", "participant_uuid", "user_ref", "user_id"):
            if getattr(into, attr) is None:
                setattr(into, attr, getattr(other, attr))
        for index in m._aliases:
            for ident, r in list(index.items()):
                if r is other:
                    index[ident] = into
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
            m.gap_since = None
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
            m = self.meetings.get(u)
            if m is None:  # (dropped just now: more meetings finished than are kept)
                continue
            if not m.deleted:
                m.deleted = True
                if m.finished_seen_at is None:
                    self._finished_now(m, event.received_at)
                m.version += 1
                changed.add(u)
        if changed:
            self.version += 1
        return changed
