"""Where each event goes: `--to 'glob=URL'` routes, first match wins, a bare URL for the rest.

A handler URL follows the connection's transport rule (`settings.check_transport`):
https:// (certificates verified) to any host, plain http:// only to this machine's own
loopback addresses unless the user allows cleartext for this run (`--insecure-transport`
or ZOOMTUI_INSECURE_TRANSPORT=1).  A webhook carries the signed event, the meeting and
who was in it: on the network in clear text anyone on the path could read it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from zoomtui.settings import ENV_INSECURE_TRANSPORT, SettingsError, check_url, is_loopback

#: what `--to` looks like, for messages
ROUTE_FORMS = "URL, or 'GLOB=URL' (e.g. 'meeting.participant_*=http://localhost:3000/p')"


class RouteError(ValueError):
    """A `--to` value that is no route, or a handler URL the transport rule refuses."""


@dataclass(frozen=True, slots=True)
class Route:
    """Events whose name matches `pattern` (a shell glob; "*" for every event) go to `url`."""

    pattern: str
    url: str

    def matches(self, event_name: str) -> bool:
        return self.pattern == "*" or fnmatch.fnmatchcase(event_name, self.pattern)


def check_handler_url(url: str, *, insecure: bool = False) -> str:
    """`url` if it is an http(s) URL the transport rule allows; else `RouteError` saying why."""
    try:
        check_url("handler URL", url)
    except SettingsError as exc:
        raise RouteError(str(exc)) from None
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise RouteError(f"The handler URL {url!r} is not an http:// or https:// URL.")
    if scheme == "http" and not insecure and not is_loopback(url):
        raise RouteError(
            f"The handler URL {url!r} uses http:// to a non-loopback host "
            f"({urlsplit(url).hostname}); the signed events would cross the network in clear "
            f"text. Use https://, or pass --insecure-transport (or set "
            f"{ENV_INSECURE_TRANSPORT}=1) for this run if you really mean it."
        )
    return url


# A glob, then "=", then a URL: the "=" before "://" is the separator (a URL's query may
# hold more "=" signs, a glob never holds "://").
_ROUTE = re.compile(r"(?P<glob>[^=]+)=(?P<url>[A-Za-z][A-Za-z0-9+.-]*://.*)", re.DOTALL)


def parse_route(text: str, *, insecure: bool = False) -> Route:
    """One `--to` value: 'GLOB=URL' or a bare URL (every event)."""
    text = text.strip()
    m = _ROUTE.fullmatch(text)
    glob = m.group("glob").strip() if m is not None else ""
    if m is None or "://" in glob:  # a bare URL (whose query may hold "=" and a URL)
        if "://" not in text:
            raise RouteError(f"{text!r} is not a route: use {ROUTE_FORMS}.")
        return Route("*", check_handler_url(text, insecure=insecure))
    if not glob:
        raise RouteError(f"{text!r} is not a route: use {ROUTE_FORMS}.")
    return Route(glob, check_handler_url(m.group("url").strip(), insecure=insecure))


@dataclass(frozen=True, slots=True)
class Routes:
    """The routes in the order given: the first whose glob matches an event's name wins
    (so a bare URL, the catch-all, belongs last; given earlier it shadows what follows)."""

    routes: tuple[Route, ...]

    @classmethod
    def parse(cls, values: tuple[str, ...] | list[str], *, insecure: bool = False) -> Routes:
        if not values:
            raise RouteError(f"Say where to forward: --to {ROUTE_FORMS}.")
        return cls(tuple(parse_route(v, insecure=insecure) for v in values))

    def url_for(self, event_name: str) -> str | None:
        """The handler of `event_name` (None: no route takes it)."""
        for route in self.routes:
            if route.matches(event_name):
                return route.url
        return None

    @property
    def urls(self) -> tuple[str, ...]:
        """Every handler, once each, in order."""
        return tuple(dict.fromkeys(r.url for r in self.routes))
