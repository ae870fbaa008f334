"""A minimal HTTP/1.1 server on asyncio streams, enough for one token endpoint.

It keeps the fake on one event loop (no thread, no new dependency) and
understands exactly what an OAuth client sends: a request line, headers, a
body with Content-Length, keep-alive.  Anything else gets a 400 and the
connection is closed.  Requests go to one async handler that returns a
`Response`; the handler can also ask to drop the connection without an
answer (a network-error fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
#: how long stop() lets open connections end by themselves before cancelling them
STOP_GRACE = 1.0

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(slots=True)
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-cased names; repeated headers keep the last value
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: close the TCP connection without writing anything (simulates a network error)
    drop: bool = False


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None  # clean end of a keep-alive connection
        raise BadRequest("truncated request head") from None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest("bad request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest("not HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("bad header line")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked bodies are not supported here")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest("bad Content-Length") from None
    if length < 0 or length > MAX_BODY_BYTES:
        raise BadRequest("body too large")
    body = await reader.readexactly(length) if length else b""
    return Request(method=method, target=target, headers=headers, body=body)


def _encode(resp: Response, keep_alive: bool) -> bytes:
    head = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Unknown')}"]
    headers = {
        "Date": email.utils.formatdate(usegmt=True),
        "Content-Length": str(len(resp.body)),
        "Connection": "keep-alive" if keep_alive else "close",
        **resp.headers,
    }
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body


class HttpServer:
    """Serve `handler` on host:port. `start()` binds (port 0 = any free port)."""

    def __init__(self, handler: Handler, host: str, port: int) -> None:
        self._handler = handler
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEADER_BYTES, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for w in list(self._writers):  # idle keep-alive connections would hold wait_closed
            w.transport.abort()
        # Wait for the connection handlers to see their connection end: one left running
        # would be cancelled by asyncio.run at exit, and Python 3.11 then prints the
        # CancelledError as an "unhandled exception in client_connected_cb".
        if self._handlers:
            _, late = await asyncio.wait(set(self._handlers), timeout=STOP_GRACE)
            for task in late:  # e.g. a "slow" fault still sleeping
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            while True:
                try:
                    req = await _read_request(reader)
                except BadRequest as exc:
                    writer.write(_encode(Response(400, str(exc).encode()), keep_alive=False))
                    break
                if req is None:
                    break
                resp = await self._handler(req)
                if resp.drop:
                    writer.transport.abort()
                    return
                keep = req.headers.get("connection", "").lower() != "close"
                writer.write(_encode(resp, keep_alive=keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only shutdown cancels a handler, and nothing awaits it but asyncio's own
            # callback (which on 3.11 reports a cancelled handler as an error): the
            # connection simply ends.
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
