"""The "shapes" scenario: every payload shape seen in real captures that the demo does not play.

`shapes_events(clock_start, rate=...)` yields a short, fixed list of events (PROTOCOL.md
section 3, the shapes marked "new"), event ``i`` stamped ``clock_start + i / rate`` like
the demo's, then ends:

- guests with ``id: ""`` and a GUID-style ``participant_uuid``;
- ``meeting.participant_jbh_joined`` carrying only a name, then the same person's
  ``participant_joined`` with ids;
- both leave-reason forms: ``"...<br>Reason: ..."`` and ``"left the meeting. Reason : ..."``
  (a space before the colon);
- ``participant_left`` arriving after ``meeting.ended``, and a ``meeting.ended`` with no
  ``event_ts``;
- events that are not about a meeting, with an email, a name or both (``user.*``,
  ``team_chat.*``), one with a trailing space in its name;
- an event stamped two hours before it is sent.

Written from those facts, not copied from any capture: the names, ids and emails are made up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS

#: how late the late event is stamped (devforum 94953: events about two hours late)
LATE_SECONDS = 2 * 3600

REASON_DOCUMENTED = "{name} left the meeting.<br>Reason: lost connection, network issue."
REASON_SPACED = "left the meeting. Reason : Host ended the meeting."

_HOST = {"id": "sHpHost0Aa1Bb2Cc3Dd4Ee", "name": "Rosa Quintero", "email": "rosa.q@example.com"}
_REVIEW = {
    "id": "81234567890",
    "uuid": "ShApEs+rEvIeW/0aB1cD2e==",
    "topic": "Shapes review",
    "type": 2,
}
_OFFICE = {
    "id": "82345678901",
    "uuid": "0fFiCe+HoUrS/9zY8xW7v==",
    "topic": "Office hours",
    "type": 8,
}
#: guests without a Zoom account: an empty id, a GUID-style participant_uuid
_GUESTS = (
    ("Guest 4821", "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "16778301"),
    ("iPhone", "a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d", "16778302"),
)
_EARLY = ("Early Bird", "EaRlYbIrD0Aa1Bb2Cc3Dd4", "c0d1e2f3-a4b5-4c6d-8e7f-0a1b2c3d4e5f")


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(int(t), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Shapes:
    """Builds the events; `at(i)` is event i's send time."""

    def __init__(self, clock_start: float, rate: float, account_id: str) -> None:
        self.clock_start = clock_start
        self.rate = rate
        self.account_id = account_id
        self.start = _iso(clock_start)

    def at(self, i: int) -> float:
        return self.clock_start + i / self.rate

    def event(self, name: str, obj: dict, when: float | None, **payload: object) -> dict:
        body: dict = {"event": name}
        if when is not None:
            body["event_ts"] = round(when * 1000)
        body["payload"] = {"account_id": self.account_id, **payload, "object": obj}
        return body

    def meeting(self, m: dict, **extra: object) -> dict:
        return {
            "id": m["id"],
            "uuid": m["uuid"],
            "host_id": _HOST["id"],
            "topic": m["topic"],
            "type": m["type"],
            "start_time": self.start,
            "timezone": "Europe/Madrid",
            "duration": 45,
            **extra,
        }

    def presence(self, name: str, m: dict, when: float, participant: dict) -> dict:
        return self.event(name, self.meeting(m, participant=participant), when)

    def guest(self, g: tuple[str, str, str], when: float, reason: str | None = None) -> dict:
        name, guid, user_id = g
        part = {"user_id": user_id, "user_name": name, "id": "", "participant_uuid": guid}
        if reason is None:
            part.update(join_time=_iso(when), email="")
            return self.presence("meeting.participant_joined", _REVIEW, when, part)
        part.update(leave_time=_iso(when), leave_reason=reason, email="")
        return self.presence("meeting.participant_left", _REVIEW, when, part)

    def host(self, when: float, reason: str | None = None) -> dict:
        part = {
            "user_id": "16778300",
            "user_name": _HOST["name"],
            "id": _HOST["id"],
            "participant_uuid": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
            "email": _HOST["email"],
        }
        if reason is None:
            part["join_time"] = _iso(when)
            return self.presence("meeting.participant_joined", _REVIEW, when, part)
        part.update(leave_time=_iso(when), leave_reason=reason)
        return self.presence("meeting.participant_left", _REVIEW, when, part)


def shapes_events(
    clock_start: float,
    *,
    rate: float = 20.0,
    account_id: str = DEMO_CREDENTIALS.account_id,
) -> Iterator[dict]:
    """The shapes, in a plausible order (see the module docstring); then the stream ends."""
    if rate <= 0:
        raise ValueError("rate must be above zero")
    s = _Shapes(clock_start, rate, account_id)
    yield from _guests_and_a_user(s)
    yield from _join_before_host(s)
    yield from _after_the_end(s)


def _guests_and_a_user(s: _Shapes) -> list[dict]:
    """Events 0-5: a meeting with two guests without ids (one leaves, documented reason
    form), and a user.created with names and an email."""
    at = s.at
    jill = {
        "id": "JcHiLl0Aa1Bb2Cc3Dd4Ee5",
        "first_name": "Jill",
        "last_name": "Chill",
        "display_name": "Jill Chill",
        "email": "jchill@example.com",
        "type": 1,
    }
    return [
        s.event("meeting.started", s.meeting(_REVIEW), at(0)),
        s.host(at(1)),
        s.guest(_GUESTS[0], at(2)),
        s.guest(_GUESTS[1], at(3)),
        s.guest(_GUESTS[1], at(4), REASON_DOCUMENTED.format(name=_GUESTS[1][0])),
        s.event(
            "user.created",
            jill,
            at(5),
            operator=_HOST["email"],
            operator_id=_HOST["id"],
            creation_type="create",
        ),
    ]


def _join_before_host(s: _Shapes) -> list[dict]:
    """Events 6-9: a join before the host with only a name, then the same person's join
    with ids; a user.updated whose name ends with a space."""
    at = s.at
    name, user_ref, participant_uuid = _EARLY
    with_ids = {
        "user_id": "16778303",
        "user_name": name,
        "id": user_ref,
        "participant_uuid": participant_uuid,
        "join_time": _iso(at(8)),
        "email": "early.bird@example.com",
    }
    dee = {"id": "DeEl0pEz0Aa1Bb2Cc3Dd4E", "email": "dee.lopez@example.com"}
    return [
        s.presence("meeting.participant_jbh_joined", _OFFICE, at(6), {"user_name": name}),
        s.event("meeting.started", s.meeting(_OFFICE), at(7)),
        s.presence("meeting.participant_joined", _OFFICE, at(8), with_ids),
        # one of Zoom's own examples has a trailing space in the event name
        s.event("user.updated ", dee, at(9)),
    ]


def _after_the_end(s: _Shapes) -> list[dict]:
    """Events 10-16: the review ends and its leaves follow (the spaced reason form); events
    about a user and a chat channel; one two hours late; an end without event_ts."""
    at = s.at
    signed_in = {
        "id": "JcHiLl0Aa1Bb2Cc3Dd4Ee5",
        "client_type": "mac",
        "date_time": _iso(at(13)),
        "email": "jchill@example.com",
        "version": "6.0.2",
        "login_type": 100,
    }
    posted = {
        "message_id": "5dc1b3b5-6c1e-4a43-8c58-0a3e8c2e6d10",
        "channel_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "channel_name": "eng-oncall",
        "message": "paging the shapes review",
        "date_time": _iso(at(14)),
        "timestamp": round(at(14) * 1000),
    }
    former = {
        "id": "FoRmEr0Aa1Bb2Cc3Dd4Ee5",
        "first_name": "Pat",
        "last_name": "Former",
        "email": "pat.former@example.com",
        "type": 1,
    }
    return [
        s.event("meeting.ended", s.meeting(_REVIEW, end_time=_iso(at(10))), at(10)),
        # the leaves of a meeting the host ended come after meeting.ended
        s.guest(_GUESTS[0], at(11), REASON_SPACED),
        s.host(at(12), REASON_SPACED),
        s.event("user.signed_in", signed_in, at(13)),
        s.event("team_chat.channel_message_posted", posted, at(14)),
        # delivered at least two hours after Zoom stamped it (stamped from the start, not
        # at(15): at rate max the events go out before their slot)
        s.event("user.deactivated", former, s.clock_start - LATE_SECONDS),
        # a meeting.ended without event_ts (seen in real captures)
        s.event("meeting.ended", s.meeting(_OFFICE, end_time=_iso(at(16))), None),
    ]
