"""Zoom's webhook request, byte for byte: the body, the signature and the headers.

PROTOCOL.md section 5.  Zoom POSTs the event object (what a WebSocket ``message``
frame holds in ``content``) and signs it: ``x-zm-signature`` is ``v0=`` and the hex
HMAC-SHA256, keyed with the app's webhook secret token, of ``v0:{timestamp}:{body}``.
A handler verifies the very bytes it received, so the body is the frame's content as
Zoom wrote it, never the event parsed and written out again: any byte that differs
(spacing, an escape, an integer past 64 bits that orjson reads as a float) fails the
handler's check.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid

import orjson

from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.rawjson import member_span

#: what Zoom's webhook requests say they are (PROTOCOL.md section 5)
USER_AGENT = "Zoom Marketplace/1.0a"
CONTENT_TYPE = "application/json"
#: the event a URL-validation challenge carries
URL_VALIDATION_EVENT = "endpoint.url_validation"


def content_bytes(frame: str | bytes) -> bytes:
    """The event object of a ``message`` frame exactly as Zoom sent it: the ``content``
    string unescaped once (what Zoom sends), or the raw text of a ``content`` object.
    Nothing trimmed or re-serialised.  Raises `ValueError` when the frame holds neither
    (never one a `ZoomEvent` came from)."""
    data = frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass")
    try:
        content = orjson.loads(data).get("content")
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise ValueError("the frame is not a JSON object") from exc
    if isinstance(content, str):
        return content.encode("utf-8", "surrogatepass")
    span = member_span(data, "content")
    if span is None or not isinstance(content, dict):
        raise ValueError("the frame holds no event object")
    return data[span[0] : span[1]]


def event_body(event: ZoomEvent) -> bytes:
    """The body Zoom would POST for `event` (see `content_bytes`)."""
    return content_bytes(event.stored_raw)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256(secret, ``v0:{timestamp}:{body}``): Zoom's ``x-zm-signature``."""
    message = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encrypted_token(secret: str, plain_token: str) -> str:
    """What a handler answers to a URL-validation challenge: hex HMAC-SHA256(secret, plainToken)."""
    return hmac.new(secret.encode("utf-8"), plain_token.encode("utf-8"), hashlib.sha256).hexdigest()


def webhook_headers(
    body: bytes, secret: str | None, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of Zoom's webhook request for `body`, signed with `secret` (None: unsigned,
    no ``x-zm-signature``).  Each request gets its own ids, as each of Zoom's does; the
    timestamp is now unless given (a resend is signed afresh, as Zoom's retries are)."""
    ts = int(time.time()) if timestamp is None else timestamp
    request_id = uuid.uuid4().hex
    headers = {
        "content-type": CONTENT_TYPE,
        "user-agent": USER_AGENT,
        "x-zm-request-timestamp": str(ts),
        "x-zm-request-id": request_id,
        "x-zm-trackingid": f"v=2.0;clid=zoomtui;rid={request_id}",
        # W3C trace context: version 00, a 16-byte trace id, an 8-byte parent id, sampled
        "traceparent": f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01",
    }
    if secret is not None:
        headers["x-zm-signature"] = signature(secret, ts, body)
    return headers


def url_validation_body(plain_token: str, now_ms: int | None = None) -> bytes:
    """The challenge Zoom POSTs to validate an endpoint, in Zoom's member order."""
    ts = int(time.time() * 1000) if now_ms is None else now_ms
    return orjson.dumps(
        {"payload": {"plainToken": plain_token}, "event_ts": ts, "event": URL_VALIDATION_EVENT}
    )
