"""SVG snapshots of the main screens (pytest-textual-snapshot).

The scenes are the README's (scripts/screenshots.py): the real app against the
in-process fake Zoom, fixed seed, time standing still, UTC, 160x48, no cursor blink,
no toasts.  Update after an intended change with `pytest tests/tui/test_snapshots.py
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


@pytest.mark.parametrize("name", list(SCENES))
def test_screen(name: str, snap_compare) -> None:
    scene = SCENES[name]
    app = scene.make_app()
    assert snap_compare(app, run_before=scene.run_before, terminal_size=screenshots.SIZE)


def test_no_snapshot_holds_a_secret_or_a_token() -> None:
    stored = list((Path(__file__).parent / "__snapshots__").rglob("*.svg"))
    assert stored, "no snapshots stored yet"
    for path in stored:
        svg = path.read_text(encoding="utf-8")
        for needle in screenshots.FORBIDDEN:
            assert needle not in svg, f"{path.name} contains {needle[:12]!r}"
