"""`zoomtui logout`: remove a profile's client secret (and webhook secret token) from the
keyring (and, with --forget, the profile itself)."""

from __future__ import annotations

import os
import sys

import click

from zoomtui import config as cfg
from zoomtui.commands.common import EXIT_CONFIG
from zoomtui.credentials import (
    ENV_FOR,
    KeyringUnavailable,
    delete_secret,
    forget_session_secret,
    keyring_username,
)
from zoomtui.redaction import install_log_redaction


@click.command()
@click.option(
    "--profile", default=None, envvar="ZOOMTUI_PROFILE", help="Profile name (default: 'default')."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file to use instead of the default one.",
)
@click.option("--forget", is_flag=True, help="Also remove the profile from the config file.")
def command(profile: str | None, config_path: str | None, forget: bool) -> None:
    """Remove the stored client secret of a profile (--forget: the profile too)."""
    install_log_redaction()
    name = cfg.selected_profile(profile)
    path = cfg.config_path(config_path)
    try:
        known = cfg.load_config(path).names()
    except cfg.ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    forget_session_secret(name)
    # The profile's shared access token goes too: it was got with the secret being removed.
    from zoomtui.credentials.token_cache import forget_token

    if forget_token(name):
        click.echo(f"Removed the shared access token of '{name}' from the keyring.")
    failed = False
    removed = False
    try:
        removed = delete_secret(name)
    except KeyringUnavailable as exc:
        if name not in known:
            pass  # said below: there is no such profile
        elif exc.state == "none":
            click.echo(f"No keyring on this machine, so no secret for '{name}' was stored in one.")
        else:
            click.echo(f"{exc.message} The secret of '{name}' may still be stored.", err=True)
            failed = True
    else:
        if removed:
            click.echo(
                f"Removed the client secret of '{name}' from the keyring "
                f"(zoomtui / {keyring_username(name)})."
            )
        elif name in known:
            click.echo(f"No client secret of '{name}' was stored in the keyring.")
    if _forget_webhook_secret(name):
        removed = True
    if name not in known and not removed:
        # A typo must not look like a successful logout.
        there = f" Profiles there: {', '.join(known)}." if known else " It holds no profiles."
        click.echo(f"There is no profile '{name}' in {path}.{there} Nothing was removed.", err=True)
        sys.exit(EXIT_CONFIG)
    if forget:
        try:
            gone = cfg.delete_profile(name, path)
        except cfg.ConfigError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_CONFIG)
        click.echo(
            f"Removed profile '{name}' from {path}."
            if gone
            else f"There was no profile '{name}' in {path}."
        )
    if os.environ.get(ENV_FOR["client_secret"]):
        click.echo(
            f"Note: {ENV_FOR['client_secret']} is still set in this environment; unset it too."
        )
    if failed:
        sys.exit(EXIT_CONFIG)


def _forget_webhook_secret(name: str) -> bool:
    """The webhook secret token (`zoomtui forward`) goes with the client secret."""
    from zoomtui.credentials import delete_webhook_secret, webhook_username

    try:
        removed = delete_webhook_secret(name)
    except KeyringUnavailable:
        return False  # the client secret's removal already said what the keyring is
    if removed:
        click.echo(
            f"Removed the webhook secret token of '{name}' from the keyring "
            f"(zoomtui / {webhook_username(name)})."
        )
    return removed
