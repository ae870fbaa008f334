"""The fake Zoom's REST API over real HTTP: the Dashboard's live meetings and participants
answered from the fake's own state at the time of the call, paging, the uuid encoding rule,
token checks and the switches tests flip."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx
import pytest

from tests.waits import HANG_GUARD
from zoomtui.fakezoom import FakeZoom, TriggerRequest


@pytest.fixture
async def fake():
    async with FakeZoom(scenario="quiet") as f:
        yield f


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=HANG_GUARD) as client:
        yield client


def _bearer(fake: FakeZoom) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.issue_token()}"}


async def _join(fake: FakeZoom, name: str, meeting_id: int = 85746352410) -> dict:
    event, _ = await fake.trigger(
        TriggerRequest("meeting.participant_joined", meeting_id=meeting_id, name=name)
    )
    return event


def _path_uuid(uuid: str) -> str:
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


async def test_live_meetings_and_rosters_follow_events_nobody_heard(fake, http) -> None:
    # No connection is open: the events still happened, as they would at Zoom.
    ev = await _join(fake, "Ana Souza")
    await _join(fake, "Bo Lindqvist")
    await _join(fake, "Chidi Okonkwo", meeting_id=91234567890)
    left, _ = await fake.trigger(
        TriggerRequest("meeting.participant_left", meeting_id=85746352410, name="Bo Lindqvist")
    )
    r = await http.get(
        f"{fake.api_url}/v2/metrics/meetings", params={"type": "live"}, headers=_bearer(fake)
    )
    assert r.status_code == 200
    listed = {m["uuid"]: m for m in r.json()["meetings"]}
    uuid = ev["payload"]["object"]["uuid"]
    assert set(listed) == set(fake.truth.roster()) and len(listed) == 2
    assert listed[uuid]["participants"] == 1
    r = await http.get(
        f"{fake.api_url}/v2/metrics/meetings/{_path_uuid(uuid)}/participants",
        params={"type": "live"},
        headers=_bearer(fake),
    )
    people = r.json()["participants"]
    assert [p["user_name"] for p in people] == ["Ana Souza"]
    assert people[0]["status"] == "in_meeting" and people[0]["join_time"]
    assert left["payload"]["object"]["uuid"] == uuid


async def test_pages_follow_next_page_token_up_to_300(fake, http) -> None:
    for n in range(7):
        await _join(fake, f"Person {n}")
    (uuid,) = fake.truth.roster()
    url = f"{fake.api_url}/v2/metrics/meetings/{_path_uuid(uuid)}/participants"
    names, token, sizes = [], "", []
    while True:
        params = {"type": "live", "page_size": 3, **({"next_page_token": token} if token else {})}
        body = (await http.get(url, params=params, headers=_bearer(fake))).json()
        names += [p["user_name"] for p in body["participants"]]
        sizes.append(len(body["participants"]))
        assert body["total_records"] == 7 and body["page_count"] == 3
        token = body["next_page_token"]
        if not token:
            break
    assert sizes == [3, 3, 1] and sorted(names) == sorted(f"Person {n}" for n in range(7))
    big = await http.get(url, params={"page_size": 5000}, headers=_bearer(fake))
    assert big.json()["page_size"] == 300
    stale = await http.get(url, params={"next_page_token": "nope"}, headers=_bearer(fake))
    assert stale.status_code == 400


async def test_a_uuid_with_double_slash_must_be_encoded_twice(fake, http) -> None:
    await fake.inject(
        {
            "event": "meeting.participant_joined",
            "event_ts": 1,
            "payload": {
                "object": {
                    "uuid": "/ab//cd+ef==",
                    "id": "81234567890",
                    "participant": {"user_id": "1", "user_name": "Ana", "join_time": ""},
                }
            },
        }
    )
    base = f"{fake.api_url}/v2/metrics/meetings"
    once = await http.get(f"{base}/{quote('/ab//cd+ef==', safe='')}/participants")
    assert once.status_code == 401  # (the token is checked first)
    h = _bearer(fake)
    once = await http.get(f"{base}/{quote('/ab//cd+ef==', safe='')}/participants", headers=h)
    twice = await http.get(f"{base}/{_path_uuid('/ab//cd+ef==')}/participants", headers=h)
    by_id = await http.get(f"{base}/81234567890/participants", headers=h)
    assert (once.status_code, twice.status_code, by_id.status_code) == (404, 200, 200)


async def test_errors_in_zoom_shapes(fake, http) -> None:
    url = f"{fake.api_url}/v2/metrics/meetings"
    r = await http.get(url, headers={"Authorization": "Bearer not-ours"})
    assert (r.status_code, r.json()["code"]) == (401, 124)
    fake.dashboard.scope_granted = False
    r = await http.get(url, headers=_bearer(fake))
    assert (r.status_code, r.json()["code"]) == (400, 4711)
    assert "dashboard_meetings:read:admin" in r.json()["message"]
    fake.dashboard.scope_granted = True
    fake.dashboard.plan_has_dashboard = False
    r = await http.get(url, headers=_bearer(fake))
    assert (r.status_code, r.json()["code"]) == (400, 200)
    fake.dashboard.plan_has_dashboard = True
    fake.dashboard.fault("429", retry_after=1.5)
    fake.dashboard.fault("500")
    r = await http.get(url, headers=_bearer(fake))
    assert (r.status_code, r.headers["retry-after"]) == (429, "2")
    assert (await http.get(url, headers=_bearer(fake))).status_code == 500
    assert (await http.get(url, headers=_bearer(fake))).status_code == 200
    assert [c.status for c in fake.dashboard.calls] == [401, 400, 400, 429, 500, 200]


async def test_meeting_details(fake, http) -> None:
    ev = await _join(fake, "Ana Souza")
    obj = ev["payload"]["object"]
    r = await http.get(f"{fake.api_url}/v2/meetings/{obj['id']}", headers=_bearer(fake))
    assert r.status_code == 200
    assert r.json()["topic"] == obj["topic"] and r.json()["host_id"] == obj["host_id"]
    fake.dashboard.details_allowed = False
    r = await http.get(f"{fake.api_url}/v2/meetings/{obj['id']}", headers=_bearer(fake))
    assert r.json()["code"] == 4711
    r = await http.get(f"{fake.api_url}/v2/meetings/1", headers=_bearer(fake))
    assert r.status_code == 400  # (still not allowed)


async def test_hold_keeps_answers_back_until_released(fake, http) -> None:
    fake.dashboard.hold()
    call = asyncio.create_task(
        http.get(f"{fake.api_url}/v2/metrics/meetings", headers=_bearer(fake))
    )
    await fake.wait_until(lambda: fake.dashboard.held_now == 1)
    await _join(fake, "Ana Souza")  # happens while the answer travels: it is not in it
    fake.dashboard.release()
    r = await call
    assert r.json()["total_records"] == 0


def test_late_leave_of_an_earlier_session_keeps_the_rejoined_person() -> None:
    from zoomtui.fakezoom.truth import LiveTruth

    def presence(name: str, user_id: str) -> dict:
        part = {"user_id": user_id, "user_name": "Bo", "participant_uuid": "pu-bo", "id": "z1"}
        obj = {"uuid": "m1==", "id": "81234567890", "participant": part}
        return {"event": f"meeting.{name}", "event_ts": 1, "payload": {"object": obj}}

    truth = LiveTruth()
    truth.handed([presence("participant_joined", "16001")])
    truth.handed([presence("participant_joined", "16002")])  # a rejoin: a new session
    truth.handed([presence("participant_left", "16001")])  # the first session's, late
    assert truth.roster() == {"m1==": {"Bo"}}
    truth.handed([presence("participant_left", "16002")])
    assert truth.roster() == {"m1==": set()}


async def test_the_token_answer_lists_the_dashboard_scopes_only_when_granted(fake, http) -> None:
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C

    async def scopes() -> list[str]:
        r = await http.post(
            fake.oauth_url,
            auth=(C.client_id, C.client_secret),
            data={"grant_type": "account_credentials", "account_id": C.account_id},
        )
        return r.json()["scope"].split()

    assert "dashboard_meetings:read:admin" in await scopes()
    fake.dashboard.scope_granted = False  # what Zoom answers then: 4711, and a token without
    assert not [s for s in await scopes() if s.startswith("dashboard")]
    assert "meeting:read:admin" in await scopes()
