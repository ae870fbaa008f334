"""The fake Zoom's REST API: the Dashboard's live meetings and participants, and a meeting's
details (PROTOCOL.md section 4), answered from `LiveTruth`, the fake's own state at the time
of the call.

    GET /v2/metrics/meetings?type=live            {"meetings": [...], "next_page_token": ...}
    GET /v2/metrics/webinars?type=live            {"webinars": [...], ...}
    GET /v2/metrics/meetings/{id|uuid}/participants?type=live   {"participants": [...], ...}
    GET /v2/metrics/webinars/{id|uuid}/participants?type=live
    GET /v2/meetings/{id|uuid}, GET /v2/webinars/{id|uuid}

What Zoom checks, the fake checks: a Bearer token this fake issued and that is still live
(401 ``{"code": 124, "message": "Invalid access token."}``), a ``page_size`` up to 300
with ``next_page_token`` paging (a token holds the list as it was at the first page, as a
cursor would), and the uuid encoding rule: a uuid that starts with ``/`` or holds ``//`` must
be encoded twice, and one encoded once is not found (Zoom's front end folds the slashes).

Switches a test flips (`FakeZoom.dashboard`): `scope_granted` False answers Zoom's
missing-scope error (400, code 4711), `plan_has_dashboard` False the answer of an account
whose plan has no Dashboard (our pick of shape: 400, code 200, Zoom's "No permission"
family), `details_allowed` False the same 4711 for `GET /v2/meetings/{id}`; `fault("429",
retry_after=2)`, `fault("500")`, `fault("slow", delay=1)` answer the next calls so; `hold()`
keeps answers (made when the call arrived) back until `release()`: a test injects events
meanwhile, which reach the client before the answer does.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from zoomtui.fakezoom.httpserver import Request, Response
from zoomtui.fakezoom.oauth import TokenIssuer
from zoomtui.fakezoom.truth import LiveTruth

API_PREFIX = "/v2/"
MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 30
#: cursors kept at most (Zoom's expire after 15 minutes; ours when newer ones push them out)
MAX_CURSORS = 256
DASHBOARD_SCOPES = "dashboard_meetings:read:admin,dashboard_webinars:read:admin"

INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}
TOO_MANY = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
SERVER_ERROR = {"code": 500, "message": "Internal Error"}
#: our pick: Zoom answers a plan without the Dashboard with a "No permission" code 200
NO_DASHBOARD = {
    "code": 200,
    "message": "No permission. The Dashboard is available on Business plans and higher.",
}
BAD_PAGE_TOKEN = {"code": 300, "message": "The next page token is invalid or expired."}
FAULT_KINDS = ("429", "500", "slow")


def missing_scope(scopes: str) -> dict[str, Any]:
    return {
        "code": 4711,
        "message": f"Invalid access token, does not contain scopes:[{scopes}].",
    }


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request to the fake's REST API, as recorded (never the token)."""

    path: str  # without the query
    status: int
    time: float
    fault: str | None = None
    page_size: int | None = None


@dataclass(slots=True)
class _Fault:
    kind: str
    times: int
    retry_after: float | None
    delay: float


class DashboardApi:
    """Answers the REST calls of one fake Zoom."""

    def __init__(
        self,
        truth: LiveTruth,
        issuer: TokenIssuer,
        *,
        clock: Callable[[], float] = time.time,
        on_activity: Callable[[], None] = lambda: None,
    ) -> None:
        self.truth = truth
        self.issuer = issuer
        self.clock = clock
        self._on_activity = on_activity
        #: every call answered (or being held), oldest first
        self.calls: list[ApiCall] = []
        self._scope_granted = True
        self.plan_has_dashboard = True
        self.details_allowed = True
        #: calls waiting behind `hold()` right now
        self.held_now = 0
        self._open = asyncio.Event()
        self._open.set()
        self._hold_fragment = ""
        self._faults: list[_Fault] = []
        self._cursors: OrderedDict[str, tuple[str, list[dict[str, Any]], int]] = OrderedDict()
        self._cursor_ids = itertools.count(1)

    # -- switches ---------------------------------------------------------------------
    @property
    def scope_granted(self) -> bool:
        """The app has the Dashboard's scopes: tokens issued from now on list them, and
        the Dashboard's calls are answered (else Zoom's 4711)."""
        return self._scope_granted

    @scope_granted.setter
    def scope_granted(self, granted: bool) -> None:
        self._scope_granted = granted
        self.issuer.dashboard_scopes = granted

    def fault(
        self, kind: str, *, retry_after: float | None = None, times: int = 1, delay: float = 1.0
    ) -> None:
        """Answer the next `times` calls with "429" (Retry-After when given), "500", or
        "slow" (the right answer after `delay` s)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown API fault {kind!r}; expected one of {FAULT_KINDS}")
        self._faults.append(_Fault(kind, times, retry_after, delay))

    def hold(self, fragment: str = "") -> None:
        """Keep the answers to calls whose path holds `fragment` (every call: "") back until
        `release()`.  Each answer is made when its call arrives, then held."""
        self._hold_fragment = fragment
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def calls_to(self, fragment: str) -> list[ApiCall]:
        """The calls whose path holds `fragment`."""
        return [c for c in self.calls if fragment in c.path]

    # -- answering ----------------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        split = urlsplit(req.target)
        query = parse_qs(split.query, keep_blank_values=True)
        fault = self._take_fault()
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "429":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(math.ceil(fault.retry_after))
                return self._answer(split.path, 429, TOO_MANY, fault="429", headers=headers)
            else:
                return self._answer(split.path, 500, SERVER_ERROR, fault="500")
        status, body = self._route(req, split.path, query)
        if not self._open.is_set() and self._hold_fragment in split.path:
            # The answer is Zoom's state when the call arrived; it reaches the client later
            # (events that happen meanwhile reach it first).
            self.held_now += 1
            self._on_activity()
            try:
                await self._open.wait()
            finally:
                self.held_now -= 1
        size = _page_size(query)
        kind = fault.kind if fault is not None else None
        return self._answer(split.path, status, body, fault=kind, page_size=size)

    def _take_fault(self) -> _Fault | None:
        while self._faults:
            f = self._faults[0]
            if f.times <= 0:
                self._faults.pop(0)
                continue
            f.times -= 1
            return f
        return None

    def _route(self, req: Request, path: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        if req.method != "GET":
            return 405, {"code": 405, "message": "Method Not Allowed"}
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.issuer.is_valid(token.strip()):
            return 401, INVALID_TOKEN
        parts = path[len(API_PREFIX) :].split("/")
        if parts[0] == "metrics" and len(parts) in (2, 4):
            kind = {"meetings": "meeting", "webinars": "webinar"}.get(parts[1])
            if kind is None or (len(parts) == 4 and parts[3] != "participants"):
                return _not_found(path)
            if not self.scope_granted:
                return 400, missing_scope(DASHBOARD_SCOPES)
            if not self.plan_has_dashboard:
                return 400, NO_DASHBOARD
            if len(parts) == 2:
                listed = self._live(kind, query)
                return self._page(kind + "s", query, lambda: listed)
            return self._participants(kind, parts[2], query)
        if len(parts) == 2 and parts[0] in ("meetings", "webinars"):
            if not self.details_allowed:
                return 400, missing_scope(f"{parts[0][:-1]}:read:admin")
            kind = parts[0][:-1]
            ref = _ref(parts[1])
            m = self.truth.find(kind, ref) if ref is not None else None
            if m is None:
                return 404, {"code": 3001, "message": f"Meeting does not exist: {parts[1]}."}
            return 200, m.as_details()
        return _not_found(path)

    def _live(self, kind: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        if query.get("type", ["live"])[-1] != "live":
            return []  # past meetings: the fake keeps none
        return [m.as_dashboard() for m in self.truth.meetings(kind)]

    def _participants(
        self, kind: str, segment: str, query: dict[str, list[str]]
    ) -> tuple[int, dict]:
        ref = _ref(segment)
        m = self.truth.find(kind, ref) if ref is not None else None
        if m is None:
            return 404, {"code": 3001, "message": f"Meeting does not exist: {segment}."}
        people = [p.as_dashboard() for p in m.people.values()]
        return self._page("participants", query, lambda: people)

    def _page(
        self, key: str, query: dict[str, list[str]], items: Callable[[], list[dict[str, Any]]]
    ) -> tuple[int, dict]:
        size = _page_size(query)
        cursor = query.get("next_page_token", [""])[-1]
        if cursor:
            held = self._cursors.pop(cursor, None)
            if held is None or held[0] != key:
                return 400, BAD_PAGE_TOKEN
            _, listed, offset = held
        else:
            listed, offset = items(), 0
        page = listed[offset : offset + size]
        following = ""
        if offset + size < len(listed):
            following = f"fzpage{next(self._cursor_ids)}"
            self._cursors[following] = (key, listed, offset + size)
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        day = time.strftime("%Y-%m-%d", time.gmtime(self.clock()))
        return 200, {
            "from": day,
            "to": day,
            "page_count": max(1, math.ceil(len(listed) / size)),
            "page_size": size,
            "total_records": len(listed),
            "next_page_token": following,
            key: page,
        }

    def _answer(
        self,
        path: str,
        status: int,
        body: dict,
        *,
        fault: str | None = None,
        headers: dict[str, str] | None = None,
        page_size: int | None = None,
    ) -> Response:
        self.calls.append(ApiCall(path, status, self.clock(), fault, page_size))
        self._on_activity()
        return Response(
            status,
            orjson.dumps(body),
            {"Content-Type": "application/json;charset=UTF-8", **(headers or {})},
        )


def _page_size(query: dict[str, list[str]]) -> int:
    text = query.get("page_size", [""])[-1]
    size = int(text) if text.isdigit() else DEFAULT_PAGE_SIZE
    return min(MAX_PAGE_SIZE, max(1, size))


def _ref(segment: str) -> str | None:
    """The meeting id or uuid a path segment names (None: Zoom would not find it).  A uuid
    that starts with '/' or holds '//' must come encoded twice: encoded once, Zoom's front
    end folds its slashes and the meeting is not found."""
    ref = unquote(segment)
    if "%" in ref:
        return unquote(ref)
    if ref.startswith("/") or "//" in ref:
        return None
    return ref


def _not_found(path: str) -> tuple[int, dict]:
    return 404, {"code": 404, "message": f"No such API: {path}"}
