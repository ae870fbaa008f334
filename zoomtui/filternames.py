"""The config file's `[filters]` table: saved filters, a name for a filter expression.

    [filters]
    vip = 'user:ana@example.com meeting:85746352415'
    joins = "type:*.participant_joined -user:bot"

What can be checked here is checked when the file is read and before it is written: a name
is a short word (`@name` recalls it in a filter), an expression is one line of text no
longer than a filter may be, and there are at most `MAX_SAVED_FILTERS`.  Whether an
expression is a filter zoomtui understands is for the filter language to say, which sits
above the config in the layers: `zoomtui.monitor.savedfilters` checks that as the front ends
load them, naming the file, the line and the filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from zoomtui.tomltext import toml_string

#: a short word: what follows `@` in a filter
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
NAME_ALLOWED = (
    "a short word: letters, digits, '-' or '_', starting with a letter or digit (at most 32)"
)
#: the filter language's own limit (`zoomtui.monitor.filters.MAX_FILTER_CHARS`)
MAX_EXPRESSION_CHARS = 2000
MAX_SAVED_FILTERS = 200
EXPRESSION_ALLOWED = (
    f"a filter: one line of text of at most {MAX_EXPRESSION_CHARS} characters, without "
    "control characters"
)


class SavedFilterNotAllowed(ValueError):
    """A name or an expression the `[filters]` table cannot hold; `str()` says what is allowed."""


@dataclass(frozen=True, slots=True)
class SavedFilter:
    """One line of the `[filters]` table."""

    name: str
    expression: str
    #: its line in the file (None: not read from one)
    line: int | None = None


def check_filter_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        shown = repr(name[:40]) if isinstance(name, str) else type(name).__name__
        raise SavedFilterNotAllowed(f"{NAME_ALLOWED}, not {shown}")
    return name


def check_filter_expression(expression: object) -> str:
    if not isinstance(expression, str):
        raise SavedFilterNotAllowed(f"{EXPRESSION_ALLOWED}, not {type(expression).__name__}")
    if len(expression) > MAX_EXPRESSION_CHARS or any(
        ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in expression
    ):
        raise SavedFilterNotAllowed(EXPRESSION_ALLOWED)
    if not expression.strip():
        raise SavedFilterNotAllowed(f"{EXPRESSION_ALLOWED}, not empty")
    return expression.strip()


def read_filters_table(
    raw: object, path: Path, line_of: Callable[[str | None, str], int | None]
) -> dict[str, SavedFilter]:
    """The `[filters]` table of the file at `path`, checked; `line_of(table, key)` is the
    line of a key in a table (None: at the top).  A `SavedFilterNotAllowed` names the file,
    the line and what is wrong."""
    table_line = line_of(None, "filters")
    if not isinstance(raw, dict):
        raise SavedFilterNotAllowed(f"{_where(path, table_line)}: 'filters' must be a table.")
    if len(raw) > MAX_SAVED_FILTERS:
        raise SavedFilterNotAllowed(
            f"{_where(path, table_line)}: at most {MAX_SAVED_FILTERS} saved filters, "
            f"not {len(raw):,}."
        )
    saved: dict[str, SavedFilter] = {}
    for name, expression in raw.items():
        line = line_of("filters", name)
        try:
            check_filter_name(name)
        except SavedFilterNotAllowed as exc:
            raise SavedFilterNotAllowed(
                f"{_where(path, line)}: a saved filter's name must be {exc}. "
                "Rename or delete that line."
            ) from None
        try:
            text = check_filter_expression(expression)
        except SavedFilterNotAllowed as exc:
            raise SavedFilterNotAllowed(
                f"{_where(path, line)}: saved filter '{name}' must be {exc}. "
                "Fix or delete that line."
            ) from None
        saved[name] = SavedFilter(name, text, line)
    return saved


def _where(path: Path, line: int | None) -> str:
    return f"{path}, line {line}" if line else str(path)


def filters_toml(saved: Mapping[str, SavedFilter]) -> str:
    """The `[filters]` table as TOML text ("" for none), names in order."""
    if not saved:
        return ""
    lines = [f"{name} = {toml_string(saved[name].expression)}\n" for name in sorted(saved)]
    return "\n[filters]\n" + "".join(lines)
