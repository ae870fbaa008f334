"""`zoomtui login`: ask for the credentials, check them with Zoom, save them.

The ids go to the profile in the config file, the client secret to the OS
keyring, and so does the webhook secret token `zoomtui forward` signs with (asked
separately, optional).  Every value may come from an option or the environment instead of a
prompt (for scripts); the secret only from the environment or a hidden prompt,
never an option (shell history, `ps`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

import click

from zoomtui import config as cfg
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_FAILURE,
    connection_options,
)
from zoomtui.credentials import (
    DEFAULTS,
    ENV_FOR,
    LABELS,
    KeyringStatus,
    KeyringUnavailable,
    NoKeyringPolicy,
    SaveResult,
    keyring_status,
    save_webhook_secret,
    verify_and_save,
)
from zoomtui.redaction import Secret, install_log_redaction, mask_id
from zoomtui.settings import (
    ENV_WEBHOOK_SECRET_TOKEN,
    GRANT_CLIENT,
    ZOOM_WS_URL,
    SettingsError,
    check_transport,
    cloud_hosts,
    split_endpoint,
)
from zoomtui.visible import visible_lines

_EXIT_FOR_PROBLEM = {
    "credentials": EXIT_CREDENTIALS,
    "rate_limited": EXIT_FAILURE,
    "unreachable": EXIT_FAILURE,
}

#: what `login` saves in the profile that may come from the shell (besides the ids, said as
#: they are asked): field -> its label
_SAVED_FROM_SHELL = {
    "grant": "Grant",
    "cloud": "Cloud",
    "oauth_url": "Token URL",
    "ws_url": "WebSocket URL",
}
#: tries of the credentials in one `login` (Zoom rejected them: ask again what it rejected)
TRIES = 3

_INTRO = (
    "Enter the credentials of your Zoom app (Zoom App Marketplace, Manage, your app, App\n"
    "Credentials): a Server-to-Server OAuth app by default (--grant client_credentials for an\n"
    "app-level token, with no account id). For the subscription, paste the endpoint URL Zoom\n"
    "shows for your WebSocket event subscription (wss://...?subscriptionId=...), or its id.\n"
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


def _say_saved_from_env(profile: str, given: dict[str, str | None], env: dict[str, str]) -> None:
    """A URL, grant or cloud taken from the shell is saved in the profile with the ids: say
    so, since a variable left over from a test session (a fake server) or another account
    would otherwise stick unseen."""
    for name, label in _SAVED_FROM_SHELL.items():
        var = ENV_FOR[name]
        if not given.get(name) and env.get(var):
            click.echo(
                f"{label}: from {var} ({env[var]}); it will be saved in profile "
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


def _chosen(name: str, given: str | None, env: dict[str, str], existing: dict) -> str:
    """The grant or the cloud: option, environment, profile, default."""
    return str(given or env.get(ENV_FOR[name]) or existing.get(name) or DEFAULTS[name])


def _checked_urls(
    oauth_url: str | None,
    ws_url: str | None,
    cloud: str,
    env: dict[str, str],
    existing: dict,
    insecure: bool,
) -> tuple[str | None, str | None]:
    """The token and WebSocket URLs (option, environment, else what the profile had), checked
    before anyone types a secret that would then cross the network in clear text."""
    oauth = oauth_url or env.get(ENV_FOR["oauth_url"]) or existing.get("oauth_url")
    ws = ws_url or env.get(ENV_FOR["ws_url"]) or existing.get("ws_url")
    try:
        hosts = cloud_hosts(cloud)
        check_transport(
            str(oauth or hosts.oauth_url),
            str(ws or hosts.ws_url or ZOOM_WS_URL),  # a cloud without one: asked for below
            insecure=insecure,
        )
    except SettingsError as exc:
        click.echo(f"zoomtui login: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    return (str(oauth) if oauth else None), (str(ws) if ws else None)


def _no_keyring_policy(
    status: KeyringStatus, env_secret: str | None, name: str, allow_insecure: bool
) -> tuple[NoKeyringPolicy, bool]:
    """What to do without a usable keyring, said before anyone types a secret:
    (no_keyring policy, allow_insecure_keyring).  Exits when nothing can be saved."""
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
        return "profile_only", allow_insecure
    if status.state == "insecure" and not allow_insecure:
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
        return "refuse", True
    return "refuse", allow_insecure


def _ask_subscription(
    given: str | None, ws: str | None, cloud: str, env: dict[str, str], existing: dict
) -> tuple[str, str | None]:
    """(subscription id, WebSocket URL): an id from the option or the environment, else the
    one the endpoint URL names, else a prompt that takes the id or the endpoint URL as Zoom
    shows it (the only way to a cloud without a documented WebSocket host)."""
    var = ENV_FOR["subscription_id"]
    if given or env.get(var):
        return _ask("subscription_id", given, env, None), ws
    try:
        named = split_endpoint(ws)[1] if ws else None
    except SettingsError as exc:
        click.echo(f"zoomtui login: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    if named:
        click.echo(f"Subscription id: from the endpoint URL ({mask_id(named)})")
        return "", ws
    if ws or cloud_hosts(cloud).ws_url:
        label = "Subscription id (or the endpoint URL Zoom shows)"
        default = existing.get("subscription_id")
    else:
        label, default = "Endpoint URL (as your subscription's page shows it)", None
    answer = str(click.prompt(label, default=default or None, show_default=bool(default))).strip()
    return ("", answer) if "://" in answer else (answer, ws)


def _ask_ids(
    given: dict[str, str | None], grant: str, ws: str | None, cloud: str, env: dict, existing: dict
) -> tuple[dict[str, str], str | None]:
    """The ids (prompted for what the options and the environment do not give) and the
    WebSocket URL, which a pasted endpoint URL may have given."""
    names = ("account_id", "client_id", "subscription_id")
    if not any(given.values()) and not all(env.get(ENV_FOR[n]) for n in names):
        click.echo(_INTRO)
    ids = {"account_id": ""}
    if grant != GRANT_CLIENT:  # app-level tokens name no account
        ids["account_id"] = _ask("account_id", given["account_id"], env, existing.get("account_id"))
    ids["client_id"] = _ask("client_id", given["client_id"], env, existing.get("client_id"))
    ids["subscription_id"], ws = _ask_subscription(
        given["subscription_id"], ws, cloud, env, existing
    )
    return ids, ws


def _ask_webhook_secret(asked: bool | None, env: dict[str, str]) -> Secret | None:
    """The webhook secret token `zoomtui forward` signs with: from the environment, else a
    separate hidden prompt that may be left empty.  Asked on a terminal unless
    --no-webhook-secret; elsewhere (a script) only with --webhook-secret."""
    var = ENV_WEBHOOK_SECRET_TOKEN
    if asked is False:
        return None
    if env.get(var):
        click.echo(f"Webhook secret token: from {var}")
        return Secret(env[var])
    if asked is None and not sys.stdin.isatty():
        return None
    value = click.prompt(
        "Webhook secret token, for `zoomtui forward` (hidden; Enter to skip)",
        default="",
        show_default=False,
        hide_input=True,
    )
    return Secret(value.strip()) if value.strip() else None


def _keep_webhook_secret(name: str, token: Secret, result: SaveResult) -> None:
    """Keep the token where the client secret went (only ever a keyring)."""
    store = result.secret_store or ""
    if store not in ("keyring", "insecure keyring"):
        click.echo(
            f"The webhook secret token was not stored (no keyring): set "
            f"{ENV_WEBHOOK_SECRET_TOKEN} when you run `zoomtui forward`.",
            err=True,
        )
        return
    try:
        save_webhook_secret(name, token, allow_insecure=store == "insecure keyring")
    except KeyringUnavailable as exc:
        click.echo(f"The webhook secret token was not stored: {exc.message}", err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"Saved the webhook secret token of '{name}' in the {store}.")


@click.command()
@connection_options
@click.option("--no-verify", is_flag=True, help="Save without asking Zoom for a token first.")
@click.option(
    "--webhook-secret/--no-webhook-secret",
    "webhook_secret",
    default=None,
    help="Ask for the webhook secret token `zoomtui forward` signs with (default: asked on a "
    "terminal, may be left empty; ZOOM_WEBHOOK_SECRET_TOKEN gives it without asking).",
)
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
    grant: str | None,
    cloud: str | None,
    insecure_transport: bool,
    no_verify: bool,
    webhook_secret: bool | None,
    insecure_keyring: bool,
) -> None:
    """Save a profile: check the credentials with Zoom, keep the secret in the OS keyring.

    Asks for the account id, client id, subscription id (or the endpoint URL Zoom shows) and
    client secret (hidden). Each may come from an option or ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID,
    ZOOM_SUBSCRIPTION_ID, ZOOM_CLIENT_SECRET instead (for scripts). The secret is never an
    option. With --grant client_credentials no account id is asked.
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
    grant_used = _chosen("grant", grant, env, existing)
    cloud_used = _chosen("cloud", cloud, env, existing)
    insecure = insecure_transport  # the flag or ZOOMTUI_INSECURE_TRANSPORT, never the profile
    oauth, ws = _checked_urls(oauth_url, ws_url, cloud_used, env, existing, insecure)

    # The keyring first: on a box without one, say so before anyone types a secret.
    status = keyring_status()
    env_secret = env.get(ENV_FOR["client_secret"])
    allow_insecure = insecure_keyring or bool(existing.get("insecure_keyring"))
    no_keyring, allow_insecure = _no_keyring_policy(status, env_secret, name, allow_insecure)

    _say_saved_from_env(
        name, {"grant": grant, "cloud": cloud, "oauth_url": oauth_url, "ws_url": ws_url}, env
    )
    given = {"account_id": account_id, "client_id": client_id, "subscription_id": subscription_id}
    ids, ws = _ask_ids(given, grant_used, ws, cloud_used, env, existing)
    if env_secret:
        click.echo(f"Client secret: from {ENV_FOR['client_secret']}")
        secret = Secret(env_secret)
    else:
        secret = Secret(click.prompt("Client secret (hidden)", hide_input=True))
    webhook_token = _ask_webhook_secret(webhook_secret, env)
    # what a person typed here may be typed again; an option or a variable may not
    typed = {n for n, v in given.items() if not v and not env.get(ENV_FOR[n])}
    typed |= set() if env_secret else {"client_secret"}

    if not no_verify:
        token_url = oauth or _cloud_token_url(cloud_used)
        click.echo(f"Checking the credentials with {token_url} ({grant_used}) ...")
    save = partial(
        verify_and_save,
        name,
        oauth_url=oauth,
        ws_url=ws,
        verify=not no_verify,
        config_path=path,
        allow_insecure_keyring=allow_insecure,
        no_keyring=no_keyring,
        insecure_transport=insecure,
        grant=grant_used,
        cloud=cloud_used,
    )
    result = _save_asking_again(save, ids, secret, typed)
    if not result.ok:
        sys.exit(_EXIT_FOR_PROBLEM.get(result.problem or "", EXIT_CONFIG))
    if webhook_token is not None:
        _keep_webhook_secret(name, webhook_token, result)


def _save_asking_again(
    save: Callable[..., Coroutine[Any, Any, SaveResult]],
    ids: dict[str, str],
    secret: Secret,
    typed: set[str],
) -> SaveResult:
    """Check and save; when Zoom rejects what the person typed, ask again for just that
    (up to `TRIES` times in all)."""
    for _attempt in range(TRIES):
        result = asyncio.run(
            save(ids["account_id"], ids["client_id"], secret, ids["subscription_id"])
        )
        _print_result(result)
        again = None if result.ok else _ask_rejected_again(result, ids, secret, typed)
        if again is None:
            break
        secret = again
    return result


def _ask_rejected_again(
    result: SaveResult, ids: dict[str, str], secret: Secret, typed: set[str]
) -> Secret | None:
    """Zoom rejected the credentials: ask again only for what its answer points at (the
    ids in place in `ids`; the secret, new or kept, returned), typed ids as defaults.
    None: not that problem, a value came from an option or the environment (fix it there),
    or the person stopped (end of input)."""
    names = result.rejected
    if result.problem != "credentials" or not names or not set(names) <= typed:
        return None
    kept = [LABELS[n] for n in ("account_id", "client_id", "client_secret") if n not in names]
    click.echo(
        f"Enter the {' and the '.join(LABELS[n] for n in names)} again"
        + (f" (the {' and the '.join(kept)} and the subscription are kept)" if kept else "")
        + "; enter keeps an id as shown, Ctrl-D stops:",
        err=True,
    )
    try:
        for n in names:
            if n == "client_secret":
                secret = Secret(click.prompt("Client secret (hidden)", hide_input=True))
            else:
                ids[n] = str(click.prompt(LABELS[n].capitalize(), default=ids[n])).strip()
        return secret
    except click.Abort:
        return None


def _cloud_token_url(cloud: str) -> str:
    try:
        return cloud_hosts(cloud).oauth_url
    except SettingsError:
        return "Zoom"
