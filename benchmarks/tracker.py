"""Meeting tracker throughput: events applied per second for a 10,000-person webinar.

Run: python benchmarks/tracker.py [N]
     python benchmarks/tracker.py --scenario [EVENTS]   (the demo scenario's flood, below)
Events go through the real parse path (message_frame -> parse_frame) before timing.
Printed: a join wave, a leave wave, the same waves in shuffled order (late and early
events: the exact peak is then recomputed on read, and that read is timed too), a wave
of exact duplicates, and a join wave of events whose cached body was released (as the
event log does on append: the tracker then re-parses each frame, so apply first).

--scenario: the fake's demo scenario as the TUI flood sends it (5,000 events/s, meetings
starting and ending all the time), 300,000 events by default: time per event, how many
meetings the tracker keeps, and the memory it holds (tracemalloc, a second pass).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

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


def scenario(n: int) -> None:
    import gc
    import itertools
    import tracemalloc

    from zoomtui.fakezoom import scenario_events

    t0 = time.time()
    events = [
        parse_frame(message_frame(e), t0 + i / 5000)
        for i, e in enumerate(itertools.islice(scenario_events(1, t0, rate=5000.0), n))
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
    print(
        f"demo scenario, {n:,} events at 5,000/s: {per * 1e6:.1f} µs/event; "
        f"{len(tracker.meetings):,} meetings kept ({tracker.live_count} live); "
        f"tracker holds {held / 1e6:.1f} MB"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--scenario":
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
