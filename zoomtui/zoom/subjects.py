"""Who or what an event that is not about a meeting is about (a user, a room, a contact):
its subject, read from the event's object in the fields Zoom uses for each family."""

from __future__ import annotations

from typing import Any

#: where events that are not about a meeting keep their subject's email and name, in the
#: order they are preferred (from Zoom's examples of each family)
_SUBJECT_EMAILS = (
    "email",
    "user_email",
    "contact_email",
    "owner_email",
    "host_email",
    "visitor_email",
)
_SUBJECT_NAMES = (
    "display_name",
    "name",
    "user_name",
    "user_display_name",
    "room_name",
    "account_name",
    "workspace_name",
    "channel_name",
    "whiteboard_name",
    "session_name",
    "space_name",
    "visitor_name",
)


def _first_text(get: Any, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        v = get(key)
        if v.__class__ is str and v.strip():
            return v.strip()
    return None


def subject_of(get: Any) -> str | None:
    """ "Jill Chill <jchill@example.com>", an email or a name from an event's object (its
    `get`); None when it names none (the object id, `meeting_id`, then stands for it)."""
    email = _first_text(get, _SUBJECT_EMAILS)
    name = _first_text(get, _SUBJECT_NAMES)
    if name is None:
        first, last = get("first_name"), get("last_name")
        full = " ".join(v.strip() for v in (first, last) if v.__class__ is str and v.strip())
        name = full or None
    if email is not None and name is not None:
        return f"{name} <{email}>"
    return email or name
