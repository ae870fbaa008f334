"""The names the fake and its clients agree on: the events `zoomtui trigger` can ask for,
and the environment variables `zoomtui fake-server` exports for it.

Imports nothing, and the package loads its parts only when asked (`zoomtui.fakezoom`'s
`__getattr__`): `zoomtui trigger` and `zoomtui --help` read these without loading the fake.
"""

from __future__ import annotations

#: every event `trigger` can send, in the order `--help` lists them
TRIGGER_EVENTS: tuple[str, ...] = (
    "meeting.started",
    "meeting.ended",
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.created",
    "meeting.updated",
    "meeting.deleted",
    "webinar.started",
    "webinar.ended",
    "webinar.participant_joined",
    "webinar.participant_left",
    "recording.completed",
    "user.created",
)
#: the environment variables `fake-server` exports and `trigger` reads
ENV_CONTROL_URL = "ZOOMTUI_FAKE_CONTROL_URL"
ENV_CONTROL_TOKEN = "ZOOMTUI_FAKE_CONTROL_TOKEN"
