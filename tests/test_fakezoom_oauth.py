"""The fake token endpoint over real HTTP (httpx on loopback): checks, errors and faults."""

from __future__ import annotations

import email.utils
import logging
import time

import httpx
import pytest

from tests.waits import HANG_GUARD, awaited
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.fakezoom import FakeZoom

FORM = {"grant_type": "account_credentials", "account_id": C.account_id}
AUTH = (C.client_id, C.client_secret)
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


@pytest.fixture
async def fake():
    async with FakeZoom() as f:
        yield f


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=HANG_GUARD) as client:
        yield client


async def test_token_issued_with_zoom_shape_and_date_header(
    fake: FakeZoom, http: httpx.AsyncClient
) -> None:
    r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["scope"], str) and " " in body["scope"]
    assert body["access_token"]
    # the account's REST host: the fake's own, so a client that follows it never asks Zoom
    assert body["api_url"] == fake.api_url
    assert r.headers["content-type"].startswith("application/json")
    sent = email.utils.parsedate_to_datetime(r.headers["date"])
    assert abs(sent.timestamp() - time.time()) < 5
    assert [q.status for q in fake.token_requests] == [200]
    assert body["access_token"] not in repr(fake.token_requests)


async def test_each_request_gets_a_new_token_on_one_keep_alive_connection(fake, http) -> None:
    a = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
    b = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
    assert a != b
    assert fake.issuer.is_valid(a) and fake.issuer.is_valid(
        b
    )  # a new token does not revoke the old


async def test_token_ttl_is_configurable() -> None:
    async with FakeZoom(token_ttl=120) as fake, httpx.AsyncClient(timeout=HANG_GUARD) as http:
        r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
        assert r.json()["expires_in"] == 120
        fake.token_ttl = 0.05
        token = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
        time.sleep(0.06)  # time passing is what is tested (a sleep lasts at least this long)
        assert not fake.issuer.is_valid(token)


async def test_new_token_revokes_old_when_asked() -> None:
    async with (
        FakeZoom(new_token_revokes_old=True) as fake,
        httpx.AsyncClient(timeout=HANG_GUARD) as http,
    ):
        a = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
        b = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
        assert not fake.issuer.is_valid(a) and fake.issuer.is_valid(b)


async def test_params_in_query_string_are_refused_when_playing_the_2022_report(http) -> None:
    async with FakeZoom(refuse_query_params=True) as fake:
        r = await http.post(fake.oauth_url, auth=AUTH, params=FORM)
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_request"
        # even alongside a correct body
        r = await http.post(fake.oauth_url, auth=AUTH, params=FORM, data=FORM)
        assert r.status_code == 400
        assert fake.tokens_issued == 0


async def test_params_in_query_string_are_taken_as_zoom_samples_send_them(fake, http) -> None:
    """zoom/websocket-js-sample posts `?grant_type=account_credentials&account_id=...` with no
    body; Zoom's WebSocket docs post `?grant_type=client_credentials`."""
    r = await http.post(fake.oauth_url, auth=AUTH, params=FORM)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["scope"], str)
    r = await http.post(fake.oauth_url, auth=AUTH, params={"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == [
        "meeting:read:admin",
        "user:read:admin",
        "webinar:read:admin",
        "recording:read:admin",
        "dashboard_meetings:read:admin",
        "dashboard_webinars:read:admin",
    ]
    assert fake.issuer.is_valid(body["access_token"])
    # the query string and a body together: a form body is still required to be a form
    r = await http.post(fake.oauth_url, auth=AUTH, params=FORM, json=FORM)
    assert r.status_code == 400 and "Content-Type" in r.json()["reason"]
    assert [(q.status, q.grant) for q in fake.token_requests] == [
        (200, "account_credentials"),
        (200, "client_credentials"),
        (400, None),
    ]
    assert fake.tokens_issued == 2


async def test_client_credentials_needs_no_account_id(fake, http) -> None:
    r = await http.post(fake.oauth_url, auth=AUTH, data={"grant_type": "client_credentials"})
    assert r.status_code == 200 and isinstance(r.json()["scope"], list)
    # and its credentials are checked all the same
    r = await http.post(
        fake.oauth_url, auth=(C.client_id, "wrong"), params={"grant_type": "client_credentials"}
    )
    assert (r.status_code, r.json()) == (400, INVALID_CLIENT)


async def test_each_request_says_which_host_name_it_asked(fake, http) -> None:
    await http.post(fake.oauth_url, auth=AUTH, data=FORM, headers={"Host": "zoomgov.com"})
    await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    port = fake.oauth_url.split(":")[2].split("/")[0]
    assert [q.host for q in fake.token_requests] == ["zoomgov.com", f"127.0.0.1:{port}"]


@pytest.mark.parametrize("auth", [(C.client_id, "wrong"), ("someone-else", C.client_secret), None])
async def test_bad_client_id_or_secret_is_zoom_invalid_client(fake, http, auth) -> None:
    r = await http.post(fake.oauth_url, auth=auth, data=FORM)
    assert r.status_code == 400
    assert r.json() == INVALID_CLIENT
    assert fake.token_requests[-1].error == "invalid_client"


async def test_bearer_or_garbage_authorization_is_invalid_client(fake, http) -> None:
    for value in ("Bearer abc", "Basic !!!notbase64", "Basic " + "YWJj"):  # "abc": no colon
        r = await http.post(fake.oauth_url, headers={"Authorization": value}, data=FORM)
        assert (r.status_code, r.json()) == (400, INVALID_CLIENT)


async def test_reject_credentials_switch(fake, http) -> None:
    fake.reject_credentials = True
    r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert (r.status_code, r.json()) == (400, INVALID_CLIENT)
    fake.reject_credentials = False
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code == 200


async def test_wrong_grant_type(fake, http) -> None:
    for form in ({**FORM, "grant_type": "password"}, {"account_id": C.account_id}):
        r = await http.post(fake.oauth_url, auth=AUTH, data=form)
        assert r.status_code == 400
        assert r.json() == {"reason": "unsupported grant type", "error": "unsupported_grant_type"}


async def test_unknown_account_id(fake, http) -> None:
    r = await http.post(fake.oauth_url, auth=AUTH, data={**FORM, "account_id": "someone-else"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert "account" in r.json()["reason"]


async def test_json_body_is_refused(fake, http) -> None:
    r = await http.post(fake.oauth_url, auth=AUTH, json=FORM)
    assert r.status_code == 400
    assert "Content-Type" in r.json()["reason"]


async def test_wrong_path_and_method(fake, http) -> None:
    base = fake.oauth_url.removesuffix("/oauth/token")
    assert (await http.post(base + "/oauth/tokens", auth=AUTH, data=FORM)).status_code == 404
    r = await http.get(fake.oauth_url, auth=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "POST"


async def test_fault_429_with_retry_after_then_recovers(fake, http) -> None:
    fake.oauth_fault("429", retry_after=2, times=1)
    r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert "date" in r.headers
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code == 200
    assert [(q.status, q.fault) for q in fake.token_requests] == [(429, "429"), (200, None)]


async def test_fault_429_retry_after_rounds_up_and_can_be_absent(fake, http) -> None:
    fake.oauth_fault("429", retry_after=0.2)
    fake.oauth_fault("429")
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).headers["retry-after"] == "1"
    r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert r.status_code == 429 and "retry-after" not in r.headers


async def test_fault_500_several_times(fake, http) -> None:
    fake.oauth_fault("500", times=2)
    codes = [(await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code for _ in range(3)]
    assert codes == [500, 500, 200]


async def test_fault_slow_answers_right_but_late(fake, http) -> None:
    fake.oauth_fault("slow", delay=0.3)
    t = time.monotonic()
    r = await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert r.status_code == 200
    assert time.monotonic() - t >= 0.29
    assert fake.token_requests[-1].fault == "slow"
    # and a client with a short timeout sees a timeout
    fake.oauth_fault("slow", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await http.post(fake.oauth_url, auth=AUTH, data=FORM, timeout=0.2)


async def test_fault_drop_closes_without_answer(fake, http) -> None:
    fake.oauth_fault("drop")
    with pytest.raises(httpx.TransportError):
        await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    assert fake.token_requests[-1].status == 0
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code == 200


async def test_unknown_fault_kind_is_an_error(fake) -> None:
    with pytest.raises(ValueError, match="unknown OAuth fault"):
        fake.oauth_fault("418")


async def test_clear_faults(fake, http) -> None:
    fake.oauth_fault("500", times=5)
    fake.clear_oauth_faults()
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code == 200


async def test_issued_tokens_never_reach_the_logs(fake, http, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
    assert token not in caplog.text
    assert C.client_secret not in caplog.text


async def test_malformed_http_gets_400_and_a_closed_connection(fake) -> None:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", fake.oauth_port)
    writer.write(b"NONSENSE\r\n\r\n")
    await writer.drain()
    data = await awaited(reader.read(), "the answer")
    writer.close()
    assert data.startswith(b"HTTP/1.1 400 ")


async def test_restart_keeps_the_port_and_the_tokens(fake, http) -> None:
    port = fake.oauth_port
    token = (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).json()["access_token"]
    await fake.stop()
    with pytest.raises(httpx.TransportError):  # the pooled connection is gone, then the port
        await http.post(fake.oauth_url, auth=AUTH, data=FORM)
    await fake.start()
    assert fake.oauth_port == port
    assert (await http.post(fake.oauth_url, auth=AUTH, data=FORM)).status_code == 200
    assert fake.issuer.is_valid(token)
