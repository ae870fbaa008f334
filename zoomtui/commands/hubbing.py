"""What the commands that speak to the team hub share: the `--hub` options, the settings
they make, and the exit code of a hub that cannot be used (`tail --hub` is in hubtail.py)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_GAVE_UP,
)

if TYPE_CHECKING:  # (the hub package is imported when it runs)
    from zoomtui.hub import HubSettings


def hub_options(func: Callable) -> Callable:
    """--hub, --hub-user, --hub-creds, --hub-insecure-transport.  The password or token is
    never an option (shell history, `ps`): the keyring (`zoomtui hub-login`) or the
    environment."""

    @click.option(
        "--hub",
        "hub_url",
        default=None,
        metavar="URL",
        help="The team hub: nats://HOST:4222 (loopback) or tls://HOST:4222 (else ZOOMTUI_HUB).",
    )
    @click.option(
        "--hub-user",
        default=None,
        help="The hub's user (its password: the keyring, or ZOOMTUI_HUB_PASSWORD).",
    )
    @click.option(
        "--hub-creds",
        default=None,
        type=click.Path(dir_okay=False, exists=True),
        help="A NATS creds file (user JWT and NKey seed) for the hub.",
    )
    @click.option(
        "--hub-insecure-transport",
        is_flag=True,
        default=False,
        help="Allow nats:// (no TLS) to a hub that is not on this machine, for this run "
        "(else ZOOMTUI_HUB_INSECURE_TRANSPORT=1).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def hub_from(kwargs: dict[str, Any], *, required: bool, **limits: Any) -> HubSettings | None:
    """Pop the hub options out of a command's kwargs as settings (None: no hub asked for and
    none required).  A bad value exits with the settings' code and the reason."""
    url = kwargs.pop("hub_url", None)
    user = kwargs.pop("hub_user", None)
    creds = kwargs.pop("hub_creds", None)
    insecure = kwargs.pop("hub_insecure_transport", False)
    if not url and not required:
        return None
    from zoomtui.hub.credentials import hub_settings
    from zoomtui.settings import SettingsError

    try:
        return hub_settings(url, user=user, creds_file=creds, insecure_transport=insecure, **limits)
    except SettingsError as exc:
        click.echo(f"zoomtui: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def hub_exit_code(kind: str) -> int:
    """The exit code of a `HubError` kind."""
    if kind == "credentials":
        return EXIT_CREDENTIALS
    return EXIT_CONFIG if kind == "settings" else EXIT_GAVE_UP
