"""Placeholder: replaced by the seeded scenario generator."""

from __future__ import annotations

from collections.abc import Iterator


def scenario_events(seed: int, clock_start: float, *, rate: float = 20.0) -> Iterator[dict]:
    i = 0
    while True:
        yield {"event": "meeting.started", "event_ts": int((clock_start + i / rate) * 1000),
               "payload": {"account_id": "demo-account-0001",
                           "object": {"id": str(80000000000 + seed), "uuid": f"u{i}==", "topic": "t"}}}
        i += 1
