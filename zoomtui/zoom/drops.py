"""Why a link ended or never opened, in the words a person reads.

A link ends in one of two ways: we close it with a reason chosen first (a `Drop`: the
user's action, a dead link, an invalid token), or it closes under us and
`classify_close` reads the close frames.  `open_error_reason` words a failed opening.
Every text that may hold something from the network goes through `redact()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from zoomtui.redaction import redact
from zoomtui.timefmt import duration_short
from zoomtui.zoom.protocol import MalformedFrame
from zoomtui.zoom.zoomsocket import NoBuildConnection

# One logger for the whole connection, whichever of its modules speaks.
log = logging.getLogger("zoomtui.zoom.connection")


@dataclass(slots=True)
class Drop:
    """Why the open socket is being closed by us (set before we close it)."""

    reason: str
    immediate: bool = False  # reconnect without backoff
    refresh_token: bool = False
    gap_start: float | None = None  # when events may have started to be lost
    invalid_token: bool = False
    #: the server closed a healthy link as Zoom does when another consumer connects
    displaced: bool = False
    #: the close code and reason (`close_text`), when the server closed the link
    close: str = ""


def close_text(exc: ConnectionClosed) -> str:
    """The close code and reason, `1006` when no close frame came either way."""
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "1006"
    return f"{int(frame.code)}: {redact(frame.reason)}" if frame.reason else f"{int(frame.code)}"


#: close codes that name trouble on the server's side (going away, internal error, service
#: restart, try again later, bad gateway): such a close is not another consumer's doing
SERVER_TROUBLE_CODES = frozenset({1001, 1011, 1012, 1013, 1014})
DISPLACED_TEXT = "possibly displaced by another connection on this subscription"


def classify_close(
    exc: ConnectionClosed | None,
    *,
    ws_max_size: int,
    clock: Callable[[], float],
    healthy: Callable[[], bool],
) -> tuple[Drop, MalformedFrame | None]:
    """Why a link we did not close ended, and the malformed-frame report when it was an
    oversize frame.  `healthy()`: heartbeats answered on time (asked only when it matters)."""
    if exc is None:
        return Drop("the connection ended"), None
    sent, rcvd = exc.sent, exc.rcvd
    if sent is not None and sent.code == 1009 and not exc.rcvd_then_sent:
        bad = MalformedFrame(
            raw=b"",
            received_at=clock(),
            reason=f"frame over {ws_max_size:,} bytes: too large to receive",
        )
        return Drop(f"Zoom sent a frame over {ws_max_size:,} bytes; reconnecting"), bad
    if rcvd is None:
        return Drop(f"connection lost without a close frame ({close_text(exc)})"), None
    close = close_text(exc)
    text = f"server closed the connection ({close})"
    # A healthy link closed on purpose by the server: 1000, or any code without a reason,
    # unless the code itself names trouble on the server's side (1001 "going away" is a
    # server shutting down or restarting, 1011-1014 an error or a restart: not another
    # consumer).  Zoom documents no close codes, so this is what the symptom looks like.
    if (
        healthy()
        and rcvd.code not in SERVER_TROUBLE_CODES
        and (rcvd.code == 1000 or not rcvd.reason)
    ):
        return Drop(f"{text}; {DISPLACED_TEXT}", displaced=True, close=close), None
    return Drop(text, close=close), None


def open_error_reason(exc: BaseException, host: str) -> str:
    """Why opening the WebSocket to `host` failed, in plain words."""
    if isinstance(exc, NoBuildConnection):
        return f"no build_connection answer from {host} within {duration_short(exc.seconds)}"
    if isinstance(exc, ConnectionClosed):
        return f"{host} closed the connection before build_connection ({close_text(exc)})"
    if isinstance(exc, InvalidStatus):
        return f"{host} refused the WebSocket handshake (HTTP {exc.response.status_code})"
    if isinstance(exc, TimeoutError):
        return f"the WebSocket handshake with {host} timed out"
    if isinstance(exc, InvalidURI):
        return f"the WebSocket URL is not valid ({host})"
    if isinstance(exc, InvalidHandshake):
        return f"the WebSocket handshake with {host} failed: {redact(exc)}"
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        return f"could not connect to {host}: {redact(what)}"
    log.debug("connect failed: %s", redact(f"{type(exc).__name__}: {exc}"))
    return f"could not connect to {host} ({type(exc).__name__})"
