"""`zoomtui replay`: the monitor over archived events, as they were received.

The app is the live one, fed by a `ReplaySource` instead of a connection: the
same event list, filters, inspector, meetings and participant panes.  The
connection panel shows the recorded states and gaps under a REPLAY badge, with
the recorded time in place of the clock.  Pacing follows the recorded times
(`--speed 10` plays ten recorded seconds a second, long silences are cut short);
`--instant` loads the whole window at once.  Space pauses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zoomtui.commands.common import filter_keywords, theme_keywords, theme_option
from zoomtui.commands.hubbing import hub_from, hub_options
from zoomtui.monitor.archive import ArchiveError, ArchiveReader
from zoomtui.monitor.when import HELP as WHEN_HELP

if TYPE_CHECKING:
    from zoomtui.tui.app import ZoomtuiApp


def replay_app(
    reader: ArchiveReader,
    *,
    since: float | None = None,
    until: float | None = None,
    speed: float | None = 1.0,
    title: str = "",
    theme: dict[str, Any] | None = None,
) -> ZoomtuiApp:
    """The app that plays `reader`'s [since, until) (what the command runs; tests drive it)."""
    from zoomtui.monitor.replay import ReplaySource
    from zoomtui.tui.app import ZoomtuiApp  # (Textual loads only when a replay runs)
    from zoomtui.tui.options import AppOptions, ReplayChoice

    source = ReplaySource(reader, since=since, until=until, speed=speed)
    return ZoomtuiApp(AppOptions(ReplayChoice(source, title), **(theme or {})))


def _replay_hub(hub: Any, since: float | None, until: float | None, now: float) -> None:
    """The hub's [since, until) in the monitor, as fast as it is read (default: the last
    hour, up to now)."""
    from zoomtui.hub.source import HubSource
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions, HubChoice

    source = HubSource(hub, since=since if since is not None else now - 3600.0, until=until or now)
    app = ZoomtuiApp(AppOptions(HubChoice(source, f"{hub.url} (replay)")))
    app.run()
    sys.exit(app.return_code or 0)


def describe(path: Path, *, demo: bool, profile: str, explicit: bool) -> str:
    if explicit:
        return path.name
    return "the demo's archive" if demo else f"profile {profile}"


@click.command("replay")
@click.option(
    "--profile",
    default=None,
    envvar="ZOOMTUI_PROFILE",
    help="Profile whose archive to play (default: 'default').",
)
@click.option("--demo", is_flag=True, help="Play the demo's archive instead of a profile's.")
@click.option(
    "--archive",
    "archive_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Play this archive file (e.g. one copied off another machine).",
)
@click.option(
    "--since",
    default=None,
    metavar="WHEN",
    help=f"From this time (default: the start of the archive): {WHEN_HELP}.",
)
@click.option("--until", default=None, metavar="WHEN", help="Up to this time (same forms).")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="N",
    help="Recorded seconds played per second (silences over a few seconds are cut short).",
)
@click.option("--instant", is_flag=True, help="Load the whole window at once, no pacing.")
@theme_option
@hub_options
def command(
    profile: str | None,
    demo: bool,
    archive_file: Path | None,
    since: str | None,
    until: str | None,
    speed: float,
    instant: bool,
    theme: str | None,
    **kwargs: Any,
) -> None:
    """Replay archived events in the monitor: what was received, when, and the gaps.
    With --hub, the team hub's window (--since, default the last hour) instead."""
    from zoomtui.commands.archiving import archive_to_read, time_bounds
    from zoomtui.monitor.recording import describe_span
    from zoomtui.redaction import install_log_redaction

    install_log_redaction()
    now = time.time()
    bounds = time_bounds(since, until, now)
    hub = hub_from(kwargs, required=False)
    if hub is not None:
        _replay_hub(hub, bounds["since"], bounds["until"], now)
        return
    path, name = archive_to_read(archive_file, profile, demo)
    reader = ArchiveReader(path)
    try:
        span = reader.time_range()
        count = reader.count(None, bounds["since"], bounds["until"])
    except ArchiveError as exc:
        hint = ""
        if not path.exists() and archive_file is None:
            hint = (
                " Run `zoomtui demo` first."
                if demo
                else " The monitor and `zoomtui tail` record there as they run."
            )
        raise click.ClickException(f"{exc}{hint}") from None
    if span is None or count == 0:
        where = f" between {since or 'the start'} and {until or 'now'}" if (since or until) else ""
        held = f" (it holds {describe_span(*span)})" if span is not None else ""
        raise click.ClickException(f"Nothing recorded{where} in {path}{held}.")
    lo = bounds["since"] if bounds["since"] is not None else span[0]
    hi = min(bounds["until"], span[1]) if bounds["until"] is not None else span[1]
    title = (
        f"{describe(path, demo=demo, profile=name, explicit=archive_file is not None)} · "
        f"{describe_span(max(lo, span[0]), hi)}"
    )
    app = replay_app(
        reader,
        since=bounds["since"],
        until=bounds["until"],
        speed=None if instant else speed,
        title=title,
        # (the recent filters of the profile played, or the demo's)
        theme={**theme_keywords(theme), **filter_keywords(None if demo else name)},
    )
    app.run()
    sys.exit(app.return_code or 0)
