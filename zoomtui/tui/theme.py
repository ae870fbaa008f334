"""Colours by event family and by connection state, as theme variables.

Everything here is a Textual style string over theme variables (`$primary`,
`$warning`...), never a hex colour, so every theme (and light/dark) works.
Widgets that render Rich `Strip`s (the Line API) resolve a style with
`rich_style_for(style, variables)`, where `variables` is `app.get_css_variables()`;
resolution is cached per theme.
"""

from __future__ import annotations

from rich.style import Style as RichStyle
from textual.style import Style

from zoomtui.zoom.updates import ConnectionState

#: event family (the part of the event name before the dot) -> style
FAMILY_STYLES: dict[str, str] = {
    "meeting": "$text-primary",
    "webinar": "$text-secondary",
    "recording": "$text-success",
    "user": "$text-warning",
    "phone": "$text-accent",
    "chat_message": "$text-accent",
}
#: any family not listed above
DEFAULT_FAMILY_STYLE = "$foreground"
#: a frame that could not be understood
MALFORMED_STYLE = "bold $text-error"
#: a gap in the record (no connection: events lost)
GAP_STYLE = "bold $text-warning"
#: a connection state change shown in line
STATE_ROW_STYLE = "italic $text-muted"

STATE_STYLES: dict[ConnectionState, str] = {
    ConnectionState.CONNECTED: "bold $text-success",
    ConnectionState.IDLE: "$text-muted",
    ConnectionState.AUTHENTICATING: "bold $text-warning",
    ConnectionState.CONNECTING: "bold $text-warning",
    ConnectionState.RECONNECTING: "bold $text-warning",
    # not a fault of ours, but a person has to decide: apart from both warning and error
    ConnectionState.DISPLACED: "bold reverse $text-accent",
    ConnectionState.STOPPED: "$text-muted",
    ConnectionState.FAILED: "bold $text-error",
}

#: the glyph before the state name (colour carries meaning; the glyph keeps it readable without colour)
STATE_GLYPHS: dict[ConnectionState, str] = {
    ConnectionState.CONNECTED: "●",
    ConnectionState.IDLE: "○",
    ConnectionState.AUTHENTICATING: "◌",
    ConnectionState.CONNECTING: "◌",
    ConnectionState.RECONNECTING: "◌",
    ConnectionState.DISPLACED: "⇄",  # another consumer has the subscription
    ConnectionState.STOPPED: "○",
    ConnectionState.FAILED: "✖",
}


def family_style(family: str) -> str:
    """The style (theme variables) for an event family, e.g. ``meeting`` -> ``$text-primary``."""
    return FAMILY_STYLES.get(family, DEFAULT_FAMILY_STYLE)


def state_style(state: ConnectionState) -> str:
    return STATE_STYLES.get(state, "$foreground")


_cache: dict[tuple[str, str, str, str, str], RichStyle] = {}


def rich_style_for(style: str, variables: dict[str, str]) -> RichStyle:
    """Resolve a theme-variable style to a Rich style (for Strips).

    Cached per theme: a theme is recognised by its base colours, which is
    cheap to look up per rendered line (hashing all ~200 variables is not).
    """
    key = (
        style,
        variables.get("background", ""),
        variables.get("foreground", ""),
        variables.get("primary", ""),
        variables.get("secondary", ""),
    )
    found = _cache.get(key)
    if found is None:
        if len(_cache) > 512:
            _cache.clear()
        found = _cache[key] = Style.parse(style, variables).rich_style
    return found
