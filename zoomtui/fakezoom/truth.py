"""What the fake Zoom knows is true right now: which meetings are live and who is in each.

Zoom's Dashboard API answers from Zoom's own state, not from what a subscriber received.
The fake keeps that state by folding every event whose time has come, whether a connection
was open to receive it or not: scenario events as the pump hands them out (sent, or lost
while nobody was connected) and events injected or triggered.  Events nobody heard still
happened: that is what makes a gap in the record, and what the Dashboard API fills in.

The fold is lazy: handed-out frames are queued as their JSON text (the pump's hot path pays
one list append) and parsed when someone asks (`meetings()`), or when the queue grows past
`MAX_PENDING` frames, so a long flood with no question asked holds bounded memory.

Identity follows PROTOCOL.md: a person is their ``participant_uuid``, else ``id``, else
``user_id``; a leave removes them only when it is about the session Zoom holds for them
(its ``user_id``), so a late leave of an earlier session does not remove a rejoined person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

#: handed-out frames kept unparsed at most; beyond, they are folded at once
MAX_PENDING = 50_000

_JOINS = ("participant_joined", "participant_admitted", "participant_jbh_joined")
_WAITS = (
    "participant_joined_waiting_room",
    "participant_put_in_waiting_room",
    "participant_jbh_waiting",
)
_UNWAITS = ("participant_left_waiting_room", "participant_jbh_waiting_left")

IN_MEETING = "in_meeting"
IN_WAITING_ROOM = "in_waiting_room"


@dataclass(slots=True)
class TruePerson:
    """One person in a live meeting, as Zoom holds them (the Dashboard's fields)."""

    key: str
    user_id: str
    user_name: str
    id: str
    participant_uuid: str
    email: str
    join_time: str
    status: str = IN_MEETING

    def as_dashboard(self) -> dict[str, Any]:
        """The person as the Dashboard's live participants list shows them."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "participant_uuid": self.participant_uuid,
            "email": self.email,
            "join_time": self.join_time,
            "leave_time": "",
            "status": self.status,
            "device": "Mac",
            "network_type": "Wired",
        }


@dataclass(slots=True)
class TrueMeeting:
    """One live occurrence as Zoom holds it."""

    kind: str
    uuid: str
    id: str
    topic: str = ""
    host_id: str = ""
    host_email: str = ""
    type: int = 2
    start_time: str = ""
    people: dict[str, TruePerson] = field(default_factory=dict)

    def as_dashboard(self) -> dict[str, Any]:
        """The meeting as the Dashboard's live list shows it."""
        return {
            "uuid": self.uuid,
            "id": _number(self.id),
            "topic": self.topic,
            "host": self.host_id,
            "email": self.host_email,
            "user_type": "Licensed",
            "start_time": self.start_time,
            "duration": "",
            "participants": sum(p.status == IN_MEETING for p in self.people.values()),
            "has_pstn": False,
            "has_voip": True,
            "has_video": True,
            "has_screen_share": False,
            "has_recording": False,
        }

    def as_details(self) -> dict[str, Any]:
        """The meeting as `GET /v2/meetings/{id}` shows it."""
        return {
            "uuid": self.uuid,
            "id": _number(self.id),
            "host_id": self.host_id,
            "host_email": self.host_email,
            "topic": self.topic,
            "type": self.type,
            "status": "started",
            "start_time": self.start_time,
            "duration": 60,
            "timezone": "UTC",
        }


def _number(text: str) -> int | str:
    return int(text) if text.isdigit() and len(text) < 19 else text


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


class LiveTruth:
    """The live meetings and their people, folded from the events handed out so far."""

    def __init__(self) -> None:
        self._meetings: dict[str, TrueMeeting] = {}
        self._pending: list[str | bytes | dict] = []
        #: events folded so far (tests and benchmarks read it)
        self.folded = 0

    # -- feeding ------------------------------------------------------------------------
    def handed(self, contents: Iterable[str | bytes | dict]) -> None:
        """Events whose time has come (sent or lost): folded when someone asks."""
        self._pending.extend(contents)
        if len(self._pending) > MAX_PENDING:
            self._fold_pending()

    def _fold_pending(self) -> None:
        pending, self._pending = self._pending, []
        for item in pending:
            if isinstance(item, dict):
                event: object = item
            else:
                try:
                    event = orjson.loads(item)
                except orjson.JSONDecodeError:
                    continue
            if isinstance(event, dict):
                self.apply(event)

    # -- reading ------------------------------------------------------------------------
    def meetings(self, kind: str | None = None) -> list[TrueMeeting]:
        """The live occurrences (of one kind), oldest first."""
        self._fold_pending()
        return [m for m in self._meetings.values() if kind is None or m.kind == kind]

    def find(self, kind: str, ref: str) -> TrueMeeting | None:
        """A live occurrence of `kind` by uuid, else by meeting id."""
        self._fold_pending()
        m = self._meetings.get(ref)
        if m is not None and m.kind == kind:
            return m
        return next((m for m in self._meetings.values() if m.kind == kind and m.id == ref), None)

    def roster(self) -> dict[str, set[str]]:
        """uuid -> the names of the people in the meeting (not waiting): what tests compare."""
        return {
            m.uuid: {p.user_name for p in m.people.values() if p.status == IN_MEETING}
            for m in self.meetings()
        }

    # -- the fold -------------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        """One event, as Zoom's own state would change by it."""
        self.folded += 1
        name = event.get("event")
        if not isinstance(name, str):
            return
        kind, _, suffix = name.strip().partition(".")
        if kind not in ("meeting", "webinar"):
            return
        payload = event.get("payload")
        obj = payload.get("object") if isinstance(payload, dict) else None
        if not isinstance(obj, dict):
            return
        uuid = _text(obj.get("uuid"))
        if not uuid:
            return
        if suffix in ("ended", "deleted"):
            self._meetings.pop(uuid, None)
            return
        part = obj.get("participant")
        presence = suffix == "participant_left" or suffix in _JOINS + _WAITS + _UNWAITS
        if suffix != "started" and not (presence and isinstance(part, dict)):
            return
        m = self._meetings.get(uuid)
        if m is None:
            if suffix == "participant_left" or suffix in _UNWAITS:
                return  # a late leave of a meeting that is over
            m = self._meetings[uuid] = TrueMeeting(kind=kind, uuid=uuid, id=_text(obj.get("id")))
        self._details(m, obj)
        if isinstance(part, dict) and presence:
            self._presence(m, suffix, part)

    @staticmethod
    def _details(m: TrueMeeting, obj: dict[str, Any]) -> None:
        for name in ("topic", "host_id", "start_time"):
            value = _text(obj.get(name))
            if value and not getattr(m, name):
                setattr(m, name, value)
        mtype = obj.get("type")
        if isinstance(mtype, int) and not isinstance(mtype, bool):
            m.type = mtype
        if not m.id:
            m.id = _text(obj.get("id"))

    @staticmethod
    def _presence(m: TrueMeeting, suffix: str, part: dict[str, Any]) -> None:
        pu, ref, uid = (_text(part.get(k)) for k in ("participant_uuid", "id", "user_id"))
        key = pu or ref or uid or _text(part.get("user_name"))
        if not key:
            return
        held = m.people.get(key)
        if suffix == "participant_left" or suffix in _UNWAITS:
            # only the session Zoom holds: a late leave of an earlier one changes nothing
            if held is not None and (not uid or not held.user_id or held.user_id == uid):
                del m.people[key]
            return
        status = IN_WAITING_ROOM if suffix in _WAITS else IN_MEETING
        time_field = "join_time" if suffix == "participant_joined" else "date_time"
        m.people[key] = TruePerson(
            key=key,
            user_id=uid or (held.user_id if held else ""),
            user_name=_text(part.get("user_name")) or (held.user_name if held else ""),
            id=ref,
            participant_uuid=pu,
            email=_text(part.get("email")),
            join_time=_text(part.get(time_field)) or _text(part.get("join_time")),
            status=status,
        )
