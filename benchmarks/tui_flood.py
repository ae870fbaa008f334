"""Flood the TUI headless and measure what a user would feel.

Prints:
- events/s ingested into the event log (target: 5,000/s sustained);
- key-press latency during the flood, p50/p95/p99, to the key's handler and
  to the first screen refresh after it (target p95 to paint < 100 ms);
- filter time over 100,000 retained events (target < 50 ms);
- RSS with 100,000 events retained, and the peak (target < 300 MB).

Sources:
  --source fake  (default) the real `ZoomtuiApp`, connected over loopback to
                 the fake Zoom running in a child process at `--rate` (the
                 real path: websockets, parser, worker batching, the app);
  --source host  a minimal host app (FilterBar + EventLogView) fed parsed
                 scenario events in ~50 ms batches: the widget alone.

Key latency: `pilot.press` waits for the app to go idle, which under a flood
measures the wrong thing.  Instead an `events.Key` is posted to the app
directly; the time is taken when the bound action runs and when a
`call_after_refresh` callback made in it runs (after the next screen update;
Textual paints at most 60 times a second, so ~16 ms is the floor).

    python benchmarks/tui_flood.py                 # 60 s at 5,000 events/s
    python benchmarks/tui_flood.py --quick         # 10 s
    python benchmarks/tui_flood.py --quick --rules # 10 s with ten alert rules at work
    python benchmarks/tui_flood.py --quick --rate 1000 --forward slow   # forwarding to a 50 ms handler
    python benchmarks/tui_flood.py --source host --duration 20 --rate 8000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Keep the user's real config and data out of it (platformdirs honours XDG on Linux).
_tmp = tempfile.mkdtemp(prefix="zoomtui-bench-")
for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[var] = os.path.join(_tmp, var.lower())

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402

from zoomtui.monitor.eventlog import EventLog  # noqa: E402
from zoomtui.monitor.filters import compile_filter  # noqa: E402
from zoomtui.tui.widgets.event_log import EventLogView  # noqa: E402
from zoomtui.tui.widgets.filter_bar import FilterBar  # noqa: E402
from zoomtui.zoom.protocol import message_frame, parse_frame  # noqa: E402

SIZE = (160, 48)
RETAINED = 100_000
FILTERS = [
    "ana",
    "type:meeting.participant_*",
    "user:souza -type:*left",
    "meeting:sync",
    "zzz-nothing",
]
#: keys posted during the flood: up pauses follow, G resumes it (both cases are measured)
KEYS = ["k", "k", "j", "G"]


class GcWatch:
    """Times the cyclic garbage collector: a full (gen 2) pass walks every tracked object."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._t = 0.0
        self.active = False

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        elif self.active:
            self.pauses.append((info["generation"], time.perf_counter() - self._t))

    def summary(self) -> str:
        out = []
        for gen in (0, 1, 2):
            ts = [t * 1000 for g, t in self.pauses if g == gen]
            if ts:
                out.append(f"gen{gen} {len(ts)}x max {max(ts):.0f} ms sum {sum(ts):.0f} ms")
        return "; ".join(out) or "no collections"


GC = GcWatch()
gc.callbacks.append(GC)


def install_gc_policy(app: App, policy: str) -> None:
    """The collector's policy for the run.

    `app`     the app's own (`zoomtui.monitor.gcpolicy`, installed by ZoomtuiApp; the
              host app gets the same); the default;
    `python`  CPython's defaults (700, 10, 10), to compare: the app's policy undone.

    The two below were the experiments that led to the app's policy:

    Retained events and the meeting tracker keep a few hundred thousand objects
    alive.  Event bodies parsed in the worker live until the app ingests them,
    so young collections (every 700 allocations) promote them; CPython 3.11
    then runs a full collection whenever promotions pass a quarter of the
    long-lived objects: every second or two under a flood, each walking all of
    them for hundreds of milliseconds.  The data is not cyclic (reference
    counting frees it), so:

    `tuned`   young collections every 50,000 allocations (in-flight bodies die
              before they are looked at), full ones only on a five-minute timer;
    `manual`  no automatic collections; young ones every second, full ones
              every five minutes.
    """
    from zoomtui.monitor.gcpolicy import FULL_INTERVAL, GcPolicy

    own: GcPolicy | None = getattr(app, "gc_policy", None)
    if policy == "app":
        if own is None:  # the host app: the same policy as ZoomtuiApp's
            own = GcPolicy()
            own.install()
            app.set_interval(FULL_INTERVAL, own.collect, name="gc-full")
        return
    if own is not None:
        own.uninstall()  # CPython's defaults, or the experiment below
    if policy == "tuned":
        gc.set_threshold(50_000, 20, 1_000_000)
    elif policy == "manual":
        gc.disable()
        app.set_interval(1.0, lambda: gc.collect(1), name="gc-young")
    if policy in ("tuned", "manual"):
        app.set_interval(300.0, gc.collect, name="gc-full")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def frame_pool(n: int, seed: int = 1) -> list[str]:
    """n distinct scenario frames (parsed afresh on each use, as the connection would)."""
    from zoomtui.fakezoom.scenario import scenario_events

    return [message_frame(ev) for ev in itertools.islice(scenario_events(seed, time.time()), n)]


# -- key latency ---------------------------------------------------------------------------


class KeyProbe:
    """Posts keys to the app and times them to the handler and to the next refresh."""

    def __init__(self, app: App, view: EventLogView) -> None:
        self.app = app
        self.view = view
        self.to_handler: list[float] = []
        self.to_paint: list[float] = []
        self._sent = 0.0
        self._waiting = False
        for name in ("action_cursor_up", "action_cursor_down", "action_last", "action_follow"):
            self._wrap(name)

    def _wrap(self, name: str) -> None:
        original: Callable[[], Any] = getattr(self.view, name)

        def timed() -> Any:
            if self._waiting:
                self._waiting = False
                self.to_handler.append(time.perf_counter() - self._sent)
                sent = self._sent
                self.view.call_after_refresh(
                    lambda: self.to_paint.append(time.perf_counter() - sent)
                )
            return original()

        setattr(self.view, name, timed)  # an instance attribute: Textual's action lookup finds it

    def press(self, key: str) -> None:
        self._sent = time.perf_counter()
        self._waiting = True
        self.app.post_message(events.Key(key, key if len(key) == 1 else None))


# -- the widget alone ----------------------------------------------------------------------


class FloodHost(App[None]):
    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self.event_log = log

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter")
        yield EventLogView(self.event_log, id="events")

    def on_mount(self) -> None:
        self.query_one(EventLogView).focus()

    def on_filter_bar_filter_changed(self, message: FilterBar.FilterChanged) -> None:
        # (what the main screen does with it)
        bar = self.query_one(FilterBar)
        bar.show_error(self.query_one(EventLogView).apply_filter(message.text))

    def ingest(self, rows: list) -> None:
        added = self.event_log.extend(rows)
        self.query_one(EventLogView).rows_added(added)


async def run_host(args: argparse.Namespace) -> dict[str, Any]:
    pool = frame_pool(20_000, args.seed)
    log = EventLog(limit=RETAINED)
    app = FloodHost(log)
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(EventLogView)
        install_gc_policy(app, args.gc_policy)
        probe = KeyProbe(app, view)
        frames = itertools.cycle(pool)
        sent = 0
        start = time.perf_counter()
        cpu0 = cpu_seconds()
        GC.active = True
        next_key = start + 0.5
        keys = itertools.cycle(KEYS)
        while (now := time.perf_counter()) - start < args.duration:
            due = int((now - start) * args.rate) - sent
            if due > 0:
                received = time.time()
                app.ingest([parse_frame(next(frames), received) for _ in range(due)])
                sent += due
            if now >= next_key:
                probe.press(next(keys))
                next_key = now + args.key_interval
            await asyncio.sleep(0.05)  # the batch interval: the worker flushes about this often
        elapsed = time.perf_counter() - start
        GC.active = False
        result["cpu"] = (cpu_seconds() - cpu0) / elapsed
        await pilot.pause(0.2)
        result.update(ingested=log.appended, seconds=elapsed, probe=probe)
        top_up(log, pool, view, args.seed)
        result.update(await measure_filters(pilot, log, view))
    return result


def top_up(log: EventLog, pool: list[str] | None, view: EventLogView, seed: int) -> None:
    """Fill the log to 100,000 retained rows (a quick run ingests fewer)."""
    gc.collect()
    print(f"(after the flood: {log.total:,} rows retained, RSS {rss_mb():.0f} MB)")
    missing = RETAINED - log.total
    if missing > 0:
        frames = itertools.cycle(pool or frame_pool(20_000, seed))
        now = time.time()
        while missing > 0:  # in batches, as the worker delivers them (bodies freed per batch)
            n = min(missing, 2000)
            log.extend([parse_frame(next(frames), now) for _ in range(n)])
            missing -= n
        view.rows_added()


async def measure_filters(pilot: Any, log: EventLog, view: EventLogView) -> dict[str, Any]:
    gc.collect()
    t = time.perf_counter()
    gc.collect()  # what the app's policy runs once a minute, with 100,000 rows retained
    full_gc = time.perf_counter() - t
    retained_rss = rss_mb()
    timings: dict[str, tuple[float, float, int]] = {}
    for text in FILTERS:
        flt = compile_filter(text)
        model = []
        for _ in range(5):
            t = time.perf_counter()
            log.set_filter(flt)
            model.append(time.perf_counter() - t)
        whole = []
        for _ in range(3):
            view.apply_filter("")
            t = time.perf_counter()
            view.apply_filter(text)  # parse + refilter + cursor + repaint request
            whole.append(time.perf_counter() - t)
        timings[text] = (statistics.median(model), statistics.median(whole), log.visible_count)
    view.apply_filter("")
    await pilot.pause(0.1)
    return {
        "filters": timings,
        "retained": log.total,
        "retained_rss": retained_rss,
        "full_gc": full_gc,
    }


# -- the real app, the fake Zoom in another process ----------------------------------------


def _serve_fake(rate: float, seed: int, urls: mp.Queue, stop: Any) -> None:
    from zoomtui.fakezoom import FakeZoom

    # Connections cut at shutdown print cancelled-task noise; the figures are the parent's.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as this child

    async def main() -> None:
        async with FakeZoom(
            host="127.0.0.1",
            port=0,
            oauth_port=0,
            seed=seed,
            scenario="demo",
            rate=rate,
            record_events=False,
        ) as fake:
            urls.put((fake.oauth_url, fake.ws_url))
            while not stop.is_set():
                await asyncio.sleep(0.1)

    asyncio.run(main())


async def run_fake(args: argparse.Namespace) -> dict[str, Any]:
    from zoomtui.fakezoom import DEMO_CREDENTIALS
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions

    ctx = mp.get_context("spawn")  # a fresh interpreter: the fake uses the other core
    urls: mp.Queue = ctx.Queue()
    stop = ctx.Event()
    proc = ctx.Process(target=_serve_fake, args=(args.rate, args.seed, urls, stop), daemon=True)
    proc.start()
    try:
        oauth_url, ws_url = urls.get(timeout=30)
        c = DEMO_CREDENTIALS
        settings = ConnectionSettings(
            account_id=c.account_id,
            client_id=c.client_id,
            client_secret=Secret(c.client_secret),
            subscription_id=c.subscription_id,
            oauth_url=oauth_url,
            ws_url=ws_url,
            profile="bench",
        )
        rules = ten_rules() if args.rules else ()
        forward = forwarding(args, ctx, stop)
        app = ZoomtuiApp(AppOptions(settings, log_limit=RETAINED, alerts=rules, forward=forward))
        result: dict[str, Any] = {}
        async with app.run_test(size=SIZE) as pilot:
            log = app.event_log
            deadline = time.perf_counter() + 30
            while log.appended == 0:
                if time.perf_counter() > deadline:
                    raise SystemExit("no events from the fake Zoom within 30 s")
                await pilot.pause(0.05)
            view = app.query_one(EventLogView)
            view.focus()
            install_gc_policy(app, args.gc_policy)
            probe = KeyProbe(app, view)
            keys = itertools.cycle(KEYS)
            first = log.appended
            start = time.perf_counter()
            cpu0 = cpu_seconds()
            GC.active = True
            samples = []
            fwd = app.forwarding.forwarder
            longest_queue = 0
            while (now := time.perf_counter()) - start < args.duration:
                probe.press(next(keys))
                await asyncio.sleep(args.key_interval)
                samples.append((now - start, log.appended - first))
                if fwd is not None:
                    longest_queue = max(longest_queue, fwd.stats().queued)
            elapsed = time.perf_counter() - start
            GC.active = False
            result["cpu"] = (cpu_seconds() - cpu0) / elapsed
            result.update(ingested=log.appended - first, seconds=elapsed, probe=probe)
            result["alerts"] = len(app.alerts.alerts)
            if fwd is not None:
                result["forwarding"] = (fwd.stats(), longest_queue)
            slowest = min((b - a) / 1.0 for a, b in _per_second(samples)) if samples else 0
            result["slowest_second"] = slowest
            app.sources.disconnect()  # the flood ends; the filter figures are taken in quiet
            await pilot.pause(0.3)
            top_up(log, None, view, args.seed)
            result.update(await measure_filters(pilot, log, view))
        return result
    finally:
        stop.set()
        proc.join(10)
        if proc.is_alive():
            proc.kill()


FORWARD_WORDS = {
    None: "none",
    "slow": "every event to a handler that takes 50 ms per request (8 at once, queue 1,000)",
    "down": "every event to a handler that is down (nothing listens on its port)",
}


def forwarding(args: argparse.Namespace, ctx: Any, stop: Any) -> Any:
    """`--forward slow|down`: the app forwards every event (as `--forward-to` does) to
    benchmarks/forward.py's 50 ms handler, in a process of its own, or to a port where
    nothing listens; None without `--forward`."""
    if args.forward is None:
        return None
    from benchmarks.forward import SECRET, down_url, serve_slow_handler
    from zoomtui.forward import ForwardOptions, Routes
    from zoomtui.redaction import Secret

    if args.forward == "down":
        url = down_url()
    else:
        ports: mp.Queue = ctx.Queue()
        ctx.Process(target=serve_slow_handler, args=(ports, stop), daemon=True).start()
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/zoom"
    return ForwardOptions(routes=Routes.parse([url]), secret=Secret(SECRET))


def ten_rules() -> tuple:
    """The ten alert rules `benchmarks/alerts.py` measures (every kind; one runs `true`)."""
    from benchmarks.alerts import RULES
    from zoomtui.alerts.rules import parse_rules

    rules = parse_rules(RULES, Path("config.toml"), "default").rules
    assert len(rules) == 10
    return tuple(rules)


def _per_second(samples: list[tuple[float, int]]) -> list[tuple[int, int]]:
    """(count at second s, count at second s+1) pairs, to find the slowest whole second."""
    marks: dict[int, int] = {}
    for t, n in samples:
        marks.setdefault(int(t), n)
    secs = sorted(marks)
    return [(marks[a], marks[b]) for a, b in itertools.pairwise(secs) if b == a + 1]


# -- report --------------------------------------------------------------------------------


def report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    probe: KeyProbe = r["probe"]
    rate = r["ingested"] / r["seconds"]
    print(
        f"source: {args.source}   gc: {args.gc_policy}   target: {args.rate:,.0f} events/s for {args.duration:.0f} s   "
        f"screen {SIZE[0]}x{SIZE[1]}"
    )
    if "alerts" in r:
        rules = "ten (benchmarks/alerts.py)" if args.rules else "none"
        print(f"alert rules: {rules}; alerts made during the run: {r['alerts']}")
    if args.source == "fake":
        print(f"forwarding: {FORWARD_WORDS[args.forward]}")
    if "forwarding" in r:
        st, longest = r["forwarding"]
        print(
            f"  delivered {st.delivered:,} failed {st.failed:,} dropped (queue full) "
            f"{st.dropped:,}; longest queue {longest:,} of {st.queue_limit:,}"
        )
    print(
        f"ingested: {r['ingested']:,} events in {r['seconds']:.1f} s = {rate:,.0f} events/s"
        + (f" (slowest whole second: {r['slowest_second']:,.0f})" if "slowest_second" in r else "")
    )
    per_1k = r["cpu"] * r["seconds"] / max(1, r["ingested"]) * 1e6
    print(
        f"app process CPU during the flood: {r['cpu'] * 100:.0f}% of one core = "
        f"{per_1k:.0f} ms per 1,000 events (machine load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores: other processes slow every figure here)"
    )
    print(
        f"garbage collector during the flood (policy {args.gc_policy}): {GC.summary()}; "
        f"a full collection with {r['retained']:,} rows retained: {r['full_gc'] * 1000:.0f} ms "
        "(the app's policy: one a minute)"
    )
    ms = [x * 1000 for x in probe.to_handler]
    paint = [x * 1000 for x in probe.to_paint]
    print(
        f"key -> handler ({len(ms)} keys): p50 {pct(ms, 50):.1f} ms  p95 {pct(ms, 95):.1f} ms  "
        f"p99 {pct(ms, 99):.1f} ms  max {max(ms, default=float('nan')):.1f} ms"
    )
    print(
        f"key -> paint   ({len(paint)} keys): p50 {pct(paint, 50):.1f} ms  p95 {pct(paint, 95):.1f} ms  "
        f"p99 {pct(paint, 99):.1f} ms  max {max(paint, default=float('nan')):.1f} ms   (target p95 < 100 ms)"
    )
    print(f"filter over {r['retained']:,} retained rows (median; target < 50 ms):")
    for text, (model, whole, count) in r["filters"].items():
        print(
            f"  {text!r:32} {count:>7,} rows  refilter {model * 1000:6.1f} ms   "
            f"apply_filter (parse+refilter+view) {whole * 1000:6.1f} ms"
        )
    print(
        f"RSS with {r['retained']:,} events retained: {r['retained_rss']:.0f} MB   "
        f"peak RSS: {peak_rss_mb():.0f} MB   (target < 300 MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", choices=["fake", "host"], default="fake")
    ap.add_argument("--rate", type=float, default=5000.0, help="events per second")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of flood")
    ap.add_argument("--quick", action="store_true", help="10 s instead of --duration")
    ap.add_argument("--key-interval", type=float, default=0.1, help="seconds between keys")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--gc-policy",
        choices=["app", "python", "tuned", "manual"],
        default="app",
        help="app: the app's own; python: CPython's defaults; see install_gc_policy",
    )
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the whole run to FILE")
    ap.add_argument(
        "--rules",
        action="store_true",
        help="the app runs the ten alert rules of benchmarks/alerts.py (--source fake)",
    )
    ap.add_argument(
        "--forward",
        choices=["slow", "down"],
        default=None,
        help="the app forwards every event to a handler that takes 50 ms per request, or to "
        "one that is down (--source fake; issue 18's figures are at --rate 1000)",
    )
    args = ap.parse_args()
    if args.quick:
        args.duration = 10.0
    runner = run_fake if args.source == "fake" else run_host
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(asyncio.run, runner(args))
        profiler.dump_stats(args.profile)
    else:
        result = asyncio.run(runner(args))
    report(args, result)
    ingested_ok = result["ingested"] / result["seconds"] >= 0.95 * args.rate
    paint_ok = pct([x * 1000 for x in result["probe"].to_paint], 95) < 100
    print(
        "verdict: "
        + ("meets" if ingested_ok and paint_ok else "MISSES")
        + " the ingest and key-latency targets"
    )


if __name__ == "__main__":
    main()
