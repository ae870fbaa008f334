"""The fake's production consumer: another client of the subscription, knocking the current
connection off as Zoom does, reconnecting by itself when told to, and steerable over the
control endpoint (`POST /fakezoom/consumer`)."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from zoomtui.fakezoom import FakeZoom, ProductionConsumer
from zoomtui.fakezoom.server import CLOSE_DISPLACED, REASON_DISPLACED

pytestmark = pytest.mark.timeout(60)

HB = 0.05


async def client(fake: FakeZoom) -> ClientConnection:
    """A plain client of the subscription (what zoomtui would be), accepted."""
    ws = await connect(fake.ws_url_for(fake.issue_token()), open_timeout=3, close_timeout=1)
    assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["success"] is True
    return ws


async def test_the_consumer_knocks_the_current_connection_off_as_zoom_does() -> None:
    async with FakeZoom() as fake:
        ws = await client(fake)
        first = await fake.wait_for_connection()
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        await first.wait_closed()
        assert first.close_code == CLOSE_DISPLACED and first.close_reason == REASON_DISPLACED
        assert first.ended_by == "displaced" and first.consumer is None
        (mine,) = consumer.connections
        assert mine.consumer == "production-1" and mine.open and mine.accepted
        assert fake.open_connections() == [mine]
        await consumer.wait_for(lambda: consumer.heartbeats_answered >= 2)
        assert mine.heartbeats_answered >= 2
        status = consumer.status()
        assert status["running"] and status["connected"] and status["displaced"] == 0
        await ws.close()


async def test_without_reconnect_it_stays_off_once_knocked_off() -> None:
    async with FakeZoom() as fake:
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        ws = await client(fake)  # a newer connection: the consumer's is closed
        await consumer.wait_displaced(1)
        await consumer.wait_for(lambda: not consumer.running)
        assert consumer.connections[0].ended_by == "displaced"
        assert len(consumer.connections) == 1 and not consumer.connected
        await ws.close()


async def test_with_reconnect_it_fights_back() -> None:
    async with FakeZoom() as fake:
        consumer = await fake.start_consumer(heartbeat_interval=HB, reconnect=True)
        ws = await client(fake)
        back = await consumer.wait_connections(2)  # it came back, knocking the client off
        assert consumer.displaced == 1 and back.open
        await ws.wait_closed()
        ours = [c for c in fake.accepted_connections if c.consumer is None]
        assert ours[0].ended_by == "displaced"
        await consumer.stop()  # it leaves: a polite close from its side, and no more tries
        assert not consumer.running and not back.open
        assert back.ended_by is None and back.close_code == 1000
        assert len(consumer.connections) == 2


async def test_it_reconnects_after_a_restart_of_the_fake() -> None:
    async with FakeZoom() as fake:
        consumer = await fake.start_consumer(heartbeat_interval=HB, reconnect=True)
        await fake.stop()  # 1001 to every client; nothing listens for a while
        await fake.start()
        await consumer.wait_connections(2)
        assert consumer.displaced == 0 and consumer.connected


async def test_leaving_the_fake_stops_its_consumers() -> None:
    async with FakeZoom() as fake:
        consumer = await fake.start_consumer(heartbeat_interval=HB, reconnect=True)
    assert not consumer.running and consumer.connections[0].close_code == 1000


def test_its_options_are_checked() -> None:
    fake = FakeZoom()
    for bad in ({"reconnect_delay": -1.0}, {"heartbeat_interval": 0.0}, {"reconnect_delay": 1e999}):
        with pytest.raises(ValueError):
            ProductionConsumer(fake, **bad)  # type: ignore[arg-type]


async def control(fake: FakeZoom, body: object, token: str | None = None) -> httpx.Response:
    used = fake.control_token if token is None else token
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.post(
            f"{fake.control_url}/consumer",
            content=orjson.dumps(body),
            headers={"Authorization": f"Bearer {used}"},
        )


async def test_the_control_endpoint_starts_and_stops_it() -> None:
    async with FakeZoom() as fake:
        ws = await client(fake)
        assert (await control(fake, {"action": "status"})).json() == {"consumer": None}
        started = await control(
            fake, {"action": "start", "reconnect": True, "reconnect_delay": 0.5}
        )
        assert started.status_code == 200
        body = started.json()["consumer"]
        assert body["running"] and body["connected"] and body["reconnect"]
        assert body["reconnect_delay"] == 0.5 and body["connections"] == 1
        await ws.wait_closed()  # the client was knocked off
        again = await control(fake, {"action": "start"})
        assert again.status_code == 409 and again.json()["error"] == "already_running"
        stopped = await control(fake, {"action": "stop"})
        assert stopped.status_code == 200 and stopped.json()["consumer"]["running"] is False
        assert fake.open_connections() == []


async def test_the_control_endpoint_refuses_what_it_cannot_use() -> None:
    async with FakeZoom() as fake:
        for body, words in (
            ([], "JSON object"),
            ({"action": "dance"}, "'action' must be one of start, stop, status"),
            ({"action": "start", "reconnect": "yes"}, "'reconnect' must be true or false"),
            ({"action": "start", "reconnect_delay": True}, "a number of seconds"),
            ({"action": "start", "heartbeat_interval": 1e9}, "from 0.01 to 3600 seconds"),
            ({"action": "start", "color": "red"}, "unknown field(s): color"),
            ({"action": "stop", "reconnect": True}, "options go with 'start' only"),
        ):
            answer = await control(fake, body)
            assert answer.status_code == 400, body
            assert answer.json()["error"] == "invalid_request"
            assert words in answer.json()["reason"], body
        assert (await control(fake, {"action": "start"}, token="wrong")).status_code == 401
        assert fake.consumers == [] and fake.connections == []


async def test_a_consumer_started_after_another_stopped_follows_its_own_connection() -> None:
    async with FakeZoom() as fake:
        first = await fake.start_consumer(heartbeat_interval=HB)
        await first.stop()
        ws = await client(fake)
        started = await control(fake, {"action": "start", "heartbeat_interval": HB})
        assert started.status_code == 200
        body = started.json()["consumer"]
        assert body["running"] and body["connected"] and body["connections"] == 1
        second = fake.consumers[-1]
        (mine,) = second.connections
        assert mine is not first.connections[0] and mine.open
        assert [c.consumer for c in fake.accepted_connections] == [
            "production-1",
            None,
            "production-2",
        ]
        await ws.wait_closed()  # the client was knocked off by the second one
        ws = await client(fake)  # and a newer client knocks the second one off in turn
        await second.wait_displaced(1)
        assert first.displaced == 0 and mine.ended_by == "displaced"
        await ws.close()
