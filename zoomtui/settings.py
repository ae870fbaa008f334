"""What a connection needs, resolved from options, environment, keyring and profile.

`ConnectionSettings` is the one value passed from the front ends (TUI, tail,
doctor, login) to the token provider and the connection.  It never holds the
secret unwrapped, and its repr never shows it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from zoomtui.redaction import Secret

ZOOM_OAUTH_URL = "https://zoom.us/oauth/token"
ZOOM_WS_URL = "wss://ws.zoom.us/ws"

#: environment variables (the fake server prints the same names as `export` lines)
ENV_ACCOUNT_ID = "ZOOM_ACCOUNT_ID"
ENV_CLIENT_ID = "ZOOM_CLIENT_ID"
ENV_CLIENT_SECRET = "ZOOM_CLIENT_SECRET"
ENV_SUBSCRIPTION_ID = "ZOOM_SUBSCRIPTION_ID"
ENV_OAUTH_URL = "ZOOMTUI_OAUTH_URL"
ENV_WS_URL = "ZOOMTUI_WS_URL"
ENV_PROFILE = "ZOOMTUI_PROFILE"


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
    return is_loopback_host(urlsplit(url).hostname or "")


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    account_id: str
    client_id: str
    client_secret: Secret
    subscription_id: str
    oauth_url: str = ZOOM_OAUTH_URL
    ws_url: str = ZOOM_WS_URL
    profile: str = "default"
    #: seconds between our heartbeats (Zoom's samples use 30 s)
    heartbeat_interval: float = 30.0
    #: frames larger than this are refused as malformed
    max_frame_bytes: int = 1 << 20
    #: allow ws:// and http:// to a non-loopback host
    insecure_transport: bool = False
    #: where each value came from: field name -> "option", "env ZOOM_CLIENT_ID", "keyring", "profile work", "default"
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def replace(self, **changes) -> ConnectionSettings:
        return dataclasses.replace(self, **changes)

    def check_transport(self) -> None:
        """Refuse cleartext transport to a non-loopback host unless explicitly allowed."""
        check_transport(self.oauth_url, self.ws_url, insecure=self.insecure_transport)


def check_transport(oauth_url: str, ws_url: str, *, insecure: bool = False) -> None:
    """https:// and wss:// (certificates verified) for any host but this machine's own;
    http:// and ws:// elsewhere only with `insecure`.  Raises `SettingsError` saying why.

    The token request carries the client secret (Basic auth) and the WebSocket URL carries
    the access token (query string): in clear text, anyone on the path could read both.
    """
    for label, url, secure in (("OAuth URL", oauth_url, "https"), ("WebSocket URL", ws_url, "wss")):
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https", "ws", "wss"):
            raise SettingsError(f"The {label} {url!r} is not an http(s)/ws(s) URL.")
        if insecure or scheme == secure or is_loopback(url):
            continue
        raise SettingsError(
            f"The {label} uses {scheme}:// to a non-loopback host ({urlsplit(url).hostname}); "
            f"credentials would cross the network in clear text. Use {secure}:// "
            "or pass --insecure-transport if you really mean it."
        )
