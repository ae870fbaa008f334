"""Forwarding (zoomtui.forward): events from the fake Zoom, through a monitor session, to a
real handler on 127.0.0.1 that verifies each request with Zoom's own algorithm
(tests/webhookkit.py writes it independently)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from tests.connhelpers import CALM_HB, meeting_event
from tests.waits import awaited, until
from tests.webhookkit import Handler, down_url, zoom_signature
from zoomtui.fakezoom import FakeZoom
from zoomtui.forward import (
    Delivery,
    Forwarder,
    ForwardOptions,
    ForwardSink,
    RouteError,
    Routes,
    check_handler,
    content_bytes,
    parse_route,
)
from zoomtui.monitor.session import MonitorSession
from zoomtui.redaction import Secret
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_text_frame

SECRET = "handler-secret-token-0001"

#: an event as a hostile or just unusual sender may write it: spaces, escapes, non-ASCII,
#: an integer past 64 bits.  Parsed and written again, every one of these would change.
ODD_CONTENT = (
    '{"event": "meeting.started",  "event_ts":1706123456789,"payload":{"account_id":"acc",'
    '"object":{"id":12345678901234567890123,"uuid":"u\\/1==","topic":"Bj\\u00f6rn 李雷 🎉",'
    '"extra":1.50}}}'
)


class Deliveries:
    """Every `Delivery` reported, and a way to wait for them."""

    def __init__(self) -> None:
        self.items: list[Delivery] = []
        self.changed = asyncio.Event()

    def __call__(self, delivery: Delivery) -> None:
        self.items.append(delivery)
        self.changed.set()

    async def wait(self, count: int, pred: Callable[[Delivery], bool] = lambda d: True) -> list:
        def hits() -> list[Delivery]:
            return [d for d in self.items if pred(d)]

        await until(lambda: len(hits()) >= count, self.changed, f"{count} deliveries")
        return hits()


def options(*to: str, **changes: object) -> ForwardOptions:
    return ForwardOptions(routes=Routes.parse(list(to)), secret=Secret(SECRET), **changes)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def monitoring(
    fake: FakeZoom, forwarder: Forwarder, matches: Callable[[ZoomEvent], bool] | None = None
) -> AsyncIterator[MonitorSession]:
    """A monitor session fed by a live connection to the fake, forwarding as a sink."""
    session = MonitorSession()
    sink = ForwardSink(forwarder, matches)
    session.subscribe(sink)
    conn = ZoomConnection(fake.settings(heartbeat_interval=CALM_HB))

    async def pump() -> None:
        async for update in conn.updates():
            session.receive(update)

    task = asyncio.create_task(pump())
    await fake.wait_for_connection()
    try:
        yield session
    finally:
        await conn.close()
        await awaited(task, "the connection's updates to end")


# -- signing and body -------------------------------------------------------------------
def test_content_bytes_are_the_content_string_as_sent() -> None:
    frame = message_frame(ODD_CONTENT)
    assert content_bytes(frame) == ODD_CONTENT.encode()
    # a content object (some senders): cut from the frame as it stands
    obj_frame = '{"module":"message","content": {"event" : "x.y",\n "a":1} ,"header":{}}'
    assert content_bytes(obj_frame) == b'{"event" : "x.y",\n "a":1}'
    event = parse_text_frame(frame.encode(), 1.0)
    assert isinstance(event, ZoomEvent)


async def test_forwarded_body_is_the_frames_content_byte_for_byte_and_signed() -> None:
    deliveries = Deliveries()
    async with (
        Handler(SECRET) as handler,
        FakeZoom() as fake,
        Forwarder(options(handler.url("/hook")), on_result=deliveries) as fwd,
        monitoring(fake, fwd),
    ):
        await fake.inject(ODD_CONTENT)
        await fake.inject(meeting_event(1))
        received = await handler.wait_for(2)
        await deliveries.wait(2)
        sent = fake.connections[0].sent_events
    # (two workers deliver at once: the handler may take them in either order)
    (got_odd,) = [r for r in received if orjson_event(r.body) == "meeting.started"]
    (got_plain,) = [r for r in received if r is not got_odd]
    assert got_odd.body == sent[0].encode() == ODD_CONTENT.encode()
    assert got_plain.body == sent[1].encode()
    for got in (got_odd, got_plain):
        assert got.verified, got.headers
        h = got.headers
        assert h["x-zm-signature"] == zoom_signature(SECRET, h["x-zm-request-timestamp"], got.body)
        assert h["content-type"] == "application/json"
        assert h["user-agent"] == "Zoom Marketplace/1.0a"
        assert h["x-zm-request-id"] and h["x-zm-trackingid"]
        assert h["traceparent"].startswith("00-") and len(h["traceparent"]) == 55
    assert got_odd.headers["x-zm-request-id"] != got_plain.headers["x-zm-request-id"]
    assert [d.ok for d in deliveries.items] == [True, True]
    assert all(
        d.status == 200 and d.response and d.response.body == b'{"ok": true}'
        for d in deliveries.items
    )
    assert fwd.delivered == 2 and fwd.failed == 0


async def test_routes_pick_the_first_matching_handler_and_a_bare_url_takes_the_rest() -> None:
    deliveries = Deliveries()
    async with (
        Handler(SECRET) as handler,
        FakeZoom() as fake,
        Forwarder(
            options(
                "meeting.participant_*=" + handler.url("/participants"),
                "recording.*=" + handler.url("/rec"),
                handler.url("/rest"),
            ),
            on_result=deliveries,
        ) as fwd,
        monitoring(fake, fwd),
    ):
        await fake.inject(meeting_event(1))  # a participant event
        await fake.inject({"event": "recording.completed", "event_ts": 1, "payload": {}})
        await fake.inject({"event": "meeting.ended", "event_ts": 2, "payload": {}})
        await handler.wait_for(3)
        await deliveries.wait(3)
    by_path = {r.path: orjson_event(r.body) for r in handler.received}
    assert by_path["/participants"].startswith("meeting.participant_")
    assert by_path["/rec"] == "recording.completed"
    assert by_path["/rest"] == "meeting.ended"


def orjson_event(body: bytes) -> str:
    import orjson

    return str(orjson.loads(body)["event"])


async def test_a_failing_a_silent_and_a_dead_handler_are_each_reported_and_counted() -> None:
    """500, no answer (bounded by the timeout) and connection refused: three failures,
    each reported with what happened, and the events after them still go through."""
    deliveries = Deliveries()
    async with Handler(SECRET) as handler, FakeZoom() as fake:
        routes = (
            "a.fail=" + handler.url("/fail"),
            "a.hang=" + handler.url("/hang"),
            "a.down=" + down_url(),
            handler.url("/ok"),
        )
        async with (
            # (the timeout bounds the silent handler; the others answer long before it)
            Forwarder(options(*routes, timeout=1.0), on_result=deliveries) as fwd,
            monitoring(fake, fwd) as session,
        ):
            for name in ("a.fail", "a.hang", "a.down"):
                await fake.inject({"event": name, "event_ts": 1, "payload": {}})
            await deliveries.wait(3)
            for i in range(5):
                await fake.inject(meeting_event(i))
            await deliveries.wait(8)
            stats = fwd.stats()
            events_seen = session.status.events
    by_name = {d.event_name: d for d in deliveries.items}
    assert by_name["a.fail"].status == 500 and not by_name["a.fail"].ok
    assert by_name["a.fail"].result_text.startswith("500 in ")
    assert by_name["a.hang"].status is None
    assert by_name["a.hang"].error == "no answer within 1 s"
    assert by_name["a.down"].status is None
    assert by_name["a.down"].error.startswith("cannot connect")
    assert all(d.retry_in is None for d in deliveries.items)  # no retries by default
    assert stats.failed == 3 and stats.delivered == 5 and stats.dropped == 0, [
        (d.event_name, d.result_text) for d in deliveries.items if not d.ok
    ]
    assert events_seen == 8  # the session took every event in


async def test_a_full_queue_drops_and_counts_and_submit_never_waits() -> None:
    async with Handler(SECRET) as handler:
        fwd = Forwarder(options(handler.url("/hang"), queue_limit=2, concurrency=1))
        await fwd.start()
        try:
            frame = message_frame(meeting_event(1)).encode()
            event = parse_text_frame(frame, 1.0)
            assert isinstance(event, ZoomEvent)
            results = [fwd.submit(event) for _ in range(10)]  # no await: the worker waits
            assert results == [True, True] + [False] * 8
            assert fwd.dropped == 8 and fwd.stats().queued == 2
            await handler.wait_for(1)  # the worker took one: now in flight, hanging
            assert fwd.stats().in_flight == 1 and fwd.stats().queued == 1
            assert fwd.submit(event) is True
            assert fwd.submit(event) is False and fwd.dropped == 9
        finally:
            # one in flight (hanging: not waited for), two queued: not delivered
            assert await fwd.aclose(grace=0) == 3


async def test_stopping_waits_for_an_answer_already_on_its_way_and_counts_it_delivered() -> None:
    """A request the handler has taken is finished, not abandoned: the handler answers
    while the forwarder stops, and the event counts as delivered, not as "not sent"."""
    deliveries = Deliveries()
    async with Handler(SECRET) as handler:
        fwd = Forwarder(
            options(handler.url("/hang"), timeout=60.0, concurrency=1), on_result=deliveries
        )
        await fwd.start()
        event = parse_text_frame(message_frame(meeting_event(1)).encode(), 1.0)
        assert isinstance(event, ZoomEvent)
        assert fwd.submit(event) and fwd.submit(event) is True
        await handler.wait_for(1)  # one taken by the handler, one still queued (one worker)
        closing = asyncio.create_task(fwd.aclose(grace=60.0))
        await asyncio.sleep(0)  # one step of the loop: aclose drops the queue, then waits
        assert fwd.closed and fwd.stats().queued == 0 and fwd.in_flight == 1
        handler.release()
        assert await closing == 1  # the queued one only
        assert fwd.delivered == 1 and [d.ok for d in deliveries.items] == [True]


async def test_retry_follows_zooms_schedule_compressed_and_signs_each_attempt_afresh() -> None:
    deliveries = Deliveries()
    async with Handler(SECRET) as handler:
        fwd = Forwarder(options(handler.url("/fail"), retry_factor=6000.0), on_result=deliveries)
        async with fwd:
            event = parse_text_frame(message_frame(meeting_event(1)).encode(), 1.0)
            assert isinstance(event, ZoomEvent)
            fwd.submit(event)
            await deliveries.wait(4)
            await awaited(fwd.join(), "the retries to end")
    assert [d.attempt for d in deliveries.items] == [1, 2, 3, 4]
    assert [d.retry_in for d in deliveries.items] == [0.05, 0.2, 0.6, None]
    received = await handler.wait_for(4)
    assert all(r.verified for r in received)
    assert len({r.headers["x-zm-request-id"] for r in received}) == 4
    assert fwd.failed == 4 and fwd.stats().retrying == 0


# -- --check --------------------------------------------------------------------------------
async def test_check_passes_a_handler_that_answers_the_challenge_right() -> None:
    async with Handler(SECRET) as handler:
        result = await check_handler(handler.url("/validate"), Secret(SECRET))
        (got,) = await handler.wait_for(1)
    assert result.ok, result.problem
    assert result.status == 200
    assert got.verified  # the challenge is signed like any webhook
    assert orjson_event(got.body) == "endpoint.url_validation"


async def test_check_fails_a_handler_with_another_secret_token() -> None:
    async with Handler(SECRET) as handler:
        handler.validation_secret = "some-other-secret-token"
        result = await check_handler(handler.url("/validate"), Secret(SECRET))
    assert not result.ok
    assert "encryptedToken" in result.problem


async def test_check_fails_a_handler_that_answers_after_the_deadline() -> None:
    """Zoom waits 3 s; the deadline is shrunk here and the handler answers only once the
    check has judged it (no sleeping: the handler is held until released)."""
    async with Handler(SECRET) as handler:
        result = await check_handler(handler.url("/hang"), Secret(SECRET), deadline=0.2)
        handler.release()
    assert not result.ok
    assert result.problem == "no answer within 0.2 s"
    assert result.status is None


async def test_check_fails_a_handler_that_is_down() -> None:
    result = await check_handler(down_url("/validate"), Secret(SECRET))
    assert not result.ok and result.problem.startswith("cannot connect")


# -- routes and transport ---------------------------------------------------------------------
def test_route_forms() -> None:
    assert parse_route("meeting.*=http://localhost:3000/m").pattern == "meeting.*"
    bare = parse_route("http://127.0.0.1:3000/hook?a=b&c=http://x")
    assert bare.pattern == "*" and bare.url == "http://127.0.0.1:3000/hook?a=b&c=http://x"
    assert parse_route("https://hooks.example.com/zoom").url == "https://hooks.example.com/zoom"
    routes = Routes.parse(["a.*=http://localhost/a", "http://localhost/all", "b.*=http://[::1]/b"])
    assert routes.url_for("a.x") == "http://localhost/a"
    assert routes.url_for("b.x") == "http://localhost/all"  # the catch-all came first
    for bad in ("meeting.*", "=http://localhost/x", "ftp://localhost/x", "x=ws://localhost/"):
        with pytest.raises(RouteError):
            parse_route(bad)


def test_plain_http_goes_only_to_loopback_unless_allowed() -> None:
    with pytest.raises(RouteError, match="clear text"):
        parse_route("http://hooks.example.com/zoom")
    with pytest.raises(RouteError, match="clear text"):
        parse_route("meeting.*=http://127.example.com/zoom")
    assert parse_route("http://hooks.example.com/zoom", insecure=True).pattern == "*"
    assert parse_route("http://[::1]:8080/zoom").url == "http://[::1]:8080/zoom"


async def test_a_handler_that_refused_a_connection_is_not_hammered() -> None:
    """After a refused connection the next deliveries to that handler fail at once (one
    real attempt per pause), each still reported and counted."""
    deliveries = Deliveries()
    frozen = 100.0  # the forwarder's clock stands still: the pause never ends here
    fwd = Forwarder(options(down_url()), on_result=deliveries, clock=lambda: frozen)
    async with fwd:
        event = parse_text_frame(message_frame(meeting_event(1)).encode(), 1.0)
        assert isinstance(event, ZoomEvent)
        fwd.submit(event)
        await deliveries.wait(1)
        for _ in range(3):
            fwd.submit(event)
        await deliveries.wait(4)
    first, *rest = deliveries.items
    assert first.error.startswith("cannot connect (") and "not sent" not in first.error
    assert all("not sent: the handler refused a connection 0.0 s ago" in d.error for d in rest)
    assert fwd.failed == 4


async def test_an_event_queued_wakes_one_idle_worker_not_all_of_them() -> None:
    """Eight idle workers and one event: one is woken for it, seven sleep on (waking all of
    them per event cost the monitor's loop eight task switches per delivery)."""
    async with Handler(SECRET) as handler:
        fwd = Forwarder(options(handler.url("/hang"), concurrency=8))
        await fwd.start()
        try:
            while len(fwd._idle) < 8:  # each worker runs up to its first wait
                await asyncio.sleep(0)
            event = parse_text_frame(message_frame(meeting_event(1)).encode(), 1.0)
            assert isinstance(event, ZoomEvent)
            fwd.submit(event)
            assert sum(not woken.done() for woken in fwd._idle) == 7
            await handler.wait_for(1)
            assert fwd.in_flight == 1
        finally:
            await fwd.aclose(grace=0)
