"""Zoom's OAuth token: one cached access token per provider, refreshed ahead of expiry.

Two grants (PROTOCOL.md section 1), both a POST with Basic auth:

- `account_credentials` (a Server-to-Server OAuth app): the grant and the account id in a
  form body (not the query string: a 400 has been reported for that);
- `client_credentials` (an app-level token): `?grant_type=client_credentials` in the query
  string, as Zoom's WebSocket docs send it, and no account id.

`scope` comes as one space-separated string or as an array.  There is no refresh token,
so "refresh" means asking again.

Tokens are shared through the `TokenCache` the front end hands in (the keyring-backed
`zoomtui.credentials.token_cache.SharedTokenCache`): before asking Zoom, the provider takes a
fresh token another zoomtui process (or provider) of the same profile and credentials
already has, and it shares each token it gets.  A token Zoom calls invalid is dropped from
that cache for everyone.

Errors are classified for the connection, which reacts differently to each:

- `CredentialsRejected`  any 4xx other than 429: a person has to fix something;
                         never retried automatically.
- `RateLimited`          429: wait `retry_after` seconds (the provider itself refuses
                         to ask again before then).
- `TransientAuthError`   5xx, network errors, timeouts, unreadable answers: back off, retry.

Whatever the endpoint answers, the provider bounds what it costs us:

- every request has an overall deadline (`timeout`), not only one per read, so an
  endpoint that sends a byte at a time cannot hold us;
- at most `MAX_TOKEN_RESPONSE_BYTES` of an answer are read;
- after a request that gave no usable token, the next waits `retry_pause_base`
  seconds, doubling with each further failure up to `retry_pause_cap`, so no caller
  can make the provider ask faster than that;
- a token that claims to last under `MIN_TOKEN_LIFETIME` is the endpoint's fault
  (a `TransientAuthError` saying so), not a reason to ask again at once;
- a Retry-After is honoured up to `MAX_RETRY_AFTER`.

Loopback token URLs never go through a proxy from the environment (the fake Zoom and
test servers speak cleartext there: a proxy would carry the Basic credentials off the
machine).

Every message goes through `redact()`; the token only ever lives in a `Secret`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import logging
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeGuard
from urllib.parse import urlsplit

import httpx
import orjson

from zoomtui.redaction import Secret, redact, register_secret
from zoomtui.settings import GRANT_CLIENT, ConnectionSettings, is_loopback_host
from zoomtui.zoom.tokens import (
    CLIENT_CREDENTIALS_HINT,
    CREDENTIALS_HINT,
    AuthError,
    CredentialsRejected,
    RateLimited,
    Token,
    TokenCache,
    TokenOwner,
    TransientAuthError,
    credentials_hint,
)

__all__ = [
    "CLIENT_CREDENTIALS_HINT",
    "CREDENTIALS_HINT",
    "AuthError",
    "CredentialsRejected",
    "RateLimited",
    "Token",
    "TokenCache",
    "TokenProvider",
    "TransientAuthError",
    "credentials_hint",
]

log = logging.getLogger(__name__)

#: refresh this long before expiry (capped at a fifth of the token's lifetime for short TTLs)
REFRESH_MARGIN = 300.0
#: used when a 429 carries no usable Retry-After
DEFAULT_RETRY_AFTER = 5.0
#: the longest wait a Retry-After can impose (a larger one, a far date, `inf`: this)
MAX_RETRY_AFTER = 600.0
#: a token that claims to live less than this is refused as the endpoint's fault (Zoom's live
#: an hour): it would otherwise have to be asked for again at once, and again, and again
MIN_TOKEN_LIFETIME = 60.0
#: a longer `expires_in` (a huge number, `inf`) is cut to this
MAX_TOKEN_LIFETIME = 86_400.0
#: after n failed token requests in a row the next waits base * 2**(n-1) seconds, at most cap
RETRY_PAUSE_BASE = 1.0
RETRY_PAUSE_CAP = 60.0
#: a token answer is well under 2 KiB; reading stops beyond this
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "zoomtui (+https://github.com/zoomtui)"

MAX_SCOPES = 1000  # a real answer lists a few dozen


def _retry_after(value: str | None, now: float) -> float:
    """Retry-After is either delta-seconds or an HTTP date; the wait is capped at
    `MAX_RETRY_AFTER` (a far date, `inf` or a huge number would stop us for good)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        wait = float(value)
    except ValueError:
        try:
            wait = email.utils.parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return DEFAULT_RETRY_AFTER
    if math.isnan(wait):
        return DEFAULT_RETRY_AFTER
    return min(MAX_RETRY_AFTER, max(0.0, wait))


def _json_or_none(body: bytes) -> dict | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _short(value: object) -> str:
    """A value from the endpoint, quoted for a message and cut short (it may be anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class _Answer:
    """What the token endpoint said, read within the size limit."""

    status: int
    headers: httpx.Headers
    body: bytes


class _TooLarge(Exception):
    pass


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body without its content-encoding (we ask for none; a proxy may add one),
    inflated to at most `MAX_TOKEN_RESPONSE_BYTES` (no decompression bomb)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return b""  # unreadable: treated like any answer that is not JSON
    inflater = zlib.decompressobj(wbits=47)  # 47: gzip or zlib, from the header
    try:
        out = inflater.decompress(body, MAX_TOKEN_RESPONSE_BYTES + 1)
    except zlib.error:
        return b""
    if len(out) > MAX_TOKEN_RESPONSE_BYTES:
        raise _TooLarge
    return out


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _scopes(scope: object) -> tuple[str, ...]:
    """`scope` as Zoom sends it: one space-separated string (account_credentials) or an
    array of strings (client_credentials).  Anything else lists no scope."""
    if isinstance(scope, str):
        words = scope.split()
    elif isinstance(scope, list):
        words = [w for item in scope if isinstance(item, str) for w in item.split()]
    else:
        words = []
    return tuple(words[:MAX_SCOPES])


class TokenProvider:
    """Gets, caches and refreshes one access token for one set of settings.

    Safe to share between tasks of one event loop: concurrent callers wait for
    the same request instead of each sending one.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        *,
        refresh_margin: float = REFRESH_MARGIN,
        timeout: float = 10.0,
        min_lifetime: float = MIN_TOKEN_LIFETIME,
        retry_pause_base: float = RETRY_PAUSE_BASE,
        retry_pause_cap: float = RETRY_PAUSE_CAP,
        monotonic: Callable[[], float] = time.monotonic,
        cache: TokenCache | None = None,
    ) -> None:
        """`cache`: where tokens are shared with the other providers and zoomtui processes of
        this profile (the front ends hand in `credentials.token_cache.shared_token_cache`: the
        OS keyring, else this process's memory); None: nowhere, every token is asked of
        Zoom, as a login's check of the credentials must be."""
        self._settings = settings
        self._client = client
        self._owns_client = client is None
        self._clock = clock
        self._refresh_margin = refresh_margin
        #: the deadline of one whole request (connect, send, every byte of the answer)
        self._timeout = timeout
        self._min_lifetime = min_lifetime
        self._pause_base = retry_pause_base
        self._pause_cap = retry_pause_cap
        self._mono = monotonic
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._not_before = 0.0  # Retry-After from a 429, honoured by every caller
        #: failed requests in a row, and when the last one ended (monotonic): the pause
        self.failures_in_a_row = 0
        self._last_failure_at = 0.0
        #: how many token requests were sent (doctor and tests read it)
        self.requests = 0
        #: how many tokens were taken from the shared cache instead of asking Zoom
        self.reused = 0
        self._cache = cache
        self._owner = TokenOwner.of(settings) if cache is not None else None
        # The Basic header value is as secret as the client secret itself.
        basic = f"{settings.client_id}:{settings.client_secret.reveal()}"
        register_secret(base64.b64encode(basic.encode()).decode())

    # -- public ----------------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        """The cached token, if any (may be expired)."""
        return self._token

    def refresh_due_at(self, token: Token) -> float:
        """When `get()` will stop reusing `token`: a few minutes before it expires."""
        margin = min(self._refresh_margin, token.lifetime / 5)
        return token.expires_at - margin

    def is_fresh(self, token: Token | None) -> TypeGuard[Token]:
        return token is not None and self._clock() < self.refresh_due_at(token)

    @property
    def cache_where(self) -> str | None:
        """Where tokens are shared ("OS keyring", "memory"), None when they are not."""
        return self._cache.where if self._cache is not None else None

    async def get(self) -> Token:
        """The cached token, else a fresh one from the shared cache, else a new one from
        Zoom when it is missing or about to expire."""
        tok = self._token
        if self.is_fresh(tok):
            return tok
        async with self._lock:
            tok = self._token
            if self.is_fresh(tok):  # another task refreshed it while we waited
                return tok
            shared = await self._shared_token()
            if shared is not None and self.is_fresh(shared):
                return self._adopt(shared)
            return await self._fetch_and_share()

    async def refresh(self, rejected: Token | None = None) -> Token:
        """A new token now (Zoom said ours is invalid).

        With `rejected`, a token obtained since then by another task, or shared by another
        process, is reused instead of asking again; the rejected one is dropped from the
        shared cache, so no other process picks it up.
        """
        async with self._lock:
            tok = self._token
            if (
                rejected is not None
                and tok is not None
                and tok.access_token != rejected.access_token
                and self.is_fresh(tok)
            ):
                return tok
            bad = rejected or tok
            shared = await self._shared_token()
            if shared is not None and bad is not None:
                if shared.access_token == bad.access_token:
                    await self._in_cache("drop", bad)
                elif rejected is not None and self.is_fresh(shared):
                    return self._adopt(shared)
            return await self._fetch_and_share()

    def invalidate(self) -> None:
        """Forget this provider's token (the next `get()` takes a fresh shared one, or asks
        Zoom)."""
        self._token = None

    def waive_wait(self) -> None:
        """A person asked to try now: the next request does not wait out a Retry-After.
        (The pause after failed requests still spaces them: pressing retry cannot flood.)"""
        self._not_before = 0.0

    # -- the shared cache -------------------------------------------------------------
    async def _in_cache(self, op: Literal["load", "save", "drop"], *args: object) -> object:
        """One call on the shared cache, off the event loop.  The cache is a convenience: any
        failure of it is a miss, never a reason to fail getting a token."""
        if self._cache is None:
            return None
        try:
            return await asyncio.to_thread(getattr(self._cache, op), self._owner, *args)
        except Exception as exc:  # noqa: BLE001 - a keyring stack can raise anything
            log.info(
                "the shared token cache failed (%s): %s", op, redact(exc) or type(exc).__name__
            )
            return None

    async def _shared_token(self) -> Token | None:
        found = await self._in_cache("load")
        return found if isinstance(found, Token) else None

    def _adopt(self, token: Token) -> Token:
        self._token = token
        self.reused += 1
        log.info(
            "reusing the access token shared in the %s (expires in %.0f s)",
            self.cache_where,
            token.expires_at - self._clock(),
        )
        return token

    async def _fetch_and_share(self) -> Token:
        token = await self._fetch()
        await self._in_cache("save", token)
        return token

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> TokenProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the request -----------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Certificates verified; proxies from the environment (HTTPS_PROXY, NO_PROXY...),
            # except for a loopback token URL: mounted as "no proxy" (None), it always goes
            # direct, as the cleartext it may use must never leave the machine.
            host = urlsplit(self._settings.oauth_url).hostname or ""
            direct: dict[str, httpx.AsyncBaseTransport | None] = {}
            if is_loopback_host(host):
                direct[f"all://[{host}]" if ":" in host else f"all://{host}"] = None
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                verify=True,
                trust_env=True,
                mounts=direct,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    def retry_pause(self) -> float:
        """Seconds the next request waits after the last failed one (0 after a success)."""
        n = self.failures_in_a_row
        if n <= 0:
            return 0.0
        return min(self._pause_cap, self._pause_base * 2 ** min(n - 1, 62))

    async def _fetch(self) -> Token:
        s = self._settings
        now = self._clock()
        if now < self._not_before:
            wait = self._not_before - now
            raise RateLimited(
                f"Zoom's token endpoint asked us to wait; {wait:.0f} s left before asking again.",
                retry_after=wait,
            )
        # Whatever the caller does (a keeper in a loop, a person pressing retry), requests
        # after failures are spaced by the pause. Waiting here keeps the caller's states as
        # they are; the wait is cancellable with the caller's task.
        left = self._last_failure_at + self.retry_pause() - self._mono()
        if left > 0:
            log.info(
                "next token request in %.1f s (%d failed in a row)", left, self.failures_in_a_row
            )
            await asyncio.sleep(left)
        try:
            token = await self._request(s, now)
        except AuthError:
            self.failures_in_a_row += 1
            self._last_failure_at = self._mono()
            raise
        self.failures_in_a_row = 0
        return token

    async def _request(self, s: ConnectionSettings, sent: float) -> Token:
        host = _host(s.oauth_url)
        self.requests += 1
        try:
            # One deadline for the whole request: httpx's timeout is per read, and an
            # endpoint sending one byte at a time would never trip it.
            async with asyncio.timeout(self._timeout):
                answer = await self._post(s)
        except (TimeoutError, httpx.TimeoutException):
            raise TransientAuthError(
                f"The token request to {host} timed out after {self._timeout:g} s."
            ) from None
        except _TooLarge:
            raise TransientAuthError(
                f"The token endpoint {host} sent more than {MAX_TOKEN_RESPONSE_BYTES // 1024} KiB "
                "(a token answer is well under 2 KiB), so zoomtui stopped reading it: "
                "a proxy or captive portal?"
            ) from None
        except httpx.HTTPError as exc:
            # `from None`: the original exception holds the request (and its Authorization header).
            raise TransientAuthError(
                f"Could not reach the token endpoint {host}: {redact(exc) or type(exc).__name__}."
            ) from None
        received = self._clock()
        return self._interpret(answer, sent, received, host)

    async def _post(self, s: ConnectionSettings) -> _Answer:
        """POST the token request; read at most `MAX_TOKEN_RESPONSE_BYTES` of the answer."""
        if s.grant == GRANT_CLIENT:  # as Zoom's WebSocket docs send it: the query string
            params, form = {"grant_type": GRANT_CLIENT}, None
        else:
            params, form = None, {"grant_type": s.grant, "account_id": s.account_id}
        async with self._http().stream(
            "POST",
            s.oauth_url,
            params=params,
            data=form,
            auth=(s.client_id, s.client_secret.reveal()),
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
            timeout=self._timeout,
        ) as resp:
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_TOKEN_RESPONSE_BYTES:
                raise _TooLarge
            body = bytearray()
            async for chunk in resp.aiter_raw():
                body += chunk
                if len(body) > MAX_TOKEN_RESPONSE_BYTES:
                    raise _TooLarge  # leaving the block closes the connection: no more is read
            encoding = resp.headers.get("content-encoding", "")
            return _Answer(resp.status_code, resp.headers, _decoded(bytes(body), encoding))

    def _interpret(self, answer: _Answer, sent: float, received: float, host: str) -> Token:
        status = answer.status
        body = _json_or_none(answer.body)
        if status == 200:
            tok = self._token_from(body, answer, sent, received, host)
            self._token = tok
            log.info(
                "access token obtained from %s (expires in %.0f s, scopes: %s)",
                host,
                tok.lifetime,
                " ".join(tok.scopes) or "none listed",
            )
            return tok
        error = str((body or {}).get("error") or "")
        reason = str((body or {}).get("reason") or (body or {}).get("error_description") or "")
        said = ": " + ", ".join(x for x in (error, reason) if x) if (error or reason) else ""
        if status == 429:
            asked = answer.headers.get("retry-after")
            wait = _retry_after(asked, received)
            self._not_before = received + wait
            capped = ""
            if wait == MAX_RETRY_AFTER and asked and asked.strip() != f"{MAX_RETRY_AFTER:g}":
                capped = f" (it asked for {_short(asked.strip())}; zoomtui waits at most {MAX_RETRY_AFTER / 60:g} min)"
            raise RateLimited(
                f"Zoom's token endpoint is rate limiting us (429{said}); "
                f"retrying in {wait:.0f} s{capped}.",
                retry_after=wait,
            )
        if 400 <= status < 500:
            raise CredentialsRejected(
                f"Zoom rejected the credentials (HTTP {status}{said}).",
                status=status,
                error=error,
                reason=reason,
                hint=credentials_hint(self._settings.grant),
            )
        raise TransientAuthError(
            f"Zoom's token endpoint answered HTTP {status}{said}; will retry.", status=status
        )

    def _lifetime(self, body: dict, host: str) -> float:
        """`expires_in` in seconds, cut to `MAX_TOKEN_LIFETIME`; a missing one is Zoom's hour.
        Anything that is not a number, or under the floor, is the endpoint's fault."""
        raw = body.get("expires_in", 3600)
        if isinstance(raw, str):  # "3600" was always accepted
            with contextlib.suppress(ValueError):
                raw = float(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
            raise TransientAuthError(
                f"Zoom's token endpoint {host} gave a token lifetime that is not a number "
                f"(expires_in: {_short(body.get('expires_in'))}): the endpoint is misbehaving."
            )
        if raw < self._min_lifetime:
            raise TransientAuthError(
                f"Zoom's token endpoint {host} issued a token that expires in {raw:.3g} s, "
                f"under the {self._min_lifetime:g} s zoomtui accepts (Zoom's last an hour): "
                "the endpoint is misbehaving."
            )
        return float(min(raw, MAX_TOKEN_LIFETIME))  # min first: a huge int has no float

    def _token_from(
        self, body: dict | None, answer: _Answer, sent: float, received: float, host: str
    ) -> Token:
        if (
            body is None
            or not isinstance(body.get("access_token"), str)
            or not body["access_token"]
        ):
            raise TransientAuthError(
                "The token endpoint answered 200 without an access token (a proxy or captive portal?).",
                status=answer.status,
            )
        expires_in = self._lifetime(body, host)
        scopes = _scopes(body.get("scope"))
        api_url = body.get("api_url")
        return Token(
            access_token=Secret(body["access_token"]),
            expires_at=sent + expires_in,
            obtained_at=sent,
            scopes=scopes,
            token_type=str(body.get("token_type") or "bearer"),
            api_url=api_url if isinstance(api_url, str) else None,
            date_header=answer.headers.get("date"),
            received_at=received,
            status=answer.status,
        )
