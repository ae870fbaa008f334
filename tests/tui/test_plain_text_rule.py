"""The rule that keeps outside text off Textual's markup parser, checked on the source.

Toasts show what Zoom, its API, a handler, a command, the file system or the user said, and
none of our toasts uses markup on purpose: so every `notify` in zoomtui/tui says
`markup=False`, whether called or handed on (`call_from_thread(app.notify, ...)`).  And every
`Static` or `Label` is made with `markup=False`: a `str` given to one later (`update`) is then
drawn as it is, and our own styled words are `Text` or `Content`, which need no parsing.
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


def _says_plain(call: ast.Call) -> bool:
    return any(
        k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def _is_notify(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "notify"


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


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
        if _is_notify(node) and id(node) not in handed_on:  # e.g. `report=app.notify`
            found.append(f"{where}:{node.lineno} notify handed on where markup is not seen")
    return found


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
"""
    assert sorted(_breaches(source, "probe.py")) == [
        "probe.py:2 notify without markup=False",
        "probe.py:4 notify without markup=False",
        "probe.py:6 notify handed on where markup is not seen",
        "probe.py:7 Static without markup=False",
    ]
