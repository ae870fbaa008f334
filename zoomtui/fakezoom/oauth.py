"""The fake token endpoint: Zoom's OAuth `POST /oauth/token`.

Checks what Zoom checks (PROTOCOL.md section 1), issues opaque bearer tokens
with a lifetime, and plays faults on demand (429 with Retry-After, 500, a slow
answer, a dropped connection).  Both grants: `account_credentials` (with the
account id; `scope` one string) and `client_credentials` (no account id; `scope`
an array, as in Zoom's example).  The parameters may come in the form body or in
the query string (Zoom's own samples send the latter); `refuse_query_params`
plays the 400 a 2022 forum thread reported for that instead.  Tokens are kept
only in memory and never logged or recorded: `token_requests` holds the status,
time, grant and Host of each request, `tokens_issued` counts the tokens.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import orjson

from zoomtui.fakezoom.credentials import DemoCredentials
from zoomtui.fakezoom.httpserver import Request, Response
from zoomtui.settings import GRANT_ACCOUNT, GRANT_CLIENT, ZOOM_API_URL

TOKEN_PATH = "/oauth/token"
SCOPE = "meeting:read:admin user:read:admin webinar:read:admin recording:read:admin"
#: granted unless the Dashboard's `scope_granted` is off (then its calls answer 4711 as well)
DASHBOARD_SCOPE = "dashboard_meetings:read:admin dashboard_webinars:read:admin"

# Zoom's documented error bodies, and our picks for the undocumented ones.
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
UNSUPPORTED_GRANT = {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
# Undocumented by Zoom: a bad account id.  Shaped like the documented ones.
INVALID_ACCOUNT = {"reason": "Invalid account_id", "error": "invalid_request"}
# A 2022 forum thread reports 400 for parameters in the query string (`refuse_query_params`);
# the body is our pick.
QUERY_PARAMS = {"reason": "Parameters must be sent in the request body", "error": "invalid_request"}
BAD_CONTENT_TYPE = {
    "reason": "Content-Type must be application/x-www-form-urlencoded",
    "error": "invalid_request",
}
TOO_MANY = {"reason": "Too many requests. Please try again later.", "error": "rate_limited"}
SERVER_ERROR = {"reason": "Internal Error", "error": "server_error"}

FAULT_KINDS = ("429", "500", "503", "slow", "drop")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One request to the token endpoint, as recorded (never the secret or the token)."""

    status: int  # 0 when the connection was dropped without an answer
    time: float  # from the fake's clock
    error: str | None = None  # the "error" field of a 4xx/5xx body
    fault: str | None = None  # the injected fault that answered, if any
    grant: str | None = None  # the grant_type asked for, when the request got that far
    host: str | None = None  # the Host header: which name of this endpoint was asked


@dataclass(slots=True)
class _Fault:
    kind: str
    times: int
    retry_after: float | None
    delay: float


class TokenIssuer:
    """Validates token requests, issues tokens, remembers which are live."""

    def __init__(
        self,
        creds: DemoCredentials,
        *,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.time,
        new_token_revokes_old: bool = False,
        token_prefix: str = "fzk.",
        refuse_query_params: bool = False,
    ) -> None:
        self.creds = creds
        self.token_ttl = token_ttl
        #: issued tokens start with this (leak tests look for a recognisable value)
        self.token_prefix = token_prefix
        self.clock = clock
        self.new_token_revokes_old = new_token_revokes_old
        #: answer 400 to parameters in the query string (a 2022 report) instead of taking them
        self.refuse_query_params = refuse_query_params
        self.reject_credentials = False
        #: the account's REST host the token answer names (the fake sets its own listener's,
        #: so a client that follows it asks the fake and never the real Zoom)
        self.api_url = ZOOM_API_URL
        #: the token answer lists the Dashboard's scopes (`DashboardApi.scope_granted`)
        self.dashboard_scopes = True
        self.requests: list[TokenRequest] = []
        #: every token handed out (over HTTP or by `issue()`)
        self.issued = 0
        self._host: str | None = None  # the Host header of the request being answered
        # token -> expiry on the monotonic clock (expiry must not follow an injected clock)
        self._tokens: dict[str, float] = {}
        self._faults: list[_Fault] = []

    # -- control -----------------------------------------------------------------
    def add_fault(
        self, kind: str, *, retry_after: float | None = None, times: int = 1, delay: float = 2.0
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown OAuth fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        self._faults.append(_Fault(kind, times, retry_after, delay))

    def clear_faults(self) -> None:
        self._faults.clear()

    def expire_all(self) -> None:
        self._tokens.clear()

    def issue(self) -> str:
        """A new live token (also used by tests that want a token without HTTP)."""
        if self.new_token_revokes_old:
            self._tokens.clear()
        token = self.token_prefix + secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_ttl
        self.issued += 1
        return token

    def is_valid(self, token: str) -> bool:
        expiry = self._tokens.get(token)
        if expiry is None:
            return False
        if time.monotonic() >= expiry:
            del self._tokens[token]
            return False
        return True

    # -- HTTP --------------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        # Set before each record, which follows without an await: requests may interleave.
        self._host = req.headers.get("host")
        fault = self._take_fault()
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "drop":
                self._record(0, None, "drop")
                return Response(0, drop=True)
            else:
                status = int(fault.kind)
                body = TOO_MANY if status == 429 else SERVER_ERROR
                headers = {}
                if status == 429 and fault.retry_after is not None:
                    headers["Retry-After"] = _retry_after_text(fault.retry_after)
                return self._json(status, body, fault=fault.kind, headers=headers)
        self._host = req.headers.get("host")
        resp = self._answer(req)
        if fault is not None:  # "slow": the answer is right, only late
            self.requests[-1] = dataclasses.replace(self.requests[-1], fault="slow")
        return resp

    def _take_fault(self) -> _Fault | None:
        while self._faults:
            f = self._faults[0]
            if f.times <= 0:
                self._faults.pop(0)
                continue
            f.times -= 1
            return f
        return None

    def _answer(self, req: Request) -> Response:
        split = urlsplit(req.target)
        if split.path != TOKEN_PATH:
            return self._json(404, {"reason": "Not Found", "error": "not_found"})
        if req.method != "POST":
            return self._json(
                405,
                {"reason": "Method Not Allowed", "error": "invalid_request"},
                headers={"Allow": "POST"},
            )
        if split.query and self.refuse_query_params:
            return self._json(400, QUERY_PARAMS)
        if self.reject_credentials or not self._auth_ok(req.headers.get("authorization", "")):
            return self._json(400, INVALID_CLIENT)
        params = self._parameters(split.query, req)
        if params is None:
            return self._json(400, BAD_CONTENT_TYPE)
        grant = params.get("grant_type", [""])[-1]
        if grant == GRANT_ACCOUNT:
            if params.get("account_id", [""])[-1] != self.creds.account_id:
                return self._json(400, INVALID_ACCOUNT, grant=grant)
            scope: str | list[str] = self._scope()
        elif grant == GRANT_CLIENT:  # an app-level token: no account; scope as an array
            scope = self._scope().split()
        else:
            return self._json(400, UNSUPPORTED_GRANT)
        token = self.issue()
        ttl = self.token_ttl
        return self._json(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
                "scope": scope,
                "api_url": self.api_url,
            },
            grant=grant,
        )

    def _scope(self) -> str:
        return f"{SCOPE} {DASHBOARD_SCOPE}" if self.dashboard_scopes else SCOPE

    @staticmethod
    def _parameters(query: str, req: Request) -> dict[str, list[str]] | None:
        """The query string's parameters, then the form body's (a body must be a form; None
        when it is not)."""
        params = parse_qs(query, keep_blank_values=True)
        if not req.body:
            return params
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None
        try:
            form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
        return params

    def _auth_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, sep, secret = decoded.partition(":")
        return bool(sep) and secrets.compare_digest(
            f"{client_id}:{secret}", f"{self.creds.client_id}:{self.creds.client_secret}"
        )

    def _json(
        self,
        status: int,
        body: dict,
        *,
        fault: str | None = None,
        headers: dict[str, str] | None = None,
        grant: str | None = None,
    ) -> Response:
        self._record(status, body.get("error") if status != 200 else None, fault, grant)
        return Response(
            status,
            orjson.dumps(body),
            {"Content-Type": "application/json;charset=UTF-8", **(headers or {})},
        )

    def _record(
        self, status: int, error: str | None, fault: str | None, grant: str | None = None
    ) -> None:
        self.requests.append(
            TokenRequest(
                status=status,
                time=self.clock(),
                error=error,
                fault=fault,
                grant=grant,
                host=self._host,
            )
        )


def _retry_after_text(seconds: float) -> str:
    # Retry-After is delta-seconds (an integer) in HTTP; round up so a client never comes back early.
    whole = int(seconds)
    return str(whole if whole == seconds else whole + 1)
