"""What ten alert rules cost during a 5,000 events/s flood.

Two measures, each with and without the rules:

1. live: the fake Zoom (this process) floods the demo scenario at `--rate` for
   `--seconds` over loopback; a client process runs `ZoomConnection` into a
   `MonitorSession` (as `tail`/`watch` do: no archive), with no sink or with the ten
   rules' `AlertEngine` (and their `AlertDispatcher`; one rule runs `true` as its
   command).  It prints events received per second and the client's CPU per event.
   The flood is bounded (`events = rate x seconds`): it stops by itself.
2. core: the same events parsed once, then applied to a session in batches of 250 (the
   TUI's batching) with and without the engine: microseconds per event, the engine's
   own cost with nothing else in the way.

    python benchmarks/alerts.py                  # 20 s at 5,000 events/s, 3 core repeats
    python benchmarks/alerts.py --seconds 5 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import time
from pathlib import Path

#: ten rules of every kind, as an on-call profile might hold them
RULES = """
[profiles.default]

[[profiles.default.alerts]]
name = "VIP joined"
event = "type:meeting.participant_joined user:ceo@example.com"

[[profiles.default.alerts]]
name = "any join to the board meeting"
event = "type:meeting.participant_* meeting:board"
command = ["true"]

[[profiles.default.alerts]]
name = "recordings"
event = "type:recording.*"

[[profiles.default.alerts]]
name = "late events"
lag_above = "30s"

[[profiles.default.alerts]]
name = "duplicates"
duplicate_within = "1m"

[[profiles.default.alerts]]
name = "silence"
silent_for = "10m"

[[profiles.default.alerts]]
name = "link down"
disconnected_for = "1m"

[[profiles.default.alerts]]
name = "gaps"
gap_longer_than = 0

[[profiles.default.alerts]]
name = "heartbeat"
heartbeat_older_than = "2m"

[[profiles.default.alerts]]
name = "storm"
reconnects = 3
within = "10m"
"""


def _rules() -> tuple:
    from zoomtui.alerts.rules import parse_rules

    rules = parse_rules(RULES, Path("config.toml"), "default").rules
    assert len(rules) == 10
    return rules


def _client(oauth_url: str, ws_url: str, expected: int, with_rules: bool, out: mp.Queue) -> None:
    from zoomtui.alerts.actions import AlertDispatcher
    from zoomtui.alerts.engine import AlertEngine
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C
    from zoomtui.monitor.session import MonitorSession
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings
    from zoomtui.zoom.connection import ZoomConnection
    from zoomtui.zoom.protocol import ZoomEvent

    settings = ConnectionSettings(
        C.account_id,
        C.client_id,
        Secret(C.client_secret),
        C.subscription_id,
        oauth_url=oauth_url,
        ws_url=ws_url,
    )
    session = MonitorSession()
    engine = dispatcher = None
    if with_rules:
        rules = _rules()
        engine = AlertEngine(rules)
        dispatcher = AlertDispatcher(rules)
        engine.listen(dispatcher.send)
        session.subscribe(engine)

    async def main() -> None:
        conn = ZoomConnection(settings)
        loop = asyncio.get_running_loop()
        n = 0
        first = cpu0 = 0.0
        tick = loop.call_later(1.0, lambda: None)

        def ticking() -> None:
            nonlocal tick
            if engine is not None:
                engine.tick()
            tick = loop.call_later(1.0, ticking)

        ticking()
        receive = session.receive
        async for u in conn.updates():
            receive(u)
            if u.__class__ is ZoomEvent:
                if n == 0:
                    first, cpu0 = time.perf_counter(), time.process_time()
                n += 1
                if n >= expected:
                    break
        seconds, cpu = time.perf_counter() - first, time.process_time() - cpu0
        tick.cancel()
        await conn.close()
        fired = sum(engine.fired.values()) if engine is not None else 0
        out.put((n, seconds, cpu, fired))

    asyncio.run(main())
    if dispatcher is not None:
        dispatcher.close()


async def live_once(rate: float, seconds: float, with_rules: bool) -> tuple[int, float, float, int]:
    from zoomtui.fakezoom import FakeZoom

    events = int(rate * seconds)
    async with FakeZoom(
        scenario="demo", rate=rate, events=events, seed=1, record_events=False
    ) as fake:
        ctx = mp.get_context("spawn")
        out: mp.Queue = ctx.Queue()
        args = (fake.oauth_url, fake.ws_url, events, with_rules, out)
        proc = ctx.Process(target=_client, args=args)
        proc.start()
        while proc.is_alive() and out.empty():
            await asyncio.sleep(0.05)
        result = out.get(timeout=60)
        proc.join(30)
    return result


def core_once(events: list, with_rules: bool) -> tuple[float, int]:
    from zoomtui.alerts.engine import AlertEngine
    from zoomtui.monitor.session import MonitorSession

    session = MonitorSession()
    engine = None
    if with_rules:
        engine = AlertEngine(_rules())
        session.subscribe(engine)
    t0 = time.perf_counter()
    for i in range(0, len(events), 250):
        session.apply_batch(events[i : i + 250])
    took = time.perf_counter() - t0
    return took / len(events) * 1e6, (sum(engine.fired.values()) if engine else 0)


def parsed_events(n: int, rate: float) -> list:
    """`n` events of the world the live measure's fake sends at `rate` (its own
    `play_scenario`: above 1,000/s with the flood's crowd, so the duplicates rule sees no
    copies the fake would never send)."""
    from zoomtui.fakezoom.schedule import play_scenario
    from zoomtui.zoom.protocol import message_frame, parse_frame

    start = time.time()
    source = play_scenario("demo", 1, lambda: start, Path(), rate, bounded=True)
    return [parse_frame(message_frame(next(source)), time.time()) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=5000.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3, help="core measure repeats (best kept)")
    ap.add_argument("--core-events", type=int, default=200_000)
    args = ap.parse_args()
    os.environ.setdefault("PATH", "/usr/bin:/bin")
    assert shutil.which("true"), "the command rule runs `true`"
    print(f"load average: {os.getloadavg()[0]:.2f}")
    for with_rules in (False, True):
        n, seconds, cpu, fired = asyncio.run(live_once(args.rate, args.seconds, with_rules))
        label = "ten rules" if with_rules else "no rules "
        print(
            f"live {label}: {n:,} events in {seconds:.2f} s = {n / seconds:,.0f} ev/s; client "
            f"CPU {cpu / n * 1e6:.1f} us/event ({cpu / seconds * 100:.0f}% of a core); "
            f"alerts fired {fired}"
        )
    events = parsed_events(args.core_events, args.rate)
    best: dict[bool, float] = {}
    core_fired = 0
    for _ in range(args.repeat):
        for with_rules in (False, True):
            us, fired = core_once(events, with_rules)
            best[with_rules] = min(best.get(with_rules, us), us)
            core_fired = max(core_fired, fired)
    print(
        f"core apply ({len(events):,} events, best of {args.repeat}): no rules "
        f"{best[False]:.2f} us/event, ten rules {best[True]:.2f} us/event: the rules cost "
        f"{best[True] - best[False]:.2f} us/event ({(best[True] - best[False]) * args.rate / 1e4:.2f}% "
        f"of a core at {args.rate:,.0f} ev/s); alerts fired {core_fired}"
    )
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
