"""The main screen at narrow and wide sizes: what must stay readable at 80 and 60 columns.

The demo (fixed seed, time standing still, every event at once) as scripts/screenshots.py
shoots it; every wait is on a condition the app signals (`settle`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content

from tests.tui.conftest import screen_text, wait_until
from zoomtui.redaction import mask_id
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.screens.connection_details import ConnectionDetailsScreen
from zoomtui.tui.screens.help import HelpScreen
from zoomtui.tui.screens.main import SIDE_PANE_FROM
from zoomtui.tui.widgets.filter_bar import PLACEHOLDER

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


def screenshots() -> Any:
    name = "zoomtui_screenshots"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def log_lines(app: ZoomtuiApp) -> list[str]:
    view = app.main.event_view
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def test_at_80_columns_the_side_pane_steps_aside_and_m_brings_it_back() -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shots.settle(pilot)
        main = app.main
        assert not main.side_pane_shown and not main.meetings_pane.region
        assert main.event_view.region.width == 80  # the log has the room
        header, *rows = log_lines(app)
        for title in ("event", "meeting", "participant", "lag"):
            assert title in header
        # whole names: joined and left read apart
        assert any("meeting.participant_joined " in row for row in rows)
        assert any("participant_left " in row for row in rows)
        assert not any("partici…" in row for row in rows)

        await pilot.press("m")
        await wait_until(pilot, lambda: bool(main.meetings_pane.region), "the side pane")
        assert app.focused is main.meetings_pane and main.side_pane_shown
        assert main.event_view.region.width == 40
        # beside the pane the names are shortened, the action kept
        await wait_until(pilot, lambda: any("ptcp_" in r for r in log_lines(app)), "short names")
        assert not any("partici…" in row for row in log_lines(app))

        await pilot.press("m")
        await wait_until(pilot, lambda: not main.meetings_pane.region, "the pane to go")
        assert app.focused is main.event_view


async def test_at_60_columns_names_are_whole_and_the_pane_shares_the_width() -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(60, 18)) as pilot:
        await shots.settle(pilot)
        header, *rows = log_lines(app)
        assert "participant" not in header  # no room: time, event and lag
        assert any("meeting.participant_joined " in row for row in rows)
        await pilot.press("m")
        await wait_until(pilot, lambda: bool(app.main.meetings_pane.region), "the side pane")
        assert app.main.meetings_pane.region.width >= 28


async def test_wide_shows_the_side_pane_and_narrowing_takes_the_focus_back() -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await shots.settle(pilot)
        main = app.main
        assert main.side_pane_shown and main.meetings_pane.region
        await pilot.press("m", "enter")
        assert app.focused is main.participants.participant_list
        await pilot.resize_terminal(SIDE_PANE_FROM - 1, 30)
        await wait_until(pilot, lambda: not main.meetings_pane.region, "the pane to step aside")
        assert app.focused is main.event_view  # not a hidden list
        assert "meeting" in screen_text(app)
        await pilot.resize_terminal(SIDE_PANE_FROM, 30)
        await wait_until(pilot, lambda: bool(main.meetings_pane.region), "the pane back")


async def test_a_pane_hidden_on_a_wide_screen_stays_hidden_when_it_narrows() -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await shots.settle(pilot)
        main = app.main
        await pilot.press("m", "m")
        await wait_until(pilot, lambda: not main.meetings_pane.region, "the pane to go")
        await pilot.resize_terminal(80, 24)
        await pilot.resize_terminal(160, 48)
        assert not main.side_pane_shown
        await pilot.press("m")
        await wait_until(pilot, lambda: bool(main.meetings_pane.region), "the pane back")


def panel_lines(app: ZoomtuiApp) -> list[str]:
    """The connection panel's rows as shown (borders and all)."""
    region = app.main.panel.region
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_the_panel_keeps_state_reconnects_and_gaps_at_80_and_60_columns(
    size: tuple[int, int],
) -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        _, state, figures, _ = panel_lines(app)
        assert "● connected" in state
        assert "reconnects 0" in figures and "gaps 0" in figures
        assert "hb 0.0 ms 0.0s ago" in figures  # the heartbeat stays too
        assert "ev/s" not in figures  # it gave way
        assert figures.rstrip(" │").endswith("gaps 0")  # nothing cut


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_a_stalled_link_is_never_shown_as_plainly_connected(size: tuple[int, int]) -> None:
    """Connected, and the last heartbeat answer is 12 minutes old (the dead-link limit is
    45 s): the panel says the link looks stalled, at 80 and at 60 columns."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        app.clock.now += 12 * 60
        app.panel.refresh_status()
        await wait_until(pilot, lambda: "stalled" in "".join(panel_lines(app)), "the flag")
        _, state, figures, _ = panel_lines(app)
        assert "● connected 00:12:00 · ⚠ link looks stalled" in state
        assert "hb 0.0 ms 12m ago" in figures
        assert app.panel.has_class("-stalled")
        # a fresh answer: healthy again
        await shots.answered_heartbeat(pilot)
        app.panel.refresh_status()
        await wait_until(pilot, lambda: "stalled" not in "".join(panel_lines(app)), "clear")
        assert not app.panel.has_class("-stalled")


async def test_a_reason_too_long_for_the_state_line_ends_in_an_ellipsis() -> None:
    """The first connection of a profile says more than 80 columns hold: the cut shows,
    so nobody takes the half sentence for all of it."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shots.settle(pilot)
        app.status.reason = (
            "build_connection accepted (subscription dem…01); said once for this profile: "
            "Zoom allows one connection per subscription, so connecting may disconnect a "
            "consumer already using it"
        )
        app.panel.refresh_status()
        await wait_until(pilot, lambda: "01);" in panel_lines(app)[1], "the long reason")
        state = panel_lines(app)[1].rstrip(" │")
        assert state.startswith("│ ● connected") and state.endswith("…")


LONG_REASON = (
    "build_connection accepted (subscription dem…01); said once for this profile: "
    "Zoom allows one connection per subscription, so connecting may disconnect a "
    "consumer already using it [b]not markup[/b]"
)


def details_text(app: ZoomtuiApp) -> str:
    """The details box's words, rows joined and wrapping undone."""
    box = app.screen.query_one("Vertical").region
    rows = screen_text(app).splitlines()[box.y : box.bottom]
    return " ".join(" ".join(row[box.x + 1 : box.right - 1].split()) for row in rows)


@pytest.mark.parametrize(
    ("size", "keys"), [((80, 24), ["i"]), ((60, 18), ["ctrl+p", *"connection details"])]
)
async def test_a_cut_reason_is_whole_in_a_tooltip_and_in_the_connection_details(
    size: tuple[int, int], keys: list[str]
) -> None:
    """The state line cuts a long reason with "…": its tooltip has all of it as plain text,
    the border says `i details`, and `i` (or the palette) shows it whole."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        # at 80 columns the demo's own reason fits (at 60 it is cut already)
        assert str(app.panel.border_subtitle).endswith("i details") == (size[0] < 80)
        app.status.reason = LONG_REASON
        app.panel.refresh_status()
        await wait_until(pilot, lambda: panel_lines(app)[1].rstrip(" │").endswith("…"), "cut")
        tooltip = app.panel.query_one("#state-line").tooltip
        assert isinstance(tooltip, Content) and tooltip.plain == LONG_REASON
        assert str(app.panel.border_subtitle).endswith("· i details")
        assert "i details" in panel_lines(app)[-1]

        await pilot.press(*keys)
        if keys[0] == "ctrl+p":
            await wait_until(pilot, lambda: "Connection details" in screen_text(app), "the hit")
            await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDetailsScreen), "open")
        await wait_until(pilot, lambda: "consumer" in details_text(app), "the details shown")
        shown = details_text(app)
        assert f"reason {LONG_REASON}" in shown  # whole, the brackets as typed
        assert "state ● connected" in shown and "since " in shown
        assert f"subscription {mask_id(app.status.subscription_id)}" in shown
        assert app.status.subscription_id not in shown
        await pilot.press("i")
        await wait_until(pilot, lambda: app.screen is app.main, "closed")


async def test_the_help_lists_the_connection_details_key() -> None:
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await shots.settle(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await wait_until(pilot, lambda: "i  Connection details" in screen_text(app), "the key")


def filter_row(app: ZoomtuiApp) -> str:
    bar = app.main.filter_bar.input.region
    return screen_text(app).splitlines()[bar.y][bar.x : bar.right]


@pytest.mark.parametrize(
    ("size", "side_pane", "hint"),
    [
        ((80, 24), False, "/ to filter — e.g. type:meeting.participant_*"),
        ((80, 24), True, "/ to filter"),
        ((120, 40), True, "/ to filter — e.g. type:meeting.participant_*"),
        ((200, 60), True, PLACEHOLDER),
    ],
)
async def test_the_filter_hint_is_never_cut(
    size: tuple[int, int], side_pane: bool, hint: str
) -> None:
    """A cut example (`user:an`) reads like a half-typed filter: the hint that fits whole."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        main = app.main
        if main.side_pane_shown != side_pane:
            await pilot.press("m")
            await wait_until(pilot, lambda: main.side_pane_shown == side_pane, "the side pane")
        field = main.filter_bar.input
        await wait_until(pilot, lambda: field.placeholder == hint, f"the hint {hint!r}")
        await wait_until(pilot, lambda: filter_row(app).strip() == hint, "the hint painted")


def footer_row(app: ZoomtuiApp) -> str:
    return screen_text(app).splitlines()[-1]


@pytest.mark.parametrize(
    ("size", "keys", "given_way"),
    [
        # the panel's border says c and r: they give way first, then f (space follows)
        ((80, 24), ["⏎ Inspect", "f Follow", "/ Filter", "m Meetings"], ["Disconnect"]),
        ((60, 18), ["⏎ Inspect", "/ Filter", "m Meetings"], ["Disconnect", "Follow"]),
        (
            (160, 48),
            ["⏎ Inspect", "f Follow", "/ Filter", "c Disconnect", "r Reconnect", "m Meetings"],
            [],
        ),
    ],
)
async def test_the_footer_always_shows_help_and_quit(
    size: tuple[int, int], keys: list[str], given_way: list[str]
) -> None:
    """At 80 columns the footer was cut after `m Meeting`: help, from which every key is
    found, and quit never showed.  Keys give way whole, help and quit never; wide, all show."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        await wait_until(pilot, lambda: "? Help" in footer_row(app), "the footer's keys")
        row = footer_row(app)
        for key in [*keys, "? Help", "q Quit", "^p palette"]:
            assert key in row
        for word in given_way:
            assert word not in row
        assert "? Help" in row.split("▏")[0]  # left of the palette key: not under it
        assert row.index("q Quit") < row.index("▏^p palette")


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_help_and_quit_stay_in_the_footer_whatever_has_the_focus(
    size: tuple[int, int],
) -> None:
    """The meetings pane and the participant list put their own keys first."""
    shots = screenshots()
    app = shots.demo_app()
    async with app.run_test(size=size) as pilot:
        await shots.settle(pilot)
        await pilot.press("m")
        await wait_until(pilot, lambda: "Participants" in footer_row(app), "the pane's keys")
        assert "? Help" in footer_row(app) and "q Quit" in footer_row(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "this person" in footer_row(app), "the list's keys")
        assert "? Help" in footer_row(app) and "q Quit" in footer_row(app)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
