"""Options shared by the commands that connect, and exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zoomtui.settings import CLOUDS, GRANTS

if TYPE_CHECKING:
    from zoomtui.monitor.filters import Filter

# Exit codes (documented in the README)
EXIT_OK = 0
EXIT_FAILURE = 1  # a check failed (doctor), or an unexpected error
EXIT_USAGE = 2  # click's own code for bad usage
EXIT_CONFIG = 3  # settings missing or invalid
EXIT_CREDENTIALS = 4  # Zoom rejected the credentials or the subscription
EXIT_GAVE_UP = 5  # the connection was given up (stopped retrying)
EXIT_DISPLACED = 6  # another consumer took the subscription (tail, unless told to retake)
EXIT_INTERRUPTED = 130


def connection_options(func: Callable) -> Callable:
    """--profile, --config, --account-id, --client-id, --subscription-id, --oauth-url,
    --ws-url, --grant, --cloud, --insecure-transport. The client secret is never an option
    (it would land in shell history and `ps`): it comes from the environment or the keyring."""

    @click.option(
        "--profile",
        "profile",
        default=None,
        envvar="ZOOMTUI_PROFILE",
        help="Profile name (default: 'default').",
    )
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file to use instead of the default one.",
    )
    @click.option(
        "--account-id", default=None, help="Zoom account id (else ZOOM_ACCOUNT_ID or profile)."
    )
    @click.option(
        "--client-id", default=None, help="OAuth client id (else ZOOM_CLIENT_ID or profile)."
    )
    @click.option(
        "--subscription-id",
        default=None,
        help="WebSocket subscription id (else ZOOM_SUBSCRIPTION_ID or profile).",
    )
    @click.option(
        "--oauth-url", default=None, help="Token URL (else ZOOMTUI_OAUTH_URL; Zoom's by default)."
    )
    @click.option(
        "--ws-url",
        default=None,
        help="WebSocket URL, or the endpoint URL Zoom shows for the subscription "
        "(wss://...?subscriptionId=..., which gives the subscription id); else ZOOMTUI_WS_URL.",
    )
    @click.option(
        "--grant",
        type=click.Choice(GRANTS),
        default=None,
        help="How the token is asked for: account_credentials (a Server-to-Server OAuth app, "
        "with its account id; the default) or client_credentials (an app-level token, no "
        "account id). Else ZOOMTUI_GRANT or the profile.",
    )
    @click.option(
        "--cloud",
        type=click.Choice(tuple(CLOUDS)),
        default=None,
        help="Zoom's cloud: zoom (default) or gov (Zoom for Government: zoomgov.com token and "
        "API hosts). Explicit URLs win. Else ZOOMTUI_CLOUD or the profile.",
    )
    @click.option(
        "--insecure-transport",
        is_flag=True,
        default=False,
        envvar="ZOOMTUI_INSECURE_TRANSPORT",
        help="Allow http:// and ws:// to a non-loopback host, for this run only "
        "(else ZOOMTUI_INSECURE_TRANSPORT=1; never from a profile).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def _policy(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from zoomtui.settings import parse_on_displaced

    try:
        parse_on_displaced(value)
    except ValueError as exc:
        raise click.BadParameter(f"use {exc}") from None
    return value


def on_displaced_option(func: Callable) -> Callable:
    """--on-displaced POLICY: what to do once another consumer takes the subscription."""
    return click.option(
        "--on-displaced",
        "on_displaced",
        default=None,
        metavar="POLICY",
        callback=_policy,
        help="When another consumer takes the subscription (Zoom allows one connection per "
        "subscription): 'wait' for a person (default), 'retake' at once with backoff, or "
        "'retake after 10m'. Else the profile's on_displaced.",
    )(func)


def overrides_from(kwargs: dict) -> dict:
    """Pop the connection options out of a command's kwargs as `resolve_settings` overrides."""
    keys = ("account_id", "client_id", "subscription_id", "oauth_url", "ws_url", "grant", "cloud")
    out = {k: kwargs.pop(k, None) for k in keys}
    policy = kwargs.pop("on_displaced", None)  # only the commands that take --on-displaced
    if policy is not None:
        out["on_displaced"] = policy
    if kwargs.pop("insecure_transport", False):
        out["insecure_transport"] = True
    return out


def _theme(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from textual.theme import BUILTIN_THEMES

    if value not in BUILTIN_THEMES:
        names = ", ".join(sorted(BUILTIN_THEMES))
        raise click.BadParameter(f"there is no theme {value!r}; the themes are: {names}")
    return value


def theme_option(func: Callable) -> Callable:
    """--theme NAME: the monitor's theme for this run."""
    return click.option(
        "--theme",
        "theme",
        default=None,
        metavar="NAME",
        callback=_theme,
        help="The monitor's theme for this run (nord, dracula, textual-light, ...). A theme "
        "chosen in the monitor (ctrl+p, then 'theme') is kept in the config file for later runs.",
    )(func)


def theme_keywords(theme: str | None, config_path: str | Path | None = None) -> dict[str, Any]:
    """`AppOptions` keywords: the theme (--theme, else the one kept in the config file's
    [ui] table) and how the monitor keeps a theme chosen in it."""
    from zoomtui import config as cfg

    path = cfg.config_path(config_path)
    if theme is None:
        try:
            kept = cfg.load_config(path).ui.get("theme")
        except cfg.ConfigError:  # said by whoever reads the profiles; the theme is no reason
            kept = None
        theme = kept if isinstance(kept, str) else None
    return {"theme": theme, "theme_store": functools.partial(keep_theme, path)}


def keep_theme(path: Path, name: str) -> None:
    """Write the chosen theme to the config file's [ui] table (a `ConfigError` says why not)."""
    from zoomtui import config as cfg

    cfg.save_ui({"theme": name}, path)


def filter_option(
    text: str | None, config_path: str | Path | None = None, param_hint: str = "--filter"
) -> Filter | None:
    """A filter given on the command line, compiled, its `@name` terms the saved filters of
    the config file (None: no filter, or one that passes every event).  A filter that cannot
    be understood, or an unknown `@name` (the saved names listed), is a usage error; a config
    file that cannot be read, when an `@name` needs it, is a settings error (exit 3)."""
    if not text:
        return None
    from zoomtui import config as cfg
    from zoomtui.monitor.filters import FilterError, compile_filter
    from zoomtui.monitor.savedfilters import has_references, load_saved

    try:
        if has_references(text):
            text = load_saved(cfg.config_path(config_path)).expand(text)
        flt = compile_filter(text)
    except FilterError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None
    except cfg.ConfigError as exc:
        click.echo(f"zoomtui: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_CONFIG) from None
    return None if flt.is_empty else flt


def filter_keywords(profile: str | None, config_path: str | Path | None = None) -> dict[str, Any]:
    """`AppOptions` keywords: the recent filters of `profile` (None: the demo's), the saved
    filters of the config file, and how the monitor keeps one saved in it."""
    from zoomtui import config as cfg
    from zoomtui.monitor.recentfilters import RecentFilters, recent_filters_path
    from zoomtui.monitor.savedfilters import SavedFilters, load_saved
    from zoomtui.tui.options import FilterOptions

    path = cfg.config_path(config_path)
    try:
        saved = load_saved(path)
    except cfg.ConfigError:  # said by whoever reads the profiles; no reason not to start
        saved = SavedFilters()
    recent = RecentFilters.load(recent_filters_path(profile))
    return {"filters": FilterOptions(recent, saved, functools.partial(keep_filter, path))}


def keep_filter(path: Path, name: str, expression: str) -> None:
    """Save `expression` as filter `name` in the config file (a `ConfigError` says why not)."""
    from zoomtui.monitor.savedfilters import save_filter

    save_filter(name, expression, path)
