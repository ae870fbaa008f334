"""Forwarding in Prometheus' terms (`zoomtui watch --forward-to URL --metrics HOST:PORT`),
in the registry of the session's metrics (`zoomtui.alerts.metrics.MetricsSink.registry`):

    zoomtui_forward_deliveries_total{handler,outcome,reason}
        outcome "delivered" (reason "2xx"), "failed" (reason "1xx", "3xx", "4xx", "5xx":
        the handler's answer; "timeout", "connect", "error": no answer), or "dropped"
        (reason "queue_full": never queued, the queue was at its bound)
    zoomtui_forward_latency_seconds{handler}    histogram: request sent to answer read
                                                (attempts sent; a timeout counts its wait)
    zoomtui_forward_queue_length                events waiting for a delivery slot
    zoomtui_forward_queue_limit                 the queue's bound
    zoomtui_forward_in_flight                   requests on their way
    zoomtui_forward_oldest_wait_seconds         how long the oldest waiting event has waited

Label sets stay bounded and hold no secret: a handler is named by its host and port only
(a URL's path, query and user info can carry a token), "#2", "#3" for a second route to
the same host and port, in the order the routes were given.  `prometheus_client` is
imported only here (the `metrics` extra).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from zoomtui.forward.forwarder import CANNOT_CONNECT, NO_ANSWER, Forwarder
from zoomtui.forward.results import Delivery

#: a request within the default 3 s timeout, and a slower one told apart from it
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: the most of a host name a label holds (a user's URL, but a label should stay short)
MAX_HOST_CHARS = 100


def handler_names(urls: tuple[str, ...]) -> dict[str, str]:
    """Each handler URL -> its label: `host:port` ("#2", "#3" for a repeat), never more."""
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    for url in urls:
        parts = urlsplit(url)
        host = (parts.hostname or "unknown")[:MAX_HOST_CHARS]
        if ":" in host:
            host = f"[{host}]"
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            port = 0
        name = f"{host}:{port}"
        seen[name] = seen.get(name, 0) + 1
        names[url] = name if seen[name] == 1 else f"{name}#{seen[name]}"
    return names


def failure_reason(delivery: Delivery) -> str:
    """Why a delivery failed, in one of a few words (a label value)."""
    status = delivery.status
    if status is not None:
        return f"{status // 100}xx" if 100 <= status <= 599 else "error"
    if delivery.error.startswith(NO_ANSWER):
        return "timeout"
    if delivery.error.startswith(CANNOT_CONNECT):
        return "connect"
    return "error"


class ForwardMetrics:
    """The forwarder's figures: `on_result` and `on_drop` are its hooks (the monitor's
    loop; a counter's increment, nothing more), the gauges are read at each scrape."""

    def __init__(self, registry: Any, forwarder: Forwarder) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.names = handler_names(forwarder.options.routes.urls)
        r = registry
        self._deliveries = Counter(
            "zoomtui_forward_deliveries",
            "Deliveries to webhook handlers, by outcome and reason",
            ["handler", "outcome", "reason"],
            registry=r,
        )
        self._latency = Histogram(
            "zoomtui_forward_latency_seconds",
            "Request sent to answer read, per handler",
            ["handler"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        gauges: tuple[tuple[str, str, Callable[[], float]], ...] = (
            ("zoomtui_forward_queue_length", "Events waiting for a delivery slot",
             lambda: forwarder.queued),
            ("zoomtui_forward_queue_limit", "The queue's bound",
             lambda: forwarder.options.queue_limit),
            ("zoomtui_forward_in_flight", "Requests on their way",
             lambda: forwarder.in_flight),
            ("zoomtui_forward_oldest_wait_seconds", "Seconds the oldest waiting event has waited",
             forwarder.oldest_wait),
        )  # fmt: skip
        for name, text, read in gauges:
            Gauge(name, text, registry=r).set_function(read)
        for label in self.names.values():
            # every handler's figures from the start (at 0), not only once something happened
            self._deliveries.labels(label, "delivered", "2xx")
            self._deliveries.labels(label, "dropped", "queue_full")
            self._latency.labels(label)
        self._counter = functools.lru_cache(maxsize=None)(self._child)

    def _child(self, url: str, outcome: str, reason: str) -> Any:
        return self._deliveries.labels(self._name(url), outcome, reason)

    def _name(self, url: str) -> str:
        return self.names.get(url, "other")

    def on_result(self, delivery: Delivery) -> None:
        """A `Forwarder.on_result`: count the attempt and, when it was sent, its time."""
        if delivery.ok:
            self._counter(delivery.url, "delivered", "2xx").inc()
        else:
            self._counter(delivery.url, "failed", failure_reason(delivery)).inc()
        if delivery.sent:
            self._latency.labels(self._name(delivery.url)).observe(max(0.0, delivery.latency))

    def on_drop(self, url: str) -> None:
        """A `Forwarder.on_drop`: an event for `url` not queued, the queue was full."""
        self._counter(url, "dropped", "queue_full").inc()
