"""How fast the fake Zoom pushes scenario frames at rate "max" to one local client.

The fake runs in this process; a bare `websockets` client runs in another (so the two
sides use both cores, as the TUI and a fake server would), counts the frames and times
them from the first to the last.  Loopback only, bounded count.

    python benchmarks/fake_rate.py [--events 200000] [--seed 1] [--no-record] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time

from websockets.asyncio.client import connect

from zoomtui.fakezoom import FakeZoom


def _client(url: str, expected: int, out: mp.Queue) -> None:
    async def main() -> None:
        async with connect(url, ping_interval=None) as ws:
            await ws.recv()  # build_connection
            n, first, nbytes = 0, 0.0, 0
            while n < expected:
                frame = await ws.recv()
                if n == 0:
                    first = time.perf_counter()
                n += 1
                nbytes += len(frame)
            out.put((n, time.perf_counter() - first, nbytes))

    asyncio.run(main())


async def run_once(events: int, seed: int, record: bool) -> tuple[int, float, int, float]:
    t = time.perf_counter()
    async with FakeZoom(
        scenario="demo", rate="max", events=events, seed=seed, record_events=record
    ) as fake:
        while fake.frames_ready < events:  # the bounded flood is serialised after start()
            await asyncio.sleep(0.01)
        prepare_s = time.perf_counter() - t
        ctx = mp.get_context("spawn")  # a fresh interpreter: no copy of the fake's loop
        out: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_client, args=(fake.ws_url_for(fake.issue_token()), events, out))
        proc.start()
        while proc.is_alive() and out.empty():
            await asyncio.sleep(0.05)
        n, seconds, nbytes = out.get(timeout=60)
        proc.join(10)
    return n, seconds, nbytes, prepare_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="do not keep sent_events")
    args = ap.parse_args()
    best = 0.0
    for i in range(args.repeat):
        n, seconds, nbytes, prep = asyncio.run(run_once(args.events, args.seed, not args.no_record))
        rate = n / seconds
        best = max(best, rate)
        print(
            f"run {i + 1}: {n:,} frames in {seconds:.3f} s = {rate:,.0f} frames/s "
            f"({nbytes / seconds / 1e6:.1f} MB/s, mean frame {nbytes / n:.0f} B; "
            f"serialised up front in {prep:.2f} s)"
        )
    print(f"best: {best:,.0f} frames/s to one bare websockets client over loopback")


if __name__ == "__main__":
    main()
