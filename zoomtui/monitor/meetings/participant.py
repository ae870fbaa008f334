"""One person in one meeting occurrence: their ids, their transitions, and what they fold to.

A `Participant` keeps its transitions sorted and its fold (`PresenceFold`) up to date; the
`Meeting` that holds it decides when (a new transition, the meeting's end, a merge) and keeps
its own counters in step around each call.  Readers (panes, exports) only read the fields.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from dataclasses import dataclass, field

from zoomtui.monitor.meetings.fold import Key, Presence, PresenceFold, Transition, pack_key
from zoomtui.monitor.meetings.origin import Origin
from zoomtui.monitor.meetings.payload import datetime_of_ms

__all__ = ["ALREADY_THERE", "INSERTED", "TOO_OLD", "Participant"]

_IDENTITY_FIELDS = ("name", "email", "participant_uuid", "user_ref", "user_id")


#: What `Participant.insert` did with a transition that is not the newest: put it in its
#: place in time order (the fold is then stale), found it there already (from another
#: event), or found it older than the summary of the oldest ones (not applied).  Plain ints,
#: not an enum: a member of an enum costs a lookup through its class, on a path taken for
#: every late event.
INSERTED, ALREADY_THERE, TOO_OLD = range(3)


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
    #: where their state shown comes from when not from an event seen live (None: seen live)
    origin: Origin | None = None
    #: the newest transitions, in time order (older ones are summarised in `_base`)
    transitions: list[Transition] = field(default_factory=list)
    _closed_ms: int = 0  # in-meeting time of finished stays
    _in_since_ms: int | None = None
    #: the fold of `transitions` so far (None: not folded yet)
    _run: PresenceFold | None = None
    #: the fold of the transitions dropped from the front of `transitions` (None: none were)
    _base: PresenceFold | None = None
    #: the newest transition summarised in `_base`
    _base_key: Transition | None = None
    #: the open stay (start, None), or the one the meeting's end closed (start, end)
    _last_stay: tuple[Key, Key | None] | None = None

    # -- reading -------------------------------------------------------------------------
    @property
    def is_in(self) -> bool:
        return self.status is Presence.IN

    @property
    def rejoin_count(self) -> int:
        return max(0, self.entries - 1)

    @property
    def join_time(self) -> _dt.datetime | None:
        return datetime_of_ms(self.join_ms)

    @property
    def first_join_time(self) -> _dt.datetime | None:
        return datetime_of_ms(self.first_join_ms)

    @property
    def leave_time(self) -> _dt.datetime | None:
        return datetime_of_ms(self.leave_ms) if self.status is not Presence.IN else None

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

    @property
    def newest_transition(self) -> Transition | None:
        """The newest transition seen for them, kept or summarised (None: none yet)."""
        return self.transitions[-1] if self.transitions else self._base_key

    def stay_points(self) -> list[int]:
        """Every stay's start and end as packed keys, for the meeting's peak sweep."""
        run = self._run
        points = list(run.points) if run is not None and run.points else []
        stay = self._last_stay
        if stay is not None:  # packed here: a sweep is rare, a fold is per event
            points.append(pack_key(stay[0]) * 2 + 1)
            if stay[1] is not None:
                points.append(pack_key(stay[1]) * 2)
        return points

    def has_newer_summary_than(self, other: Participant) -> bool:
        """Their oldest transitions were summarised, and later than `other`'s (if at all)."""
        return self._base is not None and (
            # (a summary has a key: _base and _base_key are set together)
            other._base_key is None or self._base_key > other._base_key  # type: ignore[operator]
        )

    # -- changing (the meeting calls these and keeps its counters in step) -----------------
    def learn_identity(
        self,
        participant_uuid: str | None,
        user_ref: str | None,
        user_id: str | None,
        name: str | None,
        email: str | None,
    ) -> None:
        """What one event says about who they are: their first participant_uuid and id are
        kept; user_id (per session), name and email follow the newest event that has them."""
        if participant_uuid is not None and self.participant_uuid is None:
            self.participant_uuid = participant_uuid
        if user_ref is not None and self.user_ref is None:
            self.user_ref = user_ref
        if user_id is not None:
            self.user_id = user_id
        if name is not None:
            self.name = name
        if email is not None:
            self.email = email

    def advance(self, tr: Transition, end: Key | None) -> None:
        """`tr` is newer than every transition of theirs: append it and fold one step, not
        the whole history."""
        self.transitions.append(tr)
        run = self._run
        if run is None:
            self.refold(end)
            return
        run.step(tr, end)
        self._finish(end)

    def insert(self, tr: Transition) -> int:
        """Put `tr`, which is not the newest, in its place (`refold` brings the fold up to date):
        INSERTED, ALREADY_THERE or TOO_OLD."""
        if self._base_key is not None and tr <= self._base_key:
            # Older than everything kept for this person (who has come and gone more than
            # `max_transitions` times): too late to place.
            return TOO_OLD
        trs = self.transitions
        i = bisect.bisect_left(trs, tr)
        if i < len(trs) and trs[i] == tr:
            return ALREADY_THERE
        trs.insert(i, tr)
        return INSERTED

    def refold(self, end: Key | None) -> None:
        """Derive status, times and flags from the sorted transitions (and the meeting end)."""
        run = self._base.copy() if self._base is not None else PresenceFold()
        step = run.step
        for tr in self.transitions:
            step(tr, end)
        self._run = run
        self._finish(end)

    def apply_end(self, end: Key | None) -> None:
        """Only the meeting's end changed, and it falls after all of their transitions: it
        can only close a stay still open (no fold of the history)."""
        if self._run is None:
            self.refold(end)
        else:
            self._finish(end)

    def compact(self, keep: int, end: Key | None) -> None:
        """Fold all but the newest `keep` transitions into the base: a person who comes and
        goes all day costs a bounded record.  Order tolerance needs only recent history:
        a transition older than the base is counted out of order and otherwise ignored."""
        trs = self.transitions
        cut = len(trs) - keep
        if cut <= 0:
            return
        self._base = PresenceFold.summary(self._base, trs[:cut], end)
        self._base_key = trs[cut - 1]
        del trs[:cut]
        self.refold(end)

    def absorb(self, other: Participant) -> None:
        """`other` turned out to be this person: take their transitions, the newer of the two
        summaries, and the ids and names this record lacks (the meeting refolds after)."""
        trs = set(self.transitions) | set(other.transitions)
        if other.has_newer_summary_than(self):
            # (both summarised: rare; the newer summary stands for both, approximately)
            self._base, self._base_key = other._base, other._base_key
        if self._base_key is not None:
            trs = {tr for tr in trs if tr > self._base_key}
        self.transitions = sorted(trs)
        for attr in _IDENTITY_FIELDS:
            if getattr(self, attr) is None:
                setattr(self, attr, getattr(other, attr))

    def _finish(self, end: Key | None) -> None:
        """Publish the fold: the meeting's end closes a stay still open at the last transition."""
        run = self._run
        assert run is not None
        status, detail, leave = run.status, run.detail, run.leave
        closed, in_since, flags = run.closed, run.in_since, run.flags
        stay: tuple[Key, Key | None] | None = None
        if end is not None and not run.ended and status is not None and status is not Presence.LEFT:
            if status is Presence.IN:  # (IN: in_since and in_key are set; not checked per event)
                closed += max(0, end[0] - in_since)  # type: ignore[operator]
                stay = (run.in_key, end)  # type: ignore[assignment]
                in_since = None
                leave = end[0]
            status, detail = Presence.LEFT, "meeting ended"
        if status is Presence.IN:
            stay = (run.in_key, None)  # type: ignore[assignment]  # IN: in_key is set
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
