"""Forwarding as a sink of the monitor session: live events that pass the filter go to the
`Forwarder`'s queue (history loaded on start is not forwarded: it was delivered, or not,
when it was live; `zoomtui resend` sends it again on purpose)."""

from __future__ import annotations

from collections.abc import Callable

from zoomtui.forward.forwarder import Forwarder
from zoomtui.monitor.session import SessionSink
from zoomtui.zoom.protocol import ZoomEvent


class ForwardSink(SessionSink):
    """Hands each live event that `matches` (None: every event) to `forwarder.submit`:
    a dictionary look-up and a queue append, never a wait."""

    def __init__(
        self, forwarder: Forwarder, matches: Callable[[ZoomEvent], bool] | None = None
    ) -> None:
        self.forwarder = forwarder
        self.matches = matches
        #: live events that passed the filter (queued, dropped or unrouted)
        self.seen = 0

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        if not live:
            return
        matches = self.matches
        if matches is not None and not matches(event):
            return
        self.seen += 1
        self.forwarder.submit(event)
