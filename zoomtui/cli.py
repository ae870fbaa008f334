"""The `zoomtui` command line. Each subcommand lives in `zoomtui/commands/<module>.py`
as a click command named `command`, imported only when it runs (fast `--help`, and
`tail` never imports Textual)."""

from __future__ import annotations

import importlib

import click

from zoomtui import __version__

# name shown to users -> module under zoomtui.commands
COMMANDS = {
    "run": "run",
    "demo": "demo",
    "tail": "tail",
    "doctor": "doctor",
    "login": "login",
    "logout": "logout",
    "profiles": "profiles",
    "replay": "replay",
    "export": "export",
    "fake-server": "fake_server",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        return importlib.import_module(f"zoomtui.commands.{module}").command


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="zoomtui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """A terminal monitor for Zoom WebSocket event subscriptions.

    With no command, opens the monitor on the selected profile (same as `zoomtui run`).
    Try `zoomtui demo` to see it against a built-in fake Zoom, no account needed.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(LazyGroup.get_command(main, ctx, "run"))


if __name__ == "__main__":
    main()
