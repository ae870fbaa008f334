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
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from zoomtui.fakezoom import FakeZoom, scenario_events
from zoomtui.monitor.archive import Archive, archive_path
from zoomtui.monitor.recording import ArchivePlan
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.history import HistoryBatch
from zoomtui.tui.options import AppOptions
from zoomtui.zoom.protocol import message_frame, parse_frame


def fill(base: Path, n: int) -> None:
    now = time.time()
    start = now - 3500
    events = scenario_events(5, start, rate=n / 3400)
    with Archive(archive_path("bench", base=base)) as archive:
        for i in range(n):
            archive.add(parse_frame(message_frame(next(events)), start + i * 3400 / n), "bench:1")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        t0 = time.perf_counter()
        fill(base, args.events)
        print(f"archive filled:  {args.events:,} events in {time.perf_counter() - t0:.1f} s")
        asyncio.run(measure(base))


if __name__ == "__main__":
    main()
