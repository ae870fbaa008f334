"""Server-to-Server OAuth: one cached access token per provider, refreshed ahead of expiry.

Zoom's `account_credentials` grant (PROTOCOL.md section 1): a POST with Basic
auth and a form body; nothing goes in the query string (Zoom answers 400 to
that now).  There is no refresh token, so "refresh" means asking again.

Errors are classified for the connection, which reacts differently to each:

- `CredentialsRejected`  any 4xx other than 429: a person has to fix something;
                         never retried automatically.
- `RateLimited`          429: wait `retry_after` seconds (the provider itself refuses
                         to ask again before then).
- `TransientAuthError`   5xx, network errors, timeouts, unreadable answers: back off, retry.

Every message goes through `redact()`; the token only ever lives in a `Secret`.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import orjson

from zoomtui.redaction import Secret, redact, register_secret
from zoomtui.settings import ConnectionSettings

log = logging.getLogger(__name__)

#: refresh this long before expiry (capped at a fifth of the token's lifetime for short TTLs)
REFRESH_MARGIN = 300.0
#: used when a 429 carries no usable Retry-After
DEFAULT_RETRY_AFTER = 5.0
USER_AGENT = "zoomtui (+https://github.com/zoomtui)"

CREDENTIALS_HINT = (
    "Check the account id, the client id and the client secret of the Server-to-Server "
    "OAuth app (Zoom App Marketplace > Manage > your app > App Credentials), that the app "
    "is activated, and that it has the scopes your event subscription needs."
)


class AuthError(Exception):
    """A token request failed. `str()` is a redacted, human sentence."""

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        super().__init__(redact(message))
        self.status = status
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class CredentialsRejected(AuthError):
    """Zoom said no to these credentials (4xx other than 429). Needs a person, not a retry."""

    def __init__(
        self, message: str, *, status: int | None = None, error: str = "", reason: str = ""
    ) -> None:
        super().__init__(message, status=status, hint=CREDENTIALS_HINT)
        self.error = error
        self.reason = redact(reason)


class RateLimited(AuthError):
    """429: Zoom asks us to wait `retry_after` seconds before asking again."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TransientAuthError(AuthError):
    """5xx, network error, timeout or an unreadable answer: worth retrying later."""


@dataclass(frozen=True, slots=True)
class Token:
    access_token: Secret
    expires_at: float  # epoch seconds, from the provider's clock
    obtained_at: float  # when the request was sent (conservative for expiry)
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"
    api_url: str | None = None
    #: the token endpoint's Date header, verbatim (for clock-skew checks)
    date_header: str | None = None
    #: local clock when the answer arrived
    received_at: float = 0.0
    status: int = 200

    @property
    def lifetime(self) -> float:
        return max(0.0, self.expires_at - self.obtained_at)

    def expires_in(self, now: float) -> float:
        return self.expires_at - now

    @property
    def server_time(self) -> float | None:
        """The token endpoint's clock (Date header) as epoch seconds, or None."""
        if not self.date_header:
            return None
        try:
            return email.utils.parsedate_to_datetime(self.date_header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None

    @property
    def clock_skew(self) -> float | None:
        """Local clock minus the server's (positive: we are ahead). Date has 1 s resolution."""
        server = self.server_time
        if server is None:
            return None
        local = (self.obtained_at + self.received_at) / 2 if self.received_at else self.obtained_at
        return local - server


def _retry_after(value: str | None, now: float) -> float:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return DEFAULT_RETRY_AFTER


def _json_or_none(resp: httpx.Response) -> dict | None:
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


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
    ) -> None:
        self._settings = settings
        self._client = client
        self._owns_client = client is None
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._timeout = timeout
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._not_before = 0.0  # Retry-After from a 429, honoured by every caller
        #: how many token requests were sent (doctor and tests read it)
        self.requests = 0
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

    def is_fresh(self, token: Token | None) -> bool:
        return token is not None and self._clock() < self.refresh_due_at(token)

    async def get(self) -> Token:
        """The cached token, or a new one when it is missing or about to expire."""
        tok = self._token
        if self.is_fresh(tok):
            return tok  # type: ignore[return-value]
        async with self._lock:
            tok = self._token
            if self.is_fresh(tok):  # another task refreshed it while we waited
                return tok  # type: ignore[return-value]
            return await self._fetch()

    async def refresh(self, rejected: Token | None = None) -> Token:
        """A new token now (Zoom said ours is invalid).

        With `rejected`, a token obtained by another task since then is reused
        instead of asking again.
        """
        async with self._lock:
            tok = self._token
            if (
                rejected is not None
                and tok is not None
                and tok is not rejected
                and self.is_fresh(tok)
            ):
                return tok
            return await self._fetch()

    def invalidate(self) -> None:
        """Forget the cached token (the next `get()` asks Zoom)."""
        self._token = None

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
            # Certificates verified; proxies from the environment (HTTPS_PROXY, NO_PROXY...).
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                verify=True,
                trust_env=True,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def _fetch(self) -> Token:
        s = self._settings
        now = self._clock()
        if now < self._not_before:
            wait = self._not_before - now
            raise RateLimited(
                f"Zoom's token endpoint asked us to wait; {wait:.0f} s left before asking again.",
                retry_after=wait,
            )
        host = _host(s.oauth_url)
        self.requests += 1
        try:
            resp = await self._http().post(
                s.oauth_url,
                data={"grant_type": "account_credentials", "account_id": s.account_id},
                auth=(s.client_id, s.client_secret.reveal()),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise TransientAuthError(
                f"The token request to {host} timed out after {self._timeout:g} s."
            ) from None
        except httpx.HTTPError as exc:
            # `from None`: the original exception holds the request (and its Authorization header).
            raise TransientAuthError(
                f"Could not reach the token endpoint {host}: {redact(exc) or type(exc).__name__}."
            ) from None
        received = self._clock()
        return self._interpret(resp, now, received, host)

    def _interpret(self, resp: httpx.Response, sent: float, received: float, host: str) -> Token:
        status = resp.status_code
        body = _json_or_none(resp)
        if status == 200:
            tok = self._token_from(body, resp, sent, received)
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
            wait = _retry_after(resp.headers.get("retry-after"), received)
            self._not_before = received + wait
            raise RateLimited(
                f"Zoom's token endpoint is rate limiting us (429{said}); retrying in {wait:.0f} s.",
                retry_after=wait,
            )
        if 400 <= status < 500:
            raise CredentialsRejected(
                f"Zoom rejected the credentials (HTTP {status}{said}).",
                status=status,
                error=error,
                reason=reason,
            )
        raise TransientAuthError(
            f"Zoom's token endpoint answered HTTP {status}{said}; will retry.", status=status
        )

    def _token_from(
        self, body: dict | None, resp: httpx.Response, sent: float, received: float
    ) -> Token:
        if (
            body is None
            or not isinstance(body.get("access_token"), str)
            or not body["access_token"]
        ):
            raise TransientAuthError(
                "The token endpoint answered 200 without an access token (a proxy or captive portal?).",
                status=resp.status_code,
            )
        try:
            expires_in = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600.0
        scope = body.get("scope")
        scopes = tuple(scope.split()) if isinstance(scope, str) else ()
        api_url = body.get("api_url")
        return Token(
            access_token=Secret(body["access_token"]),
            expires_at=sent + expires_in,
            obtained_at=sent,
            scopes=scopes,
            token_type=str(body.get("token_type") or "bearer"),
            api_url=api_url if isinstance(api_url, str) else None,
            date_header=resp.headers.get("date"),
            received_at=received,
            status=resp.status_code,
        )
