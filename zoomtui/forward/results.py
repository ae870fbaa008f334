"""What forwarding reports: one `Delivery` per attempt, and the counts (`ForwardStats`).

Values only (frozen, slotted): the front ends print them (`zoomtui forward`, `resend`),
the TUI marks rows and fills the inspector with them.  The request's headers hold the
signature (an HMAC of this one body, harmless to show), never the secret token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zoomtui.zoom.protocol import ZoomEvent

#: how much of a handler's answer is kept to show (the inspector's "first KB")
RESPONSE_KEEP = 1024


@dataclass(frozen=True, slots=True)
class SentRequest:
    """The request as it went out: Zoom's headers and the event's own bytes."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    #: the `x-zm-request-timestamp` it was signed with (Unix seconds)
    timestamp: int
    #: whether it carries `x-zm-signature` (False: `--unsigned`)
    signed: bool


@dataclass(frozen=True, slots=True)
class HandlerResponse:
    """What the handler answered: its status, headers and the first `RESPONSE_KEEP` bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    #: the handler said more than `body` holds
    truncated: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one event to its handler."""

    event_name: str
    url: str
    #: the handler answered 2xx (Zoom's only success)
    ok: bool
    #: the handler's HTTP status (None: it never answered)
    status: int | None
    #: why there is no answer ("" when there is one, whatever its status)
    error: str
    #: seconds from sending the request to the end of the answer kept
    latency: float
    #: seconds the event waited in the queue before this attempt
    waited: float
    #: 1 for the first delivery, 2.. for `--retry` attempts
    attempt: int
    #: seconds until the next attempt (None: none will follow)
    retry_in: float | None
    request: SentRequest
    response: HandlerResponse | None
    #: the event delivered (for a front end that marks its row); not compared or shown
    event: ZoomEvent | None = field(default=None, compare=False, repr=False)
    #: the request went out (False: failed at once, its handler refused a connection a
    #: moment ago; its `latency` is no time the handler took)
    sent: bool = True

    @property
    def outcome(self) -> str:
        """ "delivered" or "failed" (a word for a person and for JSON)."""
        return "delivered" if self.ok else "failed"

    @property
    def result_text(self) -> str:
        """The status and the time it took, or why there was none: `200 in 12 ms`."""
        if self.status is None:
            return self.error
        return f"{self.status} in {self.latency * 1000:.0f} ms"


@dataclass(frozen=True, slots=True)
class ForwardStats:
    """Where forwarding stands, for a status line or a panel."""

    #: events waiting for a free delivery slot
    queued: int
    #: the queue's bound
    queue_limit: int
    #: requests on their way now
    in_flight: int
    #: events delivered (2xx), attempts that failed, events not queued because it was full
    delivered: int
    failed: int
    dropped: int
    #: failed deliveries waiting for their `--retry` attempt
    retrying: int
    #: seconds the oldest queued event has waited (0: none waits)
    oldest_wait: float
