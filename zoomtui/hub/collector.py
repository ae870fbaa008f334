"""`zoomtui collect`: hold each subscription's Zoom connection only while holding its lease,
and publish everything it receives to the hub.

One `Collector` per process: one connection to the hub, one `SubscriptionCollector` per
subscription (profile).  Each subscription's collector loops:

1. **stand by** until it gets the subscription's lease (`Lease.try_acquire`, looked at
   a few times per time to live): another collector holds it, and Zoom allows one
   connection per subscription, so this one does not connect at all;
2. **hold**: connect to Zoom (a `ZoomConnection` driving a `MonitorSession` whose sinks
   are the `HubPublisher`, the archive, and the front end's own), renewing the lease a
   few times per time to live.  When it took over from a collector that stopped (or from
   nobody), the interval in which nothing was received — from the last thing the hub
   heard of the subscription to this connection — is recorded as a `Gap` with its length;
3. the lease is lost (renewal refused, or the hub unreachable for most of the time to
   live): close the Zoom connection before another collector may open one, and stand by
   again.

`stop()` is the polite end: close the Zoom connection, publish what is queued, release the
lease so a standby takes over at once.  A collector that is cancelled instead (a crash, a
kill) releases nothing: its standby takes over when the lease lapses.

Each event it receives carries its subscription as the hub names it (the subject's token,
`ZoomEvent.subscription_id`), as a viewer's do: its archive keeps it, so `sub:` finds
the same events in the collector's archive as in a viewer's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from zoomtui.hub.client import HubError, LinkCallback, connect_hub, ensure_stream, lease_bucket
from zoomtui.hub.lease import Lease, new_holder_id
from zoomtui.hub.publisher import HubPublisher
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.subjects import lease_key, subscription_of, subscription_prefix
from zoomtui.hub.wire import AT_HEADER
from zoomtui.monitor.session import MonitorSession, SessionSink
from zoomtui.redaction import redact
from zoomtui.settings import ConnectionSettings
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged

#: lease renewals and standby looks per time to live
RENEWALS_PER_TTL = 3
LOOKS_PER_TTL = 4
#: a holder that could not renew for this share of the time to live lets go of Zoom
GIVE_UP_SHARE = 0.75

Note = Callable[[str], None]


class SubscriptionCollector:
    """One subscription: standby, hold, publish (see the module's docstring)."""

    def __init__(
        self,
        hub: HubLink,
        settings: ConnectionSettings,
        *,
        note: Note = lambda text: None,
        sinks: list[SessionSink] | None = None,
        archive: Any = None,
        connection_kwargs: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        changed: asyncio.Event | None = None,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.note = note
        self.sinks = sinks or []
        self.archive = archive
        self.connection_kwargs = connection_kwargs or {}
        self.clock = clock
        self.prefix = subscription_prefix(settings.account_id, settings.subscription_id)
        self.lease = Lease(
            hub.kv,
            lease_key(settings.account_id, settings.subscription_id),
            hub.holder,
            clock=clock,
        )
        #: "standby", "holding", "stopped"
        self.state = "standby"
        #: the takeovers recorded (a gap each), the Zoom connections opened
        self.takeovers: list[Gap] = []
        self.connections = 0
        #: why it stopped for good (Zoom refused the settings ...), or ""
        self.failure = ""
        self.publisher: HubPublisher | None = None
        self.connection: Any = None
        self.session: MonitorSession | None = None
        #: set whenever `state` or the counters change (tests and front ends wait on it)
        self.changed = changed if changed is not None else asyncio.Event()
        self._stop = asyncio.Event()
        self._lost = False

    def _set(self, state: str) -> None:
        self.state = state
        self.changed.set()

    async def run(self) -> None:
        """Until `stop()` (or a failure Zoom will not get over): stand by, hold, repeat."""
        try:
            while not self._stop.is_set() and not self.failure:
                if await self._stand_by():
                    await self._hold()
        finally:
            if self._stop.is_set() or self.failure:
                with contextlib.suppress(Exception):  # the hub may be gone: the lease lapses
                    await self.lease.release()
            self._set("stopped")

    async def stop(self) -> None:
        """The polite end: the Zoom connection closed, the lease released (by `run`)."""
        self._stop.set()
        connection = self.connection
        if connection is not None:
            await connection.close()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _stand_by(self) -> bool:
        """Wait for the lease; True once held, False when stopped first."""
        said = ""
        while not self._stop.is_set():
            try:
                if await self.lease.try_acquire():
                    return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the hub's link: it reconnects by itself
                said = self._say_once(said, f"cannot reach the lease bucket: {redact(str(exc))}")
            else:
                other = self.lease.other
                holder = other.holder if other is not None else "another collector"
                said = self._say_once(said, f"standing by: {holder} holds the subscription")
            self._set("standby")
            await self._pause(self.hub.ttl / LOOKS_PER_TTL)
        return False

    def _say_once(self, said: str, text: str) -> str:
        if text != said:
            self.note(text)
        return text

    async def _last_heard(self) -> float | None:
        """When the hub last heard of this subscription (the collector's own clock, as it
        wrote it), or the lease's last renewal seen, whichever is later; None: never."""
        times: list[float] = []
        if self.lease.other is not None:
            times.append(self.lease.other.renewed_at)
        try:
            msg = await self.hub.js.get_last_msg(self.hub.settings.stream, f"{self.prefix}.>")
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - nothing there yet (NotFoundError) or not now
            msg = None
        if msg is not None:
            at = (msg.headers or {}).get(AT_HEADER)
            with contextlib.suppress(TypeError, ValueError, AttributeError):
                times.append(float(at) if at is not None else msg.time.timestamp())
        return max(times) if times else None

    def _takeover_reason(self) -> str:
        other = self.lease.other
        who = f"collector {other.holder}" if other is not None else "the last collector"
        return (
            f"no collector held the subscription ({who} stopped renewing its lease or "
            f"stopped); {self.hub.holder} took over"
        )

    async def _hold(self) -> None:
        from zoomtui.zoom.connection import ZoomConnection

        self._lost = False
        self._set("holding")
        self.note(f"holding the subscription's lease ({self.lease.key}); connecting to Zoom")
        gap_start = await self._last_heard()
        reason = self._takeover_reason()
        session = MonitorSession(clock=self.clock, subscription_id=self.settings.subscription_id)
        publisher = HubPublisher(self.hub.js, self.prefix)
        publisher.start()
        session.subscribe(publisher)
        for sink in self.sinks:
            session.subscribe(sink)
        if self.archive is not None:
            session.record_to(self.archive)
        self.session, self.publisher = session, publisher
        factory = self.connection_kwargs.get("factory") or ZoomConnection
        kwargs = {k: v for k, v in self.connection_kwargs.items() if k != "factory"}
        connection = factory(self.settings, **kwargs)
        self.connection = connection
        self.connections += 1
        self.changed.set()
        keeper = asyncio.get_running_loop().create_task(self._keep_lease(connection))
        subscription = subscription_of(f"{self.prefix}.x")  # what a viewer's events carry
        try:
            async for update in connection.updates():
                if type(update) is ZoomEvent:
                    update.subscription_id = subscription
                session.receive(update)
                if (
                    gap_start is not None
                    and type(update) is StateChanged
                    and update.state is ConnectionState.CONNECTED
                ):
                    gap = Gap(start=min(gap_start, update.at), end=update.at, reason=reason)
                    session.receive(gap)
                    self.takeovers.append(gap)
                    self.changed.set()
                    gap_start = None
        finally:
            keeper.cancel()
            await connection.close()
            self.connection = None
            await publisher.close()
        self._after_hold(connection)

    def _after_hold(self, connection: Any) -> None:
        if self._lost or self._stop.is_set():
            return
        failure = getattr(connection, "failure", None)
        if failure is not None:
            last = self.session.status.reason if self.session is not None else ""
            self.failure = redact(last) or f"the Zoom connection failed ({failure})"

    async def _keep_lease(self, connection: Any) -> None:
        """Renew the lease; when it is lost (or cannot be renewed in time), close the Zoom
        connection before another collector may open one."""
        ttl = self.hub.ttl
        last_ok = time.monotonic()
        while True:
            await asyncio.sleep(ttl / RENEWALS_PER_TTL)
            try:
                async with asyncio.timeout(ttl / RENEWALS_PER_TTL):
                    renewed: bool | None = await self.lease.renew()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - unknown: the hub may be back in time
                renewed = None
            if renewed:
                last_ok = time.monotonic()
                continue
            if renewed is False or time.monotonic() - last_ok > ttl * GIVE_UP_SHARE:
                self._lost = True
                self.lease.revision = None
                self.note("lost the subscription's lease: closing the Zoom connection")
                self._set("standby")
                await connection.close()
                return


class HubLink:
    """What every subscription's collector shares: the hub connection, JetStream, the
    lease bucket (and its time to live), and who this collector is."""

    def __init__(self, settings: HubSettings, nc: Any, js: Any, kv: Any, ttl: float) -> None:
        self.settings = settings
        self.nc, self.js, self.kv, self.ttl = nc, js, kv, ttl
        self.holder = new_holder_id()

    @classmethod
    async def open(cls, settings: HubSettings, link: LinkCallback | None = None) -> HubLink:
        nc = await connect_hub(settings, link)
        try:
            js = nc.jetstream()
            await ensure_stream(js, settings)
            kv, ttl = await lease_bucket(js, settings)
        except BaseException:
            await nc.close()
            raise
        return cls(settings, nc, js, kv, ttl)

    async def close(self) -> None:
        # close() sends what is buffered; drain() would also wait out (up to 30 s) the
        # subscriptions nats-py keeps for acknowledgements, for nothing: the publishers
        # have flushed.
        with contextlib.suppress(Exception):
            await self.nc.close()


__all__ = ["HubError", "HubLink", "SubscriptionCollector"]
