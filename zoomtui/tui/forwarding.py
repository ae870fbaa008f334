"""Forwarding in the monitor (`zoomtui --forward-to URL`): each live event to its webhook
handler, signed as Zoom signs, with the result on the event's row, the request and the
answer in the inspector, and the counts in the panel.

The `Forwarder` (zoomtui.forward: a bounded queue, a few workers over one httpx client)
runs on the app's own event loop, and `ForwardSink` hands it each live event from the
session: a queue append, never a wait, so a slow or dead handler never slows the log.
Each attempt comes back as a `Delivery` on the same loop; what the rows and the
inspector show is kept here, bounded: a small mark for the newest `MARKS_KEPT` events,
the whole request and answer for the newest `DELIVERIES_KEPT`.  The event list repaints
at most every `REPAINT_INTERVAL` because of them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoomtui.forward import Delivery, Forwarder, ForwardOptions, ForwardSink
from zoomtui.timefmt import duration_compact
from zoomtui.zoom.protocol import ZoomEvent

if TYPE_CHECKING:
    import httpx

    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.widgets.connection_panel import Figure

#: events whose mark (queued, the status, an error) is kept for their rows
MARKS_KEPT = 20_000
#: deliveries kept whole (request and answer) for the inspector: the newest ones
DELIVERIES_KEPT = 1_000
#: the event list is repainted at most this often because marks changed (seconds)
REPAINT_INTERVAL = 0.2
#: seconds quitting waits for the answers to requests already sent to a handler
QUIT_GRACE = 1.0
#: the panel says how long the oldest queued event has waited once it is this long
#: (a handler that keeps up takes each event within milliseconds)
OLDEST_SHOWN = 1.0


@dataclass(frozen=True, slots=True)
class Mark:
    """What a forwarded row shows: `→200`, `→500`, `→ERR`, `→…` (queued), `→full`."""

    text: str
    #: a theme style key
    style: str


QUEUED = Mark("→…", "$text-muted")
DROPPED = Mark("→full", "$text-warning")


def mark_for(delivery: Delivery) -> Mark:
    """The row's mark for the latest attempt: the status, or ERR when nothing answered."""
    if delivery.status is None:
        return Mark("→ERR", "$text-error")
    return Mark(f"→{delivery.status}", "$text-success" if delivery.ok else "$text-error")


class _Sink(ForwardSink):
    """`ForwardSink` that also remembers which events it queued and which it dropped."""

    def __init__(self, forwarding: TuiForwarding, forwarder: Forwarder) -> None:
        super().__init__(forwarder)
        self.forwarding = forwarding

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        if not live:
            return
        self.seen += 1
        forwarder = self.forwarder
        dropped = forwarder.dropped
        if forwarder.submit(event):
            self.forwarding.set_mark(event, QUEUED)
        elif forwarder.dropped != dropped:
            self.forwarding.set_mark(event, DROPPED)


class TuiForwarding:
    """The app's forwarder and what it delivered; `enabled` False without `--forward-to`."""

    def __init__(self, app: ZoomtuiApp, options: ForwardOptions | None) -> None:
        self.app = app
        self.options = options
        self.forwarder: Forwarder | None = None
        self._client: httpx.AsyncClient | None = None
        #: id(event) -> (the event, its mark): the event is held so its id stays its own
        self._marks: OrderedDict[int, tuple[ZoomEvent, Mark]] = OrderedDict()
        self._deliveries: OrderedDict[int, Delivery] = OrderedDict()
        #: id(event) -> how many times it was sent (a resend is one more)
        self._sent: dict[int, int] = {}
        self._dirty = False
        #: called with each delivery (the inspector showing its event listens)
        self.listeners: list[Callable[[Delivery], None]] = []
        if options is None:
            return
        make_client = app.options.forward_client
        #: a client from the options, closed here (the forwarder closes only its own)
        self._client = make_client() if make_client is not None else None
        self.forwarder = Forwarder(
            options,
            on_result=self._delivered,
            client=self._client,
            clock=app.options.clocks.monotonic,
            # (never a replay's recorded time: a request is signed with the time it is sent)
            wall_clock=app.options.clocks.wall,
        )
        app.session.subscribe(_Sink(self, self.forwarder))

    @property
    def enabled(self) -> bool:
        return self.forwarder is not None

    # -- life ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers on the app's loop (events queued before wait for them)."""
        if self.forwarder is None:
            return
        self.app.run_worker(self.forwarder.start(), group="forward", exit_on_error=False)
        self.app.set_interval(REPAINT_INTERVAL, self._repaint, name="forward-marks")
        self.app.main.event_view.show_marks(self.mark_of)
        self.app.main.panel.more_figures = self.figures

    async def aclose(self) -> None:
        if self.forwarder is not None:
            # quitting stays quick: a second for the answers already on their way
            await self.forwarder.aclose(grace=QUIT_GRACE)
        if self._client is not None:
            await self._client.aclose()

    # -- what the rows, the inspector and the panel show -----------------------------------
    def mark_of(self, row: object) -> Mark | None:
        found = self._marks.get(id(row))
        return found[1] if found is not None and found[0] is row else None

    def delivery_of(self, event: ZoomEvent) -> Delivery | None:
        """The latest attempt for `event`, while it is kept whole (None: none, or forgotten)."""
        delivery = self._deliveries.get(id(event))
        return delivery if delivery is not None and delivery.event is event else None

    def sent_count(self, event: ZoomEvent) -> int:
        return self._sent.get(id(event), 0) if self.mark_of(event) is not None else 0

    def figures(self, now: float) -> list[Figure]:
        """The panel's `fwd` figure: delivered, failed, queued (with the oldest wait once
        the handler falls behind) and dropped so far."""
        from zoomtui.tui.widgets.connection_panel import Figure

        if self.forwarder is None:
            return []
        st = self.forwarder.stats()
        parts = [f"{st.delivered:,} ok"]
        if st.failed:
            parts.append(f"{st.failed:,} failed")
        waiting = st.queued + st.in_flight
        if waiting:
            parts.append(f"{waiting:,} queued")
        # a handler that cannot keep up: how long the oldest event has waited for it
        backed_up = st.oldest_wait >= OLDEST_SHOWN
        if backed_up:
            parts.append(f"oldest {duration_compact(st.oldest_wait)}")
        if st.dropped:
            parts.append(f"{st.dropped:,} dropped")
        trouble = bool(st.failed or st.dropped or backed_up)
        style = "$text-warning" if trouble else ""
        # what went wrong stays on the narrowest panel; all is well gives way early
        return [Figure("fwd", " ".join(parts), style, 0 if trouble else 5)]

    # -- resend ---------------------------------------------------------------------------
    def resend(self, event: ZoomEvent) -> str | None:
        """Queue `event` again (signed afresh when it goes); None when queued, else why not."""
        forwarder = self.forwarder
        if forwarder is None:
            return "Forwarding is off: start the monitor with --forward-to URL."
        if forwarder.url_for(event.name) is None:
            return "No --forward-to route takes this event."
        if not forwarder.submit(event):
            return "The forwarding queue is full: try again in a moment."
        self.set_mark(event, QUEUED)
        return None

    # -- bookkeeping ----------------------------------------------------------------------
    def set_mark(self, event: ZoomEvent, mark: Mark) -> None:
        key = id(event)
        marks = self._marks
        if key in marks and marks[key][0] is not event:  # an id reused: a new event
            self._forget(key)
        marks[key] = (event, mark)
        marks.move_to_end(key)
        if mark is QUEUED:
            self._sent[key] = self._sent.get(key, 0) + 1
        while len(marks) > MARKS_KEPT:
            self._forget(next(iter(marks)))
        self._dirty = True

    def _forget(self, key: int) -> None:
        self._marks.pop(key, None)
        self._deliveries.pop(key, None)
        self._sent.pop(key, None)

    def _delivered(self, delivery: Delivery) -> None:
        event = delivery.event
        if event is not None:
            self.set_mark(event, mark_for(delivery))
            key = id(event)
            deliveries = self._deliveries
            deliveries[key] = delivery
            deliveries.move_to_end(key)
            while len(deliveries) > DELIVERIES_KEPT:
                deliveries.popitem(last=False)
        for listener in list(self.listeners):
            listener(delivery)

    def _repaint(self) -> None:
        if not self._dirty or self.app.exiting:
            return
        self._dirty = False
        self.app.main.event_view.show_marks(self.mark_of)  # (the rows on screen drawn again)
        self.app.main.panel.refresh_status()
