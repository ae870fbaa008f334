"""One connection to the hub: NATS with JetStream, the stream and the lease bucket in place.

`connect_hub(settings)` connects with the settings' credentials (TLS for `tls://`), and
turns every way that can fail into one `HubError` with plain words and what to do: a
refused password or token, a server that is not there, a server without JetStream.  The
NATS client's own error printing is replaced by `HubLink` callbacks, so a viewer and a
collector can say how their own link to the hub is doing.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zoomtui.hub.settings import HubSettings
from zoomtui.redaction import redact

log = logging.getLogger("zoomtui.hub")

#: seconds to wait for the hub to answer a connect, and a JetStream request
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 5.0


class HubError(Exception):
    """The hub cannot be used: `str()` says why and what to do.  `kind`: "credentials",
    "unreachable", "jetstream", "settings"."""

    def __init__(self, message: str, kind: str = "unreachable") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class LinkChange:
    """This process's own link to the hub changed (not a collector's link to Zoom)."""

    #: "connected", "disconnected" (the client reconnects by itself), "closed"
    state: str
    detail: str = ""


LinkCallback = Callable[[LinkChange], None]


def _explain(exc: BaseException, settings: HubSettings) -> HubError:
    text = redact(str(exc)) or type(exc).__name__
    lower = text.lower()
    if "authorization" in lower or "authentication" in lower or "permissions" in lower:
        return HubError(
            f"The hub at {settings.url} refused the credentials ({settings.auth_kind}): {text}. "
            "Check the user and password or the token (`zoomtui hub-login` keeps them in the "
            "keyring).",
            "credentials",
        )
    return HubError(
        f"Could not reach the hub at {settings.url}: {text}. Is nats-server running there "
        "with JetStream (`nats-server -js`)?",
        "unreachable",
    )


def _tls_context(settings: HubSettings) -> ssl.SSLContext | None:
    # Certificates verified, as for Zoom's own hosts: the system's trust store.
    return ssl.create_default_context() if settings.is_tls else None


def connect_options(settings: HubSettings, link: LinkCallback | None) -> dict[str, Any]:
    """The keyword arguments of `nats.connect` for these settings (secrets revealed here)."""

    def tell(change: LinkChange) -> None:
        if link is not None:
            link(change)

    async def disconnected() -> None:
        tell(LinkChange("disconnected", "the link to the hub dropped; reconnecting"))

    async def reconnected() -> None:
        tell(LinkChange("connected", "reconnected to the hub"))

    async def closed() -> None:
        tell(LinkChange("closed", "the link to the hub is closed"))

    async def error(exc: Exception) -> None:
        log.debug("hub client: %s", redact(str(exc)))

    options: dict[str, Any] = {
        "servers": [settings.url],
        "name": "zoomtui",
        "connect_timeout": CONNECT_TIMEOUT,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
        "closed_cb": closed,
        "error_cb": error,
    }
    tls = _tls_context(settings)
    if tls is not None:
        options["tls"] = tls
        options["tls_hostname"] = settings.host
    if settings.creds_file:
        options["user_credentials"] = settings.creds_file
    elif settings.user:
        options["user"] = settings.user
        options["password"] = settings.password.reveal() if settings.password else ""
    elif settings.token:
        options["token"] = settings.token.reveal()
    return options


async def connect_hub(settings: HubSettings, link: LinkCallback | None = None) -> Any:
    """A NATS client connected to the hub (`HubError` when it cannot be).  The first attempt
    is the only one: a refused password must be said, not retried for ever; once connected,
    the client reconnects by itself."""
    import nats

    settings.check_transport()
    client: list[Any] = []  # the client, once connected

    def relay(change: LinkChange) -> None:
        # nats-py calls "disconnected" on a close asked for too: not a drop ("closed" follows)
        if change.state == "disconnected" and client and client[0].is_closed:
            return
        if link is not None:
            link(change)

    options = connect_options(settings, relay)
    # The probe tells nobody of its link: its closing is not the hub's link dropping.
    probe = connect_options(settings, None) | {"allow_reconnect": False}
    try:
        nc = await nats.connect(**probe)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every way to fail, said in words
        raise _explain(exc, settings) from None
    await nc.close()
    # Known good: now with reconnects on (nats-py decides them at connect time).
    try:
        nc = await nats.connect(**options)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _explain(exc, settings) from None
    client.append(nc)
    if link is not None:
        link(LinkChange("connected", f"connected to the hub at {settings.url}"))
    return nc


async def ensure_stream(js: Any, settings: HubSettings) -> None:
    """The stream every collector publishes to, with the settings' age and size (updated
    when they changed: the collector that starts last sets them)."""
    from nats.js.api import DiscardPolicy, StorageType, StreamConfig

    config = StreamConfig(
        name=settings.stream,
        subjects=["zoom.>"],
        max_age=settings.max_age,
        max_bytes=settings.max_bytes,
        duplicate_window=settings.duplicate_window,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
    )
    try:
        await js.add_stream(config)
    except Exception as exc:  # noqa: BLE001 - exists with other limits: update it
        from nats.js.errors import BadRequestError

        if not isinstance(exc, BadRequestError):
            raise _jetstream(exc, settings) from None
        try:
            await js.update_stream(config)
        except Exception as again:  # noqa: BLE001
            raise _jetstream(again, settings) from None


def _jetstream(exc: BaseException, settings: HubSettings) -> HubError:
    return HubError(
        f"The hub at {settings.url} did not set up its stream: {redact(str(exc))}. Is "
        "JetStream enabled there (`nats-server -js`)?",
        "jetstream",
    )


async def lease_bucket(js: Any, settings: HubSettings) -> tuple[Any, float]:
    """The key-value bucket of subscription leases, and how long an entry lives there
    unless renewed: the settings' `lease_ttl`, or the bucket's own when another collector
    made it with another (every collector must renew within the same time)."""
    from nats.js.api import KeyValueConfig
    from nats.js.errors import BadRequestError

    try:
        kv = await js.create_key_value(
            KeyValueConfig(bucket=settings.lease_bucket, ttl=settings.lease_ttl, history=1)
        )
        return kv, settings.lease_ttl
    except BadRequestError:  # there already, with another time to live: that one rules
        pass
    except Exception as exc:  # noqa: BLE001
        raise _jetstream(exc, settings) from None
    try:
        kv = await js.key_value(settings.lease_bucket)
        info = await js.stream_info(f"KV_{settings.lease_bucket}")
    except Exception as exc:  # noqa: BLE001
        raise _jetstream(exc, settings) from None
    ttl = info.config.max_age or settings.lease_ttl
    log.warning("the lease bucket's time to live is %g s (not %g s)", ttl, settings.lease_ttl)
    return kv, float(ttl)
