"""The slow-painters plugin (tests/slowpaint.py) slows what it says it slows: each number it
patches exists where the app reads it, and every timer in zoomtui/tui is either one of its
painters or named as left alone.  A renamed constant or a new painter fails here, instead
of silently no longer being slowed."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import slowpaint, waits
from tests.slowpaint import NOT_SLOWED, PAINTERS, Painter

TUI = Path(__file__).resolve().parents[1] / "zoomtui" / "tui"
TIMER_CALLS = {"set_interval", "set_timer", "call_later"}


def _source_tree(module: str) -> ast.Module:
    return ast.parse(inspect.getsource(importlib.import_module(module)))


def _names_read(node: ast.AST) -> set[str]:
    """Every name `node` reads: bare names and attributes (`self.FOLLOW_INTERVAL`)."""
    read: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            read.add(sub.id)
        elif isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Load):
            read.add(sub.attr)
    return read


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _timer_calls() -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(module, the function holding it) for every timer call in zoomtui/tui."""
    for path in sorted(TUI.rglob("*.py")):
        module = ".".join(path.relative_to(TUI.parents[1]).with_suffix("").parts)
        for function in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr in TIMER_CALLS:
                    yield module, function


@pytest.mark.parametrize("painter", PAINTERS, ids=lambda p: f"{p.module}:{p.attribute}")
def test_each_painter_is_a_number_where_the_code_reads_it(painter: Painter) -> None:
    owner = painter.owner()
    value = vars(owner).get(painter.name)  # its own, not inherited: patching it reaches the code
    assert isinstance(value, int | float) and value > 0, f"{painter} is not there any more"
    reads = [
        function.name
        for function in _functions(_source_tree(painter.module))
        if painter.name in _names_read(function)
    ]
    assert reads, f"{painter.module} no longer reads {painter.name} in any function"


def test_every_timer_in_the_app_is_a_painter_or_said_to_be_left_alone() -> None:
    painted_by = {(p.module, p.name) for p in PAINTERS}
    found: set[tuple[str, str]] = set()
    unknown = []
    for module, function in _timer_calls():
        found.add((module, function.name))
        slowed = any((module, name) in painted_by for name in _names_read(function))
        if not slowed and (module, function.name) not in NOT_SLOWED:
            unknown.append(f"{module}.{function.name}")
    assert not unknown, f"timers tests/slowpaint.py does not know: {unknown}"
    assert set(NOT_SLOWED) <= found, "NOT_SLOWED names a timer that is gone"


def test_the_plugin_slows_every_painter_never_speeds_one_up_and_lowers_the_hang_guard() -> None:
    normal = {p: getattr(p.owner(), p.name) for p in PAINTERS}
    guard = waits.HANG_GUARD
    patched = pytest.MonkeyPatch()
    try:
        slowpaint.slow_down(patched, 3.5)
        for painter, before in normal.items():
            assert getattr(painter.owner(), painter.name) == max(before, 3.5), painter
        assert min(guard, slowpaint.HANG_GUARD) == waits.HANG_GUARD
    finally:
        patched.undo()
    assert {p: getattr(p.owner(), p.name) for p in PAINTERS} == normal
    assert guard == waits.HANG_GUARD
