"""TokenProvider against the fake Zoom's real token endpoint (real httpx over loopback)."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from tests.connhelpers import ShiftedClock
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.fakezoom.httpserver import HttpServer, Request, Response
from zoomtui.redaction import Secret, redact
from zoomtui.zoom.auth import (
    CredentialsRejected,
    RateLimited,
    TokenProvider,
    TransientAuthError,
    _retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_token_request_is_accepted_and_parsed() -> None:
    async with FakeZoom() as fake, TokenProvider(fake.settings()) as tokens:
        before = time.time()
        tok = await tokens.get()
        assert [r.status for r in fake.token_requests] == [200]
        assert isinstance(tok.access_token, Secret)
        assert tok.access_token.reveal() not in repr(tok)
        assert "meeting:read:admin" in tok.scopes
        assert tok.token_type == "bearer"
        assert before <= tok.obtained_at <= tok.received_at
        assert tok.expires_at == pytest.approx(tok.obtained_at + 3600)
        assert tok.date_header and tok.server_time is not None
        assert abs(tok.clock_skew) < 2.5  # Date has a 1 s resolution
        # the token is registered for redaction everywhere
        assert tok.access_token.reveal() not in redact(f"token is {tok.access_token.reveal()}")


async def test_token_is_cached_and_shared_by_concurrent_callers() -> None:
    async with FakeZoom() as fake, TokenProvider(fake.settings()) as tokens:
        a, b, c = await asyncio.gather(tokens.get(), tokens.get(), tokens.get())
        assert a is b is c
        assert await tokens.get() is a
        assert len(fake.token_requests) == 1


async def test_refresh_asks_at_once_but_reuses_a_token_newer_than_the_rejected_one() -> None:
    async with FakeZoom() as fake, TokenProvider(fake.settings()) as tokens:
        old = await tokens.get()
        new = await tokens.refresh()
        assert new is not old and new.access_token != old.access_token
        assert len(fake.token_requests) == 2
        # a second task that also saw `old` rejected gets `new`, without another request
        assert await tokens.refresh(rejected=old) is new
        assert len(fake.token_requests) == 2


async def test_refreshes_a_few_minutes_before_expiry() -> None:
    clock = Clock()
    async with FakeZoom() as fake, TokenProvider(fake.settings(), clock=clock) as tokens:
        first = await tokens.get()
        assert tokens.refresh_due_at(first) == pytest.approx(first.expires_at - 300)
        clock.offset = 3600 - 301
        assert await tokens.get() is first
        clock.offset = 3600 - 299
        second = await tokens.get()
        assert second is not first
        assert len(fake.token_requests) == 2


async def test_short_lived_tokens_refresh_at_four_fifths_of_their_life() -> None:
    async with FakeZoom(token_ttl=600) as fake, TokenProvider(fake.settings()) as tokens:
        tok = await tokens.get()
        assert tokens.refresh_due_at(tok) == pytest.approx(tok.obtained_at + 480)


@pytest.mark.parametrize("change", ["secret", "client_id", "account_id"])
async def test_rejected_credentials_are_classified_with_a_hint(change: str) -> None:
    async with FakeZoom() as fake:
        settings = {
            "secret": fake.settings(client_secret=Secret("wrong-secret-value-1234")),
            "client_id": fake.settings(client_id="nobody"),
            "account_id": fake.settings(account_id="not-this-account"),
        }[change]
        async with TokenProvider(settings) as tokens:
            with pytest.raises(CredentialsRejected) as info:
                await tokens.get()
        exc = info.value
        assert exc.status == 400
        assert "account id" in exc.hint and "client secret" in exc.hint and "activated" in exc.hint
        assert "scopes" in exc.hint
        text = f"{exc} {exc.hint} {exc!r}"
        assert "wrong-secret-value-1234" not in text
        assert DEMO_CREDENTIALS.client_secret not in text
        assert len(fake.token_requests) == 1


async def test_rate_limit_honours_retry_after_without_asking_again() -> None:
    clock = ShiftedClock(time.time)
    async with FakeZoom() as fake, TokenProvider(fake.settings(), clock=clock) as tokens:
        fake.oauth_fault("429", retry_after=1)  # HTTP sends whole seconds
        with pytest.raises(RateLimited) as info:
            await tokens.get()
        assert info.value.retry_after == pytest.approx(1.0)
        with pytest.raises(RateLimited):  # still inside the window: no request sent
            await tokens.get()
        assert len(fake.token_requests) == 1
        clock.advance(1.05)  # the window is over
        assert (await tokens.get()).access_token
        assert [r.status for r in fake.token_requests] == [429, 200]


@pytest.mark.parametrize("fault", ["500", "503", "drop"])
async def test_server_errors_and_dropped_connections_are_transient(fault: str) -> None:
    async with FakeZoom() as fake, TokenProvider(fake.settings()) as tokens:
        fake.oauth_fault(fault)
        with pytest.raises(TransientAuthError):
            await tokens.get()
        assert await tokens.get()  # and the next try works


async def test_timeout_is_transient() -> None:
    async with FakeZoom() as fake, TokenProvider(fake.settings(), timeout=0.2) as tokens:
        fake.oauth_fault("slow", delay=1.0)
        with pytest.raises(TransientAuthError, match="timed out"):
            await tokens.get()


async def test_unreachable_endpoint_is_transient() -> None:
    async with FakeZoom() as fake:
        settings = fake.settings()
    # the fake is gone: nothing listens on that port any more
    async with TokenProvider(settings) as tokens:
        with pytest.raises(TransientAuthError, match="Could not reach"):
            await tokens.get()


async def test_a_200_without_a_token_is_transient() -> None:
    async def portal(request: Request) -> Response:  # a captive portal answering everything
        return Response(
            200, b"<html>log in to the hotel wifi</html>", {"Content-Type": "text/html"}
        )

    server = HttpServer(portal, "127.0.0.1", 0)
    await server.start()
    try:
        async with FakeZoom() as fake:
            settings = fake.settings(oauth_url=f"http://127.0.0.1:{server.port}/oauth/token")
        async with TokenProvider(settings) as tokens:
            with pytest.raises(TransientAuthError, match="without an access token"):
                await tokens.get()
    finally:
        await server.stop()


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = time.time()
    assert _retry_after("7", now) == 7
    assert _retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(
        30, abs=1.5
    )
    assert _retry_after(None, now) > 0
    assert _retry_after("soon", now) > 0
