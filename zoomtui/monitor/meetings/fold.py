"""One person's presence in a meeting, folded from the transitions seen for them.

A transition is one join, leave, or waiting-room move, stamped with its own time.  A
person's state (in, waiting, left; their times, stays and data flags) is the fold of their
transitions in time order: `PresenceFold.step` takes one more.  The fold is kept between
events (`Participant` holds it), so a transition that arrives in time order costs one step,
not a fold of the person's whole history.
"""

from __future__ import annotations

import enum

__all__ = [
    "END",
    "JOIN",
    "LEAVE",
    "UNWAIT",
    "WAIT",
    "Key",
    "Presence",
    "PresenceFold",
    "Transition",
    "pack_key",
]


class Presence(enum.StrEnum):
    IN = "in"
    WAITING = "waiting"  # waiting room, or waiting for the host
    LEFT = "left"


# Transition ranks: the order of transitions that carry the same time and event_ts (END is
# the meeting's end, which closes the stays still open).
WAIT, UNWAIT, JOIN, LEAVE, END = range(5)


# A transition: (time ms, event_ts ms, rank, detail).  Tuples sort in time order; at one
# time the event_ts breaks the tie, then the rank (a leave after a join at the same instant).
Transition = tuple[int, int, int, str]
#: A transition's place in time order, without its detail.
Key = tuple[int, int, int]


_ETS_LIMIT = 1 << 45  # protocol.py keeps event_ts below the year 3000 (< 2**45 ms)


def pack_key(key: Key) -> int:
    """(time, event_ts, rank) as one int in the same order (event_ts clamped to Zoom's range)."""
    t, ets, rank = key
    ets = min(max(ets, 0), _ETS_LIMIT - 1)
    return ((t * _ETS_LIMIT) + ets) * 8 + rank


_NO_FLAGS: frozenset[str] = frozenset()
_JOIN_AFTER_END = frozenset({"join after end"})
_LEFT_WITHOUT_JOIN = frozenset({"left without join"})


class PresenceFold:
    """The state of a fold over one person's transitions, before the meeting's end is
    applied to an open stay (`Participant` does that when it publishes the fold).  Kept between events, so
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
        self.in_key: Key | None = None
        # (immutable and shared: a fold per new person allocates as little as it can)
        self.flags: frozenset[str] = _NO_FLAGS
        self.ended = False  # a transition after the meeting's end was folded
        self.synthetic_end = False  # "meeting ended" stands for a leave not seen yet
        #: the finished stays' starts and ends as packed keys (x2, +1 for a start); None: none
        self.points: list[int] | None = None

    def copy(self) -> PresenceFold:
        c = PresenceFold.__new__(PresenceFold)
        c.status, c.detail, c.entries = self.status, self.detail, self.entries
        c.first_join, c.last_join, c.leave = self.first_join, self.last_join, self.leave
        c.closed, c.in_since, c.in_key = self.closed, self.in_since, self.in_key
        c.flags = self.flags
        c.ended, c.synthetic_end = self.ended, self.synthetic_end
        c.points = None if self.points is None else list(self.points)
        return c

    @classmethod
    def summary(
        cls, base: PresenceFold | None, transitions: list[Transition], end: Key | None
    ) -> PresenceFold:
        """The fold of `transitions` after `base` (None: from nothing), kept as the summary
        of a person's oldest transitions: without their finished stays' points (the meeting
        keeps the peak they gave, `Meeting._peak_floor`)."""
        fold = base.copy() if base is not None else cls()
        for tr in transitions:
            fold.step(tr, end)
        fold.points = None
        return fold

    def _close(self, until: int, key: Key) -> None:
        """The open stay ends at `key` (time `until`)."""
        self.closed += max(0, until - self.in_since)  # type: ignore[operator]  # a stay is open
        points = self.points
        if points is None:
            points = self.points = []
        points.append(pack_key(self.in_key) * 2 + 1)  # type: ignore[arg-type]  # (so it has a key)
        points.append(pack_key(key) * 2)  # at one key an end sorts before a start
        self.in_since = None

    def _reach_end(self, end: Key) -> None:
        """The meeting ended (at `end`) before this transition: whoever is in leaves."""
        self.ended = True
        status = self.status
        if status is Presence.IN:
            self._close(end[0], end)
            self.leave = end[0]
        if status is not None and status is not Presence.LEFT:
            self.status = Presence.LEFT
            self.detail, self.synthetic_end = "meeting ended", True

    def _step_after_end(self, t: int, rank: int, text: str) -> None:
        """After the end only exits make sense; a leave's reason beats "meeting ended"."""
        if rank == JOIN:
            self.flags |= _JOIN_AFTER_END
        elif rank == LEAVE:
            if self.status is None:
                self.status, self.leave, self.detail = Presence.LEFT, t, text
                self.flags |= _LEFT_WITHOUT_JOIN
            elif self.synthetic_end:
                self.detail, self.synthetic_end = text, False

    def step(self, tr: Transition, end: Key | None) -> None:
        """Fold one more transition (the newest so far) given the meeting's end."""
        t, ets, rank, text = tr
        if end is not None and not self.ended and (t, ets, rank) > end:
            self._reach_end(end)
        if self.ended:
            self._step_after_end(t, rank, text)
            return
        status = self.status
        if rank == JOIN:
            if status is not Presence.IN:
                self.status, self.detail = Presence.IN, ""
                self.in_since, self.in_key = t, (t, ets, rank)
                self.entries += 1
                self.last_join = t
                if self.first_join is None:
                    self.first_join = t
        elif rank == LEAVE:
            if status is Presence.IN:
                self._close(t, (t, ets, rank))
            elif self.entries == 0 and status is not Presence.WAITING:
                self.flags |= _LEFT_WITHOUT_JOIN
            self.status, self.detail, self.leave = Presence.LEFT, text, t
        elif rank == WAIT:
            if status is Presence.IN:
                self._close(t, (t, ets, rank))
                self.leave = t
            self.status, self.detail = Presence.WAITING, text
        elif rank == UNWAIT and status is Presence.WAITING:
            self.status, self.detail, self.leave = Presence.LEFT, text, t
