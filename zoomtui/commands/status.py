"""`zoomtui status`: every profile at a glance, like `gh auth status`.

For each profile: whether Zoom accepts its credentials (one token request, no WebSocket,
so it never displaces another consumer of the subscription; `--no-check` skips it), and
each value with where it comes from (option, environment, keyring, profile, default).
Then the keyring's state.  Never prints the secret or a token.

Exit codes, as doctor's: 0 every profile is fine, 1 a check failed (network, rate limit),
3 settings missing or invalid, 4 Zoom rejected the credentials.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from zoomtui import config as cfg
from zoomtui.commands.common import (
    EXIT_CONFIG,
    EXIT_CREDENTIALS,
    EXIT_FAILURE,
    EXIT_OK,
    connection_options,
    overrides_from,
)
from zoomtui.commands.profiles import SECRET_SET, keyring_line
from zoomtui.commands.reports import (
    SETTING_LABELS,
    marks_for,
    quiet_logging,
    secret_source,
    worse_exit,
)
from zoomtui.redaction import mask_id, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.timefmt import duration_short
from zoomtui.visible import visible_lines

TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one profile's check: "ok", "fail" or "skip", what was found, what to
    do, and the exit code it asks for."""

    state: str
    found: str
    todo: str = ""
    code: int = EXIT_OK


@dataclass(frozen=True, slots=True)
class ProfileReport:
    name: str
    #: (label, value as shown, where it came from): never a secret
    rows: tuple[tuple[str, str, str], ...]
    settings: ConnectionSettings | None
    problem: Check | None  # settings that cannot be used: no token request for them
    keyring_problem: str | None = None


def _shown(name: str, value: object) -> str:
    if not value:
        return "missing"
    if name == "client_secret":
        return SECRET_SET
    if name in ("account_id", "client_id", "subscription_id"):
        return mask_id(str(value), fingerprint=True)
    return str(value)


def inspect_profile(
    name: str, path: Path, overrides: dict[str, Any], keyring_state: str
) -> ProfileReport:
    """A profile's values and sources, and its settings when they can be used."""
    from zoomtui import credentials

    res = credentials.resolve(profile=name, config_path=path, overrides=overrides)
    rows = []
    for key, label in SETTING_LABELS:
        source = res.sources.get(key, "")
        if key == "client_secret":
            source = secret_source(source, keyring_state)
        shown = _shown(key, res.values.get(key))
        if shown == "missing" and key not in credentials.required(res.values.get("grant")):
            shown = f"not used ({res.values.get('grant')} grant)"
        rows.append((label, shown, source))
    try:
        settings = credentials.resolve_settings(profile=name, config_path=path, overrides=overrides)
        settings.check_transport()
    except SettingsError as exc:
        return ProfileReport(
            name, tuple(rows), None, Check("fail", str(exc), code=EXIT_CONFIG), res.keyring_problem
        )
    return ProfileReport(name, tuple(rows), settings, None, res.keyring_problem)


async def check_token(settings: ConnectionSettings, timeout: float) -> Check:
    """One token request; of the token, only its lifetime is told."""
    from zoomtui.credentials.token_cache import shared_token_cache
    from zoomtui.zoom.auth import AuthError, CredentialsRejected, RateLimited, TokenProvider

    url = settings.oauth_url
    cache = shared_token_cache(settings)  # shared with the other zoomtui processes of this profile
    try:
        async with TokenProvider(settings, timeout=timeout, cache=cache) as tokens:
            async with asyncio.timeout(timeout + 1):
                token = await tokens.get()
    except CredentialsRejected as exc:
        return Check("fail", f"{url}: {exc.message}", exc.hint, EXIT_CREDENTIALS)
    except RateLimited as exc:
        return Check(
            "fail",
            f"{url} is rate limiting token requests (HTTP 429)",
            f"Wait {exc.retry_after:.0f} s; something else may be asking for tokens in a loop.",
            EXIT_FAILURE,
        )
    except TimeoutError:
        found = f"{url}: no answer within {timeout:g} s"
        return Check("fail", found, "Check the network and a proxy (HTTPS_PROXY).", EXIT_FAILURE)
    except Exception as exc:  # unreachable, a 5xx, anything unforeseen: said plainly
        status = getattr(exc, "status", None)
        if isinstance(exc, AuthError) and status:
            found = f"{url} answered HTTP {status}"
        else:
            found = f"{url}: " + (getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
        todo = "Check the network, a proxy (HTTPS_PROXY) and the token URL; then try again."
        return Check("fail", found, todo, EXIT_FAILURE)
    left = max(0.0, token.expires_at - time.time())
    if token.from_cache:
        return Check(
            "ok",
            f"Zoom accepted the credentials (reused the token shared in the {tokens.cache_where}, "
            f"valid for {duration_short(left)}; no new token was issued)",
        )
    return Check("ok", f"Zoom accepted the credentials (token valid for {duration_short(left)})")


async def check_all(reports: list[ProfileReport], timeout: float) -> dict[str, Check]:
    """The token checks of every usable profile, at the same time."""
    usable = [(r.name, r.settings) for r in reports if r.settings is not None]
    checks = await asyncio.gather(*(check_token(settings, timeout) for _, settings in usable))
    return {name: c for (name, _), c in zip(usable, checks, strict=True)}


class Printer:
    """Writes the report; every line goes through `redact()` (a secret never gets out)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.marks = marks_for(out)

    def line(self, text: str = "") -> None:
        # A check's finding holds the token endpoint's words: shown, never sent raw.
        self.out.write(visible_lines(redact(text)) + "\n")

    def profile(self, report: ProfileReport, notes: list[str], check: Check) -> None:
        self.line(report.name + (f" ({'; '.join(notes)})" if notes else ""))
        self.line(f"  {self.marks[check.state]} {check.found}")
        if check.todo:
            self.line(f"    {self.marks['todo']} {check.todo}")
        for label, shown, source in report.rows:
            self.line(f"  - {label}: {shown}" + (f" (from {source})" if source else ""))
        if report.keyring_problem:
            self.line(f"  - keyring: {report.keyring_problem}")


def _names(config: cfg.Config, selected: str, only: bool, overrides: dict[str, Any]) -> list[str]:
    """The profiles to show: the one asked for, else every one in the file, and the selected
    one even when it is not there but the environment or options supply values."""
    if only:
        return [selected]
    from zoomtui.credentials import ENV_FOR

    names = config.names()
    elsewhere = any(os.environ.get(v) for v in ENV_FOR.values()) or any(overrides.values())
    if selected not in names and elsewhere:
        names.append(selected)
    return names


@click.command("status")
@connection_options
@click.option("--no-check", is_flag=True, help="Do not ask Zoom for a token (offline).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=TIMEOUT,
    show_default=True,
    help="Seconds to wait for each token request.",
)
@click.pass_context
def command(
    ctx: click.Context,
    profile: str | None,
    config_path: str | None,
    no_check: bool,
    timeout: float,
    **kwargs: Any,
) -> None:
    """Every profile: are its credentials accepted, and where each value comes from.

    One token request per profile (no WebSocket: it cannot displace another consumer of a
    subscription). --profile NAME shows only that one. Exit codes: 0 fine, 1 a check
    failed, 3 settings missing or invalid, 4 Zoom rejected the credentials.
    """
    quiet_logging()
    overrides = overrides_from(kwargs)
    out = Printer(sys.stdout)
    try:
        path = cfg.config_path(config_path)
        config = cfg.load_config(path)
    except cfg.ConfigError as exc:
        click.echo(f"zoomtui status: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    selected = cfg.selected_profile(profile)
    only = ctx.get_parameter_source("profile") is click.core.ParameterSource.COMMANDLINE
    names = _names(config, selected, only, overrides)
    if not names:
        out.line(
            f"No profiles in {path}, and no ZOOM_* variables set. Run `zoomtui login` to create "
            "one, or `zoomtui demo` to try zoomtui against a built-in fake Zoom."
        )
        sys.exit(EXIT_CONFIG)
    sys.exit(_report(out, config, names, selected, overrides, no_check=no_check, timeout=timeout))


def _report(
    out: Printer,
    config: cfg.Config,
    names: list[str],
    selected: str,
    overrides: dict[str, Any],
    *,
    no_check: bool,
    timeout: float,
) -> int:
    from zoomtui.credentials import ENV_FOR, keyring_status

    path = config.path
    status = keyring_status()
    reports = [inspect_profile(n, path, overrides, status.state) for n in names]
    checks = {} if no_check else asyncio.run(check_all(reports, timeout))
    code = EXIT_OK
    out.line(f"Config: {path}")
    for report in reports:
        check = (
            report.problem or checks.get(report.name) or Check("skip", "not checked (--no-check)")
        )
        code = worse_exit(code, check.code) if check.state == "fail" else code
        out.line()
        notes = ["selected"] if report.name == selected else []
        if report.name not in config.profiles:
            notes.append("not in the config file")
        out.profile(report, notes, check)
    out.line()
    if selected not in names:
        out.line(f"The selected profile '{selected}' is not in the config file.")
    env_set = [var for var in ENV_FOR.values() if os.environ.get(var)]
    if env_set:
        out.line(f"Set in the environment (these override any profile): {', '.join(env_set)}")
    accepted = [n for n in names if config.profiles.get(n, {}).get("insecure_keyring")]
    out.line(keyring_line(status, accepted))
    return code
