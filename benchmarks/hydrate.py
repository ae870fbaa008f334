"""Hydration: 50 live meetings with 10,000 participants in all, against the fake Zoom on
loopback answering as fast as it can.  Prints the API calls and the time it takes to ask
(paced at the default 600 calls a minute, and unpaced) and to merge into a tracker.

    python benchmarks/hydrate.py [--meetings 50] [--people 10000]

Bounded: every run has a deadline and the script stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.hydrate import Hydrator
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.session import MonitorSession
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.rest import DEFAULT_PER_MINUTE, ZoomRest

DEADLINE = 300.0


def world(meetings: int, people: int) -> list[dict]:
    """Joins that put `people` people into `meetings` live meetings (as Zoom holds them)."""
    events = []
    for i in range(people):
        m = i % meetings
        obj = {
            "uuid": f"bench{m:04d}+/==",
            "id": str(81_000_000_000 + m),
            "topic": f"Meeting {m}",
            "host_id": f"host{m}",
            "start_time": "2024-01-24T19:00:00Z",
            "participant": {
                "user_id": str(16_000_000 + i),
                "user_name": f"Person {i}",
                "id": f"zid{i}",
                "participant_uuid": f"pu-{i}",
                "email": f"p{i}@example.com",
                "join_time": "2024-01-24T19:10:56Z",
            },
        }
        events.append({"event": "meeting.participant_joined", "payload": {"object": obj}})
    return events


async def run(fake: FakeZoom, per_minute: float) -> None:
    session = MonitorSession(meetings=MeetingTracker())
    async with TokenProvider(fake.settings(), cache=None) as tokens:
        rest = ZoomRest(fake.settings(), tokens, per_minute=per_minute)
        hydrator = Hydrator(session, rest, session.receive)
        before = len(fake.dashboard.calls)
        started = time.perf_counter()
        async with asyncio.timeout(DEADLINE):
            snap = await hydrator.hydrate_once()
        asked = time.perf_counter() - started
        assert snap is not None
        started = time.perf_counter()
        session.receive(snap)
        merged = time.perf_counter() - started
        await rest.aclose()
    tracker = session.meetings
    assert tracker is not None
    inside = sum(m.current_count for m in tracker.meetings.values())
    calls = fake.dashboard.calls[before:]
    kinds = {
        "lists": sum("/participants" not in c.path and "/v2/metrics/" in c.path for c in calls),
        "rosters": sum("/participants" in c.path for c in calls),
        "details": sum(c.path.startswith(("/v2/meetings/", "/v2/webinars/")) for c in calls),
    }
    pace = f"{per_minute:g}/min" if per_minute else "unpaced"
    print(
        f"{pace:>10}: {len(calls)} calls ({', '.join(f'{v} {k}' for k, v in kinds.items())}), "
        f"asked in {asked:.2f} s (waited {rest.pacer.waited:.2f} s for turns), merged "
        f"{inside:,} people in {len(tracker.meetings)} meetings in {merged * 1000:.0f} ms"
    )


async def main(meetings: int, people: int) -> None:
    async with FakeZoom(scenario="quiet") as fake:
        fake.truth.handed(world(meetings, people))
        assert sum(map(len, fake.truth.roster().values())) == people
        print(f"{meetings} live meetings, {people:,} participants (loopback fake Zoom)")
        for per_minute in (DEFAULT_PER_MINUTE, 0):
            await run(fake, per_minute)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=50)
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.meetings, args.people))
