"""A real webhook handler on 127.0.0.1 for the forwarding tests.

`Handler` is the stdlib's `ThreadingHTTPServer` in a thread, so it shares nothing with
the code under test (no httpx, no asyncio).  It verifies every request with Zoom's
algorithm written here on its own (hashlib + hmac, as Zoom's sample does): the signature
over ``v0:{timestamp}:{body}`` with the secret token it knows.  What each path does:

- ``/ok`` (and any other path): 200 ``{"ok": true}``;
- ``/fail``: 500;
- ``/hang``: no answer until the test calls `release()` (a handler that never answers);
- ``/slow``: answers 200 after `slow_seconds` (the benchmark's 50 ms handler);
- ``/validate``: answers Zoom's URL-validation challenge with `validation_secret`.

`down_url()` is a URL on 127.0.0.1 where nothing listens (a handler that is down).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def zoom_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Zoom's ``x-zm-signature``, written independently of zoomtui.forward.signing."""
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Received:
    """One request the handler took in."""

    path: str
    headers: dict[str, str]
    body: bytes
    #: the signature verified with the handler's secret (False: wrong or missing)
    verified: bool
    at: float

    @property
    def timestamp(self) -> int:
        return int(self.headers["x-zm-request-timestamp"])


class Handler:
    """The handler's server, its record of requests, and how the tests wait on it."""

    def __init__(self, secret: str = "handler-secret-token-0001") -> None:
        self.secret = secret
        self.validation_secret = secret
        self.slow_seconds = 0.05
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_class())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Handler:
        try:
            self._loop = asyncio.get_running_loop()
            self._changed = asyncio.Event()
        except RuntimeError:
            self._loop = None
        self._thread.start()
        return self

    def release(self) -> None:
        """Let every hanging request (and any to come) answer."""
        self._released.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    async def __aenter__(self) -> Handler:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Handler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def wait_for(self, count: int, path: str | None = None) -> list[Received]:
        """Wait until `count` requests (to `path`, if given) are in; returns them."""
        from tests.waits import until

        assert self._changed is not None, "start the handler inside the test's loop"

        def got() -> list[Received]:
            with self._lock:
                return [r for r in self.received if path is None or r.path == path]

        await until(lambda: len(got()) >= count, self._changed, f"{count} requests to {path}")
        return got()

    def _took(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
        loop, changed = self._loop, self._changed
        if loop is not None and changed is not None:
            loop.call_soon_threadsafe(changed.set)

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        handler = self

        class Request(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ts = headers.get("x-zm-request-timestamp", "")
                expected = zoom_signature(handler.secret, ts, body)
                verified = hmac.compare_digest(headers.get("x-zm-signature", ""), expected)
                handler._took(Received(self.path, headers, body, verified, time.time()))
                handler._answer(self, body)

        return Request

    def _answer(self, req: BaseHTTPRequestHandler, body: bytes) -> None:
        path = req.path
        if path == "/hang":
            self._released.wait()
        elif path == "/slow":
            time.sleep(self.slow_seconds)
        if path == "/fail":
            _send(req, 500, b'{"error": "handler failed"}')
        elif path == "/validate":
            plain = json.loads(body)["payload"]["plainToken"]
            digest = hmac.new(self.validation_secret.encode(), plain.encode(), hashlib.sha256)
            answer = {"plainToken": plain, "encryptedToken": digest.hexdigest()}
            _send(req, 200, json.dumps(answer).encode())
        else:
            _send(req, 200, b'{"ok": true}')


def _send(req: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
    try:
        req.send_response(status)
        req.send_header("content-type", "application/json")
        req.send_header("content-length", str(len(payload)))
        req.end_headers()
        req.wfile.write(payload)
    except OSError:  # the client gave up (a timeout): nothing to answer
        pass


def down_url(path: str = "/ok") -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
