"""`zoomtui collect --hub nats://HOST:4222`: hold the team's Zoom subscriptions and publish
everything they receive to the hub, for any number of monitors to watch.

One process, one hub connection, one collector per profile (`--profile` again for each
subscription).  Each connects to Zoom only while it holds its subscription's lease: run a
second `collect` elsewhere and it stands by, taking over when the first stops renewing
(`zoomtui.hub.collector`).  stderr says what each does (`<profile>: ...`); like `tail`, a
collector archives what it receives in the profile's archive (`--no-archive` turns it off).

Exit codes: 0 stopped (Ctrl-C, SIGTERM), 3 settings, 4 hub or Zoom credentials refused,
5 the hub cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import click

from zoomtui.commands.archiving import _duration, no_archive_option, plan_for, profile_values
from zoomtui.commands.common import EXIT_CONFIG, EXIT_CREDENTIALS, EXIT_OK
from zoomtui.commands.hubbing import hub_exit_code, hub_from, hub_options
from zoomtui.commands.tail import gap_text, state_text
from zoomtui.monitor.session import SessionSink
from zoomtui.redaction import install_log_redaction, redact
from zoomtui.settings import ConnectionSettings, SettingsError
from zoomtui.visible import visible_lines
from zoomtui.zoom.updates import Gap, StateChanged


def say(text: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError):
        sys.stderr.write(f"zoomtui collect: {visible_lines(redact(text))}\n")
        sys.stderr.flush()


class CollectorNews(SessionSink):
    """One subscription's states and gaps on stderr, named by its profile."""

    def __init__(self, profile: str) -> None:
        self.profile = profile

    def on_state(self, change: StateChanged, live: bool) -> None:
        say(f"{self.profile}: {state_text(change)}")

    def on_gap(self, gap: Gap, live: bool) -> None:
        say(f"{self.profile}: {gap_text(gap)}")


async def run_collect(hub: Any, subscriptions: list[tuple[ConnectionSettings, Any]]) -> int:
    """Collect every subscription until a signal; returns the exit code."""
    from zoomtui.credentials.token_cache import shared_token_cache
    from zoomtui.hub.client import HubError
    from zoomtui.hub.collector import HubLink, SubscriptionCollector
    from zoomtui.profilestate import first_connection_of

    try:
        link = await HubLink.open(hub, lambda change: say(f"hub: {change.detail}"))
    except HubError as exc:
        say(str(exc))
        return hub_exit_code(exc.kind)
    collectors = []
    for settings, archive in subscriptions:
        name = settings.profile

        def note(text: str, name: str = name) -> None:
            say(f"{name}: {text}")

        kwargs: dict[str, Any] = {"token_cache": shared_token_cache(settings)}
        kwargs["is_first_connection"] = first_connection_of
        collectors.append(
            SubscriptionCollector(
                link,
                settings,
                note=note,
                sinks=[CollectorNews(name)],
                archive=archive,
                connection_kwargs=kwargs,
            )
        )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopping.set)
    tasks = [loop.create_task(c.run()) for c in collectors]
    waiter = loop.create_task(stopping.wait())
    try:
        await asyncio.wait([*tasks, waiter], return_when=asyncio.FIRST_COMPLETED)
        for c in collectors:
            await c.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        waiter.cancel()
        await link.close()
        for _, archive in subscriptions:
            if archive is not None:
                await asyncio.to_thread(archive.close)
    failed = [c for c in collectors if c.failure]
    for c in failed:
        say(f"{c.settings.profile}: stopped: {c.failure}")
    return EXIT_CREDENTIALS if failed else EXIT_OK


def _subscriptions(
    profiles: tuple[str, ...], config_path: str | None, insecure: bool, archive: bool | None
) -> list[tuple[ConnectionSettings, Any]]:
    from zoomtui.credentials import resolve_settings

    out = []
    for profile in profiles or (None,):
        overrides: dict[str, Any] = {"insecure_transport": True} if insecure else {}
        try:
            settings = resolve_settings(
                profile=profile,
                config_path=Path(config_path) if config_path else None,
                overrides=overrides,
            )
            settings.check_transport()
        except SettingsError as exc:
            click.echo(f"zoomtui collect: profile {profile or 'default'}: {redact(exc)}", err=True)
            sys.exit(EXIT_CONFIG)
        plan = plan_for(profile_values(settings.profile, config_path), archive=archive)
        out.append((settings, plan.open(settings.profile)))
    return out


@click.command()
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    help="A profile (subscription) to collect; repeat for several (default: 'default').",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file to use instead of the default one.",
)
@hub_options
@click.option(
    "--max-age",
    default="7d",
    show_default=True,
    callback=_duration,
    help="How long the hub keeps events (30m, 12h, 7d).",
)
@click.option(
    "--max-bytes",
    type=int,
    default=-1,
    show_default=True,
    help="The most the hub's stream may hold, in bytes (-1: no limit but the age).",
)
@click.option(
    "--lease-ttl",
    type=click.FloatRange(min=0.5),
    default=15.0,
    show_default=True,
    metavar="SECONDS",
    help="A collector that stops renewing its lease loses the subscription after this long.",
)
@no_archive_option
@click.option(
    "--insecure-transport",
    is_flag=True,
    default=False,
    envvar="ZOOMTUI_INSECURE_TRANSPORT",
    help="Allow http:// and ws:// to a non-loopback Zoom host, for this run only.",
)
def command(
    profiles: tuple[str, ...],
    config_path: str | None,
    max_age: float,
    max_bytes: int,
    lease_ttl: float,
    archive: bool | None,
    insecure_transport: bool,
    **kwargs: Any,
) -> None:
    """Hold the subscriptions' Zoom connections and publish every frame to the team hub.

    Exit codes: 0 stopped, 3 settings, 4 credentials refused, 5 the hub cannot be reached.
    """
    install_log_redaction()
    hub = hub_from(kwargs, required=True, max_age=max_age, max_bytes=max_bytes, lease_ttl=lease_ttl)
    subscriptions = _subscriptions(profiles, config_path, insecure_transport, archive)
    try:
        code = asyncio.run(run_collect(hub, subscriptions))
    except KeyboardInterrupt:
        code = EXIT_OK
    sys.exit(code)
