"""The fake's control endpoint (`POST /fakezoom/trigger`) and the events it builds: over
real HTTP and a real WebSocket client, shaped like PROTOCOL.md section 3, never opened
without the control token, and never mistaken for a token request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from zoomtui.fakezoom import TRIGGER_EVENTS, FakeZoom, TriggerRequest
from zoomtui.fakezoom.triggers import TriggerError, build_event
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

pytestmark = pytest.mark.timeout(60)

NOW = 1_706_123_456.789
#: PROTOCOL.md section 3: what `payload.object` holds, per event
OBJECT_FIELDS = {
    "started": {"id", "uuid", "host_id", "topic", "type", "start_time", "duration"},
    "ended": {"id", "uuid", "host_id", "topic", "type", "start_time", "duration", "end_time"},
    "participant_joined": {"uuid", "host_id", "type", "duration", "participant"},
    "participant_left": {"uuid", "host_id", "type", "duration", "participant"},
    "meeting.created": {"id", "join_url", "settings"},
    "meeting.updated": {"id"},
    "meeting.deleted": {"uuid", "id", "host_id", "type"},
    "recording.completed": {
        "host_email",
        "share_url",
        "total_size",
        "recording_count",
        "recording_files",
    },
    "user.created": {"id", "email", "type"},
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeZoom]:
    async with FakeZoom(scenario="quiet") as f:
        yield f


async def session(fake: FakeZoom) -> ClientConnection:
    ws = await connect(fake.ws_url_for(fake.issue_token()), open_timeout=3, close_timeout=1)
    assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["success"] is True
    return ws


async def post(fake: FakeZoom, body: object, token: str | None = None, **kw) -> httpx.Response:
    used = fake.control_token if token is None else token
    headers = {"Authorization": f"Bearer {used}"} if used else {}
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.post(
            f"{fake.control_url}/trigger", content=orjson.dumps(body), headers=headers, **kw
        )


# -- the events -------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRIGGER_EVENTS)
def test_every_event_is_shaped_like_zoom_and_parses(name: str) -> None:
    event = build_event(TriggerRequest(name, meeting_id=85746352410), NOW)
    assert event["event"] == name and event["event_ts"] == round(NOW * 1000)
    assert event["payload"]["account_id"] == "demo-account-0001"
    obj = event["payload"]["object"]
    family, _, action = name.partition(".")
    wanted = OBJECT_FIELDS.get(name) or OBJECT_FIELDS[action]
    assert wanted <= set(obj), wanted - set(obj)
    if family in ("meeting", "webinar", "recording"):
        # a string in started/ended/participant events, a number in the others (section 3)
        as_string = action in ("started", "ended", "participant_joined", "participant_left")
        assert obj["id"] == ("85746352410" if as_string else 85746352410)
    if action.startswith("participant_"):
        person = obj["participant"]
        assert {"user_id", "user_name", "email"} <= set(person)
        assert ("join_time" if action == "participant_joined" else "leave_time") in person
    parsed = parse_frame(message_frame(event), 0.0)
    assert isinstance(parsed, ZoomEvent) and parsed.name == name


def test_the_same_meeting_and_person_pair_up_across_triggers() -> None:
    ask = {"meeting_id": 123, "name": "Zoë [bold]O'Brien[/bold]", "email": "zoe@example.ie"}
    joined = build_event(TriggerRequest("meeting.participant_joined", **ask), NOW)
    left = build_event(TriggerRequest("meeting.participant_left", **ask), NOW + 60)
    started = build_event(TriggerRequest("meeting.started", meeting_id=123), NOW - 60)
    recording = build_event(TriggerRequest("recording.completed", meeting_id=123), NOW + 600)
    j, lo = joined["payload"]["object"], left["payload"]["object"]
    assert j["uuid"] == lo["uuid"] == started["payload"]["object"]["uuid"]
    assert recording["payload"]["object"]["uuid"] == j["uuid"]
    for key in ("participant_uuid", "id", "user_name", "email"):
        assert j["participant"][key] == lo["participant"][key]
    assert j["participant"]["user_name"] == "Zoë [bold]O'Brien[/bold]"
    other = build_event(TriggerRequest("meeting.participant_joined", meeting_id=124), NOW)
    assert other["payload"]["object"]["uuid"] != j["uuid"]


def test_name_or_email_alone_makes_the_other_up() -> None:
    by_name = build_event(TriggerRequest("meeting.participant_joined", name="Kai Nordin"), NOW)
    assert by_name["payload"]["object"]["participant"]["email"] == "kai.nordin@example.com"
    by_mail = build_event(
        TriggerRequest("webinar.participant_joined", email="kai@corp.example"), NOW
    )
    assert by_mail["payload"]["object"]["participant"]["user_name"] == "kai"
    user = build_event(TriggerRequest("user.created", name="Kai Nordin"), NOW)["payload"]["object"]
    assert (user["first_name"], user["last_name"], user["display_name"]) == (
        "Kai",
        "Nordin",
        "Kai Nordin",
    )


@pytest.mark.parametrize(
    "request_",
    [
        TriggerRequest("meeting.participant_join"),
        TriggerRequest("meeting.started", meeting_id=0),
        TriggerRequest("meeting.started", meeting_id=True),  # type: ignore[arg-type]
        TriggerRequest("meeting.started", meeting_id=2**63),
        TriggerRequest("meeting.participant_joined", name=""),
        TriggerRequest("meeting.participant_joined", email="x" * 300),
        TriggerRequest("meeting.participant_joined", name=["a"]),  # type: ignore[arg-type]
    ],
)
def test_requests_that_cannot_be_built_say_why(request_: TriggerRequest) -> None:
    with pytest.raises(TriggerError):
        build_event(request_, NOW)


# -- the endpoint -------------------------------------------------------------------------


async def test_trigger_reaches_the_connected_client(fake: FakeZoom) -> None:
    ws = await session(fake)
    try:
        r = await post(
            fake, {"event": "meeting.participant_joined", "meeting_id": 9, "name": "Ana"}
        )
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["sent_to"] == 1
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["module"] == "message"
        assert orjson.loads(frame["content"]) == answer["event"]
        assert answer["event"]["payload"]["object"]["participant"]["user_name"] == "Ana"
    finally:
        await ws.close()


async def test_trigger_with_nobody_connected_reaches_nobody(fake: FakeZoom) -> None:
    r = await post(fake, {"event": "user.created"})
    assert r.status_code == 200 and r.json()["sent_to"] == 0


@pytest.mark.parametrize("token", ["", "wrong", "fzc.not-the-one"])
async def test_without_the_control_token_nothing_is_sent(fake: FakeZoom, token: str) -> None:
    ws = await session(fake)
    try:
        r = await post(fake, {"event": "meeting.started"}, token=token)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        assert fake.control_token not in r.text
        async with httpx.AsyncClient(timeout=5) as http:  # Basic with the demo credentials: no
            c = fake.credentials
            basic = await http.post(
                f"{fake.control_url}/trigger",
                json={"event": "meeting.started"},
                auth=(c.client_id, c.client_secret),
            )
        assert basic.status_code == 401
        assert (await fake.wait_for_connection()).sent_events == []
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"event": "meeting.nope"}, "unknown_event"),
        ({"event": 7}, "invalid_request"),
        ({"event": "meeting.started", "meeting_id": "85746352410"}, "invalid_request"),
        ({"event": "meeting.started", "meeting_id": 1.5}, "invalid_request"),
        ({"event": "meeting.started", "topic": "x"}, "invalid_request"),
        (["meeting.started"], "invalid_request"),
        ("meeting.started", "invalid_request"),
    ],
)
async def test_bad_bodies_get_a_400_naming_the_problem(fake: FakeZoom, body, error: str) -> None:
    r = await post(fake, body)
    assert r.status_code == 400
    assert r.json()["error"] == error and r.json()["reason"]
    assert r.json()["events"] == list(TRIGGER_EVENTS)


async def test_not_json_wrong_method_and_wrong_path(fake: FakeZoom) -> None:
    headers = {"Authorization": f"Bearer {fake.control_token}"}
    async with httpx.AsyncClient(timeout=5, headers=headers) as http:
        assert (await http.post(f"{fake.control_url}/trigger", content=b"\xff{")).status_code == 400
        got = await http.get(f"{fake.control_url}/trigger")
        assert got.status_code == 405 and got.headers["allow"] == "POST"
        assert (await http.post(f"{fake.control_url}/other", json={})).status_code == 404


async def test_control_requests_are_not_token_requests(fake: FakeZoom) -> None:
    fake.oauth_fault("500", times=1)
    r = await post(fake, {"event": "meeting.started"})
    assert r.status_code == 200  # the fault waits for a token request
    assert fake.token_requests == []
    c = fake.credentials
    async with httpx.AsyncClient(timeout=5) as http:
        token = await http.post(
            fake.oauth_url,
            auth=(c.client_id, c.client_secret),
            data={"grant_type": "account_credentials", "account_id": c.account_id},
        )
    assert token.status_code == 500 and [t.status for t in fake.token_requests] == [500]


def test_each_fake_has_its_own_control_token() -> None:
    a, b = FakeZoom(), FakeZoom()
    assert a.control_token != b.control_token and len(a.control_token) > 20
    assert FakeZoom(control_token="fzc.fixed").control_token == "fzc.fixed"
