"""The fake WebSocket over loopback with a real websockets client: handshake answers,
heartbeats, events, the one-connection rule, every fault, restarts and scenarios."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.protocol import State

from tests.waits import HANG_GUARD, awaited, guard
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.fakezoom import MALFORMED_KINDS, FakeZoom, scenario_events
from zoomtui.fakezoom.server import (
    CLOSE_DISPLACED,
    CLOSE_REFUSED,
    REASON_DISPLACED,
    default_samples_dir,
)
from zoomtui.zoom.protocol import (
    HEARTBEAT_REQUEST,
    KIND_BUILD_CONNECTION,
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    Envelope,
    MalformedFrame,
    ZoomEvent,
    message_frame,
    parse_frame,
    parse_text_frame,
)

HEARTBEAT_ANSWER = '{"module":"heartbeat","success":true,"content":"live","header":{}}'


def client(url: str, **kw) -> connect:
    # What the real client does: no protocol pings (Zoom uses the application heartbeat).
    return connect(url, open_timeout=HANG_GUARD, close_timeout=1, ping_interval=None, **kw)


async def recv(ws: ClientConnection) -> str | bytes:
    return await awaited(ws.recv(), "a frame")


async def nothing_before_a_heartbeat_answer(ws: ClientConnection) -> None:
    """Nothing is on its way to the client: a heartbeat sent now is answered next (the fake
    answers in order, on the same socket)."""
    await ws.send(HEARTBEAT_REQUEST)
    assert await recv(ws) == HEARTBEAT_ANSWER


async def recv_json(ws: ClientConnection) -> dict:
    return orjson.loads(await recv(ws))


async def closed_code(ws: ClientConnection) -> int | None:
    """Read until the connection closes; the close code the client saw (1006: no close frame)."""
    with pytest.raises(ConnectionClosed):
        while True:
            await recv(ws)
    return ws.close_code


async def drain(ws: ClientConnection) -> None:
    """Read what a flood left in the buffers until the cut shows. (A client that stops reading
    mid-flood and calls close() waits out its close_timeout: the close is behind the data.)"""
    with contextlib.suppress(ConnectionClosed):
        async with guard("the cut to reach the client"):
            async for _ in ws:
                pass


@pytest.fixture
async def fake():
    async with FakeZoom() as f:
        yield f


async def open_session(fake: FakeZoom, **kw) -> ClientConnection:
    ws = await client(fake.ws_url_for(fake.issue_token()), **kw)
    assert (await recv_json(ws))["success"] is True
    return ws


# -- build_connection -------------------------------------------------------------------


async def test_build_connection_success_first_then_heartbeat_live(fake: FakeZoom) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        first = parse_frame(await recv(ws), 0.0)
        assert isinstance(first, Envelope) and first.kind == KIND_BUILD_CONNECTION
        assert first.success is True
        await ws.send(HEARTBEAT_REQUEST)
        answer = await recv(ws)
        assert answer == HEARTBEAT_ANSWER
        assert parse_frame(answer, 0.0).kind == KIND_HEARTBEAT
        conn = await fake.wait_for_connection()
        assert conn.accepted and conn.open
        assert conn.heartbeats_answered == 1
        assert conn.frames_sent == 2


async def test_unknown_subscription_is_refused_and_closed(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token(), subscription_id="nope")) as ws:
        frame = await recv_json(ws)
        assert frame["module"] == "build_connection" and frame["success"] is False
        assert "subscription" in frame["content"].lower()
        assert await closed_code(ws) == CLOSE_REFUSED
    assert fake.connections[-1].refused_reason == frame["content"]
    assert fake.accepted_connections == []


@pytest.mark.parametrize("token", ["not-a-token", ""])
async def test_unknown_or_empty_token(fake, token) -> None:
    async with client(fake.ws_url_for(token)) as ws:
        frame = await recv_json(ws)
        assert frame["success"] is False
        assert frame["content"] == ("Invalid Token" if token else "token is empty")
        assert await closed_code(ws) == CLOSE_REFUSED


async def test_token_in_a_header_not_the_query_is_token_is_empty(fake) -> None:
    url = f"{fake.ws_url}?subscriptionId={C.subscription_id}"
    headers = {"Authorization": f"Bearer {fake.issue_token()}"}
    async with client(url, additional_headers=headers) as ws:
        frame = await recv_json(ws)
        assert (frame["success"], frame["content"]) == (False, "token is empty")


async def test_expired_token_is_refused() -> None:
    async with FakeZoom(token_ttl=0.05) as fake:
        token = fake.issue_token()
        # time passing is what is tested: a sleep lasts at least this long, on the same
        # monotonic clock as the token's lifetime, however loaded the machine
        await asyncio.sleep(0.08)
        async with client(fake.ws_url_for(token)) as ws:
            frame = parse_frame(await recv(ws), 0.0)
            assert frame.kind == KIND_INVALID_TOKEN


async def test_expire_tokens_refuses_new_connections_and_kicks_open_ones_at_heartbeat(fake) -> None:
    token = fake.issue_token()
    async with client(fake.ws_url_for(token)) as ws:
        await recv(ws)
        fake.expire_tokens()
        await ws.send(HEARTBEAT_REQUEST)
        frame = parse_frame(await recv(ws), 0.0)
        assert frame.kind == KIND_INVALID_TOKEN and frame.content == "Invalid Token"
        assert await closed_code(ws) == CLOSE_REFUSED
    async with client(fake.ws_url_for(token)) as ws:
        assert (await recv_json(ws))["content"] == "Invalid Token"


async def test_wrong_path_is_a_404_handshake(fake) -> None:
    url = fake.ws_url_for(fake.issue_token()).replace("/ws?", "/socket?")
    with pytest.raises(InvalidStatus) as err:
        async with client(url):
            pass
    assert err.value.response.status_code == 404


# -- events ---------------------------------------------------------------------------------


async def test_inject_sends_a_message_frame_with_json_string_content(fake) -> None:
    event = {
        "event": "meeting.started",
        "event_ts": 1706123456789,
        "payload": {"account_id": C.account_id, "object": {"id": "1", "uuid": "a+b/c=="}},
    }
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        conn = await fake.wait_for_connection()
        assert await fake.inject(event) == 1
        raw = await recv(ws)
        env = orjson.loads(raw)
        assert env["module"] == "message" and env["success"] is True
        assert isinstance(env["content"], str)
        assert orjson.loads(env["content"]) == event
        parsed = parse_frame(raw, 0.0)
        assert isinstance(parsed, ZoomEvent) and parsed.meeting_uuid == "a+b/c=="
        # a JSON string is sent as it is
        await fake.inject('{"event":"user.created","event_ts":1}', conn=conn)
        assert orjson.loads(await recv(ws))["content"] == '{"event":"user.created","event_ts":1}'
        assert conn.sent_events == [
            orjson.dumps(event).decode(),
            '{"event":"user.created","event_ts":1}',
        ]


async def test_inject_frame_is_verbatim_text_or_binary(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        await fake.wait_for_connection()
        await fake.inject_frame("hello, not json")
        await fake.inject_frame(b"\x01\x02")
        assert await recv(ws) == "hello, not json"
        assert await recv(ws) == b"\x01\x02"


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
async def test_each_malformed_kind_is_malformed_for_the_parser(fake, kind) -> None:
    async with client(fake.ws_url_for(fake.issue_token()), max_size=4 << 20) as ws:
        await recv(ws)
        await fake.wait_for_connection()
        await fake.send_malformed(kind=kind)
        if kind == "not_utf8":  # a text frame websockets cannot decode: taken as it came
            data = await awaited(ws.recv(decode=False), "the frame")
            parsed = parse_text_frame(data, 0.0)
            assert "not valid UTF-8" in parsed.reason and b"Bj\xf6rn" in data
        else:
            data = await recv(ws)
            parsed = parse_frame(data, 0.0)
        assert isinstance(parsed, MalformedFrame), (kind, parsed)
        if kind == "binary":
            assert isinstance(data, bytes)
        if kind == "oversize":
            assert "limit" in parsed.reason
        # the connection survives a malformed frame
        await ws.send(HEARTBEAT_REQUEST)
        assert await recv(ws) == HEARTBEAT_ANSWER


async def test_oversize_beyond_the_client_max_size_closes_with_1009(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:  # websockets' default 1 MiB
        await recv(ws)
        await fake.wait_for_connection()
        await fake.send_malformed(kind="oversize")
        with pytest.raises(ConnectionClosedError) as err:
            await recv(ws)
        assert err.value.sent is not None and err.value.sent.code == 1009  # message too big


async def test_unknown_malformed_kind(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        await fake.wait_for_connection()
        with pytest.raises(ValueError, match="unknown malformed kind"):
            await fake.send_malformed(kind="weird")


# -- one connection per subscription -----------------------------------------------------


async def test_new_connection_displaces_the_old_one(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as old:
        await recv(old)
        async with client(fake.ws_url_for(fake.issue_token())) as new:
            assert (await recv_json(new))["success"] is True
            assert await closed_code(old) == CLOSE_DISPLACED
            assert old.close_reason == REASON_DISPLACED
            first, second = fake.accepted_connections
            assert first.ended_by == "displaced" and not first.open
            assert second.open
            await new.send(HEARTBEAT_REQUEST)
            assert await recv(new) == HEARTBEAT_ANSWER


async def test_several_connections_when_the_rule_is_off() -> None:
    async with FakeZoom(one_connection_per_subscription=False) as fake:
        a = await open_session(fake)
        b = await open_session(fake)
        await fake.wait_for_connection(2)
        assert await fake.inject({"event": "user.created", "event_ts": 1}) == 2
        assert orjson.loads(await recv(a))["module"] == "message"
        assert orjson.loads(await recv(b))["module"] == "message"
        await a.close()
        await b.close()


# -- faults ------------------------------------------------------------------------------------


async def test_close_with_a_code_and_reason(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        conn = await fake.wait_for_connection()
        await fake.close(code=4321, reason="maintenance")
        assert await closed_code(ws) == 4321
        assert ws.close_reason == "maintenance"
        assert conn.close_code == 4321 and conn.ended_by == "close"


async def test_cut_drops_tcp_without_a_close_frame(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        conn = await fake.wait_for_connection()
        await fake.cut()
        with pytest.raises(ConnectionClosedError) as err:
            await recv(ws)
        assert err.value.rcvd is None  # no close frame came
        assert ws.close_code == 1006
        assert not conn.open and conn.close_code == 1006


async def test_go_silent_stops_heartbeat_answers_and_events_but_stays_open(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        conn = await fake.wait_for_connection()
        fake.go_silent()
        await ws.send(HEARTBEAT_REQUEST)
        assert await fake.inject({"event": "user.created", "event_ts": 1}) == 0
        async with guard("the heartbeat at the fake"):
            await fake.wait_until(lambda: conn.heartbeats_received == 1)
        # taken in, not answered, and nothing else sent: only build_connection went out
        assert conn.open and conn.heartbeats_answered == 0 and conn.frames_sent == 1
        conn.silent = False  # speaking again: the first frame the client gets is the answer
        await nothing_before_a_heartbeat_answer(ws)


@pytest.mark.parametrize("wording", ["Invalid Token", "Token is invalid"])
async def test_send_invalid_token_then_close(fake, wording) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        await fake.wait_for_connection()
        await fake.send_invalid_token(wording=wording)
        frame = parse_frame(await recv(ws), 0.0)
        assert (
            frame.kind == KIND_INVALID_TOKEN and frame.success is False and frame.content == wording
        )
        assert await closed_code(ws) == CLOSE_REFUSED


@pytest.mark.parametrize(
    ("module", "success", "sent"),
    [
        ("heartbeat", None, {"module": "heartbeat", "content": "Invalid Token", "header": {}}),
        ("message", True, {"module": "message", "success": True, "content": "Invalid Token"}),
    ],
)
async def test_the_invalid_token_text_in_any_module_with_any_success(
    fake, module, success, sent
) -> None:
    """Zoom has sent the text without `success`, and with `success:true`: the fake plays it,
    and can leave the connection open so the client must act on the text alone."""
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        conn = await fake.wait_for_connection()
        await fake.send_invalid_token(module=module, success=success, close=False)
        frame = await recv_json(ws)
        assert {k: frame[k] for k in sent} == sent and ("success" in frame) == (success is not None)
        assert parse_frame(orjson.dumps(frame).decode(), 0.0).kind == KIND_INVALID_TOKEN
        assert conn.open and conn.ended_by is None


async def test_the_shapes_scenario_is_served_then_ends() -> None:
    async with FakeZoom(scenario="shapes", rate="max") as fake:
        async with client(fake.ws_url_for(fake.issue_token())) as ws:
            await recv(ws)
            conn = await fake.wait_for_connection()
            contents = [orjson.loads((await recv_json(ws))["content"]) for _ in range(17)]
            names = [content["event"] for content in contents]
            # sent at once, stamped up to its last slot: at the clock, none past it
            assert all(c.get("event_ts", 0) <= time.time() * 1000 for c in contents)
            # the end is the fake's own word: its scenario is done, and it sent no more
            await fake.wait_until(lambda: fake.scenario_done)
        assert names[0] == "meeting.started" and "user.updated " in names
        assert len(conn.sent_events) == 17


async def test_idle_timeout_closes_a_connection_without_heartbeats() -> None:
    async with (
        FakeZoom(idle_timeout=0.2) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        # (no heartbeat exchange first: one sent 0.2 s late on a loaded machine meets the
        # close it was meant to precede)
        assert await closed_code(ws) == 1001
        assert ws.close_reason == "no heartbeat"


async def test_faults_without_an_open_connection_say_so(fake) -> None:
    with pytest.raises(LookupError):
        await fake.cut()
    with pytest.raises(TimeoutError):  # nothing connects: the wait ends only by its timeout
        await fake.wait_for_connection(timeout=0.05)


async def test_restart_on_the_same_ports_and_reconnect(fake) -> None:
    ws_port, oauth_port = fake.port, fake.oauth_port
    token = fake.issue_token()
    async with client(fake.ws_url_for(token)) as ws:
        await recv(ws)
        await fake.wait_for_connection()
        await fake.stop()
        assert await closed_code(ws) == 1001  # going away
    await fake.start()
    assert (fake.port, fake.oauth_port) == (ws_port, oauth_port)
    async with client(fake.ws_url_for(token)) as ws:  # tokens outlive a restart, as JWTs do
        assert (await recv_json(ws))["success"] is True
        assert (await fake.wait_for_connection(2)).open


async def test_stop_ends_a_connection_whose_client_stopped_reading() -> None:
    """A client that stops reading never sees the close frame (it is behind the data): stop()
    drops it after its wait instead of leaving its handler to hold the process's exit."""
    async with FakeZoom(scenario="demo", rate="max") as fake:
        ws = await client(fake.ws_url_for(fake.issue_token()), max_queue=1)
        try:
            conn = await fake.wait_for_connection()
            while conn.frames_sent < 200:  # the flood fills the buffers the client left
                await asyncio.sleep(0.01)
            await fake.stop()
            assert conn.ws.state is State.CLOSED
        finally:
            ws.transport.abort()


# -- settings ---------------------------------------------------------------------------------


async def test_settings_point_at_this_fake(fake) -> None:
    s = fake.settings(heartbeat_interval=0.05)
    assert (s.account_id, s.client_id, s.subscription_id) == (
        C.account_id,
        C.client_id,
        C.subscription_id,
    )
    assert s.client_secret.reveal() == C.client_secret and C.client_secret not in repr(s)
    assert s.oauth_url == fake.oauth_url and s.ws_url == fake.ws_url
    assert s.heartbeat_interval == 0.05
    s.check_transport()  # loopback: plain http/ws allowed


async def test_issued_tokens_never_reach_the_logs(fake, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = fake.issue_token()
    async with client(fake.ws_url_for(token), logger=logging.getLogger("test.client.quiet")) as ws:
        await recv(ws)
        await ws.send(HEARTBEAT_REQUEST)
        await recv(ws)
    # (the test's own client logs its URL too: only the fake's records are the fake's business)
    server_records = [r for r in caplog.records if r.name.startswith("zoomtui.fakezoom")]
    assert any("GET /ws" in r.getMessage() for r in server_records)  # it did log the request line
    assert not any(token in r.getMessage() for r in server_records)


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeZoom(host="0.0.0.0")


# -- scenarios over the wire ------------------------------------------------------------------


async def test_demo_scenario_at_max_rate_sends_the_seeded_events_in_order() -> None:
    clock = lambda: 1_700_000_000.0  # noqa: E731 - a fixed clock makes the wire deterministic
    async with (
        FakeZoom(scenario="demo", rate="max", events=300, seed=7, clock=clock) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        frames = [await recv(ws) for _ in range(300)]
        conn = await fake.wait_for_connection()
        await ws.send(HEARTBEAT_REQUEST)
        assert await recv(ws) == HEARTBEAT_ANSWER  # nothing after the 300th event
    expected = list(itertools.islice(scenario_events(7, clock(), rate=1000.0), 300))
    assert frames == [message_frame(e) for e in expected]
    assert [orjson.loads(c) for c in conn.sent_events] == expected


async def test_an_endless_flood_is_never_stamped_ahead_of_the_receivers_clock() -> None:
    """Sent far faster than its nominal 1,000/s, an endless flood is stamped by the clock as
    it is made, as Zoom stamps what happened: a monitor's lag stays at or above zero (by the
    schedule alone, the 5,000th event was stamped seconds ahead), and its tracker drops no
    event as a copy of another, though many share a millisecond."""
    from zoomtui.monitor.meetings import MeetingTracker

    tracker, stamps = MeetingTracker(), []
    async with (
        FakeZoom(scenario="demo", rate="max", seed=5, record_events=False) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        while len(stamps) < 5000:
            event = parse_frame(await recv(ws), time.time())
            assert isinstance(event, ZoomEvent) and event.event_ts_ms is not None
            assert event.event_ts_ms <= event.received_at * 1000
            stamps.append(event.event_ts_ms)
            tracker.apply(event)
        await fake.cut()
        await drain(ws)
    assert sum(m.flags["duplicate"] for m in tracker.meetings.values()) == 0
    assert max(stamps) - min(stamps) < 5000  # stamped as it happened, not 1 ms apart


async def test_an_endless_flood_follows_the_fakes_own_clock() -> None:
    """The same with a clock of the fake's that moves 10 µs a read: stamped never past it, and
    as it moves (a bounded flood keeps its schedule: the test above this one)."""
    reads = itertools.count()

    def clock() -> float:
        return 1_700_000_000.0 + next(reads) * 1e-5

    async with (
        FakeZoom(scenario="demo", rate="max", seed=5, clock=clock, record_events=False) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        stamps = []
        for _ in range(3000):  # past the first chunks, into the ones made mid-flood
            event = parse_frame(await recv(ws), 0.0)
            assert isinstance(event, ZoomEvent) and event.event_ts_ms is not None
            assert event.event_ts_ms <= clock() * 1000
            stamps.append(event.event_ts_ms)
        await fake.cut()
        await drain(ws)
    assert len(set(stamps)) > 10


async def test_paced_scenario_sends_at_the_rate_and_stops_after_n_events() -> None:
    async with (
        FakeZoom(scenario="demo", rate=100, events=5) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        events = [parse_frame(await recv(ws), 0.0) for _ in range(5)]
        assert all(isinstance(e, ZoomEvent) for e in events)
        ts = [e.event_ts_ms for e in events[:4]]  # the 5th+ may be a deliberately late one
        assert ts == sorted(ts) and ts[1] - ts[0] == 10
        async with guard("the scenario to end"):
            await fake.wait_until(lambda: fake.scenario_done)
        await nothing_before_a_heartbeat_answer(ws)
        assert (await fake.wait_for_connection()).frames_sent == 1 + 5 + 1


async def test_paced_stream_belongs_to_the_subscription_and_loses_what_nobody_heard() -> None:
    async with FakeZoom(scenario="demo", rate=200, seed=3) as fake:
        ws = await open_session(fake)
        first = [orjson.loads(await recv(ws))["content"] for _ in range(3)]
        await ws.close()
        async with guard("events to happen while nobody listens"):
            await fake.wait_until(lambda: fake.events_lost > 5)
        ws = await open_session(fake)
        nxt = orjson.loads(await recv(ws))["content"]
        await ws.close()
    assert fake.events_lost > 5
    assert nxt not in first


async def test_quiet_scenario_sends_nothing(fake) -> None:
    async with client(fake.ws_url_for(fake.issue_token())) as ws:
        await recv(ws)
        await nothing_before_a_heartbeat_answer(ws)
        assert (await fake.wait_for_connection()).frames_sent == 2


@pytest.mark.skipif(
    not default_samples_dir().is_dir(),
    reason="../shared/zoom-samples/webhooks is absent (a user's clone has no samples)",
)
async def test_samples_scenario_replays_every_file_verbatim() -> None:
    files = sorted(Path(default_samples_dir()).glob("*.json"))
    async with (
        FakeZoom(scenario="samples", rate="max") as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        contents = [orjson.loads(await recv(ws))["content"] for _ in files]
    assert contents == [f.read_text(encoding="utf-8") for f in files]
    parsed = [parse_frame(message_frame(c), 0.0) for c in contents]
    assert sum(isinstance(p, MalformedFrame) for p in parsed) >= 16  # the invalid ones stay invalid


def test_samples_scenario_without_the_folder_says_where_it_looked(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FakeZoom(scenario="samples", samples_dir=tmp_path / "missing")


async def test_heartbeats_are_answered_during_a_max_rate_flood() -> None:
    n = 20_000
    async with (
        FakeZoom(scenario="demo", rate="max", events=n, record_events=False) as fake,
        client(fake.ws_url_for(fake.issue_token())) as ws,
    ):
        await recv(ws)
        assert orjson.loads(await recv(ws))["module"] == "message"  # the flood began
        await ws.send(HEARTBEAT_REQUEST)
        seen = 1
        while await recv(ws) != HEARTBEAT_ANSWER:
            seen += 1
        assert seen < n  # answered while the flood was still going
        conn = await fake.wait_for_connection()
        assert conn.sent_events == []  # record_events=False keeps nothing
        await fake.cut()
        await drain(ws)


async def test_a_huge_paced_rate_with_nobody_connected_does_not_starve_the_loop() -> None:
    async with FakeZoom(scenario="demo", rate=1e6) as fake:
        ws = await open_session(fake)
        await fake.cut()
        await drain(ws)
        async with guard("events dropped while the loop is still ours"):
            await fake.wait_until(lambda: fake.events_lost > 0)
        await ws.close()
