"""`zoomtui profiles`: list the profiles; `zoomtui profiles show NAME`: values and sources."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from zoomtui import config as cfg
from zoomtui.commands.common import EXIT_CONFIG
from zoomtui.commands.reports import secret_source
from zoomtui.credentials import (
    ENV_FOR,
    REQUIRED,
    KeyringStatus,
    KeyringUnavailable,
    get_secret,
    keyring_status,
    required,
    resolve,
    session_secret,
)
from zoomtui.redaction import install_log_redaction, mask_id

_SHOW_ORDER = (
    "grant",
    "cloud",
    "account_id",
    "client_id",
    "client_secret",
    "subscription_id",
    "oauth_url",
    "ws_url",
    "api_url",
    "heartbeat_interval",
    "max_frame_bytes",
    "insecure_transport",
    "on_displaced",
    *cfg.DISPLAY_KEYS,
)


def _config_option(func: Callable) -> Callable:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file to use instead of the default one.",
    )(func)


def _path(ctx: click.Context, config_path: str | None) -> Path:
    # `--config` may be given to the group or to the subcommand.
    given = config_path or (ctx.obj or {}).get("config_path")
    return cfg.config_path(given)


#: how a client secret that is set is shown (`doctor` and `status` say the same)
SECRET_SET = "set (hidden)"


def _masked(value: object) -> str:
    # The fingerprint tells apart ids that share their first and last characters.
    return mask_id(str(value), fingerprint=True) if value else "-"


def keyring_line(status: KeyringStatus, accepted_by: list[str]) -> str:
    """One line on the keyring: its state, and which profiles accepted an insecure one."""
    if status.state == "insecure":
        who = (
            f"; accepted for {', '.join(accepted_by)}"
            if accepted_by
            else "; not used until you accept it"
        )
        return f"Keyring: INSECURE - {status.message}{who}."
    return f"Keyring: {status.state} - {status.message}"


def _secret_state(name: str, values: dict[str, object], status: KeyringStatus) -> str:
    if session_secret(name):
        return "session only"
    if status.state in ("none", "error"):
        return "no keyring"
    if status.state == "insecure" and not values.get("insecure_keyring"):
        return "not checked (insecure keyring)"
    try:
        found = get_secret(name, allow_insecure=bool(values.get("insecure_keyring")))
    except KeyringUnavailable:
        return "keyring error"
    if not found:
        return "missing"
    return "insecure keyring" if status.state == "insecure" else "keyring"


def _list(path: Path, profile: str | None) -> None:
    config = cfg.load_config(path)
    selected = cfg.selected_profile(profile)
    env_set = [var for var in ENV_FOR.values() if os.environ.get(var)]
    if not config.profiles:
        click.echo(
            f"No profiles in {path}. Run `zoomtui login` to create one, or `zoomtui demo` "
            "to try zoomtui against a built-in fake Zoom."
        )
    else:
        status = keyring_status()
        rows = [("", "PROFILE", "ACCOUNT", "CLIENT", "SUBSCRIPTION", "SECRET")]
        for name in config.names():
            values = config.profiles[name]
            rows.append(
                (
                    "*" if name == selected else "",
                    name,
                    _masked(values.get("account_id")),
                    _masked(values.get("client_id")),
                    _masked(values.get("subscription_id")),
                    _secret_state(name, values, status),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
        click.echo(f"\n* = selected (--profile, ZOOMTUI_PROFILE, else 'default').  Config: {path}")
        if selected not in config.profiles:
            click.echo(f"The selected profile '{selected}' is not in the config file.")
        accepted = [n for n, v in config.profiles.items() if v.get("insecure_keyring")]
        click.echo(keyring_line(status, accepted))
    if env_set:
        click.echo(f"Set in the environment (these override any profile): {', '.join(env_set)}")


@click.group(invoke_without_command=True)
@click.option(
    "--profile", default=None, envvar="ZOOMTUI_PROFILE", help="The profile to mark as selected."
)
@_config_option
@click.pass_context
def command(ctx: click.Context, profile: str | None, config_path: str | None) -> None:
    """List the profiles (the selected one is marked, with whether its secret is stored)."""
    install_log_redaction()
    ctx.obj = {"config_path": config_path, "profile": profile}
    if ctx.invoked_subcommand is None:
        try:
            _list(_path(ctx, None), profile)
        except cfg.ConfigError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_CONFIG)


@command.command("list")
@click.option("--profile", default=None, help="The profile to mark as selected.")
@_config_option
@click.pass_context
def list_command(ctx: click.Context, profile: str | None, config_path: str | None) -> None:
    """List the profiles (same as `zoomtui profiles`)."""
    try:
        _list(_path(ctx, config_path), profile or (ctx.obj or {}).get("profile"))
    except cfg.ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)


@command.command("show")
@click.argument("name", required=False)
@_config_option
@click.pass_context
def show_command(ctx: click.Context, name: str | None, config_path: str | None) -> None:
    """Show a profile's effective values and where each comes from (secret masked)."""
    path = _path(ctx, config_path)
    name = name or cfg.selected_profile((ctx.obj or {}).get("profile"))
    try:
        res = resolve(profile=name, config_path=path)
    except cfg.ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CONFIG)
    if not res.profile_found:
        known = f" Profiles there: {', '.join(res.known_profiles)}." if res.known_profiles else ""
        click.echo(f"There is no profile '{name}' in {path}.{known}", err=True)
        if any(os.environ.get(var) for var in ENV_FOR.values()):
            click.echo("(Values from the environment would still apply; shown below.)", err=True)
        else:
            click.echo(f"Create it with `zoomtui login --profile {name}`.", err=True)
            sys.exit(EXIT_CONFIG)
    status = keyring_status()
    click.echo(f"Profile '{name}' ({path})")
    rows: list[tuple[str, str, str]] = []
    for key in _SHOW_ORDER:
        value = res.values.get(key)
        source = res.sources.get(key, "")
        if key == "client_secret":
            # From the keyring it is a Secret, from ZOOM_CLIENT_SECRET a plain string: set either way.
            shown = SECRET_SET if value else "(not set)"
            if source == "keyring":
                source = secret_source(source, status.state)
            elif not value and status.state in ("none", "error"):
                source = f"no usable keyring: set {ENV_FOR['client_secret']}"
            elif not value:
                source = f"run `zoomtui login --profile {name}` or set {ENV_FOR['client_secret']}"
        elif value is None:
            if key in cfg.DISPLAY_KEYS:
                continue  # display settings the profile does not set: the front end decides
            shown = "(not set)"
            if key not in required(res.values.get("grant")) and key in REQUIRED:
                shown = f"(not used: {res.values.get('grant')})"
        else:
            shown = str(value)
        rows.append((key, shown, source))
    kw = max(len(r[0]) for r in rows)
    vw = max(len(r[1]) for r in rows)
    for key, shown, source in rows:
        click.echo(f"  {key.ljust(kw)}  {shown.ljust(vw)}  {source}".rstrip())
    if res.keyring_problem and status.state not in ("none", "error"):
        click.echo(f"The secret could not be read: {res.keyring_problem}")
    accepted = [name] if res.profile_values.get("insecure_keyring") else []
    click.echo(keyring_line(status, accepted))
