"""What a connection needs, resolved from options, environment, keyring and profile.

`ConnectionSettings` is the one value passed from the front ends (TUI, tail,
doctor, login) to the token provider and the connection.  It never holds the
secret unwrapped, and its repr never shows it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from zoomtui.redaction import Secret, mask_id, redact

#: the two ways to get a token (PROTOCOL.md section 1): a Server-to-Server OAuth app's
#: account token (with the account id), or an app-level token (no account id)
GRANT_ACCOUNT = "account_credentials"
GRANT_CLIENT = "client_credentials"
GRANTS = (GRANT_ACCOUNT, GRANT_CLIENT)


@dataclass(frozen=True, slots=True)
class CloudHosts:
    """Where one Zoom cloud lives.  `ws_url` None: no WebSocket host is documented for that
    cloud, so the endpoint URL shown on the subscription's page is the only truth."""

    oauth_url: str
    api_url: str
    ws_url: str | None


#: the one place for Zoom's hosts (PROTOCOL.md section 1); a `cloud` setting picks one, and
#: an explicit URL setting wins over it.  Read at call time: tests point a cloud at the fake.
CLOUDS: dict[str, CloudHosts] = {
    "zoom": CloudHosts(
        oauth_url="https://zoom.us/oauth/token",
        api_url="https://api.zoom.us",
        ws_url="wss://ws.zoom.us/ws",
    ),
    "gov": CloudHosts(
        oauth_url="https://zoomgov.com/oauth/token",
        api_url="https://api.zoomgov.com",
        ws_url=None,
    ),
}
DEFAULT_CLOUD = "zoom"
ZOOM_OAUTH_URL = CLOUDS[DEFAULT_CLOUD].oauth_url
ZOOM_WS_URL = CLOUDS[DEFAULT_CLOUD].ws_url or ""
ZOOM_API_URL = CLOUDS[DEFAULT_CLOUD].api_url
#: the query parameter of Zoom's endpoint URL that names the subscription
SUBSCRIPTION_PARAM = "subscriptionId"

#: environment variables (the fake server prints the same names as `export` lines)
ENV_ACCOUNT_ID = "ZOOM_ACCOUNT_ID"
ENV_CLIENT_ID = "ZOOM_CLIENT_ID"
ENV_CLIENT_SECRET = "ZOOM_CLIENT_SECRET"
ENV_SUBSCRIPTION_ID = "ZOOM_SUBSCRIPTION_ID"
#: the webhook secret token `zoomtui forward` signs with (not the OAuth client secret)
ENV_WEBHOOK_SECRET_TOKEN = "ZOOM_WEBHOOK_SECRET_TOKEN"
ENV_OAUTH_URL = "ZOOMTUI_OAUTH_URL"
ENV_WS_URL = "ZOOMTUI_WS_URL"
ENV_API_URL = "ZOOMTUI_API_URL"
ENV_GRANT = "ZOOMTUI_GRANT"
ENV_CLOUD = "ZOOMTUI_CLOUD"
ENV_PROFILE = "ZOOMTUI_PROFILE"
#: "1"/"true" allows cleartext for this run, as --insecure-transport does (never a profile)
ENV_INSECURE_TRANSPORT = "ZOOMTUI_INSECURE_TRANSPORT"
URL_SCHEMES = ("http", "https", "ws", "wss")

#: what `on_displaced` allows, in words (the config file's and the flag's error messages)
ON_DISPLACED_ALLOWED = (
    "wait, retake, or retake after a duration from 1s to 24h (e.g. 'retake after 10m')"
)
_RETAKE_AFTER = re.compile(r"retake\s+after\s+(.+)", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhd]\s*)+", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: a retake wait shorter than this is a fight with extra steps; longer, and nobody remembers
RETAKE_AFTER_RANGE = (1.0, 86400.0)


class SettingsError(Exception):
    """Settings are missing or wrong. The message says what to set and where."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1, ::ffff:127.x.y.z).

    Only literals count: a name like ``127.example.com`` resolves wherever its owner says.
    """
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def is_loopback(url: str) -> bool:
    try:
        return is_loopback_host(urlsplit(url).hostname or "")
    except ValueError:  # not a URL at all: certainly not this machine
        return False


def _shown(value: str) -> str:
    text = redact(repr(value))
    return text if len(text) <= 120 else text[:117] + "..."


def check_url(label: str, url: str) -> None:
    """A URL zoomtui can connect to: http(s) or ws(s), a host, a port from 1 to 65535.
    Raises `SettingsError` naming the value (a URL that does not parse would otherwise
    raise from deep inside a library, or be retried for ever)."""
    if not isinstance(url, str):
        raise SettingsError(f"The {label} must be text, not {type(url).__name__}.")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise SettingsError(
            f"The {label} {_shown(url)} is not a valid URL (it holds a space or a control "
            "character)."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"The {label} {_shown(url)} is not a valid URL ({exc}).") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        raise SettingsError(f"The {label} {_shown(url)} is not an http(s)/ws(s) URL.")
    if not parts.hostname:
        raise SettingsError(f"The {label} {_shown(url)} has no host.")
    if port == 0:
        raise SettingsError(f"The {label} {_shown(url)} is not a valid URL (port 0).")


def cloud_hosts(cloud: str) -> CloudHosts:
    """The hosts of `cloud` ("zoom" or "gov"); `SettingsError` for any other name."""
    hosts = CLOUDS.get(cloud) if isinstance(cloud, str) else None
    if hosts is None:
        raise SettingsError(f"cloud must be one of {', '.join(CLOUDS)}, not {_shown(cloud)}.")
    return hosts


def no_ws_host_message(cloud: str) -> str:
    return (
        f"No WebSocket endpoint is known for the {cloud} cloud: paste the endpoint URL shown "
        "on your event subscription's page (wss://...?subscriptionId=...) with --ws-url, "
        f"{ENV_WS_URL} or `zoomtui login`."
    )


def split_endpoint(url: str) -> tuple[str, str | None]:
    """Zoom's endpoint URL as the subscription's page shows it
    (`wss://ws.zoom.us/ws?subscriptionId=...`): the URL to connect to, without the
    subscription, and the subscription id it names (None when it names none).

    An `access_token` pasted along is dropped (it is never stored); other parameters stay.
    Two different subscription ids in one URL are a `SettingsError`."""
    check_url("WebSocket URL", url)
    parts = urlsplit(url)
    if not parts.query:
        return url, None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    named = {v.strip() for k, v in pairs if k == SUBSCRIPTION_PARAM and v.strip()}
    if len(named) > 1:
        raise SettingsError(
            f"The WebSocket URL names {len(named)} different subscription ids; paste the "
            "endpoint URL of one subscription."
        )
    rest = [(k, v) for k, v in pairs if k not in (SUBSCRIPTION_PARAM, "access_token")]
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return base, (named.pop() if named else None)


def subscription_mismatch(typed: str, from_url: str) -> SettingsError:
    return SettingsError(
        f"The subscription id {mask_id(typed, fingerprint=True)} does not match the one in "
        f"the endpoint URL ({mask_id(from_url, fingerprint=True)}). Leave the subscription id "
        "empty to use the URL's, or paste the endpoint URL of that subscription."
    )


def endpoint_and_subscription(ws_url: str, subscription_id: str) -> tuple[str, str]:
    """The WebSocket URL without a subscription in it, and the subscription id: the typed
    one, else the URL's.  A typed id that differs from the URL's is a `SettingsError`."""
    base, from_url = split_endpoint(ws_url)
    typed = (subscription_id or "").strip()
    if from_url is None:
        return base, typed
    if typed and typed != from_url:
        raise subscription_mismatch(typed, from_url)
    return base, from_url


@dataclass(frozen=True, slots=True)
class DisplacedPolicy:
    """What the connection does once another consumer of the subscription has displaced it
    (Zoom allows one connection per subscription, PROTOCOL.md section 2).

    `wait` (the default): nothing until a person connects again, since reconnecting would
    knock the other consumer (usually the production integration) off in turn.  `retake`:
    reconnect with the usual backoff (it grows while the two fight).  `retake after 10m`:
    wait that long, then retake."""

    retake: bool = False
    #: seconds to wait before retaking (0: with the usual backoff); only with `retake`
    after: float = 0.0

    @property
    def text(self) -> str:
        """As a person writes it (`on_displaced = "retake after 10m"`)."""
        if not self.retake:
            return "wait"
        return f"retake after {_duration_text(self.after)}" if self.after else "retake"


def _duration_text(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


def parse_on_displaced(text: object) -> DisplacedPolicy:
    """`wait`, `retake` or `retake after <duration>` (30s, 10m, 1h30m) as a policy.  Raises
    `ValueError` saying what is allowed (`ON_DISPLACED_ALLOWED`)."""
    if not isinstance(text, str):
        raise ValueError(f"{ON_DISPLACED_ALLOWED}, not {type(text).__name__}")
    words = " ".join(text.split()).lower()
    if words == "wait":
        return DisplacedPolicy()
    if words == "retake":
        return DisplacedPolicy(retake=True)
    m = _RETAKE_AFTER.fullmatch(words) if len(words) <= 64 else None
    if m is not None and _DURATION.fullmatch(m.group(1)):
        after = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(m.group(1)))
        low, high = RETAKE_AFTER_RANGE
        if low <= after <= high:
            return DisplacedPolicy(retake=True, after=after)
    raise ValueError(f"{ON_DISPLACED_ALLOWED}, not {_shown(text)}")


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Empty `oauth_url`, `ws_url`, `api_url`: the cloud's.  A `ws_url` with
    `?subscriptionId=...` (Zoom's endpoint URL, pasted) gives the subscription id."""

    account_id: str
    client_id: str
    client_secret: Secret
    subscription_id: str
    oauth_url: str = ""
    ws_url: str = ""
    profile: str = "default"
    #: seconds between our heartbeats (Zoom's samples use 30 s)
    heartbeat_interval: float = 30.0
    #: frames larger than this are refused as malformed
    max_frame_bytes: int = 1 << 20
    #: allow ws:// and http:// to a non-loopback host
    insecure_transport: bool = False
    #: how the token is asked for: GRANT_ACCOUNT (needs account_id) or GRANT_CLIENT
    grant: str = GRANT_ACCOUNT
    #: which Zoom cloud (CLOUDS) gives the default hosts
    cloud: str = DEFAULT_CLOUD
    #: the REST API's base URL (hydration's; when not set, the token answer's, else the cloud's)
    api_url: str = ""
    #: share the access token with this profile's other zoomtui processes through the OS
    #: keyring (False: within this process only, as for the fake Zoom's worthless tokens)
    keyring_token: bool = True
    #: after another consumer displaced the connection: wait, retake, retake after <duration>
    on_displaced: str = "wait"
    #: ask Zoom's Dashboard API who is in each live meeting at the start and after each gap
    hydrate: bool = True
    #: where each value came from: field name -> "option", "env ZOOM_CLIENT_ID", "keyring", "profile work", "default"
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # What no connection can use is refused here, whichever front end built the value:
        # a malformed URL, or a heartbeat (nan, 0, below zero) that would spin or drop the link.
        if self.grant not in GRANTS:
            raise SettingsError(
                f"grant must be one of {', '.join(GRANTS)}, not {_shown(self.grant)}."
            )
        hosts = cloud_hosts(self.cloud)
        if not self.ws_url and hosts.ws_url is None:
            raise SettingsError(no_ws_host_message(self.cloud), missing=("ws_url",))
        ws_url, subscription = endpoint_and_subscription(
            self.ws_url or hosts.ws_url or "", self.subscription_id
        )
        # frozen: the defaults and the split endpoint are filled in once, here
        object.__setattr__(self, "ws_url", ws_url)
        object.__setattr__(self, "subscription_id", subscription)
        object.__setattr__(self, "oauth_url", self.oauth_url or hosts.oauth_url)
        object.__setattr__(self, "api_url", self.api_url or hosts.api_url)
        check_url("OAuth URL", self.oauth_url)
        check_url("API URL", self.api_url)
        hb = self.heartbeat_interval
        if (
            isinstance(hb, bool)
            or not isinstance(hb, int | float)
            or not math.isfinite(hb)
            or hb <= 0
        ):
            raise SettingsError(
                f"heartbeat_interval must be a number of seconds above 0, not {hb!r}."
            )
        size = self.max_frame_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise SettingsError(f"max_frame_bytes must be a whole number above 0, not {size!r}.")
        if not isinstance(self.hydrate, bool):
            raise SettingsError(f"hydrate must be true or false, not {_shown(str(self.hydrate))}.")
        try:
            parse_on_displaced(self.on_displaced)
        except ValueError as exc:
            raise SettingsError(f"on_displaced must be {exc}.") from None

    @property
    def displaced_policy(self) -> DisplacedPolicy:
        """`on_displaced` as the policy the connection follows."""
        return parse_on_displaced(self.on_displaced)

    def replace(self, **changes: Any) -> ConnectionSettings:
        return dataclasses.replace(self, **changes)

    def check_transport(self) -> None:
        """Refuse cleartext transport to a non-loopback host unless explicitly allowed."""
        check_transport(
            self.oauth_url, self.ws_url, insecure=self.insecure_transport, api_url=self.api_url
        )


def check_transport(
    oauth_url: str, ws_url: str, *, insecure: bool = False, api_url: str | None = None
) -> None:
    """https:// and wss:// (certificates verified) for any host but this machine's own;
    http:// and ws:// elsewhere only with `insecure`.  Raises `SettingsError` saying why.

    The token request carries the client secret (Basic auth), the WebSocket URL carries
    the access token (query string), and REST calls to the API URL will carry it too (a
    header): in clear text, anyone on the path could read them.
    """
    urls = [("OAuth URL", oauth_url, "https"), ("WebSocket URL", ws_url, "wss")]
    if api_url:
        urls.append(("API URL", api_url, "https"))
    for label, url, secure in urls:
        check_url(label, url)
        scheme = urlsplit(url).scheme.lower()
        if insecure or scheme == secure or is_loopback(url):
            continue
        raise SettingsError(
            f"The {label} uses {scheme}:// to a non-loopback host ({urlsplit(url).hostname}); "
            f"credentials would cross the network in clear text. Use {secure}:// "
            f"or pass --insecure-transport (or set {ENV_INSECURE_TRANSPORT}=1) for this run "
            "if you really mean it."
        )
