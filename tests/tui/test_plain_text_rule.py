"""The rule that keeps outside text off Textual's markup parser, checked on the source.

Toasts show what Zoom, its API, a handler, a command, the file system or the user said, and
none of our toasts uses markup on purpose: so every `notify` in zoomtui/tui says
`markup=False`, whether called or handed on (`call_from_thread(app.notify, ...)`).  And every
`Static` or `Label` is made with `markup=False`: a `str` given to one later (`update`) is then
drawn as it is, and our own styled words are `Text` or `Content`, which need no parsing.
A border title or subtitle and a tooltip parse any `str` they are given: they are given our
own literal words, or `Content`/`Text`.
A `str` in a markup place crashes the app on a stray `[/x]` and makes `[@click=...]` a live
action link (tests/tui/test_markup_hostile.py shows both paths with the real app).
"""

from __future__ import annotations

import ast
from pathlib import Path

import zoomtui.tui

TUI = Path(zoomtui.tui.__file__).parent
#: widgets whose `str` content Textual parses as markup unless they are made with markup=False
PARSING_WIDGETS = {"Static", "Label"}
#: attributes that parse a `str` as markup, always: they take `Content` (or `Text`) instead
PARSING_ATTRIBUTES = {"border_title", "border_subtitle", "tooltip"}
#: what makes plain text of a `str`
PLAIN_MAKERS = {"Content", "Text"}


def _says_plain(call: ast.Call) -> bool:
    return any(
        k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def _is_notify(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "notify"


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_plain(value: ast.expr, assigned: dict[str, list[ast.expr]]) -> bool:
    """Our own literal words, `None`, or `Content(...)`/`Text(...)` (and their `assemble`,
    `styled`): directly, in a conditional, or in the one local name given only those."""
    if isinstance(value, ast.Constant):
        return value.value is None or isinstance(value.value, str)
    if isinstance(value, ast.IfExp):
        return _is_plain(value.body, assigned) and _is_plain(value.orelse, assigned)
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute):
            func = func.value
        return isinstance(func, ast.Name) and func.id in PLAIN_MAKERS
    if isinstance(value, ast.Name):
        given = assigned.get(value.id, [])
        return bool(given) and all(_is_plain(v, {}) for v in given)
    return False


def _assigned_names(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """What each local name of `scope` is given (a parameter is given nothing known)."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            assigned.setdefault(node.target.id, []).append(node.value)
    return assigned


def _attribute_breaches(tree: ast.AST, where: str) -> list[str]:
    found: set[str] = set()
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
            continue
        assigned = _assigned_names(scope)
        for node in ast.walk(scope):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                attr = target.attr if isinstance(target, ast.Attribute) else ""
                if attr in PARSING_ATTRIBUTES and not _is_plain(node.value, assigned):
                    found.add(f"{where}:{node.lineno} {attr} given a str that is not ours")
    return sorted(found)


def _breaches(source: str, where: str) -> list[str]:
    tree = ast.parse(source, filename=where)
    handed_on: set[int] = set()  # the `.notify` nodes a checked call passes along
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        notify_args = [a for a in node.args if _is_notify(a)]
        handed_on.update(id(a) for a in notify_args)
        if _is_notify(node.func) or notify_args:
            handed_on.add(id(node.func))
            if not _says_plain(node):
                found.append(f"{where}:{node.lineno} notify without markup=False")
        elif _callee(node) in PARSING_WIDGETS and not _says_plain(node):
            found.append(f"{where}:{node.lineno} {_callee(node)} without markup=False")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_notify(node) and id(node) not in handed_on:
            # e.g. `report=app.notify`
            found.append(f"{where}:{node.lineno} notify handed on where markup is not seen")
    return found + _attribute_breaches(tree, where)


def test_the_tui_modules_are_found() -> None:
    # Guards the guard: a wrong path would make the check below pass on nothing.
    names = {p.name for p in TUI.rglob("*.py")}
    assert {"app.py", "alerting.py", "connection_panel.py", "inspector.py"} <= names


def test_every_toast_and_text_widget_is_plain() -> None:
    breaches = [
        breach
        for path in sorted(TUI.rglob("*.py"))
        for breach in _breaches(
            path.read_text(encoding="utf-8"), path.relative_to(TUI.parent.parent).as_posix()
        )
    ]
    assert not breaches, "outside text could be parsed as markup:\n" + "\n".join(breaches)


def test_the_rule_sees_each_way_a_toast_is_given() -> None:
    # Guards the guard: each shape below is caught, and the plain ones pass.
    source = """
app.notify(text)
app.notify(text, markup=False)
app.call_from_thread(app.notify, text, title="t")
app.call_from_thread(app.notify, text, markup=False)
Dispatcher(report=app.notify)
Static(text)
Label("x", markup=False)
def f(title, said):
    widget.border_title = title
    widget.border_subtitle = f"{said}"
    widget.tooltip = said or None
    shown = Content(said)
    widget.tooltip = Content(said) if said else None
    widget.border_title = shown
    widget.border_subtitle = "ours" if said else Text.assemble("x", (said, "bold"))
"""
    assert sorted(_breaches(source, "probe.py")) == sorted(
        [
            "probe.py:2 notify without markup=False",
            "probe.py:4 notify without markup=False",
            "probe.py:6 notify handed on where markup is not seen",
            "probe.py:10 border_title given a str that is not ours",
            "probe.py:11 border_subtitle given a str that is not ours",
            "probe.py:12 tooltip given a str that is not ours",
            "probe.py:7 Static without markup=False",
        ]
    )
