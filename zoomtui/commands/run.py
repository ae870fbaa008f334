"""`zoomtui` / `zoomtui run`: open the monitor on the selected profile.

With no usable credentials the app opens its first-run screen (a form that
verifies and saves them, or `d` for the demo) instead of failing: a new user
gets somewhere either way.  A broken config file or an unsafe URL is not a
first run: that is said plainly, with exit code 3.

Everything received goes to the profile's archive (unless `--no-archive`), and the
last hour of it is shown on start, dimmed above a "live from here" line
(`--history 2h`, `--no-history`; the profile's `history_minutes`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zoomtui.commands.archiving import history_options, plan_for, profile_values, viewer_plan
from zoomtui.commands.common import (
    EXIT_CONFIG,
    connection_options,
    filter_keywords,
    on_displaced_option,
    overrides_from,
    theme_keywords,
    theme_option,
)
from zoomtui.commands.forwarding import monitor_forward_options, monitor_forwarding
from zoomtui.commands.hubbing import hub_from, hub_options

if TYPE_CHECKING:
    from zoomtui.monitor.recording import ArchivePlan


@click.command("run")
@connection_options
@history_options
@on_displaced_option
@theme_option
@hub_options
@monitor_forward_options
def command(
    profile: str | None,
    config_path: str | None,
    archive: bool | None,
    history: float | None,
    no_history: bool,
    theme: str | None,
    forward_to: tuple[str, ...],
    unsigned: bool,
    **kwargs: Any,
) -> None:
    """Open the monitor (the default command). First run: a short form, or press d for the demo.

    --forward-to URL: each live event to your webhook handler too, signed as Zoom signs."""
    from zoomtui import config as cfg
    from zoomtui import credentials
    from zoomtui.profilestate import first_connection_of
    from zoomtui.redaction import install_log_redaction
    from zoomtui.settings import SettingsError, parse_on_displaced

    install_log_redaction()
    hub = hub_from(kwargs, required=False)
    if hub is not None:
        _run_hub(hub, history, viewer_plan(profile, config_path, archive))
        return
    forward = monitor_forwarding(
        "run",
        forward_to,
        unsigned=unsigned,
        profile=profile,
        config_path=config_path,
        insecure=bool(kwargs.get("insecure_transport")),
    )
    overrides = overrides_from(kwargs)
    path = Path(config_path) if config_path else None
    settings = None
    error: str | None = None
    first_run: dict[str, Any] = {}
    try:
        profile = cfg.selected_profile(profile)
        settings = credentials.resolve_settings(
            profile=profile, config_path=path, overrides=overrides
        )
        settings.check_transport()
    except cfg.ConfigError as exc:
        raise click.exceptions.Exit(_fail(str(exc))) from None
    except SettingsError as exc:
        if not exc.missing:  # e.g. cleartext transport to a remote host: not a first run
            raise click.exceptions.Exit(_fail(str(exc))) from None
        first_run = _first_run_options(profile, path, overrides)
        error = first_run.pop("reason", None) or str(exc)

    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions, ConnectionOptions, FirstRunOptions

    name = profile or "default"
    rules = _alert_rules(path, name)
    plan = plan_for(
        profile_values(name, path), archive=archive, history=history, no_history=no_history
    )
    # The first connection of a profile says once that it may displace another consumer;
    # --on-displaced also reaches a connection made from the first-run form's settings.
    connection: dict[str, Any] = {"is_first_connection": first_connection_of}
    if "on_displaced" in overrides:
        connection["on_displaced"] = parse_on_displaced(overrides["on_displaced"])
    app = ZoomtuiApp(
        AppOptions(
            settings,
            profile=name,
            first_run=FirstRunOptions(reason=error or "", config_path=path, form=first_run),
            connection=ConnectionOptions(keywords=connection),
            archive=plan,
            alerts=rules,
            forward=forward,
            **theme_keywords(theme, path),
            **filter_keywords(name, path),
        )
    )
    app.run()
    sys.exit(app.return_code or 0)


def _alert_rules(path: Path | None, profile: str) -> tuple[Any, ...]:
    """The profile's alert rules; a rule that cannot work is refused (exit 3), never skipped."""
    from zoomtui import config as cfg
    from zoomtui.alerts.rules import load_rules
    from zoomtui.settings import SettingsError

    try:
        return tuple(load_rules(cfg.config_path(path), profile).rules)
    except SettingsError as exc:
        raise click.exceptions.Exit(_fail(str(exc))) from None


def _run_hub(hub: Any, history: float | None, kept: tuple[str, ArchivePlan] | None) -> None:
    """The monitor over the team hub: the last `history` seconds (default an hour), then live;
    what it reads kept in the archive `kept` names (None: none, unless `--archive`)."""
    import time

    from zoomtui.hub.source import HubSource
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions, HubChoice

    since = time.time() - (history if history is not None else 3600.0)
    choice = HubChoice(HubSource(hub, since=since), hub.url)
    profile, plan = kept if kept is not None else ("default", None)
    app = ZoomtuiApp(AppOptions(choice, profile=profile, archive=plan))
    app.run()
    sys.exit(app.return_code or 0)


def _fail(message: str) -> int:
    click.echo(f"zoomtui: {message}", err=True)
    return EXIT_CONFIG


def _first_run_options(
    profile: str | None, path: Path | None, overrides: dict[str, Any]
) -> dict[str, Any]:
    """What the first-run form can start from: ids already known (environment, profile,
    options), non-default URLs (so verifying goes to the same endpoints), and a reason
    written for the form (the CLI message says "run zoomtui login", which the form is)."""
    from zoomtui import credentials

    try:
        res = credentials.resolve(profile=profile, config_path=path, overrides=overrides)
    except Exception:  # noqa: BLE001 - prefill is a convenience, never a reason to fail
        return {}
    values, sources = res.values, res.sources
    reason = "Missing " + ", ".join(credentials.LABELS.get(n, n) for n in res.missing) + "."
    options: dict[str, Any] = {
        "reason": reason + (f" {res.keyring_problem}" if res.keyring_problem else ""),
        "keyring_problem": res.keyring_problem,
        "keyring_state": res.keyring_state,
        "prefill": {
            k: str(values[k])
            for k in ("account_id", "client_id", "subscription_id")
            if values.get(k)
        },
        "insecure_transport": bool(values.get("insecure_transport")),
        "grant": values.get("grant"),
        "cloud": values.get("cloud"),
    }
    for name in ("oauth_url", "ws_url"):
        # a URL someone set, not the cloud's own (which the form's cloud choice gives)
        source = str(sources.get(name, "default"))
        if values.get(name) and source != "default" and not source.startswith("cloud "):
            options[name] = str(values[name])
    return options
