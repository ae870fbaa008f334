"""Reconnect timings: how long each fault keeps the connection down, against the fake Zoom.

For each fault: when the drop was noticed (after the fault), the backoff chosen, and the
time from the drop to CONNECTED again; "overhead" is that time minus the backoff wait
(token reuse or request + WebSocket handshake + build_connection).  Default backoff
(base 1 s, cap 60 s, full jitter; seeded), heartbeat shortened to 0.5 s.

    python benchmarks/reconnect.py [--heartbeat 0.5] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from zoomtui.fakezoom import FakeZoom
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import StateChanged


async def measure(hb: float, seed: int) -> None:
    async with FakeZoom() as fake:
        conn = ZoomConnection(
            fake.settings(heartbeat_interval=hb), rng=random.Random(seed), stable_after=2.0
        )
        states: list[StateChanged] = []
        changed = asyncio.Event()

        async def pump() -> None:
            async for u in conn.updates():
                if isinstance(u, StateChanged):
                    states.append(u)
                    changed.set()

        async def wait(state: S, after: int) -> StateChanged:
            while True:
                for s in states[after:]:
                    if s.state is state:
                        return s
                changed.clear()
                await changed.wait()

        task = asyncio.create_task(pump())
        await wait(S.CONNECTED, 0)

        async def outage() -> None:
            await fake.stop()
            await asyncio.sleep(3.0)
            await fake.start()

        faults = [
            ("server close 1011", lambda: fake.close(code=1011, reason="x")),
            ("TCP cut", lambda: fake.cut()),
            ("invalid token", lambda: fake.send_invalid_token()),
            ("silent server (dead link)", lambda: asyncio.sleep(0, fake.go_silent())),
            ("3 s outage (server down)", outage),
        ]
        print(f"heartbeat {hb} s (dead link after {1.5 * hb:g} s), backoff base 1 s, full jitter")
        for name, fault in faults:
            await asyncio.sleep(2.2)  # a stable run first: the backoff starts from the base
            mark = len(states)
            t0 = time.time()
            fault_task = asyncio.create_task(fault())
            drop = await wait(S.RECONNECTING, mark)
            up = await wait(S.CONNECTED, mark)
            await fault_task
            retries = [s for s in states[mark:] if s.state is S.RECONNECTING]
            waited = sum(s.retry_in or 0.0 for s in retries)
            print(
                f"  {name:28s} noticed after {drop.at - t0:6.3f} s; down {up.at - drop.at:6.3f} s "
                f"({len(retries)} attempt(s), backoff {waited:5.3f} s, "
                f"overhead {up.at - drop.at - waited:5.3f} s)"
            )
        await conn.close()
        await task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heartbeat", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    asyncio.run(measure(args.heartbeat, args.seed))


if __name__ == "__main__":
    main()
