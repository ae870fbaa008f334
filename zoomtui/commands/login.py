"""`zoomtui login`: ask for the credentials, check them with Zoom, save them.

The ids go to the profile in the config file, the client secret to the OS
keyring.  Every value may come from an option or the environment instead of a
prompt (for scripts); the secret only from the environment or a hidden prompt,
never an option (shell history, `ps`).
"""

from __future__ import annotations

import asyncio
import os
import sys

import click

from zoomtui import config as cfg
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_FAILURE,
    connection_options,
)
from zoomtui.credentials import (
    ENV_FOR,
    LABELS,
    KeyringStatus,
    SaveResult,
    keyring_status,
    verify_and_save,
)
from zoomtui.redaction import Secret, install_log_redaction
from zoomtui.settings import ZOOM_OAUTH_URL, ZOOM_WS_URL, SettingsError, check_transport
from zoomtui.visible import visible_lines

_EXIT_FOR_PROBLEM = {
    "credentials": EXIT_CREDENTIALS,
    "rate_limited": EXIT_FAILURE,
    "unreachable": EXIT_FAILURE,
}

_URL_LABELS = {"oauth_url": "Token URL", "ws_url": "WebSocket URL"}

_INTRO = (
    "Enter the credentials of your Zoom Server-to-Server OAuth app (Zoom App Marketplace,\n"
    "Manage, your app, App Credentials). The subscription id is the subscriptionId=... part\n"
    "of the WebSocket URL Zoom shows for your event subscription.\n"
)


def no_keyring_help(status: KeyringStatus, profile: str) -> str:
    """What a user on a box without a usable keyring can do instead (plain words)."""
    return (
        f"{status.message}\n"
        "You can instead:\n"
        "  - keep the secret in the environment, typed without echo so it stays out of your\n"
        "    shell history:\n"
        "        read -rs ZOOM_CLIENT_SECRET && export ZOOM_CLIENT_SECRET\n"
        "    then run `zoomtui login` again: it checks the credentials and saves the ids\n"
        f"    (never the secret) in profile '{profile}';\n"
        "  - or run `zoomtui` and enter the secret in the form it opens: it is then kept in\n"
        "    memory for that session only;\n"
        "  - or install and unlock an OS keyring (GNOME Keyring or KWallet on a Linux desktop;\n"
        "    macOS and Windows have one built in) and run `zoomtui login` again."
    )


def _ask(name: str, given: str | None, env: dict[str, str], default: object) -> str:
    """An id from the option, else the environment (said aloud), else a prompt."""
    if given:
        return given.strip()
    var = ENV_FOR[name]
    if env.get(var):
        click.echo(f"{LABELS[name].capitalize()}: from {var}")
        return env[var].strip()
    value = click.prompt(
        LABELS[name].capitalize(), default=default or None, show_default=bool(default)
    )
    return str(value).strip()


def _say_urls_from_env(
    profile: str, oauth_url: str | None, ws_url: str | None, env: dict[str, str]
) -> None:
    """A URL taken from the shell is saved in the profile with the ids: say so, since a
    variable left over from a test session (a fake server) would otherwise stick unseen."""
    for name, given in (("oauth_url", oauth_url), ("ws_url", ws_url)):
        var = ENV_FOR[name]
        if not given and env.get(var):
            click.echo(
                f"{_URL_LABELS[name]}: from {var} ({env[var]}); it will be saved in profile "
                f"'{profile}' (to save another, unset {var} or pass --{name.replace('_', '-')})."
            )


def _print_result(result: SaveResult) -> None:
    if result.ok:
        click.echo(result.message)
        click.echo(
            "The subscription id is checked when zoomtui connects (a test connection could knock\n"
            "another consumer of the same subscription off). Next: `zoomtui doctor`, or `zoomtui`."
        )
    else:
        click.echo(visible_lines(result.message), err=True)  # it may hold the endpoint's words
        if result.problem in ("unreachable", "rate_limited"):
            click.echo("(`--no-verify` saves without asking Zoom.)", err=True)


@click.command()
@connection_options
@click.option("--no-verify", is_flag=True, help="Save without asking Zoom for a token first.")
@click.option(
    "--insecure-keyring",
    is_flag=True,
    help="Accept a plain-file keyring backend (keyrings.alt) without asking.",
)
def command(
    profile: str | None,
    config_path: str | None,
    account_id: str | None,
    client_id: str | None,
    subscription_id: str | None,
    oauth_url: str | None,
    ws_url: str | None,
    insecure_transport: bool,
    no_verify: bool,
    insecure_keyring: bool,
) -> None:
    """Save a profile: check the credentials with Zoom, keep the secret in the OS keyring.

    Asks for the account id, client id, subscription id and client secret (hidden).
    Each may come from an option or ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_SUBSCRIPTION_ID,
    ZOOM_CLIENT_SECRET instead (for scripts). The secret is never an option.
    """
    install_log_redaction()
    env = dict(os.environ)
    try:
        name = cfg.check_profile_name(cfg.selected_profile(profile, env))
        path = cfg.config_path(config_path, env)
        existing = cfg.load_config(path).profiles.get(name, {})
    except cfg.ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)

    # URLs and transport: option, environment, else what the profile already had.  Checked
    # before anyone types a secret that would then cross the network in clear text.
    oauth = oauth_url or env.get(ENV_FOR["oauth_url"]) or existing.get("oauth_url")
    ws = ws_url or env.get(ENV_FOR["ws_url"]) or existing.get("ws_url")
    insecure = insecure_transport  # the flag or ZOOMTUI_INSECURE_TRANSPORT, never the profile
    try:
        check_transport(str(oauth or ZOOM_OAUTH_URL), str(ws or ZOOM_WS_URL), insecure=insecure)
    except SettingsError as exc:
        click.echo(f"zoomtui login: {exc}", err=True)
        sys.exit(EXIT_CONFIG)

    # The keyring first: on a box without one, say so before anyone types a secret.
    status = keyring_status()
    env_secret = env.get(ENV_FOR["client_secret"])
    allow_insecure = insecure_keyring or bool(existing.get("insecure_keyring"))
    no_keyring = "refuse"
    if status.state in ("none", "error"):
        if not env_secret:
            click.echo(no_keyring_help(status, name), err=True)
            click.echo("Nothing was saved.", err=True)
            sys.exit(EXIT_CONFIG)
        click.echo(status.message, err=True)
        click.echo(
            f"Using {ENV_FOR['client_secret']} from the environment; only the ids will be saved.",
            err=True,
        )
        no_keyring = "profile_only"
    elif status.state == "insecure" and not allow_insecure:
        click.echo(status.message, err=True)
        if not click.confirm(
            f"Store the client secret of profile '{name}' in this plain-file keyring?",
            default=False,
        ):
            click.echo(
                "Nothing was saved. Use ZOOM_CLIENT_SECRET instead, or install an OS keyring.",
                err=True,
            )
            sys.exit(EXIT_CONFIG)
        allow_insecure = True

    _say_urls_from_env(name, oauth_url, ws_url, env)
    if not (account_id or client_id or subscription_id) and not all(
        env.get(ENV_FOR[n]) for n in ("account_id", "client_id", "subscription_id")
    ):
        click.echo(_INTRO)
    ids = {
        "account_id": _ask("account_id", account_id, env, existing.get("account_id")),
        "client_id": _ask("client_id", client_id, env, existing.get("client_id")),
        "subscription_id": _ask(
            "subscription_id", subscription_id, env, existing.get("subscription_id")
        ),
    }
    if env_secret:
        click.echo(f"Client secret: from {ENV_FOR['client_secret']}")
        secret = Secret(env_secret)
    else:
        secret = Secret(click.prompt("Client secret (hidden)", hide_input=True))

    if not no_verify:
        click.echo(f"Checking the credentials with {oauth or ZOOM_OAUTH_URL} ...")
    result = asyncio.run(
        verify_and_save(
            name,
            ids["account_id"],
            ids["client_id"],
            secret,
            ids["subscription_id"],
            str(oauth) if oauth else None,
            str(ws) if ws else None,
            verify=not no_verify,
            config_path=path,
            allow_insecure_keyring=allow_insecure,
            no_keyring=no_keyring,  # type: ignore[arg-type]
            insecure_transport=insecure,
        )
    )
    _print_result(result)
    if not result.ok:
        sys.exit(_EXIT_FOR_PROBLEM.get(result.problem or "", EXIT_CONFIG))
