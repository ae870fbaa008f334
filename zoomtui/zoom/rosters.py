"""What Zoom's REST API says about live meetings and who is in them, as values.

`RosterSnapshot` is one hydration: the live meetings and their rosters as the Dashboard
listed them (PROTOCOL.md section 4), when they were asked for, and why (the monitor's start,
or the end of a gap).  It is an update of its own kind (`zoomtui.zoom.updates.Update`): the
session merges it into the meeting tracker, the archive keeps it as a ``roster`` record and
`tail --json` prints it as one, never as an event Zoom sent.  A snapshot with a `problem`
is the one notice that hydration could not be done, with what to change (`hint`).

Zoom's data is hostile here as everywhere: `person_from_api` and `meeting_from_api` take any
JSON value and keep only fields of the right type and a bounded size; the rest is absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

#: text from the API is cut to this many characters (names, topics, ids)
MAX_TEXT = 512
IN_MEETING = "in_meeting"
IN_WAITING_ROOM = "in_waiting_room"
#: what starts a hydration
TRIGGER_START = "start"
TRIGGER_GAP = "gap"


def text_of(value: object, limit: int = MAX_TEXT) -> str | None:
    """A string (cut to `limit`) or a whole number as text; None for anything else or ''."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if -(10**30) < value < 10**30 else None
    if isinstance(value, str) and value:
        return value[:limit]
    return None


def ms_of(value: object) -> int | None:
    """An ISO 8601 time (Zoom's `2024-01-24T19:10:56Z`) as epoch milliseconds; None otherwise."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if not 1970 <= when.year <= 2999:
        return None
    return int(when.timestamp() * 1000)


def _int_of(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class RosterPerson:
    """One row of a live meeting's participants (one session of one person)."""

    participant_uuid: str | None
    id: str | None  # the person's Zoom user id ('' for guests: None)
    user_id: str | None  # per session
    name: str | None
    email: str | None
    join_ms: int | None
    leave_ms: int | None
    status: str  # IN_MEETING | IN_WAITING_ROOM | "left"

    @property
    def is_in(self) -> bool:
        return self.status == IN_MEETING

    def as_participant(self) -> dict[str, str]:
        """The fields as an event's ``participant`` object names them (for the tracker)."""
        fields = {
            "participant_uuid": self.participant_uuid,
            "id": self.id,
            "user_id": self.user_id,
            "user_name": self.name,
            "email": self.email,
        }
        return {k: v for k, v in fields.items() if v is not None}


def person_from_api(item: object) -> RosterPerson | None:
    """A Dashboard participant (any JSON value) as a `RosterPerson`; None without any id
    or name to know them by."""
    if not isinstance(item, dict):
        return None
    get = item.get
    person = RosterPerson(
        participant_uuid=text_of(get("participant_uuid")),
        id=text_of(get("id")),
        user_id=text_of(get("user_id")),
        name=text_of(get("user_name")),
        email=text_of(get("email")),
        join_ms=ms_of(get("join_time")),
        leave_ms=ms_of(get("leave_time")),
        status=IN_MEETING,
    )
    status = get("status")
    if status == IN_WAITING_ROOM:
        person = _replace_status(person, IN_WAITING_ROOM)
    elif status not in (None, IN_MEETING) or person.leave_ms is not None:
        person = _replace_status(person, "left")
    if not (person.participant_uuid or person.id or person.user_id or person.name):
        return None
    return person


def _replace_status(p: RosterPerson, status: str) -> RosterPerson:
    return RosterPerson(
        p.participant_uuid, p.id, p.user_id, p.name, p.email, p.join_ms, p.leave_ms, status
    )


@dataclass(frozen=True, slots=True)
class RosterMeeting:
    """One live occurrence as the API described it, with its roster."""

    kind: str  # "meeting" | "webinar"
    uuid: str
    id: str | None = None
    topic: str | None = None
    host_id: str | None = None
    start_ms: int | None = None
    type: int | None = None
    participants: tuple[RosterPerson, ...] = ()
    #: every page of the roster was read (only then can someone missing from it have left)
    roster_complete: bool = False
    #: listed as live by the Dashboard (False: only its details were asked for)
    listed: bool = True


def meeting_from_api(kind: str, item: object) -> RosterMeeting | None:
    """A Dashboard live meeting (any JSON value); None without a uuid."""
    if not isinstance(item, dict):
        return None
    uuid = text_of(item.get("uuid"))
    if uuid is None:
        return None
    return RosterMeeting(
        kind=kind,
        uuid=uuid,
        id=text_of(item.get("id")),
        topic=text_of(item.get("topic")),
        # the list names the host ("host"); a meeting's details give its id
        host_id=text_of(item.get("host_id")),
        start_ms=ms_of(item.get("start_time")),
        type=_int_of(item.get("type")),
    )


@dataclass(frozen=True, slots=True)
class RosterSnapshot:
    """One hydration: Zoom's live meetings and rosters, and when and why they were asked."""

    #: when the last answer was in (the monitor's clock)
    at: float
    #: when the first call went out
    asked_at: float
    trigger: str  # TRIGGER_START | TRIGGER_GAP
    #: the gap this hydration follows (None: the monitor's start)
    since: float | None
    #: the end of that gap, or when the link came up at the start
    until: float
    meetings: tuple[RosterMeeting, ...] = ()
    #: the kinds ("meeting", "webinar") whose live list was read in full
    kinds: tuple[str, ...] = ()
    #: why hydration could not be done, or only in part ("": it was), and what to change
    problem: str = ""
    hint: str = ""
    #: REST calls it took
    calls: int = 0

    @property
    def people(self) -> int:
        return sum(1 for m in self.meetings for p in m.participants if p.is_in)

    def to_json(self) -> bytes:
        """The snapshot as JSON (the archive's ``roster`` record, `tail --json`)."""
        return orjson.dumps(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "asked_at": self.asked_at,
            "trigger": self.trigger,
            "since": self.since,
            "until": self.until,
            "kinds": list(self.kinds),
            "problem": self.problem,
            "hint": self.hint,
            "calls": self.calls,
            "meetings": [
                {
                    "kind": m.kind,
                    "uuid": m.uuid,
                    "id": m.id,
                    "topic": m.topic,
                    "host_id": m.host_id,
                    "start_ms": m.start_ms,
                    "type": m.type,
                    "roster_complete": m.roster_complete,
                    "listed": m.listed,
                    "participants": [
                        [
                            p.participant_uuid,
                            p.id,
                            p.user_id,
                            p.name,
                            p.email,
                            p.join_ms,
                            p.leave_ms,
                            p.status,
                        ]
                        for p in m.participants
                    ],
                }
                for m in self.meetings
            ],
        }

    @classmethod
    def from_json(cls, raw: bytes | str) -> RosterSnapshot | None:
        """A snapshot read back (None: not one; odd fields are dropped, never raised)."""
        try:
            d = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(d, dict):
            return None
        at, until = _float(d.get("at")), _float(d.get("until"))
        if at is None or until is None:
            return None
        meetings = d.get("meetings")
        kinds = d.get("kinds")
        return cls(
            at=at,
            asked_at=_float(d.get("asked_at")) or at,
            trigger=TRIGGER_GAP if d.get("trigger") == TRIGGER_GAP else TRIGGER_START,
            since=_float(d.get("since")),
            until=until,
            meetings=tuple(
                m
                for m in map(_meeting_back, meetings if isinstance(meetings, list) else [])
                if m is not None
            ),
            kinds=tuple(k for k in (kinds if isinstance(kinds, list) else []) if k in _KINDS),
            problem=text_of(d.get("problem"), 2000) or "",
            hint=text_of(d.get("hint"), 2000) or "",
            calls=_int_of(d.get("calls")) or 0,
        )


_KINDS = ("meeting", "webinar")


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _meeting_back(d: object) -> RosterMeeting | None:
    if not isinstance(d, dict) or d.get("kind") not in _KINDS:
        return None
    base = meeting_from_api(d["kind"], d)
    if base is None:
        return None
    rows = d.get("participants")
    people = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, list) and len(row) == 8:
            pu, ref, uid, name, email, join_ms, leave_ms, status = row
            people.append(
                RosterPerson(
                    text_of(pu),
                    text_of(ref),
                    text_of(uid),
                    text_of(name),
                    text_of(email),
                    _int_of(join_ms),
                    _int_of(leave_ms),
                    status if status in (IN_MEETING, IN_WAITING_ROOM) else "left",
                )
            )
    return RosterMeeting(
        kind=base.kind,
        uuid=base.uuid,
        id=base.id,
        topic=base.topic,
        host_id=base.host_id,
        start_ms=_int_of(d.get("start_ms")),
        type=base.type,
        participants=tuple(people),
        roster_complete=d.get("roster_complete") is True,
        listed=d.get("listed") is not False,
    )
