"""Forwarding events to webhook handlers, signed as Zoom signs webhooks (no Textual).

- `signing`: the body (the frame's content as Zoom wrote it), `x-zm-signature`, headers;
- `routes`: `--to 'glob=URL'` routes and the handler URL's transport rule;
- `forwarder`: the bounded queue and the workers over one shared httpx client;
- `results`: what an attempt reports (`Delivery`) and the counts (`ForwardStats`);
- `sink`: forwarding as a `SessionSink` of the monitor session;
- `check`: Zoom's URL-validation challenge (`--check`).
"""

from __future__ import annotations

from zoomtui.forward.check import CHECK_DEADLINE, CheckResult, check_handler
from zoomtui.forward.forwarder import (
    DEFAULT_CONCURRENCY,
    DEFAULT_QUEUE_LIMIT,
    DEFAULT_TIMEOUT,
    ZOOM_RETRY_SCHEDULE,
    Forwarder,
    ForwardOptions,
)
from zoomtui.forward.results import Delivery, ForwardStats, HandlerResponse, SentRequest
from zoomtui.forward.routes import Route, RouteError, Routes, check_handler_url, parse_route
from zoomtui.forward.signing import (
    content_bytes,
    encrypted_token,
    event_body,
    signature,
    webhook_headers,
)
from zoomtui.forward.sink import ForwardSink

__all__ = [
    "CHECK_DEADLINE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_QUEUE_LIMIT",
    "DEFAULT_TIMEOUT",
    "ZOOM_RETRY_SCHEDULE",
    "CheckResult",
    "Delivery",
    "ForwardOptions",
    "ForwardSink",
    "ForwardStats",
    "Forwarder",
    "HandlerResponse",
    "Route",
    "RouteError",
    "Routes",
    "SentRequest",
    "check_handler",
    "check_handler_url",
    "content_bytes",
    "encrypted_token",
    "event_body",
    "parse_route",
    "signature",
    "webhook_headers",
]
