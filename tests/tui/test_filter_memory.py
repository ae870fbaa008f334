"""The filters the monitor keeps: up / down in the filter input walk the recent ones (the
typed text comes back past the newest), a chosen filter is noted and written for the next
run, the palette applies a saved filter, ctrl+s (or the palette) saves one under a name,
and `@name` in the filter is the saved filter."""

from __future__ import annotations

import json
from pathlib import Path

from textual.command import CommandList

from zoomtui import config as cfg
from zoomtui.commands.common import keep_filter
from zoomtui.monitor.recentfilters import RecentFilters
from zoomtui.monitor.savedfilters import SavedFilters
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, DemoOptions, FilterOptions
from zoomtui.tui.screens.save_filter import SaveFilterScreen


def demo_app(tui, filters: FilterOptions) -> ZoomtuiApp:
    return ZoomtuiApp(AppOptions(DemoOptions(rate=5.0, heartbeat=tui.CALM_HB), filters=filters))


async def test_up_and_down_walk_the_recent_filters_like_a_shell(tui, tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    recent = RecentFilters(path, ["type:*joined", "user:ana", "family:webinar"])
    app = demo_app(tui, FilterOptions(recent=recent))
    async with app.run_test(size=(120, 40)) as pilot:
        bar, view = app.filter_bar, app.event_view
        await pilot.press("slash", *"us")

        def shows(text: str) -> bool:  # in the input, and applied (throttled, as typing is)
            return bar.text == text and view.applied_filter == text

        await tui.wait_until(pilot, lambda: shows("us"), what="typed")
        await pilot.press("up")
        await tui.wait_until(pilot, lambda: shows("type:*joined"), what="the newest")
        await pilot.press("up", "up", "up")  # past the oldest: stays there
        await tui.wait_until(pilot, lambda: shows("family:webinar"), what="the oldest")
        await pilot.press("down")
        await tui.wait_until(pilot, lambda: shows("user:ana"), what="one newer")
        await pilot.press("down", "down")
        await tui.wait_until(pilot, lambda: shows("us"), what="the typed text back")
        assert app.focused is bar.input
        await pilot.press("down")  # not walking: back to the list, as before
        await tui.wait_until(pilot, lambda: app.focused is view, what="back to the list")
        # the walk applied nothing for good; leaving the input chose the text typed
        assert recent.entries == ("us", "type:*joined", "user:ana", "family:webinar")
        # an edit ends a walk: the edited text is what a new walk comes back to
        await pilot.press("slash", "up", "up", "backspace", "backspace", "up", "down")
        await tui.wait_until(pilot, lambda: shows("user:a"), what="the edit kept")


async def test_a_chosen_filter_is_noted_and_written_owner_only(tui, tmp_path: Path) -> None:
    path = tmp_path / "state" / "recent.json"
    recent = RecentFilters(path, ["user:ana"])
    app = demo_app(tui, FilterOptions(recent=recent))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"type:meeting.*", "enter")

        def written() -> list[str]:
            try:
                return json.loads(path.read_text(encoding="utf-8"))["filters"]
            except (OSError, ValueError):
                return []

        await tui.wait_until(pilot, lambda: written() == ["type:meeting.*", "user:ana"])
        assert path.stat().st_mode & 0o777 == 0o600
        # an error is not noted; the half-typed text of each keystroke neither
        await pilot.press("slash", "ctrl+u", *"type:(", "enter")
        await pilot.press("slash", "ctrl+u", *"user:bob", "escape")
        await tui.wait_until(pilot, lambda: written()[:1] == ["user:bob"], what="user:bob")
        assert written() == ["user:bob", "type:meeting.*", "user:ana"]
    # the next run walks them
    assert RecentFilters.load(path).entries[0] == "user:bob"


async def test_a_hostile_recent_file_is_said_once_and_the_monitor_runs(tui, tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    path.write_bytes(b"[" * 50_000)
    problems = {"bad": "config.toml, line 3: saved filter 'bad' (type:() is not a filter"}
    app = demo_app(
        tui, FilterOptions(recent=RecentFilters.load(path), saved=SavedFilters({}, problems))
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.wait_until(pilot, lambda: len(app._notifications) >= 2, what="the warnings")
        said = " ".join(n.message for n in app._notifications)
        assert "recent filters were ignored" in said and "line 3: saved filter 'bad'" in said
        await pilot.press("slash", "up")  # nothing to walk: nothing happens
        await pilot.pause()
        assert app.filter_bar.text == ""


def offered(app: ZoomtuiApp) -> str:
    """The command the palette would run on enter."""
    hits = app.screen.query_one(CommandList)
    if hits.highlighted is None:
        return ""
    return str(hits.get_option_at_index(hits.highlighted).prompt)


async def test_the_palette_applies_a_saved_filter(tui) -> None:
    saved = SavedFilters({"vip": "user:ana", "joins": "type:*participant_joined"})
    app = demo_app(tui, FilterOptions(recent=RecentFilters(None), saved=saved))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p", *"filter: joins")
        await tui.wait_until(pilot, lambda: "Filter: joins" in offered(app), what="the hit")
        await pilot.press("enter")
        view = app.event_view
        await tui.wait_until(
            pilot, lambda: view.applied_filter == "type:*participant_joined", what="applied"
        )
        assert app.filter_bar.text == "type:*participant_joined"
        assert app.main.filters.recent()[0] == "type:*participant_joined"
        # @name typed in the bar is the saved filter, with more terms
        await pilot.press("slash", "ctrl+u", *"@vip -type:*left", "enter")
        await tui.wait_until(pilot, lambda: view.applied_filter == "@vip -type:*left")
        assert view.filter_error is None
        assert view.event_log.filter is not None
        assert view.event_log.filter.describe() == "user:ana -type:*left"
        await pilot.press("slash", "ctrl+u", *"@nope", "enter")
        await tui.wait_until(pilot, lambda: view.filter_error is not None, what="an error")
        assert "no saved filter @nope; saved: @joins, @vip" in (view.filter_error or "")


async def test_ctrl_s_saves_the_filter_under_a_name(tui, config_file: Path) -> None:
    cfg.save_ui({"theme": "nord"}, config_file)
    filters = FilterOptions(save=lambda name, text: keep_filter(config_file, name, text))
    app = demo_app(tui, filters)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"type:meeting.* -user:bot", "ctrl+s")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, SaveFilterScreen))
        await pilot.press(*"bad name", "enter")  # refused: the screen stays and says why
        await tui.wait_until(
            pilot, lambda: "must be a short word" in tui.screen_text(app), what="the refusal"
        )
        assert isinstance(app.screen, SaveFilterScreen)
        await pilot.press(*["backspace"] * 8, *"nobots", "enter")

        def kept() -> dict[str, str]:
            config = cfg.load_config(config_file)
            return {name: f.expression for name, f in config.filters.items()}

        await tui.wait_until(pilot, lambda: kept() == {"nobots": "type:meeting.* -user:bot"})
        assert cfg.load_config(config_file).ui == {"theme": "nord"}  # the rest kept
        assert app.focused is app.filter_bar.input
        # the palette lists it at once, and "Save filter as…" asks again
        await pilot.press("escape", "ctrl+p", *"filter: nobots")
        await tui.wait_until(pilot, lambda: "Filter: nobots" in offered(app), what="listed")
        await pilot.press("ctrl+u", *"save filter as")
        await tui.wait_until(pilot, lambda: "Save filter as" in offered(app), what="save hit")
        await pilot.press("enter")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, SaveFilterScreen))
        await pilot.press(*"nobots")
        await tui.wait_until(
            pilot,
            lambda: "Replaces the saved filter @nobots" in tui.screen_text(app),
            what="the replacement said",
        )
        await pilot.press("escape")


async def test_nothing_to_save_is_said(tui) -> None:
    app = demo_app(tui, FilterOptions())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", "ctrl+s")
        await tui.wait_until(pilot, lambda: bool(app._notifications), what="said")
        assert not isinstance(app.screen, SaveFilterScreen)
        await pilot.press(*"type:(", "ctrl+s")
        await tui.wait_until(pilot, lambda: len(app._notifications) >= 2, what="said twice")
        assert "has an error" in list(app._notifications)[-1].message
        assert not isinstance(app.screen, SaveFilterScreen)
