"""The connection -> messages bridge, with a scripted stand-in for the connection
(our own interface: `updates()` and `close()`), so ordering and batching are exact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from textual.message import Message

from tests.waits import awaited
from zoomtui.tui.messages import HeartbeatAnswered, RowsArrived, StateUpdated, TokenObtained
from zoomtui.tui.worker import ConnectionBridge
from zoomtui.zoom.protocol import message_frame, parse_frame
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, StateChanged, TokenInfo


def ev(i: int):
    return parse_frame(
        message_frame(
            {"event": "meeting.started", "event_ts": i, "payload": {"object": {"id": str(i)}}}
        ),
        received_at=float(i),
    )


def state(to: S, reason: str = "") -> StateChanged:
    return StateChanged(state=to, previous=S.IDLE, reason=reason or to.value, at=0.0)


class Scripted:
    """Yields the given updates (awaiting `pause` seconds where the script says a float).

    A pause is the input's own timing, never a wait for the bridge: the bridge's flush
    timer is due before a longer pause ends, and the event loop runs timers in the order
    they are due, however loaded the machine."""

    def __init__(self, *script: object, error: Exception | None = None) -> None:
        self.script = script
        self.error = error
        self.closed = False

    async def updates(self) -> AsyncIterator[object]:
        for item in self.script:
            if isinstance(item, float):
                await asyncio.sleep(item)
            else:
                yield item
        if self.error is not None:
            raise self.error

    async def close(self) -> None:
        self.closed = True


async def run(conn: Scripted, **kwargs) -> list[Message]:
    posted: list[Message] = []
    bridge = ConnectionBridge(conn, posted.append, clock=lambda: 1.0, **kwargs)
    await bridge.run()
    return posted


def shape(posted: list[Message]) -> list[str]:
    out = []
    for m in posted:
        if isinstance(m, RowsArrived):
            out.append(f"rows:{len(m)}")
        elif isinstance(m, StateUpdated):
            out.append(f"state:{m.change.state.value}")
        else:
            out.append(type(m).__name__)
    return out


async def test_rows_received_before_a_state_change_are_posted_before_it() -> None:
    conn = Scripted(state(S.CONNECTED), ev(1), ev(2), ev(3), state(S.RECONNECTING), ev(4))
    posted = await run(conn)
    assert shape(posted) == ["state:connected", "rows:3", "state:reconnecting", "rows:1"]
    assert conn.closed


async def test_events_are_batched_until_the_flush_interval() -> None:
    conn = Scripted(*(ev(i) for i in range(500)), 0.2, ev(500))
    posted = await run(conn, flush_interval=0.05)
    assert shape(posted) == ["rows:500", "rows:1"]


async def test_a_big_batch_is_flushed_at_once() -> None:
    conn = Scripted(*(ev(i) for i in range(25)))
    posted = await run(conn, max_batch=10)
    assert shape(posted) == ["rows:10", "rows:10", "rows:5"]


async def test_a_gap_is_flushed_at_once_and_keeps_its_place() -> None:
    gap = Gap(start=1.0, end=2.0, reason="server closed 1006")
    conn = Scripted(ev(1), gap, 0.2, ev(2))
    posted = await run(conn, flush_interval=10.0)
    assert shape(posted) == ["rows:2", "rows:1"]
    assert list(posted[0].rows)[1] is gap  # type: ignore[attr-defined]


async def test_heartbeats_and_tokens_are_posted_as_their_own_messages() -> None:
    conn = Scripted(
        Heartbeat(rtt=0.01, at=1.0), TokenInfo(expires_at=3600.0, scopes=(), obtained_at=0.0)
    )
    posted = await run(conn)
    assert shape(posted) == ["HeartbeatAnswered", "TokenObtained"]


async def test_an_unforeseen_error_becomes_a_redacted_failed_state() -> None:
    boom = ConnectionResetError(
        "reset while reading wss://ws.zoom.us/ws?access_token=tok-SECRET-999999"
    )
    conn = Scripted(state(S.CONNECTED), ev(1), error=boom)
    posted = await run(conn)  # does not raise
    assert shape(posted) == ["state:connected", "rows:1", "state:failed"]
    failed = posted[-1].change  # type: ignore[attr-defined]
    assert failed.previous is S.CONNECTED
    assert "ConnectionResetError" in failed.reason and "tok-SECRET-999999" not in failed.reason
    assert failed.hint
    assert conn.closed


async def test_cancelling_the_worker_still_closes_the_connection() -> None:
    conn = Scripted(state(S.CONNECTED), 30.0)
    posted = asyncio.Event()
    bridge = ConnectionBridge(conn, lambda m: posted.set())
    task = asyncio.create_task(bridge.run())
    await awaited(posted.wait(), "the connected state posted")  # then it waits in the script
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert conn.closed


def test_queued_batches_merge_in_order() -> None:
    older, newer = RowsArrived([ev(1), ev(2)], 1.0), RowsArrived([ev(3)], 2.0)
    assert older.can_replace(newer)
    assert [r.event_ts_ms for r in newer.rows] == [1, 2, 3]  # type: ignore[union-attr]
    assert not older.can_replace(StateUpdated(state(S.CONNECTED)))
    hb = HeartbeatAnswered(Heartbeat(rtt=0.1, at=1.0))
    assert hb.can_replace(HeartbeatAnswered(Heartbeat(rtt=0.2, at=2.0)))
    tok = TokenObtained(TokenInfo(expires_at=1.0, scopes=(), obtained_at=0.0))
    assert tok.can_replace(TokenObtained(TokenInfo(expires_at=2.0, scopes=(), obtained_at=1.0)))


async def test_any_other_update_flushes_the_rows_first_so_the_app_sees_source_order() -> None:
    hb = Heartbeat(rtt=0.01, at=1.0)
    token = TokenInfo(expires_at=3600.0, scopes=(), obtained_at=0.0)
    conn = Scripted(ev(1), ev(2), hb, ev(3), token)
    posted = await run(conn, flush_interval=10.0)
    assert shape(posted) == ["rows:2", "HeartbeatAnswered", "rows:1", "TokenObtained"]


async def test_every_update_is_observed_in_source_order_before_it_is_posted() -> None:
    script = [state(S.CONNECTED), ev(1), Gap(start=1.0, end=2.0, reason="cut"), ev(2)]
    observed: list[object] = []
    posted: list[Message] = []

    def post(message: Message) -> None:
        # whatever a message carries was observed before it was posted
        carried = list(message.rows) if isinstance(message, RowsArrived) else []
        assert all(any(o is r for o in observed) for r in carried)
        posted.append(message)

    bridge = ConnectionBridge(Scripted(*script), post, observe=observed.append)
    await bridge.run()
    assert observed == script
    assert shape(posted) == ["state:connected", "rows:2", "rows:1"]
