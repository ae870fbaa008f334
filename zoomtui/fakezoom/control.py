"""The fake's control endpoint: `POST /fakezoom/trigger` and `POST /fakezoom/consumer` on
the token endpoint's listener.

`zoomtui trigger` uses it to make a running `zoomtui fake-server` send one chosen event
to whoever is connected; `/fakezoom/consumer` starts and stops a production consumer on
the subscription (docs/FAKEZOOM_API.md, "Control endpoint").  It lives on the
loopback HTTP listener the fake already has, and answers only requests that carry the
fake's per-run control token (`Authorization: Bearer <token>`): the demo credentials
are printed everywhere, the token only to the person who started the fake.  The token
opens nothing but this endpoint of this fake.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import orjson

from zoomtui.fakezoom.httpserver import Request, Response
from zoomtui.fakezoom.names import ENV_CONTROL_TOKEN as ENV_CONTROL_TOKEN
from zoomtui.fakezoom.names import ENV_CONTROL_URL as ENV_CONTROL_URL
from zoomtui.fakezoom.names import TRIGGER_EVENTS
from zoomtui.fakezoom.triggers import TriggerError, TriggerRequest

CONTROL_PREFIX = "/fakezoom"
TRIGGER_PATH = CONTROL_PREFIX + "/trigger"
CONSUMER_PATH = CONTROL_PREFIX + "/consumer"

#: sends one built event; returns the event and how many connections it reached
Trigger = Callable[[TriggerRequest], Awaitable[tuple[dict, int]]]
#: acts on a checked consumer request (a JSON object); returns the status and the answer
ConsumerAction = Callable[[dict], Awaitable[tuple[int, dict]]]


def new_control_token() -> str:
    return "fzc." + secrets.token_urlsafe(24)


def is_control_request(req: Request) -> bool:
    path = urlsplit(req.target).path
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class ControlEndpoint:
    """Answers the control requests; `trigger` does the sending."""

    def __init__(self, token: str, trigger: Trigger, consumer: ConsumerAction) -> None:
        self._token = token
        self._trigger = trigger
        self._consumer = consumer

    async def handle(self, req: Request) -> Response:
        path = urlsplit(req.target).path
        if path not in (TRIGGER_PATH, CONSUMER_PATH):
            return _json(
                404,
                {"error": "not_found", "reason": f"POST {TRIGGER_PATH} or {CONSUMER_PATH} only"},
            )
        if req.method != "POST":
            return _json(
                405,
                {"error": "method_not_allowed", "reason": "use POST"},
                {"Allow": "POST"},
            )
        if not self._authorized(req.headers.get("authorization", "")):
            return _json(
                401,
                {
                    "error": "unauthorized",
                    "reason": "send the fake's control token as 'Authorization: Bearer <token>' "
                    f"({ENV_CONTROL_TOKEN} in the env file of `zoomtui fake-server`)",
                },
                {"WWW-Authenticate": 'Bearer realm="fakezoom"'},
            )
        if path == CONSUMER_PATH:
            try:
                data = _object(req.body)
            except TriggerError as exc:
                return _json(400, {"error": "invalid_request", "reason": str(exc)})
            status, answer = await self._consumer(data)
            return _json(status, answer)
        try:
            request = _parse(req.body)
        except TriggerError as exc:
            error = "unknown_event" if str(exc).startswith("unknown event") else "invalid_request"
            return _json(400, {"error": error, "reason": str(exc), "events": list(TRIGGER_EVENTS)})
        event, sent_to = await self._trigger(request)
        return _json(200, {"sent_to": sent_to, "event": event})

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            value.strip().encode(), self._token.encode()
        )


def _object(body: bytes) -> dict:
    """The body as a JSON object (`TriggerError` otherwise)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise TriggerError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise TriggerError("the body must be a JSON object")
    return data


def _parse(body: bytes) -> TriggerRequest:
    """The JSON body as a checked `TriggerRequest` (any type in any field is possible)."""
    data = _object(body)
    unknown = sorted(str(k) for k in data if k not in ("event", "meeting_id", "name", "email"))
    if unknown:
        raise TriggerError(f"unknown field(s): {', '.join(unknown)}")
    event = data.get("event")
    if not isinstance(event, str):
        raise TriggerError("'event' must be an event name")
    request = TriggerRequest(
        event=event.strip(),
        meeting_id=data.get("meeting_id"),
        name=data.get("name"),
        email=data.get("email"),
    )
    return request.check()


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        orjson.dumps(body),
        {"Content-Type": "application/json;charset=UTF-8", **(headers or {})},
    )
