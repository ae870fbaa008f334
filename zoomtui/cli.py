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
    "forward": "forward",
    "resend": "resend",
    "watch": "watch",
    "status": "status",
    "doctor": "doctor",
    "login": "login",
    "logout": "logout",
    "profiles": "profiles",
    "replay": "replay",
    "export": "export",
    "search": "search",
    "fake-server": "fake_server",
    "trigger": "trigger",
    "collect": "collect",
    "hub-login": "hub_login",
}

#: what `zoomtui` does with no command
DEFAULT_COMMAND = "run"


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, and hands options given
    before any command to the default command: `zoomtui --profile work` is
    `zoomtui run --profile work`, as the help and the README promise."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"zoomtui.commands.{module}").command
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in self._own_options(ctx):
            # The group's own options are --help and --version only: anything else in front
            # belongs to `run` (a mistake there gets run's own "No such option" message).
            misplaced = self._command_among(ctx, args)
            if misplaced is not None:
                rest = list(args)
                rest.remove(misplaced)
                raise click.UsageError(
                    f"The command comes first: `zoomtui {misplaced} {' '.join(rest)}` "
                    "(options in front of any command are those of `zoomtui run`).",
                    ctx,
                )
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def _command_among(self, ctx: click.Context, args: list[str]) -> str | None:
        """A command name written after options (`zoomtui --profile work tail`), if any;
        not the value of an option (a profile may be called "tail")."""
        run = self.get_command(ctx, DEFAULT_COMMAND)
        takes_value = {
            opt
            for param in (run.get_params(ctx) if run is not None else [])
            if isinstance(param, click.Option) and not param.is_flag
            for opt in param.opts
        }
        previous = ""
        for arg in args:
            if arg in COMMANDS and previous not in takes_value:
                return arg
            previous = arg
        return None

    def _own_options(self, ctx: click.Context) -> set[str]:
        names: set[str] = set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names.update(param.opts, param.secondary_opts)
        return names

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's options, then the default command's (they work with no command too),
        then the commands."""
        click.Command.format_options(self, ctx, formatter)
        run = self.get_command(ctx, DEFAULT_COMMAND)
        if run is not None:
            rows = [
                row
                for param in run.get_params(ctx)
                if (row := param.get_help_record(ctx)) is not None and "--help" not in row[0]
            ]
            with formatter.section(
                f"Options of `zoomtui {DEFAULT_COMMAND}`, taken with no command"
            ):
                formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="zoomtui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """A terminal monitor for Zoom WebSocket event subscriptions.

    With no command, opens the monitor on the selected profile: `zoomtui` is
    `zoomtui run`, and takes its options (`zoomtui --profile work`).
    Try `zoomtui demo` to see it against a built-in fake Zoom, no account needed.
    """
    if ctx.invoked_subcommand is None:
        run = LazyGroup.get_command(main, ctx, DEFAULT_COMMAND)
        assert run is not None
        ctx.invoke(run)


if __name__ == "__main__":
    main()
