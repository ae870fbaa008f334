"""One chosen event on demand (`zoomtui trigger`), built by the scenario's own builders.

Someone writing a handler wants exactly `meeting.participant_joined` for their meeting
and their test user, now, shaped like the real thing (PROTOCOL.md section 3).  The
scenario's `_World` already builds every event it plays; here it builds one, seeded by
the meeting id and the person, so the same `--meeting` and `--name` give the same uuid,
topic, host and participant ids from one trigger to the next (a `participant_joined`
then a `participant_left` of the same person in the same meeting pair up).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from zoomtui.fakezoom.cast import REASON_LEFT, user_id
from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS
from zoomtui.fakezoom.names import TRIGGER_EVENTS
from zoomtui.fakezoom.scenario import Meeting, Person, _World

#: Zoom's ids fit in a signed 64-bit integer; anything above would not be one of theirs
MAX_MEETING_ID = 2**63 - 1
#: longer names or emails than this are refused (a trigger is typed, not generated)
MAX_TEXT = 256


class TriggerError(ValueError):
    """A trigger that cannot be built; `str()` says why, for the person who asked."""


@dataclass(frozen=True, slots=True)
class TriggerRequest:
    """What to send: the event name, and optionally the meeting id and the person."""

    event: str
    meeting_id: int | None = None
    name: str | None = None
    email: str | None = None

    def check(self) -> TriggerRequest:
        """This request, or a `TriggerError` naming what is wrong with it."""
        if self.event not in TRIGGER_EVENTS:
            raise TriggerError(
                f"unknown event {self.event!r}; supported: {', '.join(TRIGGER_EVENTS)}"
            )
        if self.meeting_id is not None and not (
            type(self.meeting_id) is int and 1 <= self.meeting_id <= MAX_MEETING_ID
        ):
            raise TriggerError(f"the meeting id must be a whole number from 1 to {MAX_MEETING_ID}")
        for label, text in (("name", self.name), ("email", self.email)):
            if text is not None and not (isinstance(text, str) and 0 < len(text) <= MAX_TEXT):
                raise TriggerError(f"the {label} must be text of 1 to {MAX_TEXT} characters")
        return self


def build_event(
    request: TriggerRequest, now: float, account_id: str = DEMO_CREDENTIALS.account_id
) -> dict:
    """The event `request` asks for, stamped `now` (epoch seconds)."""
    request.check()
    family, _, action = request.event.partition(".")
    # One seed per meeting, whatever the event: its recording and its participants carry
    # the same uuid, topic and host as its started and ended.
    seed = f"trigger:{'webinar' if family == 'webinar' else 'meeting'}:{request.meeting_id}"
    world = _World(seed, now, 1.0, account_id)  # type: ignore[arg-type]  # str seeds are fine
    if family == "user":
        event = world.user_created()[0]
        _rename_user(event["payload"]["object"], request)
    else:
        meeting = world.new_meeting(kind="webinar" if family == "webinar" else "meeting")
        if request.meeting_id is not None:
            meeting.id = request.meeting_id
        event = _meeting_event(world, meeting, action, _person(world, request))
    event["event_ts"] = round(now * 1000)
    return event


def _meeting_event(world: _World, meeting: Meeting, action: str, person: int) -> dict:
    if action == "started":
        return world.started(meeting)[0]
    if action == "ended":
        world.started(meeting)
        return world.ended(meeting)[-1]
    if action == "participant_joined":
        return world.joined(meeting, person)
    if action == "participant_left":
        world.joined(meeting, person)
        event = world.left(meeting, person, REASON_LEFT)
        # The scenario sometimes leaves the name out (Zoom does); a trigger is asked for a
        # person, so it names them.
        event["payload"]["object"]["participant"]["user_name"] = world.people[person].name
        return event
    if action == "created":
        return world.created(meeting)[0]
    if action == "updated":
        return world.updated(meeting)[0]
    if action == "deleted":
        world.scheduled.append(meeting)
        return world.deleted(meeting)[0]
    if action == "completed":  # recording.completed
        return world.recording_completed(meeting)[0]
    raise TriggerError(f"no builder for {action!r}")  # TRIGGER_EVENTS and this list disagree


def _person(world: _World, request: TriggerRequest) -> int:
    """The index in `world.people` of the person the event is about (by default the
    scenario's first, Ana Souza)."""
    if request.name is None and request.email is None:
        return 0
    name = request.name or (request.email or "").partition("@")[0] or "Guest"
    email = request.email or f"{_slug(name)}@example.com"
    rng = random.Random(f"trigger:person:{name}:{email}")
    world.people.append(Person(name, email, user_id(rng), user_id(rng)))
    return len(world.people) - 1


def _rename_user(obj: dict, request: TriggerRequest) -> None:
    if request.name is not None:
        first, _, last = request.name.partition(" ")
        obj.update(first_name=first, last_name=last, display_name=request.name)
    if request.email is not None or request.name is not None:
        obj["email"] = request.email or f"{_slug(request.name or '')}@example.com"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "guest"
