"""A hostile token endpoint against the real token provider (and the real connection):
lifetimes of zero, below zero or not numbers, Retry-After without a ceiling, one byte at a
time, answers without end, and proxies from the environment on loopback.

Whatever the endpoint does, the provider asks at a bounded rate, waits a bounded time,
reads a bounded amount, and says what the endpoint did wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from tests.connhelpers import HB, MaxRandom, Recorder
from tests.reliability.hostile import HostileEndpoint, RecordingProxy, drip, flood, json_answer
from zoomtui.fakezoom import FakeZoom
from zoomtui.zoom.auth import (
    MAX_RETRY_AFTER,
    MAX_TOKEN_LIFETIME,
    MAX_TOKEN_RESPONSE_BYTES,
    RateLimited,
    TokenProvider,
    TransientAuthError,
)
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S

pytestmark = pytest.mark.timeout(60)

#: the provider's pause after failures in these tests: 0.1 s, doubling, at most 0.4 s
PAUSE_BASE = 0.1
PAUSE_CAP = 0.4
#: asyncio may wake a timer up to one clock tick early
TICK = 0.005


def pauses(n: int) -> list[float]:
    return [min(PAUSE_CAP, PAUSE_BASE * 2**i) for i in range(n)]


# -- 2. token lifetimes -------------------------------------------------------------------------
@pytest.mark.parametrize("expires_in", [0, -10, 1e-9, "nan", "soon", None, 59])
async def test_a_lifetime_below_the_floor_is_the_endpoints_fault_and_requests_back_off(
    expires_in: object,
) -> None:
    """The real connection against an endpoint whose tokens the fake Zoom would accept, but
    whose expires_in says they are already (or almost) dead: before, the token keeper asked
    again with no pause (842 requests in 5 s)."""
    async with FakeZoom() as fake:
        answer = json_answer(
            lambda n: {"access_token": fake.issue_token(), "expires_in": expires_in}
        )
        with HostileEndpoint(answer) as endpoint:
            settings = fake.settings(heartbeat_interval=HB, oauth_url=endpoint.url)
            tokens = TokenProvider(settings, retry_pause_base=PAUSE_BASE, retry_pause_cap=PAUSE_CAP)
            # the connection's own backoff is next to nothing: the provider must do the pacing
            conn = ZoomConnection(
                settings, tokens, backoff_base=0.001, backoff_cap=0.002, rng=MaxRandom()
            )
            rec = Recorder(conn)
            try:
                await rec.wait_for(lambda _: len(endpoint.arrivals) >= 5)
            finally:
                await rec.close()
                await tokens.aclose()
    for gap, pause in zip(endpoint.gaps(), pauses(4), strict=False):
        assert gap >= pause - TICK, endpoint.gaps()
    retries = [s for s in rec.states if s.state is S.RECONNECTING]
    assert retries and S.CONNECTED not in [s.state for s in rec.states]
    reason = retries[0].reason
    assert "misbehaving" in reason and endpoint.url.split("/")[2] in reason
    if expires_in in ("nan", "soon", None):
        assert "not a number" in reason
    else:
        assert f"expires in {float(expires_in):.3g} s" in reason and "60 s" in reason


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (200, {"access_token": "t0k", "expires_in": 0}, {}),
        (500, {"error": "server_error"}, {}),
        (429, {}, {"Retry_After": "0"}),
        (200, b"<html>captive portal</html>", {}),
    ],
    ids=["expires_in 0", "500", "429 retry-after 0", "not json"],
)
async def test_the_provider_itself_spaces_requests_whatever_the_caller_does(
    status: int, body: object, headers: dict[str, str]
) -> None:
    """A caller asking in a tight loop (a keeper, a person pressing retry) still waits."""
    with HostileEndpoint(json_answer(lambda n: body, status, **headers)) as endpoint:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=endpoint.url)
        async with TokenProvider(
            settings, retry_pause_base=PAUSE_BASE, retry_pause_cap=PAUSE_CAP
        ) as tokens:
            for _ in range(5):
                with pytest.raises((TransientAuthError, RateLimited)):
                    await tokens.get()
                await asyncio.sleep(0)
            assert tokens.failures_in_a_row == 5
    assert len(endpoint.arrivals) == 5
    for gap, pause in zip(endpoint.gaps(), pauses(4), strict=True):
        assert gap >= pause - TICK, endpoint.gaps()


@pytest.mark.parametrize("expires_in", ["1e300", '"inf"', "1" + "0" * 30, '"1e999"'])
async def test_a_huge_lifetime_is_cut_to_a_day(expires_in: str) -> None:
    body = b'{"access_token": "t0k", "expires_in": %s}' % expires_in.encode()
    with HostileEndpoint(json_answer(lambda n: body)) as endpoint:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=endpoint.url)
        async with TokenProvider(settings) as tokens:
            tok = await tokens.get()
    assert tok.lifetime == MAX_TOKEN_LIFETIME
    assert tokens.refresh_due_at(tok) == pytest.approx(tok.expires_at - 300)


# -- 3. Retry-After without a ceiling -----------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("99999999999", MAX_RETRY_AFTER),
        ("inf", MAX_RETRY_AFTER),
        ("1e999", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("nan", 5.0),  # no usable value: the default
        ("-30", 0.0),
        ("7", 7.0),
    ],
)
async def test_retry_after_is_capped(header: str, expected: float) -> None:
    with HostileEndpoint(
        json_answer(lambda n: {"error": "rate_limited"}, 429, Retry_After=header)
    ) as endpoint:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=endpoint.url)
        async with TokenProvider(settings) as tokens:
            with pytest.raises(RateLimited) as info:
                await tokens.get()
    assert info.value.retry_after == pytest.approx(expected, abs=1e-6)
    if expected == MAX_RETRY_AFTER:
        assert "retrying in 600 s" in info.value.message
        assert "zoomtui waits at most 10 min" in info.value.message


def test_retry_after_dates_far_ahead_are_capped_too() -> None:
    from zoomtui.zoom.auth import _retry_after

    now = time.time()
    in_a_year = email.utils.formatdate(now + 365 * 86400, usegmt=True)
    assert _retry_after(in_a_year, now) == MAX_RETRY_AFTER
    assert _retry_after(email.utils.formatdate(now - 60, usegmt=True), now) == 0.0


# -- 4. a slow token endpoint -------------------------------------------------------------------
async def test_a_token_endpoint_sending_a_byte_at_a_time_is_cut_off_at_the_deadline() -> None:
    """Each byte comes well within httpx's per-read timeout; the whole request does not."""
    with HostileEndpoint(drip(interval=0.05, total=30)) as endpoint:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=endpoint.url)
        async with TokenProvider(settings, timeout=0.5) as tokens:
            started = time.monotonic()
            async with asyncio.timeout(10):  # the test's own guard, far beyond the deadline
                with pytest.raises(TransientAuthError, match=r"timed out after 0\.5 s"):
                    await tokens.get()
            took = time.monotonic() - started
    assert took < 10  # it was the provider's deadline that fired, not the guard


# -- 5. a token answer without end --------------------------------------------------------------
@pytest.mark.parametrize(
    "answer",
    [
        flood(200 << 20),  # 200 MB, Content-Length says so
        flood(200 << 20, declared=False),  # 200 MB until the connection closes
        flood(50 << 20, gzipped=True),  # 50 KB on the wire, 50 MB inflated
    ],
    ids=["declared", "undeclared", "gzip bomb"],
)
async def test_a_token_answer_larger_than_64_kib_is_not_read(answer) -> None:
    with HostileEndpoint(answer) as endpoint:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=endpoint.url)
        async with TokenProvider(settings) as tokens:
            with pytest.raises(TransientAuthError) as info:
                await tokens.get()
    assert "more than 64 KiB" in info.value.message and "stopped reading" in info.value.message
    # the socket buffers hold a few MB at most: nowhere near the 200 MB offered
    assert endpoint.sent < 32 << 20
    assert MAX_TOKEN_RESPONSE_BYTES == 64 * 1024


# -- 7. loopback never goes through a proxy -----------------------------------------------------
def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"])
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
async def test_a_loopback_token_request_never_goes_through_a_proxy(
    host: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the cleartext request with the Basic credentials went to the proxy."""
    if host == "::1" and not _ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    bind = "127.0.0.1" if host == "localhost" else host
    ok = json_answer(lambda n: {"access_token": f"t0k-{n}", "expires_in": 3600})
    with RecordingProxy() as proxy, HostileEndpoint(ok, host=bind) as endpoint:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.lower(), raising=False)
        monkeypatch.setenv(variable, proxy.url)
        url = (
            endpoint.url.replace("127.0.0.1", "localhost") if host == "localhost" else endpoint.url
        )
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=url)
        async with TokenProvider(settings) as tokens:
            tok = await tokens.get()
    assert tok.access_token.reveal() == "t0k-0"
    assert proxy.seen == [] and len(endpoint.arrivals) == 1


def test_the_recording_proxy_does_record_a_request_sent_to_it() -> None:
    """The check above can fail: a non-loopback URL does go to the proxy named."""
    import httpx

    with RecordingProxy() as proxy, httpx.Client(proxy=proxy.url) as client:
        r = client.post("http://zoom-oauth.example.test/oauth/token")
    assert r.status_code == 502
    assert proxy.seen == ["POST http://zoom-oauth.example.test/oauth/token HTTP/1.1"]
