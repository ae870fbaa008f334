"""`FakeZoom`: a faithful local stand-in for Zoom's token endpoint and WebSocket.

Two listeners, like Zoom's two hosts: the token endpoint (`oauth.py` on a tiny asyncio HTTP
server) and the WebSocket `/ws` (the `websockets` asyncio server).  Everything runs on the
caller's event loop.  The Python API is the contract in docs/FAKEZOOM_API.md; wire behaviour
follows PROTOCOL.md, and the choices PROTOCOL.md leaves open are the constants below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.protocol import State

from zoomtui.fakezoom.arguments import SCENARIOS as SCENARIOS
from zoomtui.fakezoom.arguments import check_arguments, default_samples_dir
from zoomtui.fakezoom.connection import FakeConnection, is_heartbeat
from zoomtui.fakezoom.consumer import CONSUMER_QUERY, ProductionConsumer, consumer_action
from zoomtui.fakezoom.control import (
    CONTROL_PREFIX,
    ControlEndpoint,
    is_control_request,
    new_control_token,
)
from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS, DemoCredentials, fake_settings
from zoomtui.fakezoom.dashboard import API_PREFIX, DashboardApi
from zoomtui.fakezoom.httpserver import HttpServer, Request, Response
from zoomtui.fakezoom.malformed import malformed_frame
from zoomtui.fakezoom.oauth import TOKEN_PATH, TokenIssuer, TokenRequest
from zoomtui.fakezoom.schedule import FrameSource, Pump, play_scenario, prepare
from zoomtui.fakezoom.triggers import TriggerRequest, build_event
from zoomtui.fakezoom.truth import LiveTruth
from zoomtui.redaction import RedactingFilter
from zoomtui.settings import ConnectionSettings

WS_PATH = "/ws"

# build_connection refusals (the content says why, PROTOCOL.md section 2)
TOKEN_EMPTY = "token is empty"
INVALID_TOKEN = "Invalid Token"  # 2023 wording; "Token is invalid" was seen in 2025
# Zoom's wording for an unknown subscription is undocumented: this is our pick.
UNKNOWN_SUBSCRIPTION = "Invalid subscriptionId"

# Close codes: Zoom documents none.  These are what a real server would plausibly use.
#: after a refusing build_connection frame, or an invalid-token frame on an open connection
CLOSE_REFUSED = 1008  # policy violation
#: the old connection when a new one opens on the same subscription
CLOSE_DISPLACED = 1000
REASON_DISPLACED = "replaced by a newer connection on this subscription"
#: no heartbeat from the client within idle_timeout
CLOSE_IDLE = 1001
REASON_IDLE = "no heartbeat"
# stop() closes every connection with 1001 (going away): websockets' Server.close() does that.

#: events per second used for the event_ts of a rate-"max" scenario (see play_scenario)
MAX_RATE_SPACING = 1000.0

_HEARTBEAT_ANSWER_MODULE = "heartbeat"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class FakeZoom:
    """A fake Zoom on loopback: token endpoint, WebSocket, scenarios and faults.

    Use as ``async with FakeZoom(...) as fake:`` (or `start()` / `stop()`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        oauth_port: int = 0,
        *,
        seed: int = 1,
        scenario: str | None = None,
        rate: float | Literal["max"] = 20.0,
        events: int | None = None,
        token_ttl: float = 3600,
        one_connection_per_subscription: bool = True,
        clock: Callable[[], float] = time.time,
        credentials: DemoCredentials = DEMO_CREDENTIALS,
        record_events: bool = True,
        check_token_on_heartbeat: bool = True,
        new_token_revokes_old: bool = False,
        idle_timeout: float | None = None,
        samples_dir: Path | str | None = None,
        allow_non_loopback: bool = False,
        compression: bool = False,
        token_prefix: str = "fzk.",
        control_token: str | None = None,
        refuse_query_params: bool = False,
    ) -> None:
        check_arguments(host, allow_non_loopback, scenario, rate, events)
        self.host = host
        self.port = port
        self.oauth_port = oauth_port
        self.seed = seed
        self.scenario = scenario
        self.rate = rate
        self.events = events
        self.one_connection_per_subscription = one_connection_per_subscription
        self.clock = clock
        self.credentials = credentials
        self.record_events = record_events
        self.check_token_on_heartbeat = check_token_on_heartbeat
        self.idle_timeout = idle_timeout
        self.samples_dir = Path(samples_dir) if samples_dir is not None else default_samples_dir()
        self.compression = compression
        self.issuer = TokenIssuer(
            credentials,
            token_ttl=token_ttl,
            clock=clock,
            new_token_revokes_old=new_token_revokes_old,
            token_prefix=token_prefix,
            refuse_query_params=refuse_query_params,
        )
        #: opens the control endpoint (`zoomtui trigger`); random per fake unless given
        self.control_token = control_token or new_control_token()
        self._control = ControlEndpoint(
            self.control_token, self.trigger, partial(consumer_action, self)
        )
        #: who is in which live meeting, folded from every event whose time came (heard or not)
        self.truth = LiveTruth()
        #: the REST API (Dashboard, meeting details) on the token endpoint's listener
        self.dashboard = DashboardApi(
            self.truth, self.issuer, clock=clock, on_activity=self._active
        )
        self.connections: list[FakeConnection] = []
        #: build_connection answers played instead of Zoom's, one per new connection
        self._build_answers: deque[tuple[str | bytes, bool]] = deque()
        #: what heartbeats are answered with (None: Zoom's ``success:true, "live"``)
        self.heartbeat_answer: str | bytes | None = None
        #: production consumers started with `start_consumer`, oldest first
        self.consumers: list[ProductionConsumer] = []
        self._accepted: list[FakeConnection] = []
        self._accepted_changed = asyncio.Event()
        # replaced by a fresh one at each activity: whoever awaits the old one looks again
        self._activity = asyncio.Event()
        self._http: HttpServer | None = None
        self._ws_server: Server | None = None
        self._pump: Pump | None = None
        self._pump_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        if scenario == "samples" and not self.samples_dir.is_dir():
            raise FileNotFoundError(
                f"The samples scenario replays {self.samples_dir}, which does not exist here."
            )

    # -- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> FakeZoom:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        await self.stop()

    async def start(self) -> None:
        """Listen (again). After `stop()`, the same ports are reused."""
        if self._ws_server is not None:
            return
        http = HttpServer(self._http_request, self.host, self.oauth_port)
        await http.start()
        self.oauth_port = http.port
        self.issuer.api_url = self.api_url  # Zoom names the account's REST host: ours
        self._http = http
        try:
            self._ws_server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._check_path,
                compression="deflate" if self.compression else None,
                ping_interval=None,  # Zoom relies on the client's application heartbeat
                reuse_address=True,
                logger=_ws_logger(),
            )
        except BaseException:
            await http.stop()
            self._http = None
            raise
        self.port = self._ws_server.sockets[0].getsockname()[1]
        if self._pump is None and self.scenario not in (None, "quiet"):
            self._pump = self._make_pump()
        if self._pump is not None and not (self._pump.source.exhausted):
            self._pump_task = asyncio.create_task(self._pump.run(), name="fakezoom-pump")

    async def stop(self) -> None:
        """Stop listening and drop every connection (close frame 1001, like a server going away)."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
            self._pump_task = None
        if self._ws_server is not None:
            self._ws_server.close(close_connections=True)
            try:
                async with asyncio.timeout(3):
                    await self._ws_server.wait_closed()
            except TimeoutError:
                # A client that stopped reading never answers the close frame: drop it, or
                # its handler would wait out websockets' own close timeout and hold the exit.
                for conn in self.connections:
                    if conn.ws.state is not State.CLOSED:
                        conn.cut()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(3):
                        await self._ws_server.wait_closed()
            self._ws_server = None
        if self._http is not None:
            await self._http.stop()
            self._http = None
        for task in list(self._tasks):
            task.cancel()

    # -- addresses and settings -------------------------------------------------------
    @property
    def oauth_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.oauth_port}{TOKEN_PATH}"

    @property
    def ws_url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}{WS_PATH}"

    @property
    def api_url(self) -> str:
        """The REST API's base URL (on the token endpoint's listener, as `/v2/...`)."""
        return f"http://{_url_host(self.host)}:{self.oauth_port}"

    @property
    def control_url(self) -> str:
        """The control endpoint's base URL (on the token endpoint's listener)."""
        return f"http://{_url_host(self.host)}:{self.oauth_port}{CONTROL_PREFIX}"

    async def _http_request(self, req: Request) -> Response:
        if is_control_request(req):  # never a token request: no fault, not recorded
            return await self._control.handle(req)
        if req.target.startswith(API_PREFIX):
            return await self.dashboard.handle(req)
        return await self.issuer.handle(req)

    def issue_token(self) -> str:
        """A live token without an HTTP round trip (for tests that are about the WebSocket)."""
        return self.issuer.issue()

    def ws_url_for(self, token: str, subscription_id: str | None = None) -> str:
        """The full WebSocket URL with its query. It holds a live token: never print or log it."""
        sub = self.credentials.subscription_id if subscription_id is None else subscription_id
        return f"{self.ws_url}?{urlencode({'subscriptionId': sub, 'access_token': token})}"

    def settings(self, **changes: object) -> ConnectionSettings:
        """ConnectionSettings for the demo credentials at these URLs (`changes` are applied on top)."""
        return fake_settings(self.credentials, self.oauth_url, self.ws_url, self.api_url, changes)

    # -- what happened ----------------------------------------------------------------
    @property
    def token_requests(self) -> list[TokenRequest]:
        return self.issuer.requests

    @property
    def tokens_issued(self) -> int:
        """Every token handed out so far (token requests answered 200, and `issue_token()`)."""
        return self.issuer.issued

    @property
    def reject_credentials(self) -> bool:
        return self.issuer.reject_credentials

    @reject_credentials.setter
    def reject_credentials(self, value: bool) -> None:
        self.issuer.reject_credentials = value

    @property
    def token_ttl(self) -> float:
        return self.issuer.token_ttl

    @token_ttl.setter
    def token_ttl(self, value: float) -> None:
        self.issuer.token_ttl = value

    @property
    def accepted_connections(self) -> list[FakeConnection]:
        return list(self._accepted)

    @property
    def events_lost(self) -> int:
        """Scenario events whose time came while no connection was open (paced mode)."""
        return self._pump.lost if self._pump is not None else 0

    @property
    def scenario_done(self) -> bool:
        """A bounded scenario has handed out every event it had (sent, or lost if paced)."""
        return self._pump is not None and self._pump.source.exhausted

    @property
    def frames_ready(self) -> int:
        """Scenario frames serialised ahead and not sent yet (a bounded flood at rate max is
        prepared in full in the background after start(): benchmarks wait for it)."""
        return self._pump.source.ready if self._pump is not None else 0

    def open_connections(self) -> list[FakeConnection]:
        return [c for c in self._accepted if c.open]

    async def wait_for_connection(self, n: int = 1, timeout: float | None = None) -> FakeConnection:
        """The n-th accepted connection (1-based, counted since this fake was made), however
        long it takes unless `timeout` says otherwise."""
        async with asyncio.timeout(timeout):
            while len(self._accepted) < n:
                self._accepted_changed.clear()
                await self._accepted_changed.wait()
        return self._accepted[n - 1]

    async def wait_until(self, predicate: Callable[[], object]) -> None:
        """Wait until `predicate()` holds, looking again whenever the fake did something a
        test can see: a connection made or refused, a frame sent or received on any of
        them, one ended, a paced event lost.  No deadline: wrap it in one if you need it."""
        while not predicate():
            await self._activity.wait()

    def _active(self) -> None:
        self._activity.set()
        self._activity = asyncio.Event()

    # -- injection ----------------------------------------------------------------------
    async def inject(self, event: dict | str, conn: FakeConnection | None = None) -> int:
        """Send one event as a `message` frame (content a JSON string) to `conn` or every open
        connection. Returns how many connections it was sent to."""
        content, frame = prepare(event)
        self.truth.handed([content])  # it happened, whoever hears it
        sent = 0
        for c in self._targets(conn):
            sent += await c.send_event(content, frame)
        return sent

    async def trigger(self, request: TriggerRequest) -> tuple[dict, int]:
        """Build the event `request` asks for (`triggers.build_event`, stamped now) and send
        it to every open connection. Returns the event and how many connections it reached."""
        event = build_event(request, self.clock(), self.credentials.account_id)
        return event, await self.inject(event)

    async def inject_frame(self, data: str | bytes, conn: FakeConnection | None = None) -> int:
        """Send anything verbatim: str as a text frame, bytes as a binary frame."""
        sent = 0
        for c in self._targets(conn):
            sent += await c.send_raw(data)
        return sent

    def _targets(self, conn: FakeConnection | None) -> list[FakeConnection]:
        return [conn] if conn is not None else self.open_connections()

    # -- another consumer of the subscription -------------------------------------------------
    async def start_consumer(self, **options: Any) -> ProductionConsumer:
        """Start a `ProductionConsumer` (`options`: its keywords, e.g. reconnect=True): it
        knocks the current connection off, as Zoom does.  Returns once it is accepted; it
        is stopped when the `async with` block ends."""
        consumer = ProductionConsumer(self, **options)
        self.consumers.append(consumer)
        await consumer.start()
        return consumer

    # -- faults ---------------------------------------------------------------------------
    def _pick(self, conn: FakeConnection | None) -> FakeConnection:
        if conn is not None:
            return conn
        live = self.open_connections()
        if not live:
            raise LookupError("the fake Zoom has no open connection to act on")
        return live[-1]

    async def close(
        self, conn: FakeConnection | None = None, code: int = 1011, reason: str = ""
    ) -> FakeConnection:
        """Close a connection with a close frame carrying `code` and `reason`."""
        c = self._pick(conn)
        await c.close(code, reason, "close")
        return c

    async def cut(self, conn: FakeConnection | None = None) -> FakeConnection:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        c = self._pick(conn)
        c.cut()
        with contextlib.suppress(TimeoutError):
            await c.wait_closed(2)
        return c

    def go_silent(self, conn: FakeConnection | None = None) -> FakeConnection:
        """Stop answering heartbeats and sending anything on this connection (it stays open)."""
        c = self._pick(conn)
        c.silent = True
        return c

    async def send_invalid_token(
        self,
        conn: FakeConnection | None = None,
        wording: str = INVALID_TOKEN,
        module: str = "heartbeat",
        code: int = CLOSE_REFUSED,
        *,
        success: bool | None = False,
        close: bool = True,
    ) -> FakeConnection:
        """Send a frame saying the token is invalid (`success` false, true, or None: no
        "success" key; Zoom has sent each, in several modules), then close unless told not to."""
        c = self._pick(conn)
        await self._invalid_token(c, wording, module, code, success, close)
        return c

    async def _invalid_token(
        self,
        c: FakeConnection,
        wording: str,
        module: str,
        code: int,
        success: bool | None = False,
        close: bool = True,
    ) -> None:
        await c.send_envelope(module, success, wording, force=True)  # even on a silent connection
        if close:
            await c.close(code, wording, "invalid_token")

    async def send_malformed(
        self, conn: FakeConnection | None = None, kind: str = "not_json", size: int | None = None
    ) -> FakeConnection:
        """Send one malformed frame of the given kind (see `malformed_frame`)."""
        c = self._pick(conn)
        await c.send_raw(malformed_frame(kind, size))
        return c

    def expire_tokens(self) -> None:
        """Every token issued so far is invalid from now on: new connections are refused and
        open ones get an invalid-token frame at their next heartbeat (if check_token_on_heartbeat)."""
        self.issuer.expire_all()

    def oauth_fault(
        self, kind: str, retry_after: float | None = None, times: int = 1, delay: float = 2.0
    ) -> None:
        """Answer the next `times` token requests with a fault: "429" (with Retry-After when
        given), "500", "503", "slow" (the right answer after `delay` s) or "drop" (no answer)."""
        self.issuer.add_fault(kind, retry_after=retry_after, times=times, delay=delay)

    def clear_oauth_faults(self) -> None:
        self.issuer.clear_faults()

    def answer_build_connection(
        self, frame: str | bytes, *, accept: bool = False, times: int = 1
    ) -> None:
        """The next `times` connections get `frame`, verbatim, as their build_connection
        answer (an odd or hostile one).  With `accept` the fake then serves the connection
        as accepted (events, heartbeats); without, it closes it with 1008, as after a refusal."""
        self._build_answers.extend([(frame, accept)] * times)

    # -- the WebSocket ----------------------------------------------------------------------
    def _check_path(self, ws: ServerConnection, request: WsRequest) -> WsResponse | None:
        if urlsplit(request.path).path != WS_PATH:
            return ws.respond(404, "Not Found\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # set once the handshake is done, before the handler runs
        query = parse_qs(urlsplit(ws.request.path).query, keep_blank_values=True)
        subscription = query.get("subscriptionId", [""])[-1]
        token = query.get("access_token", [""])[-1]
        conn = FakeConnection(
            len(self.connections) + 1,
            ws,
            subscription,
            record_events=self.record_events,
            on_activity=self._active,
        )
        conn.consumer = query.get(CONSUMER_QUERY, [None])[-1]
        self.connections.append(conn)
        self._active()
        if self._build_answers:
            frame, accept = self._build_answers.popleft()
            if accept:
                self._displace(conn)
            await conn.send_raw(frame)
            if not accept:
                conn.refused_reason = "played"
                await conn.close(CLOSE_REFUSED, "", "refused")
                return
            await self._accept(conn, token)
            return
        refusal = self._refusal(subscription, token)
        if refusal is not None:
            conn.refused_reason = refusal
            await conn.send_envelope("build_connection", False, refusal)
            await conn.close(CLOSE_REFUSED, refusal, "refused")
            return
        self._displace(conn)
        if not await conn.send_envelope("build_connection", True, f"session-{conn.id:06d}"):
            return
        await self._accept(conn, token)

    def _displace(self, conn: FakeConnection) -> None:
        """One connection per subscription: the new one closes the old."""
        if self.one_connection_per_subscription:
            for old in self.open_connections():
                if old.subscription_id == conn.subscription_id:
                    self._spawn(old.close(CLOSE_DISPLACED, REASON_DISPLACED, "displaced"))

    async def _accept(self, conn: FakeConnection, token: str) -> None:
        """Serve a connection whose build_connection answer has gone out."""
        conn.accepted = True
        self._accepted.append(conn)
        self._accepted_changed.set()
        self._active()
        if self._pump is not None:
            self._pump.connection_opened()
        with contextlib.suppress(ConnectionClosed):
            await self._serve_client(conn, token)
        self._active()  # it ended

    def _refusal(self, subscription: str, token: str) -> str | None:
        if not token:
            return TOKEN_EMPTY
        if not self.issuer.is_valid(token):
            return INVALID_TOKEN
        if subscription != self.credentials.subscription_id:
            return UNKNOWN_SUBSCRIPTION
        return None

    async def _serve_client(self, conn: FakeConnection, token: str) -> None:
        ws = conn.ws
        while True:
            try:
                async with asyncio.timeout(self.idle_timeout):
                    data = await ws.recv()
            except TimeoutError:
                await conn.close(CLOSE_IDLE, REASON_IDLE, "idle")
                return
            if not is_heartbeat(data):
                conn.other_frames_received += 1
                conn.activity()
                continue
            conn.heartbeats_received += 1
            conn.activity()
            if conn.silent:
                continue
            if self.check_token_on_heartbeat and not self.issuer.is_valid(token):
                await self._invalid_token(
                    conn, INVALID_TOKEN, _HEARTBEAT_ANSWER_MODULE, CLOSE_REFUSED
                )
                return
            if self.heartbeat_answer is not None:
                if await conn.send_raw(self.heartbeat_answer):
                    conn.heartbeats_answered += 1
            elif await conn.send_envelope(_HEARTBEAT_ANSWER_MODULE, True, "live"):
                conn.heartbeats_answered += 1

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- scenario -------------------------------------------------------------------------
    def _pump_targets(self) -> list[FakeConnection]:
        return [c for c in self._accepted if c.open and not c.silent]

    def _make_pump(self) -> Pump:
        rate = None if self.rate == "max" else float(self.rate)
        source = FrameSource(self._scenario_events(rate), limit=self.events)
        return Pump(source, rate, self._pump_targets, self._active, self.truth.handed)

    def _scenario_events(self, rate: float | None) -> Iterator[dict | str]:
        return play_scenario(
            self.scenario,
            self.seed,
            self.clock,
            self.samples_dir,
            rate,
            MAX_RATE_SPACING,
            bounded=self.events is not None,
        )


def _ws_logger() -> logging.Logger:
    """The websockets server's logger: at DEBUG, websockets logs the request line, which holds
    the access token. The fake never logs the tokens it issues, so its records are redacted."""
    logger = logging.getLogger("zoomtui.fakezoom.ws")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
