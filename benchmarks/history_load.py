"""History on start over a big archive: how long it takes, and whether the UI stays live.

Fills an archive with N scenario events received over the last hour, then starts the
real app (headless, against a quiet fake Zoom) with one hour of history, and reports:

- the time until the history is in (events/s through the thread, the batches and the
  event log and meeting tracker), and how many batches it took;
- the app's event loop meanwhile: a 10 ms timer records the gaps between its ticks
  (what a key press could have waited, give or take a frame): median, 95th percentile
  and longest.

Measured on the 2-core shared box, 100,000 events: about 4 s (25,000 rows/s), gaps
median ~30 ms, 95th percentile ~60 ms (one 1,000-record batch applied to the
log and the meeting tracker), longest ~300 ms (the connection's start, not history).
Before the collector was paused during the load, full collections walking the loaded
rows stalled it 200-300 ms every batch or two.

    python benchmarks/history_load.py [--events 100000]

`--flood`: the restart under a flood.  A fake Zoom in a second process sends as fast as
it can (`--rate max`, loopback) while the app loads the history, as when `zoomtui` is
started again against `zoomtui fake-server --rate max` with a big archive.  Reports the
process's peak resident memory (sampled every 20 ms), the time until live events are
shown, and how many live updates waited behind the history at most.  It stops itself
`--for` seconds after live began (or at `--timeout`, saying it never got there).

    python benchmarks/history_load.py --flood [--events 300000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from zoomtui.fakezoom import FakeZoom, scenario_events
from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS, fake_settings
from zoomtui.monitor.archive import Archive, archive_path
from zoomtui.monitor.recording import ArchivePlan
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.history import HistoryBatch
from zoomtui.tui.options import AppOptions
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


def fill(base: Path, n: int) -> None:
    now = time.time()
    start = now - 3500
    events = scenario_events(5, start, rate=n / 3400)
    with Archive(archive_path("bench", base=base)) as archive:
        for i in range(n):
            frame = parse_frame(message_frame(next(events)), start + i * 3400 / n)
            assert isinstance(frame, ZoomEvent)  # (a scenario event)
            archive.add(frame, "bench:1")
        archive.flush(120)


async def measure(base: Path) -> None:
    batches = 0

    def hook(message: object) -> None:
        nonlocal batches
        if isinstance(message, HistoryBatch):
            batches += 1

    async with FakeZoom(host="127.0.0.1", port=0, oauth_port=0, seed=1, scenario=None) as fake:
        app = ZoomtuiApp(
            AppOptions(
                fake.settings(profile="bench"),
                profile="bench",
                archive=ArchivePlan(base=base, history=3600),
            )
        )
        gaps: list[float] = []
        last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            t = time.perf_counter()
            if app.history_state == "loading":
                gaps.append(t - last)
            last = t

        t0 = time.perf_counter()
        async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
            app.set_interval(0.01, tick)
            while app.history_state != "done":
                await pilot.pause(0.01)
            took = time.perf_counter() - t0
            events = sum(1 for _ in app.meetings.meetings)  # touch the tracker
            total = app.event_log.total
    print(
        f"history in:      {took:.2f} s for {total:,} rows ({total / took:,.0f} rows/s), "
        f"{batches} batches, {events} meetings tracked"
    )
    gaps.sort()
    p95 = gaps[int(len(gaps) * 0.95)] if gaps else 0.0
    print(
        f"event loop gaps: median {statistics.median(gaps) * 1000:.0f} ms, 95th percentile "
        f"{p95 * 1000:.0f} ms, longest {gaps[-1] * 1000:.0f} ms while loading (a 10 ms timer; "
        "the longest is usually the connection starting)"
    )


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def flood_server(settings_out: Connection, stop: Connection) -> None:
    """A fake Zoom sending as fast as it can until `stop` says so (a second process)."""

    async def serve() -> None:
        async with FakeZoom(
            host="127.0.0.1",
            port=0,
            oauth_port=0,
            seed=1,
            scenario="demo",
            rate="max",
            record_events=False,
        ) as fake:
            # (settings hold the secret, which never pickles: the URLs cross instead)
            settings_out.send((fake.oauth_url, fake.ws_url, fake.api_url))
            await asyncio.to_thread(stop.recv)

    asyncio.run(serve())


async def measure_flood(base: Path, settings: object, live_for: float, timeout: float) -> None:
    peak = rss_mb()
    sampling = True

    def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    app = ZoomtuiApp(
        AppOptions(settings, profile="bench", archive=ArchivePlan(base=base, history=3600))  # type: ignore[arg-type]
    )
    held = 0
    live_at: float | None = None
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        while time.perf_counter() - t0 < timeout:
            held = max(held, app.session.held)
            if live_at is None and app.history_state == "done" and app.status.events:
                live_at = time.perf_counter() - t0
                peak_at_live = peak
            if live_at is not None and time.perf_counter() - t0 > live_at + live_for:
                break
            await pilot.pause(0.02)
        events, rows = app.status.events, app.event_log.total
        cut = getattr(app.session, "history_cut", None)
    sampling = False
    sampler.join()
    if live_at is None:
        print(f"not live after {timeout:.0f} s; {held:,} live updates waiting at most")
    else:
        print(f"live after:      {live_at:.1f} s (peak RSS by then {peak_at_live:,.0f} MB)")
    print(
        f"peak RSS:        {peak:,.0f} MB; {held:,} live updates waited at most; "
        f"{events:,} live events, {rows:,} rows kept at the end"
        + (f"; history cut after {cut.boundary:,} rows" if cut is not None else "")
    )


def flood(base: Path, live_for: float, timeout: float) -> None:
    ctx = multiprocessing.get_context("spawn")
    settings_in, settings_out = ctx.Pipe(duplex=False)
    stop_in, stop_out = ctx.Pipe(duplex=False)
    server = ctx.Process(target=flood_server, args=(settings_out, stop_in), daemon=True)
    server.start()
    try:
        oauth_url, ws_url, api_url = settings_in.recv()
        settings = fake_settings(DEMO_CREDENTIALS, oauth_url, ws_url, api_url, {"profile": "bench"})
        asyncio.run(measure_flood(base, settings, live_for, timeout))
    finally:
        stop_out.send(True)
        server.join(10)
        if server.is_alive():
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--flood", action="store_true", help="a fake Zoom at --rate max")
    parser.add_argument("--for", dest="live_for", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        t0 = time.perf_counter()
        fill(base, args.events)
        print(f"archive filled:  {args.events:,} events in {time.perf_counter() - t0:.1f} s")
        if args.flood:
            flood(base, args.live_for, args.timeout)
        else:
            asyncio.run(measure(base))


if __name__ == "__main__":
    main()
