"""The theme chosen in the monitor is kept between runs (the config file's [ui] table,
checked like every value), and `--theme NAME` picks one for a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zoomtui import config as cfg
from zoomtui.cli import main
from zoomtui.commands.common import theme_keywords
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, DemoOptions


def test_the_ui_table_is_checked_and_kept_beside_the_profiles(config_file: Path) -> None:
    cfg.save_profile("work", {"client_id": "abc"}, config_file)
    cfg.save_ui({"theme": "nord"}, config_file)
    cfg.save_profile("home", {"client_id": "def"}, config_file)  # keeps [ui]
    config = cfg.load_config(config_file)
    assert config.ui == {"theme": "nord"} and set(config.profiles) == {"work", "home"}
    assert cfg.delete_profile("home", config_file)
    assert cfg.load_config(config_file).ui == {"theme": "nord"}
    with pytest.raises(cfg.ConfigError, match="theme must be a theme name"):
        cfg.save_ui({"theme": "Nord; rm -rf"}, config_file)
    config_file.write_text('[ui]\ntheme = 42\nthem = "x"\n', encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match=r"line 2: theme must be a theme name"):
        cfg.load_config(config_file)
    config_file.write_text('[ui]\nthem = "x"\n', encoding="utf-8")
    (warning,) = cfg.load_config(config_file).warnings
    assert "'them' is not a setting" in warning and "did you mean 'theme'" in warning


def test_theme_keywords_take_the_option_else_the_kept_theme(config_file: Path) -> None:
    assert theme_keywords(None, config_file)["theme"] is None
    cfg.save_ui({"theme": "dracula"}, config_file)
    assert theme_keywords(None, config_file)["theme"] == "dracula"
    assert theme_keywords("nord", config_file)["theme"] == "nord"
    theme_keywords(None, config_file)["theme_store"]("gruvbox")
    assert cfg.load_config(config_file).ui == {"theme": "gruvbox"}


def test_an_unknown_theme_is_a_usage_error_listing_the_names() -> None:
    for command in ("demo", "run", "replay"):
        result = CliRunner().invoke(main, [command, "--theme", "nosuch"])
        assert result.exit_code == 2, (command, result.output)
        assert "there is no theme 'nosuch'" in result.output
        assert "nord" in result.output and "textual-light" in result.output


async def test_the_app_starts_with_the_theme_and_keeps_the_one_chosen(tui) -> None:
    kept: list[str] = []
    demo = DemoOptions(rate=5.0, heartbeat=tui.CALM_HB)
    app = ZoomtuiApp(AppOptions(demo, theme="nord", theme_store=kept.append))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "nord" and kept == []  # starting with it is no choice
        app.theme = "dracula"  # what the palette's theme picker does
        await tui.wait_until(pilot, lambda: kept == ["dracula"], what="the theme kept")
    unknown = ZoomtuiApp(AppOptions(demo, theme="no-such-theme"))
    async with unknown.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert unknown.theme == "textual-dark"  # Textual's default, no crash
