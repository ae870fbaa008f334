"""`zoomtui hub-login URL`: keep the team hub's credentials in the OS keyring.

A token (`--token`, typed without echo), a user and password (`--user`, the password typed
without echo), or a NATS creds file's path (`--creds`).  `--forget` removes them.  They are
then found by every command given `--hub URL` (`zoomtui.hub.credentials`).
"""

from __future__ import annotations

import sys

import click

from zoomtui.commands.common import EXIT_CONFIG


@click.command("hub-login")
@click.argument("url")
@click.option("--user", default=None, help="The hub's user (the password is asked for).")
@click.option("--token", "use_token", is_flag=True, help="The hub wants a token (asked for).")
@click.option(
    "--creds",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A NATS creds file: its path is kept, not its content.",
)
@click.option("--forget", is_flag=True, help="Remove the hub's credentials from the keyring.")
def command(url: str, user: str | None, use_token: bool, creds: str | None, forget: bool) -> None:
    """Keep the team hub's credentials in the keyring."""
    from zoomtui.credentials.keyring_store import KeyringUnavailable
    from zoomtui.hub.credentials import (
        HubCredentials,
        delete_hub_credentials,
        save_hub_credentials,
    )
    from zoomtui.hub.settings import check_hub_url
    from zoomtui.redaction import Secret
    from zoomtui.settings import SettingsError

    try:
        check_hub_url(url)
        if forget:
            gone = delete_hub_credentials(url)
            click.echo("Removed." if gone else "Nothing was kept for that hub.")
            return
        if sum(bool(x) for x in (user, use_token, creds)) != 1:
            raise SettingsError("Give one of --user, --token or --creds.")
        if creds:
            found = HubCredentials(creds_file=creds)
        elif user:
            password = click.prompt(f"Password of {user}", hide_input=True)
            found = HubCredentials(user=user, password=Secret(password))
        else:
            found = HubCredentials(token=Secret(click.prompt("Token", hide_input=True)))
        backend = save_hub_credentials(url, found)
    except SettingsError as exc:
        click.echo(f"zoomtui hub-login: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except KeyringUnavailable as exc:
        click.echo(f"zoomtui hub-login: {exc.message}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Kept in the keyring ({backend}).")
