"""Forwarding's Prometheus figures (zoomtui.forward.metrics) read back by prometheus-client's
own parser, from a real `Forwarder` delivering to a real handler on 127.0.0.1: events
dropped on a full queue, the queue's length and the age of its oldest, then deliveries."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.connhelpers import meeting_event
from tests.webhookkit import Handler
from zoomtui.forward import Forwarder, ForwardOptions, Routes
from zoomtui.forward.metrics import ForwardMetrics, handler_names
from zoomtui.redaction import Secret
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_text_frame

SECRET = "handler-secret-token-0001"


def _read(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    values = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values


async def test_a_full_queue_is_counted_as_dropped_and_the_queue_shows_its_oldest_wait() -> None:
    now = [1000.0]  # the forwarder's monotonic clock, moved by the test
    async with Handler(SECRET) as handler:
        options = ForwardOptions(
            routes=Routes.parse([handler.url("/hang")]),
            secret=Secret(SECRET),
            queue_limit=2,
            concurrency=1,
        )
        fwd = Forwarder(options, clock=lambda: now[0])
        registry = CollectorRegistry()
        counted = ForwardMetrics(registry, fwd)
        fwd.on_result, fwd.on_drop = counted.on_result, counted.on_drop
        name = f"127.0.0.1:{handler.port}"
        await fwd.start()
        try:
            event = parse_text_frame(message_frame(meeting_event(1)).encode(), 1.0)
            assert isinstance(event, ZoomEvent)
            assert [fwd.submit(event) for _ in range(5)] == [True, True, False, False, False]
            await handler.wait_for(1)  # the worker took one: in flight, hanging
            now[0] += 7.0
            held = _read(registry)
            handler.release()
            await fwd.join()
            done = _read(registry)
        finally:
            await fwd.aclose()

    def count(got: dict, outcome: str, reason: str) -> float:
        key = (("handler", name), ("outcome", outcome), ("reason", reason))
        return got[("zoomtui_forward_deliveries_total", key)]

    assert count(held, "dropped", "queue_full") == 3
    assert count(held, "delivered", "2xx") == 0
    assert held[("zoomtui_forward_queue_length", ())] == 1
    assert held[("zoomtui_forward_queue_limit", ())] == 2
    assert held[("zoomtui_forward_in_flight", ())] == 1
    assert held[("zoomtui_forward_oldest_wait_seconds", ())] == 7.0
    assert count(done, "delivered", "2xx") == 2 and count(done, "dropped", "queue_full") == 3
    assert done[("zoomtui_forward_latency_seconds_count", (("handler", name),))] == 2
    assert done[("zoomtui_forward_queue_length", ())] == 0
    assert done[("zoomtui_forward_oldest_wait_seconds", ())] == 0


def test_handlers_are_named_by_host_and_port_only() -> None:
    urls = (
        "https://hooks.example.com/zoom?token=sekrit",
        "https://user:pass@hooks.example.com:443/other",
        "http://[::1]:3000/p",
        "http://localhost/x",
    )
    assert handler_names(urls) == {
        urls[0]: "hooks.example.com:443",
        urls[1]: "hooks.example.com:443#2",
        urls[2]: "[::1]:3000",
        urls[3]: "localhost:80",
    }
