"""Never fighting for the subscription, end to end against the fake Zoom on loopback.

Zoom allows one connection per subscription (PROTOCOL.md section 2): the fake's production
consumer connects to the same subscription and knocks zoomtui off, as a production
integration would.  zoomtui then stays off and says why (DISPLACED), a person's connect
takes the subscription back, `retake` retakes with a backoff that grows while the fight
goes on, and `tail` exits with its own code.  Every wait is on a condition.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.connhelpers import HB, MaxRandom, Recorder, ThreadedFake, content_of, meeting_event
from tests.waits import HANG_GUARD, awaited
from zoomtui.commands.common import EXIT_DISPLACED, EXIT_OK
from zoomtui.commands.tail import DISPLACED_HINT, run_tail
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention
from zoomtui.monitor.session import MonitorSession
from zoomtui.profilestate import first_connection_of
from zoomtui.settings import DisplacedPolicy
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Heartbeat, StateChanged

pytestmark = pytest.mark.timeout(60)

BASE = 0.01  # backoff base: a retake would come this soon (jitter off)
#: the monitor's heartbeat: long enough that a loaded machine never sees a dead link (which
#: would reconnect and displace the consumer in turn); the first beat goes out at once
MONITOR_HB = 1.0


def make(fake: FakeZoom, policy: str = "wait", **kw: object) -> ZoomConnection:
    kw.setdefault("backoff_base", BASE)
    kw.setdefault("backoff_cap", 1.0)
    kw.setdefault("rng", MaxRandom())
    settings = fake.settings(heartbeat_interval=MONITOR_HB, on_displaced=policy)
    return ZoomConnection(settings, **kw)  # type: ignore[arg-type]


async def healthy(rec: Recorder) -> None:
    """Connected, and a heartbeat answered: what a close after it is read against."""
    await rec.wait_state(S.CONNECTED)
    await rec.wait_for(lambda items: any(isinstance(u, Heartbeat) for u in items))


def after(rec: Recorder, change: StateChanged) -> list[StateChanged]:
    return rec.states[rec.states.index(change) + 1 :]


async def test_displaced_it_stays_off_while_a_retaking_one_would_have_retaken_twice() -> None:
    # Two monitors, each on a fake of its own: `wait` (the default) and, beside it for the
    # same window, `retake` with the same backoff.  The retaking one shows what would have
    # happened: it takes its subscription back, twice, the second time after the consumer
    # that displaced the waiting one has left (the fake would have accepted it then).
    async with FakeZoom() as fake, FakeZoom() as other:
        waits, retakes = Recorder(make(fake)), Recorder(make(other, "retake"))
        await healthy(waits)
        await healthy(retakes)
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        rival = await other.start_consumer(heartbeat_interval=HB)

        displaced = await waits.wait_state(S.DISPLACED)
        assert displaced.previous is S.CONNECTED and displaced.retry_in is None
        assert displaced.reason.startswith(
            "another consumer most likely connected to this subscription and displaced this "
            "connection: Zoom closed it (1000: "
        )
        assert "connecting again would disconnect that consumer" in displaced.reason
        assert "c in the monitor" in displaced.hint
        assert "disconnects the other consumer" in displaced.hint
        assert waits.conn.state is S.DISPLACED and waits.conn.failure is None
        accepted, attempts = len(fake.accepted_connections), waits.conn.stats.attempts

        await retakes.wait_state(S.CONNECTED, 2)  # it retook: the rival is off
        await rival.wait_displaced(1)
        await consumer.stop()  # the consumer leaves: nothing holds the subscription now
        await consumer.connections[-1].wait_closed()
        rival = await other.start_consumer(heartbeat_interval=HB)  # once more, after that
        await retakes.wait_state(S.CONNECTED, 3)

        assert after(waits, displaced) == []
        assert waits.conn.state is S.DISPLACED
        assert waits.conn.stats.attempts == attempts
        assert len(fake.accepted_connections) == accepted
        assert fake.open_connections() == []
        assert waits.gaps == []  # still open: it closes when the link is back, or at the end
        await waits.close()
        await retakes.close()
    gap = waits.gaps[-1]
    assert gap.start <= displaced.at and "possibly displaced" in gap.reason
    assert waits.states[-1].state is S.STOPPED


async def test_request_connect_takes_the_subscription_back() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake))
        await healthy(rec)
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        displaced = await rec.wait_state(S.DISPLACED)

        rec.conn.request_connect()  # a person decided (the TUI asks first)
        back = await rec.wait_state(S.CONNECTED, 2)
        await consumer.wait_displaced(1)  # taking it back knocked the consumer off
        assert not consumer.running  # and it does not fight: it was told not to reconnect
        assert [s.state for s in after(rec, displaced)] == [
            S.AUTHENTICATING,
            S.CONNECTING,
            S.CONNECTED,
        ]
        (gap,) = rec.gaps
        assert gap.start <= displaced.at and gap.end == back.at
        ours = [c for c in fake.accepted_connections if c.consumer is None]
        assert len(ours) == 2 and ours[-1].open
        await fake.inject(meeting_event(1))
        await rec.wait_for(lambda items: len(rec.events) == 1)
        assert content_of(rec.events[0]) == ours[-1].sent_events[0]
        await rec.close()


async def test_retake_retakes_with_a_backoff_that_grows_while_the_fight_goes_on() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, "retake", stable_after=60))
        await healthy(rec)
        consumer = await fake.start_consumer(heartbeat_interval=HB, reconnect=True)
        await rec.wait_state(S.RECONNECTING, 4)
        await consumer.stop()
        await rec.wait_state(S.CONNECTED, 5)
        retakes = [s for s in rec.states if s.state is S.RECONNECTING]
        assert [s.retry_in for s in retakes] == [BASE, 2 * BASE, 4 * BASE, 8 * BASE]
        for s in retakes:
            assert s.reason.endswith(
                "; possibly displaced by another connection on this subscription"
            )
        assert S.DISPLACED not in [s.state for s in rec.states]
        assert consumer.displaced >= 3 and len(consumer.connections) >= 4
        await rec.close()


async def test_retake_after_waits_that_long_then_retakes() -> None:
    async with FakeZoom() as fake:
        # The shortest a profile allows is 1 s; the policy itself takes any wait.
        rec = Recorder(make(fake, on_displaced=DisplacedPolicy(retake=True, after=0.3)))
        await healthy(rec)
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        displaced = await rec.wait_state(S.DISPLACED)
        assert displaced.retry_in == 0.3
        assert "taking it back in 0.3 s (on_displaced = retake after 0.3s)" in displaced.reason
        back = await rec.wait_state(S.CONNECTED, 2)
        assert back.at - displaced.at >= 0.3 * 0.98  # the wait really happened
        await consumer.wait_displaced(1)
        await rec.close()


async def test_request_connect_cuts_a_retake_after_wait_short() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake, "retake after 10m"))
        await healthy(rec)
        await fake.start_consumer(heartbeat_interval=HB)
        displaced = await rec.wait_state(S.DISPLACED)
        assert displaced.retry_in == 600 and "taking it back in 10 min" in displaced.reason
        rec.conn.request_connect()
        await rec.wait_state(S.CONNECTED, 2)
        await rec.close()


async def test_a_close_that_names_server_trouble_is_not_a_displacement() -> None:
    async with FakeZoom() as fake:
        rec = Recorder(make(fake))
        await healthy(rec)
        await fake.close(code=1011, reason="")  # internal error: reconnect as ever
        drop = await rec.wait_state(S.RECONNECTING)
        assert drop.reason == "server closed the connection (1011)"
        await rec.wait_state(S.CONNECTED, 2)
        await rec.close()


async def test_tail_exits_with_its_own_code_when_displaced() -> None:
    async with FakeZoom() as fake:
        err = io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=MONITOR_HB),
                out=io.BytesIO(),
                err=err,
                handle_signals=False,
            )
        )
        ours = await fake.wait_for_connection()
        await fake.start_consumer(heartbeat_interval=HB)
        assert await awaited(task, "tail to exit displaced") == EXIT_DISPLACED
        assert ours.ended_by == "displaced"
        text = err.getvalue()
        assert "zoomtui: displaced: another consumer most likely connected" in text
        assert f"hint: {DISPLACED_HINT}" in text and "c in the monitor" not in text
        assert "gap " in text  # the interval from the displacement to the exit
        assert [c.consumer for c in fake.accepted_connections] == [None, "production-1"]


async def test_tail_told_to_retake_goes_on() -> None:
    async with FakeZoom() as fake:
        err = io.StringIO()
        task = asyncio.create_task(
            run_tail(
                fake.settings(heartbeat_interval=MONITOR_HB, on_displaced="retake"),
                count=1,
                out=io.BytesIO(),
                err=err,
                handle_signals=False,
                connection_kwargs={"backoff_base": BASE},
            )
        )
        await fake.wait_for_connection()
        consumer = await fake.start_consumer(heartbeat_interval=HB)
        await consumer.wait_displaced(1)  # tail took it back
        ours = fake.accepted_connections[-1]
        assert ours.consumer is None
        await fake.inject(meeting_event(1), ours)
        assert await awaited(task, "tail to end after its event") == EXIT_OK
        text = err.getvalue()
        assert "server closed the connection (1000: " in text and "displaced:" not in text


async def test_the_archive_records_the_displaced_state_and_the_gap(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    async with FakeZoom() as fake:
        session = MonitorSession()
        keep_all = Retention(max_age_days=None, max_size_mb=None)
        with Archive(path, writer="thread", retention=keep_all) as archive:
            session.record_to(archive, "run")
            rec = Recorder(make(fake), sink=session.receive)
            await healthy(rec)
            await fake.start_consumer(heartbeat_interval=HB)
            await rec.wait_state(S.DISPLACED)
            assert session.status.displaced and session.status.can_connect
            rec.conn.request_connect()
            await rec.wait_state(S.CONNECTED, 2)
            await rec.close()
            assert archive.flush(timeout=HANG_GUARD)
    records = [r.update for r in ArchiveReader(path).iter_records()]
    states = [u for u in records if isinstance(u, StateChanged)]
    displaced = next(s for s in states if s.state is S.DISPLACED)
    assert displaced == rec.of(StateChanged)[states.index(displaced)]
    assert [u for u in records if isinstance(u, Gap)] == rec.gaps
    assert len(rec.gaps) == 1


async def test_the_first_connection_of_a_profile_says_once_that_it_may_displace() -> None:
    async with FakeZoom() as fake:
        said = []
        for profile in ("demo", "demo", "work"):
            settings = fake.settings(heartbeat_interval=MONITOR_HB, profile=profile)
            rec = Recorder(ZoomConnection(settings, is_first_connection=first_connection_of))
            said.append((await rec.wait_state(S.CONNECTED)).reason)
            await rec.close()
    note = (
        "; said once for this profile: Zoom allows one connection per subscription, so "
        "connecting may disconnect a consumer already using it"
    )
    assert [note in reason for reason in said] == [True, False, True]
    assert said[1] == "build_connection accepted (subscription dem…01)"


def test_the_tail_command_exits_6_and_says_once_that_connecting_may_displace() -> None:
    notice = "said once for this profile: Zoom allows one connection per subscription"
    with ThreadedFake() as tf:
        errors = []
        for run in (1, 2):
            proc = subprocess.Popen(
                [sys.executable, "-m", "zoomtui.cli", "tail", "--no-archive"],
                env={**os.environ, **tf.env()},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            tf.call(lambda fake, n=2 * run - 1: fake.wait_for_connection(n, timeout=HANG_GUARD))
            tf.call(lambda fake: fake.start_consumer())
            _, err = proc.communicate(timeout=HANG_GUARD)
            assert proc.returncode == EXIT_DISPLACED, err
            errors.append(err.decode())
    assert notice in errors[0] and notice not in errors[1]
    for text in errors:
        assert "displaced: another consumer most likely connected" in text
        assert "Traceback" not in text
