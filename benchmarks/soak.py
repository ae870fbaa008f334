"""Soak: the monitor against the demo scenario with a random fault every few seconds.

    python benchmarks/soak.py [--minutes 10] [--seed 1] [--rate 50] [--fault-every 4]

The fake Zoom runs in a child process, so the RSS and the open file descriptors measured
are the monitor's alone: a real `ZoomConnection` feeding what the TUI feeds (the bounded
event log with a filter, the meeting tracker) and the archive (SQLite in a temp folder).
The faults are seeded: the same seed plays the same faults at the same moments.

After each fault, the events of every connection that has closed are settled: what the
fake sent on it must be what arrived, in order, each once.  The only allowed difference is
a tail lost on the wire: frames in flight when the fake cut TCP, or behind a frame so large
the WebSocket layer had to fail the connection.  At the end, the archive must hold exactly
what arrived, connection by connection (same count, same SHA-256 over the contents in order).

Printed: events sent vs received vs archived, faults played, reconnects and gaps, recovery
times (longest, and longest beyond the downtime a fault imposed), RSS and open file
descriptors at the start and at the end (and when the log first filled).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from zoomtui.fakezoom import MALFORMED_KINDS
from zoomtui.monitor.archive import Archive
from zoomtui.monitor.eventlog import EventLog, GapRow
from zoomtui.monitor.filters import compile_filter
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, StateChanged

HEARTBEAT = 1.0
MAX_FRAME = 64 * 1024  # so "oversize" needs only a few hundred kB
LOG_LIMIT = 5000
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
START_DOWN = 3.0  # the fake is down when the monitor starts
INTRUDER = "intruder=1"  # query marker of the displacing connection (not ours)
#: frames the monitor reports and reads past (a frame over the hard size limit is a fault
#: of its own: the WebSocket layer fails the connection, and what is behind it is lost)
MALFORMED = tuple(k for k in MALFORMED_KINDS if k != "oversize")
#: the commands that break the link or the token endpoint (`_FakeSide._fault`)
_FAULTS = (
    "close",
    "cut",
    "silent",
    "invalid_token",
    "expire",
    "oauth_fault",
    "malformed",
    "oversize",
)


# ================================================================================ the fake
def fake_process(pipe: Any, seed: int, rate: float) -> None:
    """The child: a FakeZoom on its own loop, driven by commands over `pipe`."""
    asyncio.run(_FakeSide(pipe, seed, rate).run())


class _FakeSide:
    def __init__(self, pipe: Any, seed: int, rate: float) -> None:
        self.pipe, self.seed, self.rate = pipe, seed, rate
        self.settled: set[int] = set()
        self.oversized: set[int] = set()
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        from zoomtui.fakezoom import FakeZoom

        self.fake = FakeZoom(seed=self.seed, scenario="demo", rate=self.rate)
        await self.fake.start()
        await self.fake.stop()  # ports known; down at the monitor's start
        self.loop = asyncio.get_running_loop()
        self.done = asyncio.Event()
        threading.Thread(target=self._listen, daemon=True).start()
        await self.done.wait()
        await self.fake.stop()

    def _listen(self) -> None:
        while True:
            name, args = self.pipe.recv()
            if name == "quit":
                self.pipe.send(("ok", None))
                self.loop.call_soon_threadsafe(self.done.set)
                return
            future = asyncio.run_coroutine_threadsafe(self._do(name, *args), self.loop)
            try:
                self.pipe.send(("ok", future.result()))
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which goes on
                self.pipe.send(("error", f"{type(exc).__name__}: {exc}"))

    async def _do(self, name: str, *args: Any) -> Any:
        fake = self.fake
        if name in _FAULTS:
            return await self._fault(name, *args)
        if name == "info":
            c = fake.credentials
            return {
                "oauth_url": fake.oauth_url,
                "ws_url": fake.ws_url,
                "ids": (c.account_id, c.client_id, c.client_secret, c.subscription_id),
            }
        if name == "start":
            return await fake.start()
        if name == "stop":
            return await fake.stop()
        if name == "displace":
            return self._spawn(self._intruder(args[0]))
        if name == "settle":
            return self._settle()
        if name == "summary":
            return {
                "events_lost": fake.events_lost,
                "token_requests": len(fake.token_requests),
                "connections": len(fake.connections),
                "accepted": len(fake.accepted_connections),
            }
        raise ValueError(f"unknown command {name}")

    async def _fault(self, name: str, *args: Any) -> Any:
        """One of `_FAULTS` on the fake's link or token endpoint."""
        fake = self.fake
        if name == "close":
            return (await fake.close(code=args[0], reason=args[1])).id
        if name == "cut":
            return (await fake.cut()).id
        if name == "silent":
            return fake.go_silent().id
        if name == "invalid_token":
            return (await fake.send_invalid_token(wording=args[0])).id
        if name == "expire":
            return fake.expire_tokens()
        if name == "oauth_fault":
            fake.oauth_fault(args[0], **args[1])
            return (await fake.send_invalid_token()).id
        if name == "malformed":
            for kind in args[0]:
                await fake.send_malformed(kind=kind)
            return None
        c = fake.open_connections()[-1]  # "oversize"
        self.oversized.add(c.id)
        return (await fake.send_malformed(c, kind="oversize", size=args[0])).id

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _intruder(self, hold: float) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        url = self.fake.ws_url_for(self.fake.issue_token()) + "&" + INTRUDER
        async with connect(url, ping_interval=None) as ws:  # another consumer of the subscription
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                async with asyncio.timeout(hold):
                    async for _ in ws:
                        pass

    def _settle(self) -> list[tuple[int, str, list[str]]]:
        """Closed connections of ours not reported yet: (ordinal, how it ended, contents)."""
        out = []
        ours = [c for c in self.fake.accepted_connections if INTRUDER not in c.ws.request.path]
        for ordinal, c in enumerate(ours, 1):
            if c.open or c.id in self.settled:
                continue
            self.settled.add(c.id)
            how = "cut" if c.ended_by == "cut" else "oversize" if c.id in self.oversized else "ok"
            out.append((ordinal, how, list(c.sent_events)))
            c.sent_events.clear()  # the child's memory is not measured, but keep it small too
        return out


class FakeControl:
    """The parent's handle on the child: one command at a time."""

    def __init__(self, seed: int, rate: float) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.process = ctx.Process(target=fake_process, args=(child, seed, rate), daemon=True)
        self.process.start()
        self.lock = asyncio.Lock()

    def _call(self, name: str, args: tuple) -> Any:
        self.pipe.send((name, args))
        status, value = self.pipe.recv()
        if status != "ok":
            raise RuntimeError(value)
        return value

    async def __call__(self, name: str, *args: Any) -> Any:
        async with self.lock:
            return await asyncio.to_thread(self._call, name, args)


# ================================================================================ the monitor
def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def held_objects() -> int:
    """Objects the garbage collector tracks (every container: events, rows, meetings...).
    Flat while RSS creeps means the allocator keeps pages, not that the monitor keeps data."""
    gc.collect()
    return len(gc.get_objects())


@dataclass
class Outage:
    fault: str
    start: float
    end: float | None = None
    waited: float = 0.0  # backoff announced (retry_in)
    imposed: float = 0.0  # downtime the fault itself imposed (server down)

    @property
    def seconds(self) -> float:
        return (self.end or self.start) - self.start


@dataclass
class Monitor:
    """What the TUI feeds, without Textual: event log (filtered), tracker, archive."""

    folder: Path
    log: EventLog = field(default_factory=lambda: EventLog(limit=LOG_LIMIT))
    # ended meetings listed for a minute (the TUI: 15): within a 10-minute run the tracker
    # then reaches its steady size, so the RSS shows whether anything else grows
    tracker: MeetingTracker = field(default_factory=lambda: MeetingTracker(retain_ended=60.0))
    received: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    digests: dict[int, tuple[int, str]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    outages: list[Outage] = field(default_factory=list)
    states: Counter = field(default_factory=Counter)
    current_fault: str = "unprovoked"
    imposed: float = 0.0
    log_full_at: float | None = None
    rss_log_full: float | None = None

    def __post_init__(self) -> None:
        self.archive = Archive(self.folder / "soak.sqlite3")
        self.log.set_filter(compile_filter("-type:*.qos"))
        self.up = asyncio.Event()
        self.down = asyncio.Event()

    def take(self, conn: ZoomConnection, u: Any) -> None:
        cid = conn.stats.connects
        if u.__class__ is ZoomEvent:
            self.received[cid].append(orjson.loads(u.raw)["content"])
            self.tracker.apply(u)
            self.log.append(u)
            self.counts["received"] += 1
        elif isinstance(u, MalformedFrame):
            self.log.append(u)
            self.counts["malformed"] += 1
        elif isinstance(u, Gap):
            self.tracker.note_gap(u.start, u.end)
            self.log.append(GapRow(u.start, u.end, u.reason))
            self.counts["gaps"] += 1
        elif isinstance(u, StateChanged):
            self.on_state(u)
        self.archive.add(u, f"c{cid}")
        if self.log_full_at is None and self.log.dropped:
            self.log_full_at, self.rss_log_full = time.monotonic(), rss_mib()

    def meetings_text(self) -> str:
        ms = list(self.tracker.meetings.values())
        live = [m for m in ms if m.is_live]
        return (
            f"meetings {len(ms)} ({len(live)} live, "
            f"{sum(len(m.participants) for m in live)} people in live ones)"
        )

    def on_state(self, u: StateChanged) -> None:
        self.states[u.state] += 1
        if u.state is S.CONNECTED:
            if self.outages and self.outages[-1].end is None:
                self.outages[-1].end = u.at
                self.outages[-1].imposed = self.imposed
            self.up.set()
            self.down.clear()
            return
        self.up.clear()
        self.down.set()
        if u.previous is S.CONNECTED or (u.state is S.RECONNECTING and not self.outages):
            self.outages.append(Outage(self.current_fault, u.at))
        if u.state is S.RECONNECTING and self.outages:
            self.outages[-1].waited += u.retry_in or 0.0

    def settle(self, closed: list[tuple[int, str, list[str]]]) -> None:
        for ordinal, how, sent in closed:
            got = self.received.pop(ordinal, [])
            self.counts["sent"] += len(sent)
            if got != sent[: len(got)]:
                self.counts["wrong order or unknown"] += 1
            missing = len(sent) - len(got)
            if missing < 0:
                self.counts["duplicated"] -= missing
            elif missing and how in ("cut", "oversize"):
                self.counts[f"lost on the wire ({how})"] += missing
            elif missing:
                self.counts["lost by zoomtui"] += missing
            self.digests[ordinal] = (len(got), _digest(got))


def _digest(contents: list[str]) -> str:
    h = hashlib.sha256()
    for c in contents:
        h.update(c.encode())
        h.update(b"\0")
    return h.hexdigest()


# ================================================================================ faults
def pick_fault(rng: random.Random) -> tuple[str, tuple]:
    roll = rng.random()
    table = [
        (0.12, "close", lambda: (rng.choice([1000, 1001, 1011, 1012, 4000]), "soak")),
        (0.22, "cut", tuple),
        (0.30, "silent", tuple),
        (0.40, "invalid_token", lambda: (rng.choice(["Invalid Token", "Token is invalid"]),)),
        (0.46, "expire", tuple),
        (0.52, "oauth 429", lambda: ("429", {"retry_after": rng.choice([1, 2])})),
        (0.58, "oauth 500", lambda: ("500", {})),
        (0.64, "oauth slow", lambda: ("slow", {"delay": rng.uniform(0.2, 2.0)})),
        (0.72, "displace", lambda: (rng.uniform(0.5, 2.0),)),
        (0.84, "malformed", lambda: ([rng.choice(MALFORMED) for _ in range(rng.randint(1, 4))],)),
        (0.90, "oversize", lambda: (MAX_FRAME * 6,)),
        (1.01, "restart", lambda: (rng.uniform(0.5, 6.0),)),
    ]
    for limit, name, args in table:
        if roll < limit:
            return name, args()
    raise AssertionError


async def play(fake: FakeControl, monitor: Monitor, name: str, args: tuple) -> None:
    monitor.current_fault = name
    monitor.imposed = 0.0
    if name == "restart":
        await fake("stop")
        await asyncio.sleep(args[0])
        monitor.imposed = args[0]
        await fake("start")
    elif name.startswith("oauth"):
        await fake("oauth_fault", *args)
    else:
        await fake(name, *args)


# ================================================================================ the run
async def soak(minutes: float, seed: int, rate: float, fault_every: float) -> int:
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings

    rng = random.Random(seed)
    fake = FakeControl(seed, rate)
    info = await fake("info")
    account, client, secret, sub = info["ids"]
    settings = ConnectionSettings(
        account_id=account,
        client_id=client,
        client_secret=Secret(secret),
        subscription_id=sub,
        oauth_url=info["oauth_url"],
        ws_url=info["ws_url"],
        heartbeat_interval=HEARTBEAT,
        max_frame_bytes=MAX_FRAME,
        # the soak measures recovery from every fault, displacement included; by default
        # zoomtui would wait for a person there instead
        on_displaced="retake",
    )
    folder = Path(tempfile.mkdtemp(prefix="zoomtui-soak-"))
    monitor = Monitor(folder)
    conn = ZoomConnection(
        settings,
        rng=random.Random(seed + 1),
        backoff_base=BACKOFF_BASE,
        backoff_cap=BACKOFF_CAP,
        stable_after=10.0,
        open_timeout=5.0,
    )

    async def consume() -> None:
        async for u in conn.updates():
            monitor.take(conn, u)

    consumer = asyncio.create_task(consume())
    monitor.current_fault = "server down at start"
    await asyncio.sleep(START_DOWN)
    monitor.imposed = START_DOWN
    await fake("start")
    await asyncio.wait_for(monitor.up.wait(), 60)
    start = time.monotonic()
    rss0, fds0 = rss_mib(), open_fds()
    samples = [(0.0, rss0, held_objects())]
    played: Counter = Counter()
    skipped = stalled = 0
    end = start + minutes * 60
    next_report = start + 60
    while time.monotonic() < end:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * fault_every)
        if not monitor.up.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(monitor.up.wait(), 60)
        name, args = pick_fault(rng)
        try:
            await play(fake, monitor, name, args)
            played[name] += 1
        except RuntimeError:  # the connection dropped meanwhile: nothing to act on
            skipped += 1
        if name != "malformed":  # the drop may come a heartbeat or two later (silence, expiry)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(monitor.down.wait(), 4 * HEARTBEAT)
        try:
            await asyncio.wait_for(monitor.up.wait(), 60)
        except TimeoutError:
            stalled += 1
        await asyncio.sleep(0.3)  # the old connection's close reaches the fake
        monitor.current_fault = "unprovoked"  # a drop from now on was not played
        monitor.settle(await fake("settle"))
        monitor.tracker.prune(time.time())
        now = time.monotonic()
        if now >= next_report:
            next_report += 60
            samples.append((now - start, rss_mib(), held_objects()))
            print(
                f"  {int(now - start) // 60:3d} min: {monitor.counts['received']:,} events, "
                f"{sum(played.values())} faults, RSS {samples[-1][1]:.1f} MiB, "
                f"objects {samples[-1][2]:,}, fds {open_fds()}, {monitor.meetings_text()}",
                file=sys.stderr,
                flush=True,
            )
    await asyncio.wait_for(monitor.up.wait(), 60)
    await asyncio.sleep(1.0)
    rss1, fds1 = rss_mib(), open_fds()
    samples.append((time.monotonic() - start, rss1, held_objects()))
    elapsed = time.monotonic() - start
    await conn.close()
    await consumer
    await asyncio.sleep(0.5)
    monitor.settle(await fake("settle"))
    summary = await fake("summary")
    await fake("quit")
    fake.process.join(10)
    await asyncio.to_thread(monitor.archive.flush)
    archived = await asyncio.to_thread(archived_digests, monitor.archive)
    monitor.archive.close()
    fds_closed = open_fds()
    return report(
        monitor,
        archived,
        played,
        skipped,
        stalled,
        summary,
        elapsed,
        (rss0, rss1, samples),
        (fds0, fds1, fds_closed),
        minutes,
        seed,
        rate,
        fault_every,
        folder,
    )


def archived_digests(archive: Archive) -> dict[int, tuple[int, str]]:
    groups: dict[int, list[str]] = defaultdict(list)
    for record in archive.iter_records(kinds=("event",)):
        groups[int((record.connection_id or "c0")[1:])].append(
            orjson.loads(record.update.raw)["content"]
        )
    return {k: (len(v), _digest(v)) for k, v in groups.items()}


def report(
    monitor: Monitor,
    archived: dict,
    played: Counter,
    skipped: int,
    stalled: int,
    summary: dict,
    elapsed: float,
    rss: tuple,
    fds: tuple,
    minutes: float,
    seed: int,
    rate: float,
    fault_every: float,
    folder: Path,
) -> int:
    c = monitor.counts
    wire = sum(v for k, v in c.items() if k.startswith("lost on the wire"))
    delivered = c["sent"] - wire
    archived_total = sum(n for n, _ in archived.values())
    same = archived == monitor.digests
    outs = [o for o in monitor.outages if o.end is not None]
    provoked = [o for o in outs if o.fault != "unprovoked"]
    dropped = [o for o in outs if o.fault != "server down at start"]
    by_fault: dict[str, list[Outage]] = defaultdict(list)
    for o in outs:
        by_fault[o.fault].append(o)
    longest = max(outs, key=lambda o: o.seconds) if outs else None
    beyond = max(outs, key=lambda o: o.seconds - o.imposed) if outs else None
    rss0, rss1, samples = rss
    fds0, fds1, fds_closed = fds
    lines = [
        f"soak: {elapsed / 60:.1f} min, seed {seed}, demo scenario at {rate:g} events/s, a fault "
        f"every ~{fault_every:g} s; heartbeat {HEARTBEAT:g} s, backoff {BACKOFF_BASE:g}-"
        f"{BACKOFF_CAP:g} s full jitter, event log bounded to {LOG_LIMIT:,} rows",
        f"faults played: {sum(played.values())} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(played.items(), key=lambda kv: -kv[1]))
        + f"); skipped (link already down) {skipped}; recoveries that took over 60 s {stalled}",
        f"events sent on open connections: {c['sent']:,}; lost on the wire {wire:,} "
        f"({', '.join(f'{k[18:-1]} {v}' for k, v in c.items() if k.startswith('lost on the wire')) or 'none'}"
        f"); delivered {delivered:,}",
        f"events received: {c['received']:,}; archived: {archived_total:,}; "
        f"per connection identical (count + SHA-256): {'yes' if same else 'NO'}",
        f"lost by zoomtui: {c['lost by zoomtui']}; duplicated: {c['duplicated']}; out of order "
        f"or unknown: {c['wrong order or unknown']}",
        f"scenario events due while no connection was open (Zoom does not replay; shown as "
        f"gaps): {summary['events_lost']:,}",
        f"connections: {monitor.states[S.CONNECTED]} ({monitor.states[S.CONNECTED] - 1} "
        f"reconnects); gaps recorded {c['gaps']} for {len(dropped)} outages after the first "
        f"connect (the start, before any connection, is no gap); unprovoked outages "
        f"{len(outs) - len(provoked)}; malformed frames reported {c['malformed']}",
    ]
    if outs:
        secs = sorted(o.seconds for o in outs)
        lines.append(
            f"recovery (drop noticed -> connected): median {statistics.median(secs):.2f} s, "
            f"p95 {secs[int(0.95 * (len(secs) - 1))]:.2f} s, longest {longest.seconds:.2f} s "
            f"({longest.fault}, {longest.imposed:.1f} s of it server down, backoff "
            f"{longest.waited:.2f} s); longest beyond imposed downtime "
            f"{beyond.seconds - beyond.imposed:.2f} s ({beyond.fault}, backoff {beyond.waited:.2f} s)"
        )
        for fault, os_ in sorted(by_fault.items()):
            s = [o.seconds for o in os_]
            lines.append(
                f"  {fault:22s} {len(os_):3d} outages, recovery median "
                f"{statistics.median(s):5.2f} s, max {max(s):5.2f} s"
            )
    lines += [
        f"RSS: start {rss0:.1f} MiB, log full {monitor.rss_log_full or float('nan'):.1f} MiB, "
        f"end {rss1:.1f} MiB (per minute: " + ", ".join(f"{r:.1f}" for _, r, _ in samples) + ")",
        "objects held (gc-tracked), per minute: " + ", ".join(f"{n:,}" for _, _, n in samples),
        f"open file descriptors: start {fds0}, end {fds1} (after close {fds_closed})",
        f"tracker at the end: {monitor.meetings_text()}",
        f"archive: {folder / 'soak.sqlite3'} "
        f"({(folder / 'soak.sqlite3').stat().st_size / 1e6:.1f} MB)",
    ]
    print("\n".join(lines))
    ok = (
        same
        and c["lost by zoomtui"] == 0
        and c["duplicated"] == 0
        and c["wrong order or unknown"] == 0
        and delivered == c["received"] == archived_total
        and stalled == 0
        and c["gaps"] == len(dropped)
    )
    print("result: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=50.0, help="scenario events per second")
    ap.add_argument("--fault-every", type=float, default=4.0, help="mean seconds between faults")
    args = ap.parse_args()
    sys.exit(asyncio.run(soak(args.minutes, args.seed, args.rate, args.fault_every)))


if __name__ == "__main__":
    main()
