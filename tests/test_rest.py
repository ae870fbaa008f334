"""The REST client hydration uses, against the fake Zoom over real HTTP: paging with the
largest page size, the uuid encoding rule, rate limits (spacing, 429 + Retry-After, capped),
errors classified with what to change, the size cap, hostile JSON, and which host it asks."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from zoomtui.fakezoom import FakeZoom, TriggerRequest
from zoomtui.fakezoom.httpserver import HttpServer, Request, Response
from zoomtui.zoom.auth import MAX_RETRY_AFTER, TokenProvider
from zoomtui.zoom.rest import ApiError, ZoomRest, _api_base, path_uuid
from zoomtui.zoom.tokens import Token


class FakeTime:
    """A monotonic clock that `sleep` moves on at once: waits are measured, not spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
async def fake():
    async with FakeZoom(scenario="quiet") as f:
        yield f


@pytest.fixture
async def rest(fake):
    clock = FakeTime()
    tokens = TokenProvider(fake.settings(), cache=None)
    client = ZoomRest(
        fake.settings(), tokens, per_minute=600, monotonic=clock.monotonic, sleep=clock.sleep
    )
    client.clock = clock  # type: ignore[attr-defined]
    yield client
    await client.aclose()
    await tokens.aclose()


def _join(uuid: str, n: int, meeting_id: str = "81234567890") -> dict:
    part = {
        "user_id": str(16000 + n),
        "user_name": f"Person {n}",
        "id": f"z{n}",
        "participant_uuid": f"pu-{n}",
        "join_time": "2024-01-24T19:10:56Z",
        "email": f"p{n}@example.com",
    }
    obj = {"uuid": uuid, "id": meeting_id, "topic": "All hands", "participant": part}
    return {"event": "meeting.participant_joined", "event_ts": 1, "payload": {"object": obj}}


async def test_every_page_at_the_largest_size_and_double_encoded_uuids(fake, rest) -> None:
    uuid = "/lead//slashes+x=="
    for n in range(650):
        await fake.inject(_join(uuid, n))
    (listed,) = await rest.live_meetings("meeting")
    assert (listed.uuid, listed.id, listed.topic) == (uuid, "81234567890", "All hands")
    people, complete = await rest.live_participants("meeting", uuid)
    assert complete and len(people) == 650 and len({p.participant_uuid for p in people}) == 650
    assert people[0].join_ms == 1706123456000 and people[0].is_in
    calls = fake.dashboard.calls_to("/participants")
    assert [c.status for c in calls] == [200, 200, 200]
    assert {c.page_size for c in calls} == {300}
    assert path_uuid(uuid).count("%25") > 0 and path_uuid("abc+d==") == "abc%2Bd%3D%3D"


async def test_calls_are_spread_not_burst(fake) -> None:
    clock = FakeTime()
    async with TokenProvider(fake.settings(), cache=None) as tokens:
        rest = ZoomRest(
            fake.settings(), tokens, per_minute=60, monotonic=clock.monotonic, sleep=clock.sleep
        )
        for _ in range(4):
            await rest.live_meetings("meeting")
        await rest.aclose()
    assert clock.slept == [1.0, 1.0, 1.0]  # 60 a minute: one a second, the first at once


async def test_429_is_honoured_and_capped(fake, rest) -> None:
    fake.dashboard.fault("429", retry_after=7)
    assert await rest.live_meetings("meeting") == []
    assert rest.rate_limited == 1 and rest.clock.slept == [7.0]
    fake.dashboard.fault("429", retry_after=10**9, times=1)
    await rest.live_meetings("meeting")
    assert rest.clock.slept[-1] == pytest.approx(MAX_RETRY_AFTER, abs=0.2)
    fake.dashboard.fault("429", retry_after=1, times=5)
    with pytest.raises(ApiError) as caught:
        await rest.live_meetings("meeting")
    assert caught.value.kind == "rate" and rest.rate_limited == 5


@pytest.mark.parametrize(
    ("switch", "kind", "words"),
    [
        ("scope_granted", "scope", "dashboard_meetings:read:admin"),
        ("plan_has_dashboard", "plan", "Business plan"),
    ],
)
async def test_scope_and_plan_say_what_to_change_and_are_not_retried(
    fake, rest, switch, kind, words
) -> None:
    setattr(fake.dashboard, switch, False)
    with pytest.raises(ApiError) as caught:
        await rest.live_meetings("meeting")
    assert caught.value.kind == kind and caught.value.permanent
    assert words in caught.value.hint and "hydrate = false" in caught.value.hint
    assert len(fake.dashboard.calls) == 1


async def test_server_error_and_expired_token(fake, rest) -> None:
    fake.dashboard.fault("500")
    with pytest.raises(ApiError) as caught:
        await rest.live_meetings("meeting")
    assert caught.value.kind == "server" and not caught.value.permanent
    await rest.live_meetings("meeting")  # a token the fake knows
    fake.expire_tokens()  # Zoom forgot it: one new token, one more try
    assert await rest.live_meetings("meeting") == []
    assert [c.status for c in fake.dashboard.calls][-2:] == [401, 200]


async def _serve(handler) -> HttpServer:
    server = HttpServer(handler, "127.0.0.1", 0)
    await server.start()
    return server


async def test_answers_are_read_with_a_size_cap_and_hostile_json_is_tolerated(fake) -> None:
    hostile = {
        "meetings": [
            None,
            7,
            {"uuid": 5, "id": True, "topic": ["x"], "start_time": "not a time"},
            {"uuid": "ok==", "id": 123, "topic": "t" * 5000, "start_time": {"a": 1}},
            {"topic": "no uuid"},
        ],
        "next_page_token": {"not": "text"},
    }
    bodies = {
        "/v2/metrics/meetings": orjson.dumps(hostile),
        "/v2/metrics/webinars": b"x" * (9 << 20),
    }

    async def handler(req: Request) -> Response:
        return Response(200, bodies[req.target.split("?")[0]], {"Content-Type": "application/json"})

    server = await _serve(handler)
    try:
        settings = fake.settings(api_url=f"http://127.0.0.1:{server.port}")
        async with TokenProvider(settings, cache=None) as tokens:
            rest = ZoomRest(settings, tokens)
            found = await rest.live_meetings("meeting")
            assert [(m.uuid, m.id, len(m.topic or "")) for m in found] == [
                ("5", None, 0),
                ("ok==", "123", 512),
            ]
            with pytest.raises(ApiError) as caught:
                await rest.live_meetings("webinar")
            assert caught.value.kind == "answer" and "MiB" in str(caught.value)
            await rest.aclose()
    finally:
        await server.stop()


def test_the_host_is_the_setting_else_the_token_answers_else_the_clouds() -> None:
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings

    base = ConnectionSettings(C.account_id, C.client_id, Secret("s"), C.subscription_id)
    token = Token(Secret("t"), expires_at=0, obtained_at=0, api_url="https://eu.api.zoom.us")
    assert _api_base(base, token) == "https://eu.api.zoom.us"
    assert _api_base(base, dataclasses.replace(token, api_url=None)) == "https://api.zoom.us"
    cleartext = dataclasses.replace(token, api_url="http://api.example.com")
    assert _api_base(base, cleartext) == "https://api.zoom.us"  # never cleartext off-machine
    chosen = base.replace(api_url="https://api.example.org", sources={"api_url": "option"})
    assert _api_base(chosen, token) == "https://api.example.org"


async def test_meeting_details(fake, rest) -> None:
    event, _ = await fake.trigger(
        TriggerRequest("meeting.participant_joined", meeting_id=91234567890)
    )
    details = await rest.meeting_details("meeting", "91234567890")
    assert details["topic"] == event["payload"]["object"]["topic"]
