"""What the session's lag percentiles and duplicate count cost per live event.

Parsed demo-scenario events (each frame distinct, as Zoom's are) go through
`MonitorSession.apply_batch` in batches of 250 (about what the TUI's worker hands over
every 50 ms at 5,000 events/s), once as the session is and once with the quality notes
left out (`_note_live` replaced by nothing); then each part alone: `LagWindow.add`,
`DuplicateWindow.first_seen`, and one p50/p95 read (what the panel does once a second).

    python benchmarks/link_quality.py [--events 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.alerts import parsed_events  # noqa: E402
from zoomtui.monitor.quality import DUPLICATE_WINDOW, DuplicateWindow, LagWindow  # noqa: E402
from zoomtui.monitor.session import MonitorSession  # noqa: E402

BATCH = 250


def session_us(events: list, with_quality: bool) -> float:
    session = MonitorSession(clock=lambda: events[0].received_at)
    if not with_quality:
        session._note_live = lambda now: None  # type: ignore[method-assign,assignment,return-value]
    t0 = time.perf_counter()
    for i in range(0, len(events), BATCH):
        session.apply_batch(events[i : i + BATCH])
    return (time.perf_counter() - t0) / len(events) * 1e6


def parts_us(events: list) -> tuple[float, float, float]:
    lags = LagWindow()
    lags.roll(events[0].received_at)
    values = [e.lag or 0.0 for e in events]
    t0 = time.perf_counter()
    for v in values:
        lags.add(v)
    lag_us = (time.perf_counter() - t0) / len(values) * 1e6
    dups = DuplicateWindow(DUPLICATE_WINDOW)
    t0 = time.perf_counter()
    for e in events:
        dups.first_seen(e)
    dup_us = (time.perf_counter() - t0) / len(events) * 1e6
    t0 = time.perf_counter()
    for _ in range(100):
        lags.percentiles(events[0].received_at, 0.5, 0.95)
    read_us = (time.perf_counter() - t0) / 100 * 1e6
    return lag_us, dup_us, read_us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    events = parsed_events(args.events)
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for with_quality in (False, True):
            for e in events:
                e.duplicate_after = None
            key = "with" if with_quality else "without"
            best[key] = min(best.get(key, 1e9), session_us(events, with_quality))
        for name, us in zip(("lag", "dup", "read"), parts_us(events), strict=True):
            best[name] = min(best.get(name, 1e9), us)
    cost = best["with"] - best["without"]
    print(
        f"session apply_batch ({len(events):,} events, best of {args.repeat}): "
        f"{best['without']:.2f} us/event without lag and duplicates, {best['with']:.2f} with: "
        f"{cost:.2f} us/event ({cost * 5000 / 1e4:.2f}% of a core at 5,000 ev/s)"
    )
    print(
        f"parts alone: LagWindow.add {best['lag']:.3f} us, DuplicateWindow.first_seen "
        f"{best['dup']:.3f} us per event; a p50/p95 read {best['read']:.0f} us"
    )
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
