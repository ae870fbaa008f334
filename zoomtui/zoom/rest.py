"""Zoom's REST API as zoomtui reads it: the Dashboard's live meetings and webinars, their
participants, and a meeting's details (PROTOCOL.md section 4).  No Textual.

- One token: the connection's `TokenProvider` (and so the token shared by the profile's
  other processes).  A 401 gets one new token and one more try.
- The host: the `api_url` setting when one was set (flag, environment, profile), else the
  `api_url` the token answer named, else the `cloud` setting's.  Cleartext only to this
  machine (or with the insecure-transport choice), as for every URL.
- Paging: `page_size` 300 (the Dashboard's largest), following `next_page_token`, at most
  `MAX_PAGES` pages of a list.  A uuid that starts with ``/`` or holds ``//`` is encoded
  twice in a path (`path_uuid`).
- Rate limits: calls are spread, one every ``60 / per_minute`` seconds (the Dashboard is
  "resource-intensive": 10 calls a second on the smallest plan that has it, and a daily
  budget); a 429 holds every call back for its Retry-After, capped at `MAX_RETRY_AFTER` like
  the token endpoint's, and gives up after `MAX_RATE_LIMITED` in a row.
- Answers are read up to `MAX_RESPONSE_BYTES`, within one deadline per call; JSON of any
  shape is tolerated (`zoomtui.zoom.rosters` keeps only well-typed fields).

Failures are `ApiError`s whose `kind` says what a person can do: "scope" and "plan" (change
the app or the account: retrying cannot help), "auth", "rate", "server", "network",
"answer", "not found".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from zoomtui.redaction import redact
from zoomtui.settings import ConnectionSettings, SettingsError, check_transport, is_loopback_host
from zoomtui.zoom.auth import MAX_RETRY_AFTER, USER_AGENT, AuthError, TokenProvider, _retry_after
from zoomtui.zoom.rosters import (
    RosterMeeting,
    RosterPerson,
    meeting_from_api,
    person_from_api,
    text_of,
)
from zoomtui.zoom.tokens import Token

__all__ = [
    "DASHBOARD_SCOPES",
    "MAX_PAGE_SIZE",
    "ApiError",
    "CallPacer",
    "ZoomRest",
    "path_uuid",
]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 300
#: a page of 300 participants is well under 1 MiB
MAX_RESPONSE_BYTES = 8 << 20
#: pages of one list read at most (90,000 rows)
MAX_PAGES = 300
#: calls a minute, spread evenly (10 a second: the Dashboard's limit on the smallest plan)
DEFAULT_PER_MINUTE = 600
#: 429s in a row for one call before it gives up
MAX_RATE_LIMITED = 3
DEFAULT_TIMEOUT = 15.0
#: the scopes hydration needs (classic, or the granular pair)
DASHBOARD_SCOPES = "dashboard_meetings:read:admin"
GRANULAR_SCOPES = (
    "dashboard:read:list_meetings:admin and dashboard:read:list_meeting_participants:admin"
)
SCOPE_HINT = (
    f"Add the scope {DASHBOARD_SCOPES} (or the granular {GRANULAR_SCOPES}; for webinars "
    "dashboard_webinars:read:admin) to the app whose credentials zoomtui uses (Zoom App "
    "Marketplace > Manage > your app > Scopes), or set hydrate = false in the profile."
)
PLAN_HINT = (
    "Zoom's Dashboard needs a Business plan or higher with the Dashboard enabled for the "
    "account; without it, set hydrate = false in the profile."
)
KINDS = ("meeting", "webinar")


class ApiError(Exception):
    """A REST call failed.  `str()` is a redacted sentence; `hint` says what to change."""

    def __init__(
        self, message: str, *, kind: str, status: int | None = None, hint: str = ""
    ) -> None:
        super().__init__(redact(message))
        self.kind = kind
        self.status = status
        self.hint = hint

    @property
    def permanent(self) -> bool:
        """Asking again cannot help until a person changes something."""
        return self.kind in ("scope", "plan", "auth")


def path_uuid(uuid: str) -> str:
    """A meeting uuid as a path segment: encoded twice when it starts with '/' or holds
    '//' (Zoom's rule), once otherwise."""
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


class CallPacer:
    """Spreads calls evenly: one every ``60 / per_minute`` s, none before a Retry-After
    has passed.  Shared by every call of one client, so no caller can burst."""

    def __init__(
        self,
        per_minute: float = DEFAULT_PER_MINUTE,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.spacing = 60.0 / per_minute if per_minute > 0 else 0.0
        self._mono = monotonic
        self._sleep = sleep
        self._next = 0.0
        #: seconds spent waiting for a turn (spacing and Retry-After)
        self.waited = 0.0

    async def turn(self) -> None:
        now = self._mono()
        start = max(now, self._next)
        self._next = start + self.spacing
        if start > now:
            self.waited += start - now
            await self._sleep(start - now)

    def hold_off(self, seconds: float) -> None:
        """A 429: no call before `seconds` from now."""
        self._next = max(self._next, self._mono() + seconds)


def _api_base(settings: ConnectionSettings, token: Token) -> str:
    """The REST host: an explicit setting, else the token answer's, else the cloud's."""
    source = settings.sources.get("api_url", "")
    explicit = bool(source) and source != "default" and not source.startswith("cloud ")
    named = token.api_url
    if not explicit and named and named.rstrip("/") != settings.api_url.rstrip("/"):
        try:
            check_transport(
                settings.oauth_url,
                settings.ws_url,
                insecure=settings.insecure_transport,
                api_url=named,
            )
        except SettingsError:
            log.info("the token answer's api_url is not usable; using %s", settings.api_url)
        else:
            return named.rstrip("/")
    return settings.api_url.rstrip("/")


class ZoomRest:
    """The REST calls hydration makes, paced, bounded and classified."""

    def __init__(
        self,
        settings: ConnectionSettings,
        tokens: TokenProvider,
        *,
        client: httpx.AsyncClient | None = None,
        per_minute: float = DEFAULT_PER_MINUTE,
        timeout: float = DEFAULT_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._sleep = sleep
        self.pacer = CallPacer(per_minute, monotonic=monotonic, sleep=sleep)
        #: calls sent, and 429s answered
        self.calls = 0
        self.rate_limited = 0

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self, base: str) -> httpx.AsyncClient:
        if self._client is None:
            host = urlsplit(base).hostname or ""
            direct: dict[str, httpx.AsyncBaseTransport | None] = {}
            if is_loopback_host(host):  # cleartext here never goes through a proxy
                direct[f"all://[{host}]" if ":" in host else f"all://{host}"] = None
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                verify=True,
                trust_env=True,
                mounts=direct,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    # -- what hydration asks ---------------------------------------------------------------
    async def live_meetings(self, kind: str) -> list[RosterMeeting]:
        """Every live meeting (or webinar) of the account."""
        items, _complete = await self.pages(f"/v2/metrics/{kind}s", f"{kind}s")
        if not _complete:
            raise ApiError(
                f"Zoom listed more than {MAX_PAGES} pages of live {kind}s.", kind="answer"
            )
        found = [meeting_from_api(kind, item) for item in items]
        return [m for m in found if m is not None]

    async def live_participants(self, kind: str, uuid: str) -> tuple[list[RosterPerson], bool]:
        """Who is in one live occurrence, and whether every page was read."""
        path = f"/v2/metrics/{kind}s/{path_uuid(uuid)}/participants"
        items, complete = await self.pages(path, "participants")
        found = [person_from_api(item) for item in items]
        return [p for p in found if p is not None], complete

    async def meeting_details(self, kind: str, ref: str) -> dict[str, Any]:
        """`GET /v2/meetings/{id}` (or the webinar one): topic, host_id, start_time ..."""
        return await self.get(f"/v2/{kind}s/{path_uuid(ref)}", {})

    async def pages(self, path: str, key: str) -> tuple[list[Any], bool]:
        """Every item of a paged list: the items, and whether the last page was reached."""
        items: list[Any] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            params = {"type": "live", "page_size": str(MAX_PAGE_SIZE)}
            if cursor:
                params["next_page_token"] = cursor
            body = await self.get(path, params)
            page = body.get(key)
            if isinstance(page, list):
                items.extend(page)
            cursor = text_of(body.get("next_page_token"), 4096) or ""
            if not cursor:
                return items, True
        return items, False

    # -- one call ------------------------------------------------------------------------------
    async def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """One GET, paced; a 401 gets a new token once, a 429 waits its Retry-After (up to
        `MAX_RATE_LIMITED` times).  The answer's JSON object, or an `ApiError`."""
        refreshed = False
        limited = 0
        while True:
            try:
                token = await self.tokens.get()
            except AuthError as exc:
                raise ApiError(f"No access token: {exc}", kind="auth", hint=exc.hint) from None
            await self.pacer.turn()
            base = _api_base(self.settings, token)
            status, headers, body = await self._send(base, path, params, token)
            if status == 200:
                if isinstance(body, dict):
                    return body
                raise ApiError(
                    f"Zoom's API answered {path} with something that is not a JSON object.",
                    kind="answer",
                    status=status,
                )
            if status == 401 and not refreshed:
                refreshed = True
                await self.tokens.refresh(token)
                continue
            if status == 429:
                self.rate_limited += 1
                limited += 1
                wait = _retry_after(headers.get("retry-after"), time.time())
                self.pacer.hold_off(wait)
                if limited < MAX_RATE_LIMITED:
                    log.info("Zoom's API is rate limiting; the next call in %.0f s", wait)
                    continue
            raise _error(path, status, body)

    async def _send(
        self, base: str, path: str, params: dict[str, str], token: Token
    ) -> tuple[int, httpx.Headers, Any]:
        host = urlsplit(base).netloc
        self.calls += 1
        try:
            async with asyncio.timeout(self._timeout):
                return await self._read(base + path, params, token)
        except (TimeoutError, httpx.TimeoutException):
            raise ApiError(
                f"Zoom's API at {host} did not answer within {self._timeout:g} s.", kind="network"
            ) from None
        except httpx.HTTPError as exc:
            # `from None`: the original holds the request, and its Authorization header
            text = redact(exc) or type(exc).__name__
            raise ApiError(
                f"Could not reach Zoom's API at {host}: {text}.", kind="network"
            ) from None

    async def _read(
        self, url: str, params: dict[str, str], token: Token
    ) -> tuple[int, httpx.Headers, Any]:
        headers = {
            "Authorization": f"Bearer {token.access_token.reveal()}",
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        async with self._http(url).stream("GET", url, params=params, headers=headers) as resp:
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise _too_large()
            body = bytearray()
            async for chunk in resp.aiter_raw():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise _too_large()
            encoding = resp.headers.get("content-encoding", "").strip().lower()
            parsed: Any = None
            if encoding in ("", "identity"):
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError:
                    parsed = None
            return resp.status_code, resp.headers, parsed


def _too_large() -> ApiError:
    return ApiError(
        f"Zoom's API sent more than {MAX_RESPONSE_BYTES >> 20} MiB in one answer (a page is "
        "well under 1 MiB), so zoomtui stopped reading it: a proxy or captive portal?",
        kind="answer",
    )


def _error(path: str, status: int, body: Any) -> ApiError:
    """What a failed answer means, in words, with what to change."""
    code = body.get("code") if isinstance(body, dict) else None
    message = text_of(body.get("message"), 300) if isinstance(body, dict) else None
    said = f" (code {code}: {message})" if message else ""
    where = path.split("/")[2] if path.count("/") >= 2 else path
    if status == 429:
        return ApiError(
            f"Zoom's API kept rate limiting us (429){said}; "
            f"waited up to {MAX_RETRY_AFTER / 60:g} min each time.",
            kind="rate",
            status=status,
        )
    scope = code == 4711 or (message is not None and "scope" in message.lower())
    if 400 <= status < 500 and scope:
        return ApiError(
            f"The app's token lacks the scope for Zoom's {where} API (HTTP {status}){said}.",
            kind="scope",
            status=status,
            hint=SCOPE_HINT,
        )
    if 400 <= status < 500 and code == 200:
        return ApiError(
            f"Zoom's {where} API is not available to this account (HTTP {status}){said}.",
            kind="plan",
            status=status,
            hint=PLAN_HINT,
        )
    if status == 401:
        return ApiError(
            f"Zoom's API refused the access token (HTTP 401){said}.", kind="auth", status=status
        )
    if status == 404:
        return ApiError(f"Not found at Zoom's API (HTTP 404){said}.", kind="not found", status=404)
    if status >= 500:
        return ApiError(f"Zoom's API failed (HTTP {status}){said}.", kind="server", status=status)
    return ApiError(
        f"Zoom's API refused the call to {where} (HTTP {status}){said}.",
        kind="answer",
        status=status,
    )
