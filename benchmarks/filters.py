"""How long one filter takes over 100,000 retained events (the TUI re-filters per keystroke).

Run: python benchmarks/filters.py [N]
Events go through the real parse path (message_frame -> parse_frame) and are released, as
the event log keeps them.  Each expression is timed the way the event log drives it
(`itertools.compress` over `map(filter.matches, rows)`); the first run (cold caches) and the best of 5 are printed.
Budget: under 50 ms for 100,000 events.
"""

from __future__ import annotations

import random
import sys
import time
from itertools import compress

from zoomtui.monitor.filters import compile_filter
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

EXPRESSIONS = [
    "ana",
    '"weekly sync"',
    "type:meeting.participant_*",
    "type:participant_joined",
    "family:webinar",
    "meeting:85746352415",
    "meeting:weekly",
    "user:ana",
    "type:meeting.participant_* user:ana",
    "-type:*qos* -type:*.sharing_*",
    'weekly -user:bo "sync" type:*joined',
]

NAMES = [
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.participant_qos",
    "meeting.sharing_started",
    "meeting.started",
    "meeting.ended",
    "webinar.participant_joined",
    "webinar.participant_left",
    "user.updated",
    "recording.completed",
]
FIRST = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
TOPICS = ["Weekly sync", "Design review", "All hands", "1:1", "Incident 4711", "Customer call"]


def make_events(n: int, seed: int = 7) -> list[ZoomEvent]:
    rng = random.Random(seed)
    meetings = [
        (str(85746352415 + k), f"m{k:04d}Q+PTEC+FG3sFbd1Cw==", rng.choice(TOPICS) + f" #{k}")
        for k in range(200)
    ]
    out: list[ZoomEvent] = []
    for i in range(n):
        name = rng.choice(NAMES)
        mid, uuid, topic = rng.choice(meetings)
        person = f"{rng.choice(FIRST)} {rng.choice(FIRST)}son{rng.randrange(500)}"
        obj: dict = {"id": mid, "uuid": uuid, "topic": topic, "host_id": "h1", "type": 2}
        if "participant" in name:
            obj["participant"] = {
                "user_id": str(16778240 + i),
                "user_name": person,
                "participant_uuid": f"PU{i:08d}",
                "email": person.replace(" ", ".").lower() + "@example.com",
                "join_time": "2024-01-24T19:10:56Z",
            }
        frame = message_frame(
            {"event": name, "event_ts": 1706123456789 + i, "payload": {"object": obj}}
        )
        ev = parse_frame(frame, 1706123460.0 + i / 1000)
        assert isinstance(ev, ZoomEvent)
        ev.release()
        out.append(ev)
    return out


def first_and_best_ms(fn, runs: int = 5) -> tuple[float, float]:
    """The first run (cold caches, as on a keystroke) and the best of `runs`."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times[0] * 1000, min(times) * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t = time.perf_counter()
    events = make_events(n)
    print(f"{n:,} events generated in {time.perf_counter() - t:.1f} s")
    seqs = range(n)
    print(f"{'expression':45} {'matches':>8} {'first ms':>9} {'best ms':>8} {'compile µs':>11}")
    for text in EXPRESSIONS:
        t = time.perf_counter()
        flt = compile_filter(text)
        compile_us = (time.perf_counter() - t) * 1e6
        result: list[int] = []

        def run(flt=flt, result=result) -> None:
            result[:] = compress(seqs, map(flt.matches, events))

        first, best = first_and_best_ms(run)
        print(f"{text:45} {len(result):>8,} {first:>9.1f} {best:>8.1f} {compile_us:>11.0f}")


if __name__ == "__main__":
    main()
