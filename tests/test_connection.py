"""ZoomConnection against the fake Zoom over loopback: real httpx, real websockets.

Every fault the fake can play, and what the connection must say about it.  Backoff is a
few milliseconds and `MaxRandom` makes its schedule exact (full jitter off).  Heartbeats
are Zoom's 30 s (`CALM_HB`: a loaded machine's stall is never taken for a dead link),
except in the tests about heartbeats and silence, which shorten them to `HB`.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from websockets.asyncio.client import connect

from tests.connhelpers import (
    CALM_HB,
    HB,
    MaxRandom,
    Recorder,
    ShiftedClock,
    content_of,
    meeting_event,
)
from tests.waits import HANG_GUARD
from zoomtui.fakezoom import MALFORMED_KINDS, FakeZoom
from zoomtui.zoom.auth import Token, TokenProvider
from zoomtui.zoom.connection import FailureKind, ZoomConnection
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, Notice, StateChanged, TokenInfo


def make(fake: FakeZoom, **kw) -> ZoomConnection:
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("backoff_cap", 0.2)
    kw.setdefault("rng", MaxRandom())
    settings = fake.settings(
        heartbeat_interval=kw.pop("heartbeat_interval", CALM_HB), **kw.pop("settings", {})
    )
    if "min_token_lifetime" in kw:  # tokens shorter than the provider's floor (a test's 1.5 s)
        kw["tokens"] = TokenProvider(settings, min_lifetime=kw.pop("min_token_lifetime"))
    return ZoomConnection(settings, **kw)


def received_in_order(rec: Recorder, fake: FakeZoom) -> None:
    """Every event the fake sent on an accepted connection arrived, in order, none twice."""
    sent = [c for conn in fake.accepted_connections for c in conn.sent_events]
    got = [content_of(e) for e in rec.events]
    assert got == sent


async def test_happy_path_reaches_connected_with_token_and_heartbeat() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake))
        await rec.wait_state(S.CONNECTED)
        hb = await rec.wait_for(
            lambda items: next((u for u in items if isinstance(u, Heartbeat)), None)
        )
        assert 0 <= hb.rtt < 1
        assert rec.state_names() == ["authenticating", "connecting", "connected"]
        assert rec.states[0].previous is S.IDLE
        assert [type(u) for u in rec.items[:3]] == [StateChanged, TokenInfo, StateChanged]
        info = rec.of(TokenInfo)[0]
        assert "meeting:read:admin" in info.scopes and info.expires_at > time.time() + 3000
        assert rec.conn.state is S.CONNECTED and rec.conn.stats.connects == 1
        assert len(fake.token_requests) == 1
        await rec.close()
        assert rec.states[-1].state is S.STOPPED and rec.gaps == []


async def test_events_arrive_in_order_exactly_once_across_reconnects() -> None:
    async with FakeZoom(scenario="demo", rate=400) as fake:
        rec = Recorder(make(fake))
        await rec.wait_state(S.CONNECTED)
        for i in range(20):
            await fake.inject(meeting_event(i))
        await rec.wait_for(lambda items: len(rec.events) >= 60)
        await fake.close(code=1011, reason="maintenance")
        await rec.wait_state(S.CONNECTED, 2)
        await rec.wait_for(lambda items: len(rec.events) >= 150)
        await fake.stop()  # 1001 to every client, then nothing listens
        await rec.wait_state(S.RECONNECTING, 3)
        await fake.start()
        await rec.wait_state(S.CONNECTED, 3)
        await rec.wait_for(lambda items: len(rec.events) >= 250)
        await rec.close()
        received_in_order(rec, fake)
        assert len(rec.gaps) == 2


async def test_token_is_renewed_before_expiry_without_dropping_the_connection() -> None:
    # The fake does not re-check the connection's token here: only the renewal is tested.
    async with FakeZoom(token_ttl=1.5, check_token_on_heartbeat=False) as fake:
        # a renewal is reported with the next frame: heartbeat answers are those frames
        rec = Recorder(make(fake, heartbeat_interval=HB, min_token_lifetime=1))
        await rec.wait_state(S.CONNECTED)
        await rec.wait_for(lambda items: len(rec.of(TokenInfo)) >= 3)
        assert len(fake.token_requests) == 3
        assert len(fake.accepted_connections) == 1 and fake.accepted_connections[0].open
        assert rec.state_names() == ["authenticating", "connecting", "connected"]
        infos = rec.of(TokenInfo)
        assert infos[1].expires_at > infos[0].expires_at
        await rec.close()


async def test_connection_token_expiry_reconnects_at_once_with_the_renewed_token() -> None:
    # The fake checks the connection's own token at each heartbeat: when it expires, Zoom-style
    # "Invalid Token"; the token keeper already renewed it, so no extra request is needed.
    async with FakeZoom(token_ttl=1.5) as fake:
        rec = Recorder(make(fake, heartbeat_interval=HB, min_token_lifetime=1))
        await rec.wait_state(S.CONNECTED, 2)
        drop = rec.states[rec.state_names().index("reconnecting")]
        assert "invalid" in drop.reason.lower() and drop.retry_in == 0
        assert [r.status for r in fake.token_requests] == [200, 200]
        # at once: no backoff wait (retry_in 0 above), no other try, no token request (the
        # second was the renewal): straight back through the steps of one attempt
        after = rec.state_names()[rec.state_names().index("reconnecting") + 1 :]
        assert after == ["authenticating", "connecting", "connected"]
        assert len(rec.gaps) == 1
        await rec.close()


async def test_invalid_token_frame_gets_a_new_token_and_reconnects_at_once() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, backoff_base=5.0))  # a backoff wait would time the test out
        await rec.wait_state(S.CONNECTED)
        await fake.send_invalid_token(wording="Token is invalid")  # the 2025 wording
        await rec.wait_state(S.CONNECTED, 2)
        drop = rec.states[3]
        assert drop.state is S.RECONNECTING and drop.retry_in == 0
        assert "Token is invalid" in drop.reason
        assert "new access token" in rec.states[4].reason
        assert len(fake.token_requests) == 2
        assert len(rec.of(TokenInfo)) == 2
        await rec.close()


@pytest.mark.parametrize(
    ("module", "success", "wording"),
    [
        ("heartbeat", None, "Invalid Token"),  # {"module":"heartbeat","content":"Invalid Token"}
        ("heartbeat", True, "Invalid Token"),
        ("message", True, "Token is invalid"),
    ],
)
async def test_the_invalid_token_text_in_any_frame_gets_a_new_token_and_reconnects(
    module: str, success: bool | None, wording: str
) -> None:
    """ZoomNet's order: the text first, whatever `success` says, in any module.  The fake
    keeps the connection open: zoomtui acts on the text alone."""
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, backoff_base=5.0))  # a backoff wait would time the test out
        await rec.wait_state(S.CONNECTED)
        first = fake.accepted_connections[0]
        await fake.send_invalid_token(module=module, success=success, wording=wording, close=False)
        await rec.wait_state(S.CONNECTED, 2)
        drop = rec.states[3]
        assert drop.state is S.RECONNECTING and drop.retry_in == 0
        assert wording in drop.reason
        assert len(fake.token_requests) == 2 and len(rec.of(TokenInfo)) == 2
        assert rec.of(MalformedFrame) == [] and rec.of(Notice) == []
        await first.wait_closed()  # zoomtui hung up; the fake never did
        assert first.ended_by is None
        await rec.close()


class BogusTokens(TokenProvider):
    """Every token it hands out is one the fake never issued (Zoom keeps refusing)."""

    async def _fetch(self) -> Token:
        from zoomtui.redaction import Secret

        self.requests += 1
        now = time.time()
        self._token = Token(
            access_token=Secret(f"bogus-token-{self.requests:04d}"),
            expires_at=now + 3600,
            obtained_at=now,
        )
        return self._token


async def test_backs_off_when_the_fresh_token_is_refused_too() -> None:
    async with FakeZoom() as fake:
        settings = fake.settings(heartbeat_interval=CALM_HB)
        rec = Recorder(
            ZoomConnection(settings, BogusTokens(settings), backoff_base=0.05, rng=MaxRandom())
        )
        await rec.wait_state(S.RECONNECTING, 3)
        retries = [s.retry_in for s in rec.states if s.state is S.RECONNECTING]
        assert retries[:3] == [0.0, 0.05, 0.1]
        assert all(
            "refused the access token" in s.reason for s in rec.states if s.state is S.RECONNECTING
        )
        await rec.close()


async def test_backoff_schedule_for_close_cut_and_outage() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, backoff_base=0.02, backoff_cap=0.16, stable_after=60))
        await rec.wait_state(S.CONNECTED)
        await fake.close(code=1011, reason="internal error")
        await rec.wait_state(S.CONNECTED, 2)
        await fake.cut()
        await rec.wait_state(S.CONNECTED, 3)
        await fake.stop()
        await rec.wait_state(S.RECONNECTING, 6)
        await fake.start()
        up = await rec.wait_state(S.CONNECTED, 4)
        retries = [s for s in rec.states if s.state is S.RECONNECTING]
        assert [r.retry_in for r in retries[:6]] == [0.02, 0.04, 0.08, 0.16, 0.16, 0.16]
        assert retries[0].reason == "server closed the connection (1011: internal error)"
        assert "without a close frame" in retries[1].reason
        assert "1001" in retries[2].reason and "displaced" not in retries[2].reason
        assert "could not connect" in retries[3].reason
        # the waits really happen: from the outage to reconnected took at least their sum
        assert up.at - retries[2].at >= sum(r.retry_in for r in retries[2:-1]) * 0.9
        assert len(rec.gaps) == 3
        assert [g.reason for g in rec.gaps] == [r.reason for r in retries[:3]]
        await rec.close()


async def test_backoff_resets_after_a_stable_connection() -> None:
    async with FakeZoom() as fake:
        # a link is stable after 30 s up: no stall of a loaded machine lasts that long, and
        # the test says when they have passed instead of sleeping them
        mono = ShiftedClock()
        rec = Recorder(make(fake, backoff_base=0.02, stable_after=30.0, monotonic=mono))
        await rec.wait_state(S.CONNECTED)
        await fake.close(code=1011, reason="x")
        await rec.wait_state(S.CONNECTED, 2)
        await fake.close(code=1011, reason="y")  # at once: not stable, so it grows
        await rec.wait_state(S.CONNECTED, 3)
        mono.advance(30.0)
        await fake.close(code=1011, reason="z")  # after a stable run: back to the base
        await rec.wait_state(S.CONNECTED, 4)
        assert [s.retry_in for s in rec.states if s.state is S.RECONNECTING] == [0.02, 0.04, 0.02]
        await rec.close()


async def test_silent_server_is_a_dead_link() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, heartbeat_interval=HB))
        await rec.wait_state(S.CONNECTED)
        await rec.wait_for(lambda items: rec.of(Heartbeat), "a heartbeat answered")
        silent_from = time.time()
        fake.go_silent()
        await rec.wait_state(S.CONNECTED, 2)
        drop = rec.states[3]
        assert drop.state is S.RECONNECTING and drop.reason.startswith("no frame from Zoom for")
        gap = rec.gaps[0]
        assert gap.reason == drop.reason
        # the gap starts at the last frame (not when the silence was noticed), and the link
        # was called dead 1.5 intervals after it
        assert gap.start <= silent_from + 0.05
        assert drop.at - gap.start >= 1.5 * HB * 0.95
        await rec.close()


async def test_a_stall_of_the_monitor_itself_is_not_a_dead_link() -> None:
    """Before: a loop blocked for longer than 1.5 intervals (a loaded machine, a long
    garbage collection) woke the dead-link timer late; it read its own stall as Zoom's
    silence and dropped the link, and the events in flight with it."""
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, heartbeat_interval=HB))
        await rec.wait_state(S.CONNECTED)
        await rec.wait_for(lambda items: rec.of(Heartbeat), "a heartbeat answered")
        answered = len(rec.of(Heartbeat))
        time.sleep(4 * HB)  # the whole process stalls: no frame is read, no heartbeat sent
        # the link proves itself alive again: a heartbeat answered after the stall
        await rec.wait_for(lambda items: len(rec.of(Heartbeat)) > answered + 1, "answers after")
        assert S.RECONNECTING not in [s.state for s in rec.states], rec.states
        assert rec.gaps == []
        await rec.close()


async def test_displacement_by_another_connection_is_reported() -> None:
    async with FakeZoom() as fake:
        # retake: the drop is reported as today (the default policy is tests/test_displacement.py's)
        rec = Recorder(make(fake, backoff_base=0.5, settings={"on_displaced": "retake"}))
        await rec.wait_state(S.CONNECTED)
        # a heartbeat answered: healthy (with Zoom's interval, none is late however loaded)
        await rec.wait_for(lambda items: rec.of(Heartbeat), "a heartbeat answered")
        other = await connect(
            f"{fake.ws_url}?subscriptionId={fake.credentials.subscription_id}"
            f"&access_token={fake.issuer.issue()}"
        )
        try:
            drop = await rec.wait_state(S.RECONNECTING)
            assert "possibly displaced by another connection on this subscription" in drop.reason
        finally:
            await other.close()
        await rec.close()


async def test_rejected_credentials_fail_after_exactly_one_token_request() -> None:
    async with FakeZoom() as fake:
        fake.reject_credentials = True
        conn = make(fake)
        rec = Recorder(conn)
        failed = await rec.wait_state(S.FAILED)
        await asyncio.sleep(0.2)  # no retry follows (a look: load can only hide a bug here)
        assert len(fake.token_requests) == 1
        assert conn.failure is FailureKind.CREDENTIALS and conn.state is S.FAILED
        assert "rejected the credentials" in failed.reason and "invalid_client" in failed.reason
        assert "client secret" in failed.hint and "scopes" in failed.hint
        assert fake.connections == []
        # the user fixes it and presses connect
        fake.reject_credentials = False
        conn.request_connect()
        await rec.wait_state(S.CONNECTED)
        await rec.close()


async def test_unknown_subscription_fails_with_a_hint() -> None:
    async with FakeZoom() as fake:
        conn = make(fake, settings={"subscription_id": "noSuchSubscription42"})
        rec = Recorder(conn)
        failed = await rec.wait_state(S.FAILED)
        await asyncio.sleep(0.1)  # no retry follows (a look: load can only hide a bug here)
        assert conn.failure is FailureKind.SUBSCRIPTION
        assert "Invalid subscriptionId" in failed.reason and "noS" in failed.reason
        assert "subscription id" in failed.hint
        assert len(fake.connections) == 1  # no retry loop
        await rec.close()


async def test_rate_limited_token_request_waits_retry_after() -> None:
    async with FakeZoom() as fake:
        fake.oauth_fault("429", retry_after=1)
        rec = Recorder(make(fake))
        wait = await rec.wait_state(S.RECONNECTING)
        assert wait.retry_in >= 1.0 and "429" in wait.reason
        await rec.wait_state(S.CONNECTED)
        first, second = fake.token_requests
        assert (first.status, second.status) == (429, 200)
        assert second.time - first.time >= 1.0
        await rec.close()


async def test_malformed_frames_are_reported_and_the_stream_goes_on() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake))
        await rec.wait_state(S.CONNECTED)
        for kind in MALFORMED_KINDS:
            await fake.send_malformed(kind=kind)
        await fake.inject_frame('{"module":"mystery","success":true,"content":"?"}')
        await fake.inject(meeting_event(1))
        await rec.wait_for(lambda items: rec.events)
        bad = rec.of(MalformedFrame)
        assert len(bad) == len(MALFORMED_KINDS)
        assert any("over the" in m.reason for m in bad)  # oversize: reported, not fatal
        assert rec.of(Notice)[0].text == "unknown module 'mystery'"
        assert rec.state_names() == ["authenticating", "connecting", "connected"]
        assert rec.conn.stats.malformed == len(MALFORMED_KINDS)
        await rec.close()


async def test_a_frame_too_large_to_receive_is_reported_then_reconnected() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, settings={"max_frame_bytes": 10_000}))
        await rec.wait_state(S.CONNECTED)
        await fake.send_malformed(kind="oversize", size=200_000)
        await rec.wait_state(S.CONNECTED, 2)
        bad = rec.of(MalformedFrame)
        assert len(bad) == 1 and "too large" in bad[0].reason
        assert "frame over" in rec.states[3].reason
        await rec.close()


async def test_user_disconnect_connect_and_reconnect_now() -> None:
    async with FakeZoom() as fake:
        conn = make(
            fake, backoff_base=30.0, backoff_cap=60.0
        )  # any backoff wait would time the test out
        rec = Recorder(conn)
        await rec.wait_state(S.CONNECTED)
        conn.request_disconnect()
        stopped = await rec.wait_state(S.STOPPED)
        assert stopped.reason == "disconnected by you"
        await fake.accepted_connections[0].wait_closed(None)  # the fake sees the close too
        assert fake.open_connections() == []
        conn.request_connect()
        await rec.wait_state(S.CONNECTED, 2)
        assert rec.gaps[-1].reason == "disconnected by you"
        conn.request_reconnect()
        await rec.wait_state(S.CONNECTED, 3)
        assert "your request" in rec.states[-4].reason
        # a long backoff wait is skipped by "reconnect now"
        await fake.close(code=1011, reason="x")
        waiting = await rec.wait_state(S.RECONNECTING, 2)
        assert waiting.retry_in is not None and waiting.retry_in >= 1
        conn.request_reconnect()
        await rec.wait_state(S.CONNECTED, 4)
        assert len(fake.accepted_connections) == 4
        await rec.close()


async def test_autoconnect_off_waits_in_idle() -> None:
    async with FakeZoom() as fake:
        conn = make(fake, autoconnect=False)
        rec = Recorder(conn)
        await asyncio.sleep(0.2)  # nothing starts by itself (a look: load can only hide a bug)
        assert rec.items == [] and conn.state is S.IDLE and fake.token_requests == []
        conn.request_connect()
        await rec.wait_state(S.CONNECTED)
        await rec.close()


async def test_a_gap_for_every_disconnected_interval_including_at_close() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, backoff_base=0.02))
        await rec.wait_state(S.CONNECTED)
        await fake.close(code=1011, reason="one")
        await rec.wait_state(S.CONNECTED, 2)
        await fake.cut()
        await rec.wait_state(S.CONNECTED, 3)
        await fake.stop()
        await rec.wait_state(S.RECONNECTING, 3)
        await rec.close()  # closed while down: that interval is a gap too
        gaps = rec.gaps
        assert len(gaps) == 3 and rec.conn.stats.gaps == 3
        ups = [s.at for s in rec.states if s.state is S.CONNECTED]
        for gap, up in zip(gaps[:2], ups[1:], strict=True):
            assert gap.start < gap.end == up
        assert gaps[2].end >= gaps[2].start
        assert "1001" in gaps[2].reason
        assert rec.states[-1].state is S.STOPPED and rec.states[-1].reason == "closed"
        assert isinstance(rec.items[-2], Gap)


async def test_close_ends_the_loop_from_any_state() -> None:
    async with FakeZoom() as fake:
        fake.oauth_fault("slow", delay=2 * HANG_GUARD)  # an answer that never comes in time
        rec = Recorder(make(fake))
        await rec.wait_state(S.AUTHENTICATING)
        await rec.close()  # ends at all only by interrupting the token request
        assert rec.conn.state is S.STOPPED
        assert [u async for u in rec.conn.updates()] == []


async def test_stats_count_what_happened() -> None:
    async with FakeZoom() as fake:
        conn = make(fake)
        rec = Recorder(conn)
        await rec.wait_state(S.CONNECTED)
        for i in range(5):
            await fake.inject(meeting_event(i))
        await fake.send_malformed(kind="binary")
        await rec.wait_for(lambda items: len(rec.events) == 5 and rec.of(MalformedFrame))
        await rec.wait_for(lambda items: rec.of(Heartbeat))
        st = conn.stats
        assert (st.events, st.malformed, st.connects, st.reconnects) == (5, 1, 1, 0)
        assert st.last_event_at is not None and st.last_rtt is not None
        assert st.connected_since is not None and st.token_expires_at is not None
        assert (
            isinstance(rec.events[0], ZoomEvent)
            and rec.events[0].name == "meeting.participant_joined"
        )
        await rec.close()


async def test_binary_frames_are_told_from_text_ones_though_both_are_taken_as_bytes() -> None:
    """The receive loop takes every message undecoded (`recv(decode=False)`), so the
    connection remembers which ones came as binary frames: a binary frame is reported as
    one even when it holds a valid event, fragmented messages count once, and a text frame
    that is not UTF-8 is a malformed frame kept as it came, not a dropped connection."""
    from zoomtui.fakezoom.connection import TextBytes
    from zoomtui.zoom.protocol import message_frame

    async with FakeZoom() as fake:
        rec = Recorder(make(fake))
        await rec.wait_state(S.CONNECTED)
        ws = fake.open_connections()[0].ws
        valid = message_frame(meeting_event(99))
        await fake.inject(meeting_event(1))
        await fake.inject_frame(valid.encode())  # binary, though its bytes are an event
        await ws.send([valid[:40], valid[40:]])  # one text message in two frames
        await ws.send([b"\x00", b"\x01", b"\x02"])  # one binary message in three frames
        await fake.inject_frame(b"\xff")
        await fake.inject_frame(TextBytes(valid.encode().replace(b"meeting", b"m\xe9eting")))
        await fake.inject(meeting_event(3))
        await rec.wait_for(lambda items: len(rec.events) == 3)
        got = [u for u in rec.items if isinstance(u, ZoomEvent | MalformedFrame)]
        shape = [
            u.reason.split(" (")[0] if isinstance(u, MalformedFrame) else u.event_ts_ms % 1000
            for u in got
        ]
        assert shape == [
            790,
            "binary frame",
            888,
            "binary frame",
            "binary frame",
            "text frame is not valid UTF-8",
            792,
        ]  # 1706123456789 + 1, 99, 3
        assert got[1].raw == valid.encode() and got[3].raw == b"\x00\x01\x02"
        assert rec.state_names() == ["authenticating", "connecting", "connected"]
        await rec.close()
