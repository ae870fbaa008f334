"""`zoomtui demo`: the real app against a fake Zoom started in-process.

The fake listens on 127.0.0.1 (ephemeral ports) with demo credentials and plays
a seeded, realistic scenario; the app takes the real code path: a real token
request over HTTP and a real WebSocket.  No account, nothing leaves the machine.

What it receives is archived like any run, in the demo's own file (never a
profile's), so `zoomtui replay --demo` and `zoomtui export --demo` have something to
show.  No history on start by default: every demo plays the same seeded meetings,
and two runs of them would merge into one roster (`--history 1h` shows it anyway).
"""

from __future__ import annotations

import sys
from typing import Literal

import click

from zoomtui.commands.archiving import history_options, plan_for
from zoomtui.commands.common import (
    filter_keywords,
    on_displaced_option,
    theme_keywords,
    theme_option,
)
from zoomtui.commands.forwarding import monitor_forward_options, monitor_forwarding


def _rate(value: str) -> float | Literal["max"]:
    if value == "max":
        return "max"
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter("give events per second (e.g. 15) or 'max'") from None
    if rate <= 0:
        raise click.BadParameter("the rate must be above 0")
    return rate


@click.command("demo")
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Seed of the scenario: the same seed plays the same meetings.",
)
@click.option(
    "--rate",
    default="15",
    show_default=True,
    metavar="EV/S|max",
    help="Events per second the fake Zoom sends, or 'max'.",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.05),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Heartbeat interval (Zoom's samples use 30 s).",
)
@history_options(default="none: every demo plays the same meetings again")
@on_displaced_option
@theme_option
@monitor_forward_options
def command(
    seed: int,
    rate: str,
    heartbeat: float,
    archive: bool | None,
    history: float | None,
    no_history: bool,
    on_displaced: str | None,
    theme: str | None,
    forward_to: tuple[str, ...],
    unsigned: bool,
) -> None:
    """Try zoomtui against a built-in fake Zoom: made-up meetings, no account needed.

    --forward-to http://127.0.0.1:3000/zoom tries your webhook handler on the demo's events
    (signed with your webhook secret token, or --unsigned)."""
    parsed = _rate(rate)
    forward = monitor_forwarding(
        "demo", forward_to, unsigned=unsigned, profile=None, config_path=None, insecure=False
    )

    from zoomtui.redaction import install_log_redaction
    from zoomtui.settings import parse_on_displaced
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions, ConnectionOptions, DemoOptions

    install_log_redaction()
    plan = plan_for(
        {}, archive=archive, history=history, no_history=no_history, default_history=None
    )
    demo = DemoOptions(seed=seed, rate=parsed, heartbeat=heartbeat)
    policy = {} if on_displaced is None else {"on_displaced": parse_on_displaced(on_displaced)}
    app = ZoomtuiApp(
        AppOptions(
            demo,
            archive=plan,
            connection=ConnectionOptions(keywords=policy),
            forward=forward,
            **theme_keywords(theme),
            **filter_keywords(None),
        )
    )
    app.run()
    sys.exit(app.return_code or 0)
