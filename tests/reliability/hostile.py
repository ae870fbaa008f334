"""A hostile token endpoint: a loopback HTTP server that answers as a broken or malicious
one would (any body, any header, one byte at a time, without end).  With
`trickled_websocket` it plays a WebSocket server that accepts the upgrade and sends
build_connection, each a byte at a time.

It runs in its own thread on blocking sockets, so async tests, sync tests and commands
that run their own event loop (`doctor`) can all point at it.  It records when each
request arrived (monotonic clock) and how many bytes its answers managed to write.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable

import orjson

#: an answer: writes to the socket for request number n (0-based); `stop` is set on close
Answer = Callable[[socket.socket, int, threading.Event], None]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_answer(body: Callable[[int], object], status: int = 200, **headers: str) -> Answer:
    """`body(n)` as JSON (bytes are sent as they are), with `headers` (underscores: dashes)."""

    def answer(conn: socket.socket, n: int, stop: threading.Event) -> None:
        value = body(n)
        data = value if isinstance(value, bytes) else orjson.dumps(value)
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        conn.sendall(
            _head(
                status,
                {
                    "Content-Type": "application/json",
                    "Content-Length": str(len(data)),
                    "Connection": "close",
                    **extra,
                },
            )
            + data
        )

    return answer


def drip(interval: float, total: float) -> Answer:
    """A valid-looking status line and headers, one byte every `interval`, for `total` s."""

    def answer(conn: socket.socket, n: int, stop: threading.Event) -> None:
        text = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 100_000
        end = time.monotonic() + total
        for byte in text:
            if stop.wait(interval) or time.monotonic() > end:
                return
            conn.sendall(bytes([byte]))

    return answer


def flood(size: int, *, declared: bool = True, gzipped: bool = False) -> Answer:
    """A 200 whose body is `size` bytes of one character (gzip-compressed on the wire when
    `gzipped`: a small download that inflates to `size`)."""

    def answer(conn: socket.socket, n: int, stop: threading.Event) -> None:
        headers = {"Content-Type": "application/json", "Connection": "close"}
        if gzipped:
            data = gzip.compress(b" " * size)
            headers.update({"Content-Encoding": "gzip", "Content-Length": str(len(data))})
            conn.sendall(_head(200, headers) + data)
            return
        if declared:
            headers["Content-Length"] = str(size)
        conn.sendall(_head(200, headers))
        chunk = b"a" * 65536
        left = size
        while left > 0 and not stop.is_set():
            piece = chunk[: min(left, len(chunk))]
            conn.sendall(piece)
            left -= len(piece)

    return answer


def trickled_websocket(handshake_seconds: float, frame_seconds: float, frame: bytes) -> Answer:
    """A WebSocket server that trickles: the 101 answer spread over `handshake_seconds`,
    then the text frame `frame` (build_connection) over `frame_seconds`, a byte at a time,
    then silence until the client goes."""
    import base64
    import hashlib

    def answer(conn: socket.socket, n: int, stop: threading.Event) -> None:
        head: bytes = conn.head  # type: ignore[attr-defined]
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()  # noqa: S324
        )
        upgrade = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        assert len(frame) < 126
        for data, seconds in (
            (upgrade, handshake_seconds),
            (bytes([0x81, len(frame)]) + frame, frame_seconds),
        ):
            for byte in data:
                if stop.wait(seconds / len(data)):
                    return
                conn.sendall(bytes([byte]))
        stop.wait(30)

    return answer


class HostileEndpoint:
    """`answer` plays every request; `url` is the token URL, `arrivals` the monotonic time
    each request was read, `sent` the bytes answers wrote (counted as they go)."""

    def __init__(self, answer: Answer, host: str = "127.0.0.1") -> None:
        self.answer = answer
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.arrivals: list[float] = []
        self.request_lines: list[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/oauth/token"

    def __enter__(self) -> HostileEndpoint:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        counting = _Counting(conn, self)
        with contextlib.closing(conn), contextlib.suppress(OSError):
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            top, _, body = head.partition(b"\r\n\r\n")
            counting.head = top
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in top.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                data = conn.recv(4096)
                if not data:
                    break
                body += data
            with self._lock:
                n = len(self.arrivals)
                self.arrivals.append(time.monotonic())
                self.request_lines.append(top.split(b"\r\n", 1)[0].decode("latin-1"))
            self.answer(counting, n, self._stop)  # type: ignore[arg-type]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests."""
        a = self.arrivals
        return [b - x for x, b in zip(a, a[1:], strict=False)]


class _Counting:
    """The connection as an answer sees it: `sendall` counts what really left."""

    def __init__(self, conn: socket.socket, owner: HostileEndpoint) -> None:
        self._conn = conn
        self._owner = owner
        self.head = b""  # the request line and headers

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._conn.send(view)
            self._owner.sent += n
            view = view[n:]


class RecordingProxy:
    """A listener on 127.0.0.1 to name as HTTP(S)_PROXY / ALL_PROXY: it records each request
    line it is sent and answers 502, so a client that used it notices and a test can tell."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._endpoint = HostileEndpoint(self._refuse)

    def _refuse(self, conn: socket.socket, n: int, stop: threading.Event) -> None:
        self.seen.append(self._endpoint.request_lines[n])
        conn.sendall(_head(502, {"Content-Length": "0", "Connection": "close"}))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._endpoint.port}"

    def __enter__(self) -> RecordingProxy:
        self._endpoint.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._endpoint.__exit__(*exc)
