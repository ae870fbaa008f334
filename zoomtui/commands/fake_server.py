"""`zoomtui fake-server`: run the fake Zoom until Ctrl-C, for demos and integration work.

It prints the settings a client needs as shell `export` lines first (flushed at
once), and with `--env-file PATH` also writes them to PATH (owner-only, before
it serves, removed when it stops) for another shell to `source`: a command
substitution such as `eval "$(zoomtui fake-server | head -n 6)"` cannot work, as
it waits for the server to exit.  The credentials are the fixed demo ones and the
control token (`zoomtui trigger`) opens only this fake's control endpoint: they
open nothing else, which is why printing them is acceptable here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from zoomtui.commands.common import EXIT_INTERRUPTED, EXIT_USAGE

if TYPE_CHECKING:
    from zoomtui.fakezoom import FakeZoom


class _Rate(click.ParamType):
    name = "rate"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float | Literal["max"]:
        if isinstance(value, (int, float)) or value == "max":
            return value
        try:
            rate = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of events per second or 'max'", param, ctx)
        if rate <= 0:
            self.fail("the rate must be above zero", param, ctx)
        return rate


def export_lines(fake: FakeZoom) -> list[str]:
    """The shell lines that point a zoomtui client (or anything else) at `fake`, then the
    two that `zoomtui trigger` reads."""
    from zoomtui import settings as s
    from zoomtui.fakezoom.names import ENV_CONTROL_TOKEN, ENV_CONTROL_URL

    c = fake.credentials
    pairs = [
        (s.ENV_ACCOUNT_ID, c.account_id),
        (s.ENV_CLIENT_ID, c.client_id),
        (s.ENV_CLIENT_SECRET, c.client_secret),  # the fixed demo secret: it opens only this fake
        (s.ENV_SUBSCRIPTION_ID, c.subscription_id),
        (s.ENV_OAUTH_URL, fake.oauth_url),
        (s.ENV_WS_URL, fake.ws_url),
        (s.ENV_API_URL, fake.api_url),  # the Dashboard answers there, not at api.zoom.us
        (ENV_CONTROL_URL, fake.control_url),
        (ENV_CONTROL_TOKEN, fake.control_token),  # opens only this fake's control endpoint
    ]
    return [f"export {name}={shlex.quote(value)}" for name, value in pairs]


def write_env_file(path: Path, lines: list[str]) -> str:
    """Write `lines` to `path` readable by its owner only, all at once (a temp file in the
    same folder, then a rename): a script that waits for the file never reads half of it.
    Returns the text written (to recognise the file when removing it)."""
    text = (
        "# zoomtui fake-server: `source` this file in another shell; it is removed when the "
        "server stops.\n" + "\n".join(lines) + "\n"
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:  # mkstemp creates the file with mode 0600 whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return text


def remove_env_file(path: Path, text: str) -> None:
    """Remove the env file, unless something else has replaced it since."""
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            path.unlink()


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
    type=click.Choice(["demo", "quiet", "samples", "shapes"]),
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
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the export lines to this file (mode 0600) before serving, for "
    "`source FILE` in another shell; removed when the server stops.",
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
    rate: float | Literal["max"],
    events: int | None,
    scenario: str,
    token_ttl: float,
    env_file: Path | None,
    allow_non_loopback: bool,
) -> None:
    """Run a fake Zoom (token endpoint + WebSocket) on this machine until Ctrl-C.

    Prints `export` lines for the demo credentials, the URLs and the control token
    of `zoomtui trigger` first. To use them from another shell, or a script:

    \b
        zoomtui fake-server --env-file fakezoom.env &
        until [ -s fakezoom.env ]; do sleep 0.1; done
        source ./fakezoom.env
        zoomtui tail        # or zoomtui, zoomtui doctor, your own client
        zoomtui trigger meeting.participant_joined --name "Ana"

    (A command substitution like `eval "$(zoomtui fake-server | head -n 6)"` never
    returns: it waits for the server to exit.)
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
        asyncio.run(_serve(fake, env_file))
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except _EnvFileError as exc:
        click.echo(f"zoomtui fake-server: cannot write {env_file}: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # port in use, address not available
        click.echo(f"zoomtui fake-server: cannot listen on {host}: {exc.strerror or exc}", err=True)
        sys.exit(1)


class _EnvFileError(Exception):
    pass


async def _serve(fake: FakeZoom, env_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    async with fake:
        lines = export_lines(fake)
        written = None
        if env_file is not None:  # the ports are bound: anyone who reads it can connect
            try:
                written = write_env_file(env_file, lines)
            except OSError as exc:
                raise _EnvFileError(exc.strerror or str(exc)) from None
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
            click.echo(
                f"# fake Zoom serving (scenario {fake.scenario}, seed {fake.seed})"
                + (f"; settings in {env_file}" if env_file is not None else "")
                + "; Ctrl-C stops.",
                err=True,
            )
            await stop.wait()
        finally:
            if env_file is not None and written is not None:
                remove_env_file(env_file, written)
    click.echo("# fake Zoom stopped.", err=True)
