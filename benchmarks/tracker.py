"""Meeting tracker throughput: events applied per second for a 10,000-person webinar.

Run: python benchmarks/tracker.py [N]
     python benchmarks/tracker.py --scenario [EVENTS]   (the demo scenario's flood, below)
Events go through the real parse path (message_frame -> parse_frame) before timing.
Printed: a join wave, a leave wave, the same waves in shuffled order (late and early
events: the exact peak is then recomputed on read, and that read is timed too), a wave
of exact duplicates, and a join wave of events whose cached body was released (as the
event log does on append: the tracker then re-parses each frame, so apply first).

--scenario: the fake's demo scenario as the fake sends it paced at 5,000 events/s (the
same world: above 1,000/s, with the flood's crowd, so nobody comes or goes twice in one
millisecond), 300,000 events by default: time per event, how many meetings the tracker
keeps, the memory it holds (tracemalloc, a second pass), and how many events it dropped
as copies of another (a third pass).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

T0 = 1_706_123_456.0
UUID = "WeB9s9L+PTEC+FG3sFbd1Cw=="


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wave(n: int, what: str, start: float) -> list[ZoomEvent]:
    out = []
    for i in range(n):
        t = start + i / 200  # 200 joins a second: a big webinar opening its doors
        part = {
            "user_id": str(16778240 + i),
            "user_name": f"Attendee {i}",
            "id": f"zid{i:08d}",
            "participant_uuid": f"PU{i:010d}",
            "email": f"attendee{i}@example.com",
            "registrant_id": f"reg{i}",
        }
        if what == "joined":
            part["join_time"] = iso(t)
        else:
            part["leave_time"] = iso(t)
            part["leave_reason"] = f"Attendee {i} left the webinar.<br>Reason: left the webinar."
        body = {
            "event": f"webinar.participant_{what}",
            "event_ts": int(t * 1000),
            "payload": {
                "account_id": "AcCt1",
                "object": {
                    "id": "91234567890",
                    "uuid": UUID,
                    "host_id": "host1",
                    "topic": "Product launch webinar",
                    "type": 5,
                    "start_time": iso(T0),
                    "duration": 90,
                    "participant": part,
                },
            },
        }
        ev = parse_frame(message_frame(body), t + 0.3)
        assert isinstance(ev, ZoomEvent)
        out.append(ev)
    return out


def rate(label: str, tracker: MeetingTracker, events: list[ZoomEvent]) -> None:
    t = time.perf_counter()
    for ev in events:
        tracker.apply(ev)
    dt_ = time.perf_counter() - t
    m = tracker.get(UUID)
    assert m is not None
    t = time.perf_counter()
    peak = m.peak_count
    read_ms = (time.perf_counter() - t) * 1000
    print(
        f"{label:34} {len(events) / dt_:>10,.0f} ev/s  {dt_ * 1e6 / len(events):6.1f} µs/ev"
        f"   now {m.current_count:>6,}  peak {peak:>6,} (read {read_ms:.1f} ms)"
    )


def paced_world(seed: int, start: float, rate: float) -> Iterator[dict | str]:
    """The demo scenario exactly as `FakeZoom(rate=rate)` sends it: the fake's own
    `play_scenario`, so a rate above 1,000/s gets the flood's crowd as the fake gives it."""
    from zoomtui.fakezoom.schedule import play_scenario

    return play_scenario("demo", seed, lambda: start, Path(), rate, bounded=True)


def copies_dropped(events: list[Any]) -> int:
    """Events a fresh tracker takes for a copy of one it has (`Meeting.note_event` says
    None), counted on a pass of its own: the timed passes stay untouched."""
    from zoomtui.monitor.meetings.meeting import Meeting

    note_event = Meeting.note_event
    copies = 0

    def counting(self: Meeting, *args: Any) -> Any:
        nonlocal copies
        first = note_event(self, *args)
        copies += first is None
        return first

    Meeting.note_event = counting  # type: ignore[method-assign,assignment]
    try:
        tracker = MeetingTracker()
        for ev in events:
            tracker.apply(ev)
    finally:
        Meeting.note_event = note_event  # type: ignore[method-assign]
    return copies


def scenario(n: int) -> None:
    import gc
    import itertools
    import tracemalloc

    t0 = time.time()
    events = [
        parse_frame(message_frame(e), t0 + i / 5000)
        for i, e in enumerate(itertools.islice(paced_world(1, t0, 5000.0), n))
    ]
    gc.collect()
    tracker = MeetingTracker()
    t = time.perf_counter()
    for ev in events:
        tracker.apply(ev)
    per = (time.perf_counter() - t) / n
    tracemalloc.start()
    kept = MeetingTracker()
    for ev in events:
        kept.apply(ev)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    copies = copies_dropped(events)
    print(
        f"demo scenario, {n:,} events at 5,000/s: {per * 1e6:.1f} µs/event; "
        f"{len(tracker.meetings):,} meetings kept ({tracker.live_count} live); "
        f"tracker holds {held / 1e6:.1f} MB; {copies:,} dropped as copies "
        f"({copies / n:.3%})"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--scenario":
        print(f"load average: {os.getloadavg()[0]:.2f}")
        scenario(int(sys.argv[2]) if len(sys.argv) > 2 else 300_000)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    joins = wave(n, "joined", T0 + 60)
    leaves = wave(n, "left", T0 + 3600)
    print(f"{n:,}-participant webinar (events parsed beforehand)")

    tracker = MeetingTracker()
    rate("join wave, in order", tracker, joins)
    rate("leave wave, in order", tracker, leaves)
    rate("same events again (duplicates)", tracker, joins + leaves)

    rng = random.Random(1)
    mixed = joins + leaves
    rng.shuffle(mixed)
    rate("joins+leaves shuffled together", MeetingTracker(), mixed)

    released = wave(n, "joined", T0 + 60)
    for ev in released:
        ev.release()
    rate("join wave, bodies released", MeetingTracker(), released)


if __name__ == "__main__":
    main()
