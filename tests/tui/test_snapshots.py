"""SVG snapshots of the main screens (pytest-textual-snapshot).

The scenes are the README's (scripts/screenshots.py): the real app against the
in-process fake Zoom, fixed seed, time standing still, UTC, 160x48 (and 80x24, 120x40,
200x60), no cursor blink, no toasts; each waits on conditions the app signals, never on
time, so a loaded machine shoots the same.  Update after an intended change with `pytest tests/tui/test_snapshots.py
--snapshot-update`, look at the report, and run scripts/screenshots.py for the README.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"
_spec = importlib.util.spec_from_file_location("zoomtui_screenshots", _SCRIPT)
assert _spec is not None and _spec.loader is not None
screenshots = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = screenshots  # dataclasses look their module up there
_spec.loader.exec_module(screenshots)

SCENES = {scene.name: scene for scene in screenshots.SCENES}


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch):
    """Times are shown in local time: pin it, so a CI runner in another zone sees the same."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


#: the sizes people use; the README's scenes are at 160x48, its `main-80x24` at 80x24
SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.mark.parametrize("name", [n for n, s in SCENES.items() if s.size not in SIZES])
def test_screen(name: str, snap_compare) -> None:
    scene = SCENES[name]
    app = scene.make_app()
    assert snap_compare(app, run_before=scene.run_before, terminal_size=scene.size)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: "x".join(map(str, size)))
@pytest.mark.parametrize("name", ["main", "meetings"])
def test_screen_at(name: str, size: tuple[int, int], snap_compare) -> None:
    """The main screen and the meetings at the sizes people use: the layout adapts
    (side pane, event column, panel figures), nothing that matters is cut."""
    scene = SCENES[name]
    assert snap_compare(scene.make_app(), run_before=scene.run_before, terminal_size=size)


def test_the_readme_80x24_scene_is_the_main_scene_at_80x24() -> None:
    """(test_screen_at[main-80x24] checks what it shows)"""
    scene = SCENES["main-80x24"]
    assert scene.size == (80, 24) and scene.run_before is SCENES["main"].run_before


def test_no_snapshot_holds_a_secret_or_a_token() -> None:
    stored = list((Path(__file__).parent / "__snapshots__").rglob("*.svg"))
    assert stored, "no snapshots stored yet"
    for path in stored:
        svg = path.read_text(encoding="utf-8")
        for needle in screenshots.FORBIDDEN:
            assert needle not in svg, f"{path.name} contains {needle[:12]!r}"


def test_the_readme_shows_every_scene_and_every_screenshot_is_a_scene() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    shots = {p.name for p in (root / "screenshots").glob("*.svg")}
    assert shots == {f"{name}.svg" for name in SCENES}
    for name in shots:
        assert f"](screenshots/{name})" in readme, name
