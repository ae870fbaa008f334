"""Where the team hub is and how to reach it: one frozen value, every field checked.

`HubSettings` says which NATS server (`nats://` or `tls://`), with which credentials (a
token, a user and password, or a creds file's path: the secrets wrapped in `Secret`), and
the shape of what the collector keeps there: the stream's maximum age and size, JetStream's
duplicate window, and the subscription lease's time to live.

Cleartext follows Zoom's rule (`zoomtui.settings.check_transport`): `nats://` only to this
machine's own loopback, unless `insecure_transport` says so for this run; anywhere else the
hub must be `tls://` (certificates verified), since the hub's credentials and every event
would otherwise cross the network in clear text.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from zoomtui.redaction import Secret, redact
from zoomtui.settings import SettingsError, is_loopback_host

HUB_SCHEMES = ("nats", "tls")
DEFAULT_PORT = 4222
#: the stream every collector publishes to, and the bucket of subscription leases
STREAM_NAME = "ZOOMTUI"
LEASE_BUCKET = "zoomtui-leases"
#: a week of events, as the issue asks; a person can keep more or less
DEFAULT_MAX_AGE = 7 * 86400.0
#: -1: no size limit beyond the age (the server's own store limit still applies)
DEFAULT_MAX_BYTES = -1
#: JetStream's duplicate window: a republish of a frame within it is dropped (a collector's
#: takeover overlaps by at most a lease's time to live)
DEFAULT_DUPLICATE_WINDOW = 120.0
#: a collector that stops renewing loses its subscription to a standby after this long
DEFAULT_LEASE_TTL = 15.0
#: a shorter lease would be renewed more often than a loaded machine can promise
MIN_LEASE_TTL = 0.5
#: environment variables (the credentials: for CI and containers, as ZOOM_CLIENT_SECRET)
ENV_HUB_URL = "ZOOMTUI_HUB"
ENV_HUB_TOKEN = "ZOOMTUI_HUB_TOKEN"
ENV_HUB_USER = "ZOOMTUI_HUB_USER"
ENV_HUB_PASSWORD = "ZOOMTUI_HUB_PASSWORD"
ENV_HUB_CREDS = "ZOOMTUI_HUB_CREDS"
ENV_HUB_INSECURE = "ZOOMTUI_HUB_INSECURE_TRANSPORT"


def _seconds(name: str, value: object, *, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        number = math.nan
    else:
        number = float(value)
    if not math.isfinite(number) or number < low:
        raise SettingsError(
            f"{name} must be a number of seconds of at least {low:g}, not {value!r}."
        )
    return number


def check_hub_url(url: object) -> None:
    """A URL a hub can be reached at: nats:// or tls://, a host, a port 1-65535, nothing
    else (a user or password in it would land in shell history: they go to the keyring)."""
    if not isinstance(url, str) or not url:
        raise SettingsError("The hub URL must be text such as nats://127.0.0.1:4222.")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise SettingsError("The hub URL holds a space or a control character.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"The hub URL {redact(url)!r} is not a valid URL ({exc}).") from None
    if parts.scheme.lower() not in HUB_SCHEMES:
        raise SettingsError(f"The hub URL {redact(url)!r} must start with nats:// or tls:// (TLS).")
    if not parts.hostname:
        raise SettingsError(f"The hub URL {redact(url)!r} has no host.")
    if port == 0:
        raise SettingsError(f"The hub URL {redact(url)!r} has port 0.")
    if parts.username or parts.password:
        raise SettingsError(
            "The hub URL holds credentials: keep them in the keyring (`zoomtui hub-login`) "
            f"or in {ENV_HUB_USER}/{ENV_HUB_PASSWORD} or {ENV_HUB_TOKEN}, never in the URL."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"The hub URL {redact(url)!r} must be only a scheme, host and port.")


def hub_key(url: str) -> str:
    """The hub's name in the keyring: `host:port`, lower case (the scheme may change)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or DEFAULT_PORT}"


@dataclass(frozen=True, slots=True)
class HubSettings:
    url: str
    token: Secret | None = None
    user: str = ""
    password: Secret | None = None
    #: a NATS creds file (a user JWT and NKey seed): its path, never its content
    creds_file: str = ""
    #: allow nats:// to a host that is not this machine's loopback
    insecure_transport: bool = False
    max_age: float = DEFAULT_MAX_AGE
    max_bytes: int = DEFAULT_MAX_BYTES
    duplicate_window: float = DEFAULT_DUPLICATE_WINDOW
    lease_ttl: float = DEFAULT_LEASE_TTL
    stream: str = STREAM_NAME
    lease_bucket: str = LEASE_BUCKET
    #: where each credential came from ("keyring", "env ZOOMTUI_HUB_TOKEN", ...), for messages
    sources: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        check_hub_url(self.url)
        _seconds("The stream's max age", self.max_age, low=1.0)
        size = self.max_bytes
        if isinstance(size, bool) or not isinstance(size, int) or not (size == -1 or size >= 1024):
            raise SettingsError(
                f"The stream's max size must be -1 (no limit) or at least 1024 bytes, not {size!r}."
            )
        window = _seconds("The duplicate window", self.duplicate_window, low=0.1)
        if window > self.max_age:
            raise SettingsError(
                f"The duplicate window ({window:g} s) cannot be longer than the stream's max age "
                f"({self.max_age:g} s)."
            )
        _seconds("The lease's time to live", self.lease_ttl, low=MIN_LEASE_TTL)
        if self.user and self.token:
            raise SettingsError("Give the hub a token or a user and password, not both.")
        if self.user and not self.password:
            raise SettingsError(f"The hub user {self.user!r} needs a password.")

    @property
    def is_tls(self) -> bool:
        return urlsplit(self.url).scheme.lower() == "tls"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def key(self) -> str:
        return hub_key(self.url)

    @property
    def auth_kind(self) -> str:
        """How the hub is told who we are, in words for messages."""
        if self.creds_file:
            return "a creds file"
        if self.user:
            return "a user and password"
        return "a token" if self.token else "no credentials"

    def check_transport(self) -> None:
        """tls:// anywhere; nats:// only to loopback unless allowed (Zoom's rule)."""
        if self.is_tls or self.insecure_transport or is_loopback_host(self.host):
            return
        raise SettingsError(
            f"The hub URL uses nats:// to a non-loopback host ({self.host}): the hub's "
            "credentials and every event would cross the network in clear text. Use tls:// "
            f"or pass --hub-insecure-transport (or set {ENV_HUB_INSECURE}=1) for this run if "
            "you really mean it."
        )

    def replace(self, **changes: Any) -> HubSettings:
        return dataclasses.replace(self, **changes)
