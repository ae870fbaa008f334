"""The WebSocket to Zoom: opening it (handshake, then build_connection) and closing it.

`ZoomSocket` hands over every message as the bytes that came in; `parse_received` reads
one.  `open_socket` and `wait_for_build_connection` are the two halves of opening a
link; `close_quietly` is the one way a socket is closed politely.  The token is put in
the URL here, at the last moment (`url_with_token`), and never logged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Opcode

from zoomtui import __version__
from zoomtui.redaction import HeldSecrets
from zoomtui.settings import ConnectionSettings, is_loopback_host
from zoomtui.zoom.auth import Token
from zoomtui.zoom.protocol import (
    KIND_BUILD_CONNECTION,
    KIND_INVALID_TOKEN,
    Envelope,
    Parsed,
    parse_frame,
    parse_text_frame,
)
from zoomtui.zoom.updates import Update

#: websockets closes the socket itself (code 1009) above its max_size; we let it accept
#: this much more than our own limit so an oversize frame becomes a MalformedFrame report
#: and the stream goes on.  Beyond it, the close is reported as a malformed frame too.
OVERSIZE_FACTOR = 4
USER_AGENT = f"zoomtui/{__version__}"


class ZoomSocket(ClientConnection):
    """The client connection, told to hand over every message as the bytes that came in
    (``recv(decode=False)``): a text frame's UTF-8 is parsed as it is, kept by the event and
    handed to the archive without being decoded and encoded again.  Taken that way, a
    binary frame would look like a text one, so this remembers which messages were binary
    (Zoom sends none; one that comes is shown as such, not parsed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = 0  # messages whose first frame has come in
        self.received = 0  # messages handed out before the receive loop (build_connection)
        self.binary: deque[int] = deque()  # the ordinals of those that are binary

    def process_event(self, event: Any) -> None:
        ClientConnection.process_event(self, event)
        op = getattr(event, "opcode", None)
        if op is _TEXT:
            self.started += 1
        elif op is _BINARY:
            self.started += 1
            self.binary.append(self.started)

    def was_binary(self, ordinal: int) -> bool:
        """Whether the `ordinal`-th message received (counting from 1) was binary.  Asked
        in order, and only while `binary` is not empty."""
        b = self.binary
        while b and b[0] < ordinal:
            b.popleft()
        if b and b[0] == ordinal:
            b.popleft()
            return True
        return False


_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY


def parse_received(ws: ZoomSocket, data: bytes, ordinal: int, now: float, max_bytes: int) -> Parsed:
    """A received message, text or (rarely) binary."""
    if ws.binary and ws.was_binary(ordinal):
        return parse_frame(data, now, max_bytes)
    return parse_text_frame(data, now, max_bytes)


@dataclass(slots=True)
class Refused:
    """Zoom answered the opening with invalid-token, or a build_connection that does not
    say `success: true`."""

    envelope: Envelope


class NoBuildConnection(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no build_connection within {seconds} s")
        self.seconds = seconds


def url_with_token(settings: ConnectionSettings, token: Token) -> str:
    """The WebSocket URL with the subscription and the token: built only to connect."""
    base = settings.ws_url
    query = urlencode(
        {
            "subscriptionId": settings.subscription_id,
            "access_token": token.access_token.reveal(),
        }
    )
    return f"{base}{'&' if '?' in base else '?'}{query}"


async def open_socket(
    url: str, *, max_size: int, open_timeout: float, close_timeout: float
) -> ZoomSocket:
    """The WebSocket handshake (no Zoom frame read yet)."""
    ws = await connect(
        url,
        # HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, as httpx does (a proxy
        # sees only CONNECT host:port; with wss:// the URL and its token stay in TLS).  Never
        # for this machine: a loopback ws:// carries the token in clear text, and a proxy
        # would take it off the machine.
        proxy=None if is_loopback_host(urlsplit(url).hostname or "") else True,
        ping_interval=None,  # Zoom uses its own heartbeat, not WebSocket pings
        max_size=max_size,
        open_timeout=open_timeout,
        close_timeout=close_timeout,
        user_agent_header=USER_AGENT,
        create_connection=ZoomSocket,
    )
    return ws  # type: ignore[return-value]  # create_connection makes it a ZoomSocket


async def wait_for_build_connection(
    ws: ZoomSocket,
    *,
    timeout: float,
    close_timeout: float,
    max_bytes: int,
    clock: Callable[[], float],
    take: Callable[[Parsed, float], Update | None],
    held: HeldSecrets | None = None,
) -> list[Update] | Refused:
    """Read frames until Zoom accepts (build_connection) or refuses the connection.

    Frames before the answer are kept, not lost: `take(item, received_at)` turns each into
    the update to hand out (or None), and the list of them is returned.  A frame that
    echoes a secret in `held` is masked first, as the receive loop does.  No answer within
    `timeout` raises `NoBuildConnection`; any other error aborts the socket.
    """
    early: list[Update] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                data = await ws.recv(False)
                now = clock()
                if held is not None and held.found_in(data):
                    data = held.scrub(data)
                ws.received += 1
                item = parse_received(ws, data, ws.received, now, max_bytes)
                if isinstance(item, Envelope):
                    # Only `success: true` accepts: an answer without it (content "Invalid
                    # subscriptionId") says no more than a refusal does.
                    if item.kind == KIND_INVALID_TOKEN or (
                        item.kind == KIND_BUILD_CONNECTION and item.success is not True
                    ):
                        await close_quietly(ws, close_timeout)
                        return Refused(item)
                    if item.kind == KIND_BUILD_CONNECTION:
                        return early
                out = take(item, now)
                if out is not None:
                    early.append(out)
    except TimeoutError:
        await close_quietly(ws, close_timeout)
        raise NoBuildConnection(timeout) from None
    except BaseException:
        ws.transport.abort()
        raise


async def close_quietly(ws: ClientConnection, close_timeout: float) -> None:
    """A polite close, bounded: a peer that does not answer gets its socket aborted."""
    try:
        async with asyncio.timeout(close_timeout + 0.5):
            await ws.close()
    except Exception:
        ws.transport.abort()
