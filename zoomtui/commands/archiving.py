"""The archive options of the commands that connect (`run`, `demo`, `tail`).

Archiving is on by default (Zoom never replays an event: what zoomtui kept is the
only record): ``--no-archive``, or ``archive = false`` in the profile, turns it off.
Retention (``archive_max_age_days``, ``archive_max_size_mb``) and the history shown
on start (``history_minutes``) are profile settings; ``--history 2h`` and
``--no-history`` override the last one for a run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zoomtui.monitor.recording import DEFAULT_HISTORY_SECONDS, ArchivePlan, plan_from_profile
from zoomtui.monitor.when import parse_duration


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    seconds = parse_duration(value)
    if seconds is None:
        raise click.BadParameter(f"{value!r} is not a duration: use 30m, 2h, 1d or 1h30m.")
    return seconds


def no_archive_option(func: Callable) -> Callable:
    """--no-archive (and --archive, to override ``archive = false`` in the profile)."""
    return click.option(
        "--archive/--no-archive",
        "archive",
        default=None,
        help="Keep what is received in the local archive, or not (default: keep it, unless "
        "the profile says archive = false; a --hub viewer keeps nothing unless --archive).",
    )(func)


def history_options(
    func: Callable | None = None, *, default: str = "the profile's history_minutes, else 60 minutes"
) -> Any:
    """--history DURATION / --no-history: what the monitor shows from the archive on start.
    `default` says in the help what happens without either."""
    if func is None:
        return functools.partial(history_options, default=default)

    @click.option(
        "--history",
        "history",
        default=None,
        metavar="DURATION",
        callback=_duration,
        help=f"Show this much recent history from the archive on start (e.g. 2h; "
        f"default: {default}).",
    )
    @click.option(
        "--no-history",
        "no_history",
        is_flag=True,
        help="Start with an empty screen (the archive is still written).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return no_archive_option(wrapper)


def profile_values(profile: str, config_path: str | Path | None) -> dict[str, object]:
    """The profile's settings (empty when there is no such profile or no file).  A broken
    config file was already reported by whoever resolved the connection settings."""
    from zoomtui import config as cfg

    try:
        return dict(cfg.get_profile(profile, cfg.config_path(config_path)) or {})
    except cfg.ConfigError:
        return {}


def plan_for(
    values: dict[str, object],
    *,
    archive: bool | None,
    history: float | None = None,
    no_history: bool = False,
    default_history: float | None = DEFAULT_HISTORY_SECONDS,
) -> ArchivePlan:
    """The plan for one run: options over the profile's settings over the defaults."""
    wanted: float | bool = False if no_history else (history if history is not None else True)
    return plan_from_profile(
        values, archive=archive, history=wanted, default_history=default_history
    )


def viewer_plan(
    profile: str | None, config_path: str | Path | None, archive: bool | None
) -> tuple[str, ArchivePlan] | None:
    """The archive of a hub's viewer (the profile's name and plan, no history on start: the
    hub has it), only when `--archive` asked for it: the collector keeps the record, and a
    viewer's copy is the viewer's choice.  None: nothing is kept."""
    if archive is not True:
        return None
    from zoomtui.config import ConfigError, check_profile_name, selected_profile

    name = selected_profile(profile)
    try:
        check_profile_name(name)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    return name, plan_for(profile_values(name, config_path), archive=True, no_history=True)


def time_bounds(since: str | None, until: str | None, now: float) -> dict[str, float | None]:
    """--since/--until as epoch seconds (None: open), or a click error naming the option."""
    from zoomtui.monitor.when import WhenError, parse_when

    bounds: dict[str, float | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            bounds[name] = parse_when(value, now) if value is not None else None
        except WhenError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{name}") from None
    return bounds


def archive_to_read(archive_file: Path | None, profile: str | None, demo: bool) -> tuple[Path, str]:
    """The archive `replay` and `export` read: --archive FILE, else the demo's or the
    selected profile's. Returns the path and the profile name ("" for a file)."""
    from zoomtui.config import ConfigError, check_profile_name, selected_profile
    from zoomtui.monitor.archive import archive_path

    if archive_file is not None:
        return Path(archive_file), ""
    name = selected_profile(profile)
    try:
        check_profile_name(name)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    return archive_path(name, demo=demo), name
