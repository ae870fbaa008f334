"""Forwarding never slows the monitor: ingest and the event loop's responsiveness with a
handler that takes 50 ms per request, and with one that is down, against no forwarding.

The fake Zoom sends scenario events at `--rate` (1,000/s by default) over loopback; the
handler (the stdlib's threading HTTP server, 50 ms per request) runs in the same parent
process.  The client runs in a fresh process: a `ZoomConnection` into a `MonitorSession`
with forwarding as a sink (`ForwardSink` -> `Forwarder`, 8 at once, a queue of 1,000,
Zoom's 3 s timeout), as `zoomtui forward` runs it.  It prints, per mode:

- ingest: events taken in per second, first to last (the fake's pace is the ceiling);
- loop lag: how late a 10 ms timer fires on the client's event loop, p50/p95/max (what a
  key press would wait for in the TUI, which runs on the same loop);
- forwarding: delivered, failed, dropped (queue full), and the longest the queue got.

Loopback only; each mode stops by itself after `--events` events (or a hang guard).

    python benchmarks/forward.py [--events 5000] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from zoomtui.fakezoom import FakeZoom

SECRET = "benchmark-webhook-secret-token"
HANDLER_SECONDS = 0.05
MODES = ("none", "slow handler (50 ms)", "handler down")


def _slow_handler() -> ThreadingHTTPServer:
    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def handle(self) -> None:
            with contextlib.suppress(OSError):  # the client went away at the end of the run
                super().handle()

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            try:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                time.sleep(HANDLER_SECONDS)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:  # the client went away at the end of the run
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_slow_handler(ports: mp.Queue, stop: Any) -> None:
    """The 50 ms handler in a process of its own (`tui_flood.py --forward slow`): its port
    on `ports`, then it serves until `stop` is set."""
    server = _slow_handler()
    ports.put(server.server_address[1])
    stop.wait()
    server.shutdown()
    server.server_close()


def down_url() -> str:
    """A handler URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/zoom"


def _client(oauth_url: str, ws_url: str, to: str | None, expected: int, out: mp.Queue) -> None:
    from zoomtui.fakezoom import DEMO_CREDENTIALS as C
    from zoomtui.forward import Forwarder, ForwardOptions, ForwardSink, Routes
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
        keyring_token=False,
    )

    async def main() -> None:
        session = MonitorSession()
        forwarder = None
        if to is not None:
            options = ForwardOptions(routes=Routes.parse([to]), secret=Secret(SECRET))
            forwarder = Forwarder(options)
            await forwarder.start()
            session.subscribe(ForwardSink(forwarder))
        lags: list[float] = []
        longest = [0]

        async def ticker() -> None:
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - before - 0.01)
                if forwarder is not None:
                    longest[0] = max(longest[0], forwarder.stats().queued)

        tick = asyncio.create_task(ticker())
        conn = ZoomConnection(settings)
        n = 0
        first = 0.0
        async with asyncio.timeout(expected / 100 + 60):  # a hang guard, not a budget
            async for u in conn.updates():
                session.receive(u)
                if u.__class__ is ZoomEvent:
                    if n == 0:
                        first = time.perf_counter()
                        lags.clear()
                    n += 1
                    if n >= expected:
                        break
        seconds = time.perf_counter() - first
        tick.cancel()
        await conn.close()
        stats = forwarder.stats() if forwarder is not None else None
        if forwarder is not None:
            await forwarder.aclose()
        out.put((n, seconds, sorted(lags), stats, longest[0]))

    asyncio.run(main())


async def run_mode(mode: str, events: int, rate: float) -> tuple:
    server = _slow_handler() if mode.startswith("slow") else None
    to = None
    if server is not None:
        to = f"http://127.0.0.1:{server.server_address[1]}/zoom"
    elif mode == "handler down":
        to = down_url()
    try:
        async with FakeZoom(
            scenario="demo", rate=rate, events=events, seed=1, record_events=False
        ) as fake:
            ctx = mp.get_context("spawn")
            out: mp.Queue = ctx.Queue()
            args = (fake.oauth_url, fake.ws_url, to, events, out)
            proc = ctx.Process(target=_client, args=args)
            proc.start()
            while proc.is_alive() and out.empty():
                await asyncio.sleep(0.05)
            result = out.get(timeout=60)
            proc.join(30)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    return result


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=1000.0)
    args = ap.parse_args()
    print(f"{args.events:,} events at {args.rate:,.0f}/s per mode; queue bound 1,000, 8 at once")
    for mode in MODES:
        n, seconds, lags, stats, longest = asyncio.run(run_mode(mode, args.events, args.rate))
        line = (
            f"{mode:<22} ingest {n / seconds:>7,.0f} ev/s   loop lag p50 {_ms(lags, 0.5):5.1f} "
            f"p95 {_ms(lags, 0.95):5.1f} max {_ms(lags, 1.0):6.1f} ms"
        )
        if stats is not None:
            line += (
                f"   delivered {stats.delivered:,} failed {stats.failed:,} "
                f"dropped {stats.dropped:,} longest queue {longest:,}/{stats.queue_limit:,}"
            )
        print(line)
        if lags:
            print(
                f"{'':<22} (mean lag {statistics.fmean(lags) * 1000:.2f} ms over {len(lags)} ticks)"
            )


if __name__ == "__main__":
    main()
