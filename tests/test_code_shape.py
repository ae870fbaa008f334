"""The tree stays readable: no module of zoomtui over 600 lines, no function over 80.

The module list is derived from the package on disk, so a new module is held to the
limits the day it is added.  A module or function that must be longer is named in
`ALLOWED` with the reason, where a reviewer sees it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import zoomtui

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: "module path" or "module path:qualified.function" -> why it may be longer
ALLOWED: dict[str, str] = {}

PACKAGE = Path(zoomtui.__file__).parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, length in lines) of every function and method, nested ones too."""
    found: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            # From `def` to the last line: a click command's option decorators are a table,
            # not logic, and do not count.
            found.append((name, (node.end_lineno or node.lineno) - node.lineno + 1))
            found.extend(_functions(node, f"{name}."))
        elif isinstance(node, ast.ClassDef):
            found.extend(_functions(node, f"{prefix}{node.name}."))
    return found


def test_the_package_is_found() -> None:
    # Guards the guard: a wrong path would make both checks below pass on nothing.
    names = {_name(p) for p in _modules()}
    assert "zoomtui/cli.py" in names and len(names) > 50


def test_no_module_is_over_the_limit() -> None:
    long = {
        _name(p): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
        and _name(p) not in ALLOWED
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them along a seam): {long}"


def test_no_function_is_over_the_limit() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, lines in _functions(tree):
            key = f"{_name(path)}:{name}"
            if lines > MAX_FUNCTION_LINES and key not in ALLOWED:
                long[key] = lines
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them into steps): {long}"


def test_every_exception_still_exists() -> None:
    # An entry whose module or function is gone (or now fits) is dead weight: remove it.
    stale = []
    for key in ALLOWED:
        module, _, function = key.partition(":")
        path = PACKAGE.parent / module
        if not path.exists():
            stale.append(key)
            continue
        if function:
            lengths = dict(_functions(ast.parse(path.read_text(encoding="utf-8"))))
            if lengths.get(function, 0) <= MAX_FUNCTION_LINES:
                stale.append(key)
        elif len(path.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES:
            stale.append(key)
    assert not stale, f"exceptions that no longer apply: {stale}"
