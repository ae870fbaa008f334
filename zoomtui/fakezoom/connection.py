"""One WebSocket connection to the fake, as seen and steered by the fake.

`FakeConnection` is what tests inspect (`frames_sent`, `sent_events`,
`heartbeats_answered`, `close_code`) and what the faults act on.  It keeps no
copy of the access token (the underlying `ws.request.path` still holds the URL:
never log it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from zoomtui.zoom.protocol import envelope_frame


class TextBytes(bytes):
    """Bytes sent as a text frame exactly as they are (websockets sends `bytes` as a binary
    frame): how the fake plays a server whose text frames are not valid UTF-8."""


class FakeConnection:
    """A client connection: accepted (build_connection success) or refused."""

    def __init__(
        self,
        id: int,
        ws: ServerConnection,
        subscription_id: str,
        record_events: bool = True,
        on_activity: Callable[[], None] | None = None,
    ) -> None:
        self.id = id  # 1, 2, ... per fake, so a seeded run is the same wherever it runs
        self.ws = ws
        self.subscription_id = subscription_id
        self.accepted = False
        #: the `content` of a refusing build_connection frame
        self.refused_reason: str | None = None
        self.frames_sent = 0
        #: content JSON strings of the `message` frames sent, in order (scenario and inject)
        self.sent_events: list[str] = []
        self.heartbeats_answered = 0
        self.heartbeats_received = 0
        self.other_frames_received = 0
        self.silent = False
        #: which fault ended it, when one did: "close", "cut", "invalid_token", "displaced", ...
        self.ended_by: str | None = None
        #: who opened it: None for a client under test, else the tag of the fake's own
        #: production consumer (`zoomtui.fakezoom.consumer`) that did
        self.consumer: str | None = None
        self._record = record_events
        #: told whenever a frame is sent or received here (the fake's `wait_until`)
        self._on_activity = on_activity

    def activity(self) -> None:
        """A frame went out or came in: whoever waits on the fake looks again."""
        if self._on_activity is not None:
            self._on_activity()

    # -- state --------------------------------------------------------------------
    @property
    def open(self) -> bool:
        return self.ws.state is State.OPEN

    @property
    def close_code(self) -> int | None:
        """The close code (None while open; 1006 when TCP went away without a close frame)."""
        return self.ws.close_code

    @property
    def close_reason(self) -> str | None:
        return self.ws.close_reason

    async def wait_closed(self, timeout: float | None = 5) -> None:
        async with asyncio.timeout(timeout):
            await self.ws.wait_closed()

    # -- sending --------------------------------------------------------------------
    async def send_raw(self, data: str | bytes, *, force: bool = False) -> bool:
        """Send one frame verbatim. False when the connection is closed, or silent (unless
        `force`: a fault played on purpose on a silent connection)."""
        if (self.silent and not force) or not self.open:
            return False
        try:
            if data.__class__ is TextBytes:
                await self.ws.send(data, text=True)
            else:
                await self.ws.send(data)
        except ConnectionClosed:
            return False
        self.frames_sent += 1
        self.activity()
        return True

    async def send_event(self, content: str, frame: str) -> bool:
        """Send a prepared `message` frame, remembering its content string."""
        if not await self.send_raw(frame):
            return False
        if self._record:
            self.sent_events.append(content)
        return True

    def record_sent(self, prepared: list[tuple[str, str]]) -> None:
        """Remember the contents of `message` frames sent in bulk (see schedule.send_chunk)."""
        if self._record:
            self.sent_events.extend(content for content, _frame in prepared)

    async def send_envelope(
        self, module: str, success: bool | None, content: object, *, force: bool = False
    ) -> bool:
        """An envelope; `success` None leaves the key out (Zoom has sent such frames)."""
        if success is None:
            frame = orjson.dumps({"module": module, "content": content, "header": {}}).decode()
        else:
            frame = envelope_frame(module, success, content)
        return await self.send_raw(frame, force=force)

    async def close(self, code: int, reason: str, ended_by: str) -> None:
        if self.ended_by is None:
            self.ended_by = ended_by
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close(code, reason)

    def cut(self) -> None:
        """Drop TCP with no close frame: the client sees 1006."""
        if self.ended_by is None:
            self.ended_by = "cut"
        self.ws.transport.abort()

    def __repr__(self) -> str:
        state = "open" if self.open else f"closed {self.close_code}"
        kind = "accepted" if self.accepted else f"refused {self.refused_reason!r}"
        return f"<FakeConnection #{self.id} {kind} {state} frames={self.frames_sent}>"


def is_heartbeat(data: str | bytes) -> bool:
    """Whether a client frame is Zoom's heartbeat request."""
    try:
        msg = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return isinstance(msg, dict) and msg.get("module") == "heartbeat"
