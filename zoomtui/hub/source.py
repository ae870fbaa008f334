"""The hub's stream as an `UpdateSource`: what the viewers (`tail --hub`, `replay --hub`, the
monitor with `--hub`) read instead of a Zoom connection.

`HubSource` reads the subscriptions' subjects (`zoom.>`, or one subscription's) through an
ordered consumer (JetStream's in-order, gap-detecting push consumer: no state on the server
to clean up), from `since` (by the server's time of each message) or from now on, and yields
each message decoded (`wire.decode`): the events exactly as the collector received them,
and the collector's link as the collector reported it (states, gaps, heartbeats).  With
`until` it stops at the first message stored at or after it (a replay of a window);
without, it goes on live.  With `filter_subjects` (`subjectfilter.server_filter`) the server
sends only the messages under those subjects; a server that refuses them (one older than
JetStream 2.10) is read in full, and `filtered` says which it was.

This process's own link to the hub is another matter: `link` holds its last change and
`on_link` hears each (connected, disconnected and reconnecting, closed).  A hub that cannot
be reached or refuses the credentials ends `updates()` with `error` set (its `HubError`
kind in `error_kind`), and yields nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import time
from collections.abc import AsyncIterator
from typing import Any

from zoomtui.hub.client import HubError, LinkCallback, LinkChange, connect_hub
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.subjects import ROOT, subscription_of
from zoomtui.hub.wire import decode
from zoomtui.redaction import redact
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import Update

#: how often a viewer looks for the stream before any collector has made it (seconds)
STREAM_LOOK = 1.0


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Take a left read's outcome, so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


class HubSource:
    """Updates from the hub's stream in [since, until), in the order they were stored."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        since: float | None = None,
        until: float | None = None,
        subject: str = f"{ROOT}.>",
        filter_subjects: tuple[str, ...] = (),
        on_link: LinkCallback | None = None,
    ) -> None:
        self.settings = settings
        self.since = since
        self.until = until
        self.subject = subject
        self.filter_subjects = filter_subjects
        #: whether the server sends only `filter_subjects` (False: the whole of `subject`)
        self.filtered = False
        self.on_link = on_link
        #: this process's own link to the hub, as last changed (None: not tried yet)
        self.link: LinkChange | None = None
        #: why the hub could not be read ("" while it can), and the `HubError` kind
        self.error = ""
        self.error_kind = ""
        #: messages the consumer delivered, and whether the stored ones are all in (what
        #: follows is live)
        self.received = 0
        self.caught_up = asyncio.Event()
        self.closed = False
        self._closing = asyncio.Event()
        self._nc: Any = None

    def _link(self, change: LinkChange) -> None:
        self.link = change
        if self.on_link is not None:
            self.on_link(change)

    async def updates(self) -> AsyncIterator[Update]:
        try:
            nc = await connect_hub(self.settings, self._link)
        except HubError as exc:
            self.error, self.error_kind = str(exc), exc.kind
            self._link(LinkChange("closed", self.error))
            return
        self._nc = nc
        try:
            sub = await self._subscribe(nc.jetstream())
            if sub is None:
                return
            async for update in self._read(sub):
                yield update
        finally:
            self.caught_up.set()
            with contextlib.suppress(Exception):
                await nc.close()

    async def _subscribe(self, js: Any) -> Any:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        if self.since is None:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        else:
            start = _dt.datetime.fromtimestamp(self.since, _dt.UTC)
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start
            )
        if not await self._stream_there(js):
            return None
        try:
            sub = await self._consumer(js, config)
            info = await sub.consumer_info()
            # Nothing left to send, and nothing sent yet (the server may already have pushed
            # the whole window to us, which also leaves nothing pending).
            pending = info.num_pending or (info.delivered.consumer_seq if info.delivered else 0)
            # (a server older than 2.10 ignores filter_subjects, and sends everything)
            self.filtered = self.filtered and bool(info.config.filter_subjects)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - JetStream refused the consumer
            self.error = f"The hub at {self.settings.url} cannot be read: {redact(str(exc))}"
            self.error_kind = "jetstream"
            self._link(LinkChange("closed", self.error))
            return None
        if not pending:
            self.caught_up.set()
            if self.until is not None:  # nothing stored in the window, and no live part
                return None
        return sub

    async def _consumer(self, js: Any, config: Any) -> Any:
        """The ordered consumer: of `filter_subjects` when there are some and the server
        takes them, else of all of `subject` (the viewer filters what arrives either way)."""
        if self.filter_subjects:
            config.filter_subjects = list(self.filter_subjects)
            try:
                sub = await js.subscribe(
                    self.subject, stream=self.settings.stream, ordered_consumer=True, config=config
                )
                self.filtered = True
                return sub
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - say it, and read everything
                self._link(
                    LinkChange(
                        "connected",
                        f"the hub does not filter on the server ({redact(str(exc))}): every "
                        "event is read and filtered here",
                    )
                )
            config.filter_subjects = None
            config.filter_subject = None
            config.deliver_subject = None
        return await js.subscribe(
            self.subject, stream=self.settings.stream, ordered_consumer=True, config=config
        )

    async def _stream_there(self, js: Any) -> bool:
        """Wait (looking once a second) until a collector has made the stream; False when
        closed first, or when the hub has no JetStream at all."""
        from nats.js.errors import NotFoundError, ServiceUnavailableError

        said = False
        while not self._closing.is_set():
            try:
                await js.stream_info(self.settings.stream)
                return True
            except asyncio.CancelledError:
                raise
            except NotFoundError:
                if not said:
                    said = True
                    self._link(
                        LinkChange(
                            "connected",
                            "no collector has published to this hub yet: waiting for one "
                            "(`zoomtui collect --hub ...`)",
                        )
                    )
            except (ServiceUnavailableError, Exception) as exc:  # noqa: BLE001
                self.error = (
                    f"The hub at {self.settings.url} cannot be read ({redact(str(exc))}): is "
                    "JetStream enabled there (`nats-server -js`)?"
                )
                self.error_kind = "jetstream"
                self._link(LinkChange("closed", self.error))
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), STREAM_LOOK)
        return False

    async def _read(self, sub: Any) -> AsyncIterator[Update]:
        until = self.until
        messages = sub.messages.__aiter__()
        closing = asyncio.ensure_future(self._closing.wait())
        nxt: asyncio.Future[Any] | None = None
        try:
            while True:
                nxt = asyncio.ensure_future(messages.__anext__())
                done, _ = await asyncio.wait({nxt, closing}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    return
                try:
                    msg = nxt.result()
                except StopAsyncIteration:
                    return
                meta = msg.metadata
                stored_at = meta.timestamp.timestamp() if meta is not None else time.time()
                if until is not None and stored_at >= until:
                    return
                self.received += 1
                update = decode(msg.data, msg.headers, stored_at)
                if type(update) is ZoomEvent:  # which of the hub's subscriptions (`sub:`)
                    update.subscription_id = subscription_of(msg.subject)
                yield update
                if meta is not None and meta.num_pending == 0:
                    self.caught_up.set()
                    if until is not None:
                        return
        finally:
            closing.cancel()
            if nxt is not None:  # a read left waiting (closed, or the reader stopped reading)
                nxt.cancel()
                nxt.add_done_callback(_retrieved)  # it may end closed rather than cancelled

    # -- the UpdateSource calls (a hub cannot be connected to or left by a viewer's key) --
    def request_connect(self) -> None:
        return

    def request_disconnect(self) -> None:
        return

    def request_reconnect(self) -> None:
        return

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._closing.set()
        nc = self._nc
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()
