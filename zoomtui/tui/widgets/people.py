"""What the participant panel shows of a person: a row copied from the tracker at one
moment (`PersonRow`), the panel's sections and sort orders, the find, the log filter for a
person, and the words for a leave reason.  Names are data (made safe with `visible_text`)."""

from __future__ import annotations

import re
from typing import NamedTuple

from zoomtui.monitor.filters import quote_value
from zoomtui.monitor.meetings import Meeting, Participant, Presence
from zoomtui.monitor.meetings.origin import Origin
from zoomtui.tui.widgets.meetings_pane import meeting_filter
from zoomtui.visible import visible_text

SECTION_TITLES = {Presence.IN: "In the meeting", Presence.WAITING: "Waiting", Presence.LEFT: "Left"}


class PersonRow(NamedTuple):
    """What the panel shows of one participant, copied from the tracker at one moment
    (the attribute names are `Participant`'s).  A tuple: a webinar's thousands of rows
    are copied on each rebuild, and a tuple is the cheapest copy."""

    key: str
    status: Presence
    name: str | None
    email: str | None
    display_name: str
    detail: str
    join_ms: int | None
    first_join_ms: int | None
    leave_ms: int | None
    rejoin_count: int
    flags: frozenset[str]
    stay: float  # seconds in the meeting at `at`
    at: float
    #: known from Zoom's API, or inferred after a gap (None: seen live)
    origin: Origin | None = None

    @classmethod
    def of(cls, p: Participant, now: float, flags: frozenset[str] | None = None) -> PersonRow:
        """`flags`: the data problems to show (`Meeting.person_problems`; None: all of `p`'s)."""
        return cls(
            p.key,
            p.status,
            p.name,
            p.email,
            p.name or p.email or p.key,
            p.detail,
            p.join_ms,
            p.first_join_ms,
            p.leave_ms,
            max(0, p.entries - 1),
            p.flags if flags is None else flags,
            p.time_in_meeting(now),
            now,
            p.origin,
        )

    @property
    def leave_reason(self) -> str | None:
        return self.detail if self.status is Presence.LEFT else None

    def time_in_meeting(self, now: float) -> float:
        """Seconds in the meeting, the clock moving on while they are in."""
        if self.status is Presence.IN:
            return self.stay + max(0.0, now - self.at)
        return self.stay


def person_name(p: Participant | PersonRow) -> str:
    return visible_text(p.display_name)


def short_reason(reason: str | None) -> str:
    """Zoom's leave reason in a word, for the list (the detail line has it whole)."""
    text = (reason or "").lower()
    if "network" in text or "connection" in text or "disconnect" in text:
        return "network"
    if "ended" in text:
        return "ended"
    if "removed" in text or "expel" in text:
        return "removed"
    if "waiting" in text:
        return "wait room"
    if text in ("", "left") or text.startswith("left"):
        return "left"
    return visible_text(reason or "")[:9]


def participant_filter(m: Meeting, p: Participant | PersonRow) -> str:
    """The event-log filter for one person's events in one meeting.

    `user:` is what `filters.filter_for_participant` gives for their events: the
    participant key (participant_uuid, else id, else user_id), which the tracker keys
    people by too; `meeting:` keeps the same user's other meetings out.
    """
    return f"{meeting_filter(m)} user:{quote_value(p.key)}"


def sorted_people(m: Meeting, by: str) -> dict[Presence, list[Participant]]:
    """The meeting's participants by status; by join time (the tracker's order) or by name."""
    groups: dict[Presence, list[Participant]] = {s: [] for s in SECTION_TITLES}
    for p in m.ordered_participants():  # in by earliest join, waiting, left by latest leave
        groups[p.status].append(p)
    if by == "name":
        for people in groups.values():
            people.sort(key=lambda p: (name_key(p.display_name), p.key))
    return groups


_LEADING_MARKS = re.compile(r"^\W+")


def name_key(name: str) -> str:
    """Sort key for a name: '[Ops] Priya' and '+1 555' sort by their first letter or digit."""
    return _LEADING_MARKS.sub("", name.casefold()) or name.casefold()


def matches(p: Participant | PersonRow, query: str) -> bool:
    q = query.casefold()
    return any(v and q in v.casefold() for v in (p.name, p.email, p.key))
