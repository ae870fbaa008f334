"""The fault-matrix harness: a real `ZoomConnection` feeding a real `Archive`, steady traffic
injected through the fake Zoom, and the checks every fault has to pass.

Timing comes from the settings below, never from how fast this machine is: backoff is
exact (`MaxRandom`: full jitter off), and every bound on a recovery is derived from the
backoff waits and the longest one attempt may take by design (token timeout + open
timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.connhelpers import CALM_HB, HB, MaxRandom, Recorder, content_of, meeting_event
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.archive import Archive
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.connection import DEAD_AFTER_INTERVALS, ZoomConnection
from zoomtui.zoom.protocol import MalformedFrame
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, StateChanged

#: backoff: the first wait after a failure, and the ceiling
BASE = 0.05
CAP = 0.4
#: the longest one attempt may take: a token request (one timeout), then the WebSocket
#: handshake and the wait for build_connection (one open timeout each).  An outage ends
#: within its backoff waits plus this per attempt.
TOKEN_TIMEOUT = 1.0
OPEN_TIMEOUT = 2.0
ATTEMPT_BUDGET = TOKEN_TIMEOUT + 2 * OPEN_TIMEOUT
#: a dead link is noticed 1.5 heartbeat intervals (`HB`, for the faults about heartbeats)
#: after the last frame, by the keeper, which wakes at that moment; one more interval is
#: the bound allowed for it to run
DEAD_LINK_BOUND = (DEAD_AFTER_INTERVALS + 1) * HB
#: seconds between injected events (100 events/s: a steady stream through every fault)
TRAFFIC_PERIOD = 0.01


class Traffic:
    """One new event every `period` to every open connection of the fake, each unique.

    `pause()` and `resume()` bracket the faults that destroy bytes on the wire (a TCP cut,
    a frame the client must refuse and fail the connection for): whatever is in flight
    then is lost by the network, not by zoomtui, and the checks count only what the fake
    handed to a connection that could deliver it.
    """

    def __init__(self, fake: FakeZoom, period: float = TRAFFIC_PERIOD) -> None:
        self.fake = fake
        self.period = period
        self.count = 0
        self._go = asyncio.Event()
        self._go.set()
        self._sending = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._go.wait()
            async with self._sending:
                self.count += 1
                await self.fake.inject(meeting_event(self.count))
            await asyncio.sleep(self.period)

    async def pause(self) -> None:
        """Stop sending; returns once no send is in progress."""
        self._go.clear()
        async with self._sending:
            pass

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Outage:
    """From the first state change after CONNECTED to CONNECTED again (inclusive)."""

    states: list[StateChanged]

    @property
    def seconds(self) -> float:
        return self.states[-1].at - self.states[0].at

    @property
    def waited(self) -> float:
        """The backoff waits the connection announced (retry_in of each RECONNECTING)."""
        return sum(s.retry_in or 0.0 for s in self.states if s.state is S.RECONNECTING)

    @property
    def attempts(self) -> int:
        return sum(s.state is S.AUTHENTICATING for s in self.states)

    @property
    def bound(self) -> float:
        return self.waited + self.attempts * ATTEMPT_BUDGET


def outages(states: list[StateChanged]) -> list[Outage]:
    """The outages in a state sequence (an unfinished one at the end is left out)."""
    found: list[Outage] = []
    current: list[StateChanged] | None = None
    up = False
    for s in states:
        if s.state is S.CONNECTED:
            if current:
                found.append(Outage(current + [s]))
            current, up = None, True
        elif up:
            current = current or []
            current.append(s)
    return found


def render(states: list[StateChanged]) -> str:
    """State changes as the lines a user reads: `state: reason [wait N s]`."""
    lines = []
    for s in states:
        line = f"{s.state.value}: {s.reason}"
        if s.state is S.RECONNECTING:
            line += f" [wait {s.retry_in:g} s]"
        lines.append(line + "\n")
    return "".join(lines)


def step(state: S, reason: str, wait: float | str | None = None) -> str:
    """One expected line of `render()`. `reason` is a regex; `<oauth>` and `<ws>` stand for
    the fake's two host:port pairs."""
    line = f"{state.value}: {reason}"
    if state is S.RECONNECTING:
        line += rf" \[wait {wait if isinstance(wait, str) else f'{wait:g}'} s\]"
    return line + "\n"


def lit(text: str) -> str:
    """A literal reason for `step()` (the host markers survive escaping)."""
    return re.escape(text)


@dataclass
class Rig:
    """The connection, its archive, the traffic and what they recorded."""

    fake: FakeZoom
    folder: Path
    settings_changes: dict = field(default_factory=dict)
    foreign: set[int] = field(default_factory=set)  # fake connection ids that are not ours
    cleanup: list[Callable] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Zoom's heartbeat unless a fault is about heartbeats: a stall of this process is
        # then never taken for a dead link, nor a late answer for an unhealthy one
        self.settings = self.fake.settings(
            **{"heartbeat_interval": CALM_HB, **self.settings_changes}
        )
        self.tokens = TokenProvider(self.settings, timeout=TOKEN_TIMEOUT)
        self.conn = ZoomConnection(
            self.settings,
            self.tokens,
            rng=MaxRandom(),
            backoff_base=BASE,
            backoff_cap=CAP,
            open_timeout=OPEN_TIMEOUT,
        )
        self.archive = Archive(self.folder / "archive.sqlite3", flush_interval=0.02)
        self.traffic = Traffic(self.fake)
        self.rec: Recorder | None = None

    def start(self) -> None:
        conn, add = self.conn, self.archive.add
        # connection_id as a front end would choose it: which connection (1, 2, ...) it came on
        self.rec = Recorder(conn, sink=lambda u: add(u, f"connection-{conn.stats.connects}"))
        self.traffic.start()

    # -- what happened ------------------------------------------------------------------
    def sent(self) -> list[str]:
        """Contents the fake sent on our accepted connections, in order."""
        return [
            c
            for fc in self.fake.accepted_connections
            if fc.id not in self.foreign
            for c in fc.sent_events
        ]

    def received(self) -> list[str]:
        return [content_of(e) for e in self.rec.events]

    async def caught_up(self, more: int = 0) -> None:
        """Wait until `more` further events arrived; with the traffic paused, also until the
        client has every event sent (while it flows, some are always on the way).  Looked
        at again at each update: what is missing arrives as one."""
        target = len(self.rec.events) + more

        def there() -> bool:
            got = len(self.rec.events)
            return got >= target and not (self.traffic.paused and got != len(self.sent()))

        await self.rec.wait_for(lambda _: there(), f"{more} more events, and all sent")

    async def count_states(self, state: S, more: int, since: int) -> None:
        await self.rec.wait_for(
            lambda _: sum(s.state is state for s in self.rec.states[since:]) >= more
        )

    def hosts(self, pattern: str) -> str:
        return pattern.replace("<oauth>", re.escape(urlsplit(self.fake.oauth_url).netloc)).replace(
            "<ws>", re.escape(urlsplit(self.fake.ws_url).netloc)
        )

    async def finish(self) -> None:
        """Stop the traffic once the client has everything, close, flush the archive."""
        await self.traffic.pause()
        await self.caught_up()
        await self.traffic.stop()
        await self.rec.close()
        for undo in self.cleanup:
            with contextlib.suppress(Exception):
                await undo()
        await self.tokens.aclose()
        await asyncio.to_thread(self.archive.close)


def assert_exactly_once(rig: Rig) -> None:
    """Every event the fake sent on our connections arrived once, in order, and was archived
    once; gaps, state changes and malformed frames were archived as reported."""
    sent, got = rig.sent(), rig.received()
    assert len(set(sent)) == len(sent), "the traffic must be unique events"
    missing = [c for c in sent if c not in set(got)]
    assert got == sent, f"{len(sent)} sent, {len(got)} received, {len(missing)} missing"
    archived = [content_of(e) for e in rig.archive.iter_events()]
    assert archived == got, f"{len(got)} received, {len(archived)} archived"

    rec = rig.rec
    kept = [r.update for r in rig.archive.iter_records(kinds=("gap", "state", "malformed"))]
    assert [g for g in kept if isinstance(g, Gap)] == rec.gaps
    assert [(s.state, s.reason, s.retry_in) for s in kept if isinstance(s, StateChanged)] == [
        (s.state, s.reason, s.retry_in) for s in rec.states
    ]
    assert [(m.raw, m.reason) for m in kept if isinstance(m, MalformedFrame)] == [
        (m.raw, m.reason) for m in rec.of(MalformedFrame)
    ]


def assert_gaps_match_outages(rig: Rig, found: list[Outage]) -> None:
    """One gap per outage, from when events may have been lost to when the link was back."""
    gaps = rig.rec.gaps
    assert len(gaps) == len(found), (gaps, found)
    for gap, outage in zip(gaps, found, strict=True):
        drop, up = outage.states[0], outage.states[-1]
        assert gap.reason == drop.reason
        assert gap.start <= drop.at and gap.end == up.at
