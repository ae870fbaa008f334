"""`zoomtui fake-server`: run the fake Zoom until Ctrl-C, for demos and integration work.

It prints the settings a client needs as shell `export` lines first (flushed at
once, so `eval "$(zoomtui fake-server | head -6)"`-style scripts and tests can
read them), then serves.  The credentials are the fixed demo ones: they open
only this fake, which is why printing the demo secret is acceptable here.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
import sys

import click

from zoomtui.commands.common import EXIT_INTERRUPTED, EXIT_USAGE


class _Rate(click.ParamType):
    name = "rate"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) or value == "max":
            return value
        try:
            rate = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of events per second or 'max'", param, ctx)
        if rate <= 0:
            self.fail("the rate must be above zero", param, ctx)
        return rate


def export_lines(fake) -> list[str]:
    """The shell lines that point a zoomtui client (or anything else) at `fake`."""
    from zoomtui import settings as s

    c = fake.credentials
    pairs = [
        (s.ENV_ACCOUNT_ID, c.account_id),
        (s.ENV_CLIENT_ID, c.client_id),
        (s.ENV_CLIENT_SECRET, c.client_secret),  # the fixed demo secret: it opens only this fake
        (s.ENV_SUBSCRIPTION_ID, c.subscription_id),
        (s.ENV_OAUTH_URL, fake.oauth_url),
        (s.ENV_WS_URL, fake.ws_url),
    ]
    return [f"export {name}={shlex.quote(value)}" for name, value in pairs]


@click.command("fake-server")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback)."
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="WebSocket port (0 = any free port).",
)
@click.option(
    "--oauth-port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Token endpoint port (0 = any free port).",
)
@click.option("--seed", default=1, show_default=True, type=int, help="Scenario seed.")
@click.option(
    "--rate",
    default="20",
    show_default=True,
    type=_Rate(),
    help="Scenario events per second, or 'max'.",
)
@click.option(
    "--events", default=None, type=click.IntRange(0), help="Stop the scenario after N events."
)
@click.option(
    "--scenario",
    default="demo",
    show_default=True,
    type=click.Choice(["demo", "quiet", "samples"]),
    help="What the fake sends.",
)
@click.option(
    "--token-ttl",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Lifetime of issued tokens in seconds (expires_in).",
)
@click.option(
    "--allow-non-loopback",
    is_flag=True,
    default=False,
    help="Allow a --host that is not a loopback address (it serves plain ws:// and http://).",
)
def command(
    host: str,
    port: int,
    oauth_port: int,
    seed: int,
    rate,
    events: int | None,
    scenario: str,
    token_ttl: float,
    allow_non_loopback: bool,
) -> None:
    """Run a fake Zoom (token endpoint + WebSocket) on this machine until Ctrl-C.

    Prints `export` lines for the demo credentials and the URLs first; run
    `eval "$(zoomtui fake-server ... | head -n 6)"` in another shell, or copy them.
    """
    from zoomtui.fakezoom import FakeZoom

    try:
        fake = FakeZoom(
            host,
            port,
            oauth_port,
            seed=seed,
            scenario=scenario,
            rate=rate,
            events=events,
            token_ttl=token_ttl,
            allow_non_loopback=allow_non_loopback,
        )
    except (ValueError, FileNotFoundError) as exc:
        click.echo(f"zoomtui fake-server: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        asyncio.run(_serve(fake))
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:  # port in use, address not available
        click.echo(f"zoomtui fake-server: cannot listen on {host}: {exc.strerror or exc}", err=True)
        sys.exit(1)


async def _serve(fake) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    async with fake:
        sys.stdout.write("\n".join(export_lines(fake)) + "\n")
        sys.stdout.flush()
        click.echo(
            f"# fake Zoom serving (scenario {fake.scenario}, seed {fake.seed}); Ctrl-C stops.",
            err=True,
        )
        await stop.wait()
    click.echo("# fake Zoom stopped.", err=True)
