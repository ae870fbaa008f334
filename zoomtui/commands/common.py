"""Options shared by the commands that connect, and exit codes."""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

# Exit codes (documented in the README)
EXIT_OK = 0
EXIT_FAILURE = 1  # a check failed (doctor), or an unexpected error
EXIT_USAGE = 2  # click's own code for bad usage
EXIT_CONFIG = 3  # settings missing or invalid
EXIT_CREDENTIALS = 4  # Zoom rejected the credentials or the subscription
EXIT_GAVE_UP = 5  # the connection was given up (stopped retrying)
EXIT_INTERRUPTED = 130


def connection_options(func: Callable) -> Callable:
    """--profile, --config, --account-id, --client-id, --subscription-id, --oauth-url,
    --ws-url, --insecure-transport. The client secret is never an option (it would land
    in shell history and `ps`): it comes from the environment or the keyring."""

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
        "--ws-url", default=None, help="WebSocket URL without query (else ZOOMTUI_WS_URL)."
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
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def overrides_from(kwargs: dict) -> dict:
    """Pop the connection options out of a command's kwargs as `resolve_settings` overrides."""
    keys = ("account_id", "client_id", "subscription_id", "oauth_url", "ws_url")
    out = {k: kwargs.pop(k, None) for k in keys}
    if kwargs.pop("insecure_transport", False):
        out["insecure_transport"] = True
    return out
