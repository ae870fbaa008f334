"""Deliver events to webhook handlers without ever slowing the monitor.

`Forwarder.submit(event)` is what the session's sink calls for each event: it picks the
handler (`Routes`) and puts the event in a bounded queue, nothing more.  A few workers
(bounded concurrency) take events from the queue and POST them over one shared
`httpx.AsyncClient`, signed as Zoom signs (`signing`), each request bounded by a timeout
(Zoom's own 3 s by default).  A slow or dead handler fills the queue; once it is full a
new event is not queued but counted (`dropped`), and ingest, the log and the archive go
on untouched.  Every attempt is reported once, as a `Delivery`, to `on_result`.

No retries by default.  With a `retry_factor` a failed delivery is tried again on Zoom's
schedule (about 5, 20 and 60 minutes later) divided by that factor, each time signed
afresh with a new timestamp, as Zoom's retries are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from zoomtui.forward.results import (
    RESPONSE_KEEP,
    Delivery,
    ForwardStats,
    HandlerResponse,
    SentRequest,
)
from zoomtui.forward.routes import Routes
from zoomtui.forward.signing import event_body, webhook_headers
from zoomtui.redaction import Secret, redact
from zoomtui.zoom.protocol import ZoomEvent

log = logging.getLogger("zoomtui.forward")

#: Zoom retries a failed delivery about 5, 20 and 60 minutes after it (PROTOCOL.md section 5)
ZOOM_RETRY_SCHEDULE = (300.0, 1200.0, 3600.0)
#: Zoom counts no answer within 3 s as a failure
DEFAULT_TIMEOUT = 3.0
DEFAULT_QUEUE_LIMIT = 1000
DEFAULT_CONCURRENCY = 8
#: event names whose handler is remembered (hostile data may name every event anew)
_ROUTE_CACHE_LIMIT = 1024
#: after a handler refused a connection, the deliveries to it fail at once for this long
#: (one real attempt per pause): a connection attempt per event costs the loop about a
#: millisecond, and at 1,000 events/s a dead handler would take the monitor's whole core
DOWN_PAUSE = 0.5
CANNOT_CONNECT = "cannot connect"
#: how the error of a request with no answer in time starts
NO_ANSWER = "no answer within"


@dataclass(frozen=True, slots=True)
class ForwardOptions:
    """How to forward: where, signed with what, and within which bounds."""

    routes: Routes
    #: the webhook secret token (None: send unsigned, only when the user asked for it)
    secret: Secret | None
    timeout: float = DEFAULT_TIMEOUT
    queue_limit: int = DEFAULT_QUEUE_LIMIT
    concurrency: int = DEFAULT_CONCURRENCY
    #: None: no retries; else Zoom's retry schedule divided by this factor
    retry_factor: float | None = None

    def retry_delay(self, attempt: int) -> float | None:
        """Seconds before the attempt after `attempt` (None: no more attempts)."""
        if self.retry_factor is None or attempt > len(ZOOM_RETRY_SCHEDULE):
            return None
        return ZOOM_RETRY_SCHEDULE[attempt - 1] / self.retry_factor


@dataclass(frozen=True, slots=True)
class _Job:
    event: ZoomEvent
    url: str
    #: `time.monotonic()` when it was queued (for this attempt)
    queued_at: float
    attempt: int = 1


def new_client(options: ForwardOptions) -> httpx.AsyncClient:
    """The one client every delivery shares: verified TLS, no redirects followed (Zoom
    follows none), at most `concurrency` connections.  No proxy from the environment: the
    handler is usually on this machine, and a proxy would see every event."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(options.timeout),
        limits=httpx.Limits(
            max_connections=options.concurrency,
            max_keepalive_connections=options.concurrency,
        ),
        verify=True,
        trust_env=False,
        follow_redirects=False,
    )


def describe_failure(exc: BaseException, timeout: float) -> str:
    """Why a request got no answer, in a few words (no URL query, no secret)."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"{NO_ANSWER} {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        detail = str(exc) or type(exc).__name__
        return redact(f"{CANNOT_CONNECT} ({detail})")
    detail = str(exc)
    return redact(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


async def read_answer(response: httpx.Response) -> HandlerResponse:
    """The status, headers and the first `RESPONSE_KEEP` bytes of an answer (a handler
    that answers a megabyte is not read to its end)."""
    kept = bytearray()
    truncated = False
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) > RESPONSE_KEEP:
            truncated = True
            break
    return HandlerResponse(
        status=response.status_code,
        headers=tuple(response.headers.items()),
        body=bytes(kept[:RESPONSE_KEEP]),
        truncated=truncated,
    )


async def post_signed(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    secret: Secret | None,
    timeout: float,
    now: float | None = None,
) -> tuple[SentRequest, HandlerResponse | None, str, float]:
    """POST `body` to `url` as Zoom would, signed at `now` (epoch seconds; default: the
    clock's now).  Returns (the request, the answer or None, why there is none, seconds
    taken).  Never raises but for cancellation."""
    stamp = int(time.time() if now is None else now)
    headers = webhook_headers(body, secret.reveal() if secret is not None else None, stamp)
    request = SentRequest(
        url=url,
        headers=tuple(headers.items()),
        body=body,
        timestamp=int(headers["x-zm-request-timestamp"]),
        signed=secret is not None,
    )
    started = time.perf_counter()
    try:
        # One deadline over the whole exchange: httpx's timeouts are per read, and a
        # handler that trickles a byte a second would never trip them.
        async with asyncio.timeout(timeout):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                answer = await read_answer(response)
    except Exception as exc:  # noqa: BLE001 - every failure is a result, never a crash
        return request, None, describe_failure(exc, timeout), time.perf_counter() - started
    return request, answer, "", time.perf_counter() - started


#: seconds a stopping forwarder waits for the answers to requests already sent
STOP_GRACE = 5.0


class Forwarder:
    """A bounded queue of events and the workers that deliver them.  Use as
    `async with Forwarder(options, on_result=...) as fwd:` (or `start()` / `aclose()`)
    on the loop the events arrive on."""

    def __init__(
        self,
        options: ForwardOptions,
        *,
        on_result: Callable[[Delivery], None] | None = None,
        on_drop: Callable[[str], None] | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self.on_result = on_result
        #: `on_drop(url)` for each event not queued because the queue was full (metrics)
        self.on_drop = on_drop
        self.clock = clock
        #: what each request is signed with (`x-zm-request-timestamp`): now, at each attempt
        self.wall_clock = wall_clock
        self._client = client
        self._own_client = client is None
        self._waiting: deque[_Job] = deque()
        #: one future per idle worker: an event queued wakes one of them, not all (a shared
        #: flag woke every worker per event, and seven went back to sleep)
        self._idle: deque[asyncio.Future[None]] = deque()
        self._changed = asyncio.Event()  # set whenever a count changes (put / join wait on it)
        self._workers: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.TimerHandle] = set()
        self._routes: dict[str, str | None] = {}
        #: handler URL -> until when (`clock`) deliveries to it fail without trying
        self._down_until: dict[str, float] = {}
        self.in_flight = 0
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        #: events no route took (with routes for some events only)
        self.unrouted = 0
        self.closed = False

    # -- life ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self._client is None:
            self._client = new_client(self.options)
        for i in range(max(1, self.options.concurrency)):
            self._workers.append(asyncio.create_task(self._work(), name=f"zoomtui-forward-{i}"))

    async def aclose(self, grace: float = STOP_GRACE) -> int:
        """Stop: drop the queued and the retries, give the requests in flight up to `grace`
        seconds (never more than the request timeout) to be answered, then cancel what is
        still out.  A request the handler already took is finished rather than abandoned
        with its answer unread.  Returns how many events were not delivered because of it."""
        self.closed = True
        left = len(self._waiting) + len(self._retries)
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        self._waiting.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, min(grace, self.options.timeout))):
                while self.in_flight:
                    self._changed.clear()
                    await self._changed.wait()
        left += self.in_flight
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        if self._own_client and self._client is not None:
            await self._client.aclose()
        return left

    async def __aenter__(self) -> Forwarder:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the way in -----------------------------------------------------------------------
    def url_for(self, event_name: str) -> str | None:
        """The handler of `event_name` (remembered: the routes' globs run once per name)."""
        routes = self._routes
        if event_name in routes:
            return routes[event_name]
        if len(routes) >= _ROUTE_CACHE_LIMIT:
            routes.clear()
        url = routes[event_name] = self.options.routes.url_for(event_name)
        return url

    def submit(self, event: ZoomEvent) -> bool:
        """Queue `event` for its handler, at once and without waiting: False when no route
        takes it or the queue is full (then it is counted in `dropped`)."""
        if self.closed:
            return False
        url = self.url_for(event.name)
        if url is None:
            self.unrouted += 1
            return False
        return self._enqueue(_Job(event, url, self.clock()))

    async def put(self, event: ZoomEvent) -> bool:
        """Queue `event`, waiting for room (a resend, which must not drop): False when no
        route takes it or the forwarder closed."""
        while not self.closed and len(self._waiting) >= self.options.queue_limit:
            self._changed.clear()
            await self._changed.wait()
        return self.submit(event)

    async def join(self) -> None:
        """Wait until nothing is queued, in flight or waiting for a retry."""
        while not self.closed and (self._waiting or self.in_flight or self._retries):
            self._changed.clear()
            await self._changed.wait()

    def _enqueue(self, job: _Job) -> bool:
        if len(self._waiting) >= self.options.queue_limit:
            self.dropped += 1
            self._changed.set()
            if self.on_drop is not None:
                try:
                    self.on_drop(job.url)
                except Exception as exc:  # noqa: BLE001 - counting never stops the monitor
                    log.error("forwarding: counting a drop failed: %s", redact(exc))
            return False
        self._waiting.append(job)
        idle = self._idle
        while idle:
            worker = idle.popleft()
            if not worker.done():
                worker.set_result(None)
                break
        return True

    # -- the workers ----------------------------------------------------------------------
    async def _work(self) -> None:
        waiting, idle = self._waiting, self._idle
        loop = asyncio.get_running_loop()
        while True:
            while not waiting:
                woken: asyncio.Future[None] = loop.create_future()
                idle.append(woken)
                await woken
            job = waiting.popleft()
            self.in_flight += 1
            self._changed.set()  # room in the queue (`put`)
            try:
                delivery = await self._deliver(job)
            except Exception as exc:  # noqa: BLE001 - one event's trouble never stops a worker
                self.failed += 1
                log.error("forwarding %s failed: %s", job.event.name[:80], redact(exc))
                continue
            finally:
                self.in_flight -= 1
                self._changed.set()
            self._count(delivery, job)
            self._report(delivery)

    async def _deliver(self, job: _Job) -> Delivery:
        options = self.options
        now = self.clock()
        waited = now - job.queued_at
        body = event_body(job.event)
        assert self._client is not None  # started
        down_until = self._down_until.get(job.url)
        if down_until is not None and now < down_until:
            return self._not_tried(job, body, waited, down_until - DOWN_PAUSE)
        request, answer, error, latency = await post_signed(
            self._client, job.url, body, options.secret, options.timeout, self.wall_clock()
        )
        if answer is None and error.startswith(CANNOT_CONNECT):
            self._down_until[job.url] = self.clock() + DOWN_PAUSE
        else:
            self._down_until.pop(job.url, None)
        ok = answer is not None and 200 <= answer.status < 300
        return Delivery(
            event_name=job.event.name,
            url=job.url,
            ok=ok,
            status=answer.status if answer is not None else None,
            error=error,
            latency=latency,
            waited=waited,
            attempt=job.attempt,
            retry_in=None if ok else options.retry_delay(job.attempt),
            request=request,
            response=answer,
            event=job.event,
        )

    def _not_tried(self, job: _Job, body: bytes, waited: float, refused_at: float) -> Delivery:
        """A delivery failed at once: its handler refused a connection a moment ago."""
        ago = max(0.0, self.clock() - refused_at)
        headers = webhook_headers(
            body,
            self.options.secret.reveal() if self.options.secret is not None else None,
            int(self.wall_clock()),
        )
        request = SentRequest(
            url=job.url,
            headers=tuple(headers.items()),
            body=body,
            timestamp=int(headers["x-zm-request-timestamp"]),
            signed=self.options.secret is not None,
        )
        return Delivery(
            event_name=job.event.name,
            url=job.url,
            ok=False,
            status=None,
            error=f"{CANNOT_CONNECT} (not sent: the handler refused a connection {ago:.1f} s "
            f"ago; tried again every {DOWN_PAUSE:g} s)",
            latency=0.0,
            waited=waited,
            attempt=job.attempt,
            retry_in=self.options.retry_delay(job.attempt),
            request=request,
            response=None,
            event=job.event,
            sent=False,
        )

    def _count(self, delivery: Delivery, job: _Job) -> None:
        if delivery.ok:
            self.delivered += 1
            return
        self.failed += 1
        if delivery.retry_in is not None and not self.closed:
            self._retry_later(job, delivery.retry_in)

    def _retry_later(self, job: _Job, delay: float) -> None:
        """Queue `job` again after `delay` (a timer, not a task: nothing runs meanwhile)."""
        handle: asyncio.TimerHandle | None = None

        def retry() -> None:
            if handle is not None:
                self._retries.discard(handle)
            if not self.closed:
                self._enqueue(_Job(job.event, job.url, self.clock(), job.attempt + 1))
            self._changed.set()

        handle = asyncio.get_running_loop().call_later(delay, retry)
        self._retries.add(handle)

    def _report(self, delivery: Delivery) -> None:
        if self.on_result is None:
            return
        try:
            self.on_result(delivery)
        except Exception as exc:  # noqa: BLE001 - a front end's printing never stops delivery
            log.error("forwarding: reporting a delivery failed: %s", redact(exc))

    # -- what a front end shows --------------------------------------------------------------
    @property
    def queued(self) -> int:
        """Events waiting for a delivery slot."""
        return len(self._waiting)

    def oldest_wait(self) -> float:
        """Seconds the oldest queued event has waited (0: none waits).  A metrics scrape
        reads it from its own thread: the queue may empty between a look and a read."""
        try:
            head = self._waiting[0]
        except IndexError:
            return 0.0
        return max(0.0, self.clock() - head.queued_at)

    def stats(self) -> ForwardStats:
        return ForwardStats(
            queued=len(self._waiting),
            queue_limit=self.options.queue_limit,
            in_flight=self.in_flight,
            delivered=self.delivered,
            failed=self.failed,
            dropped=self.dropped,
            retrying=len(self._retries),
            oldest_wait=self.oldest_wait(),
        )
