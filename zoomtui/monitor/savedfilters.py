"""Saved filters at work: `@name` in a filter, and the config's `[filters]` table checked
with the filter language (which the config, below it in the layers, cannot do).

`@name` is a term of its own (space-separated, unquoted) and stands for the saved filter's
expression, so ``@vip type:meeting.*`` is everything ``vip`` asks for and that type.  A
saved filter is several terms that must all match, so ``-@vip`` (not all of them) is no
filter the language can say: an error, as an unknown name is (listing the saved names).
To search for text that starts with `@`, quote it: ``"@acme"``.  A saved filter may not
use another (no chains, no loops).

Every front end reads them the same way: `load_saved()` gives the filters the language
reads and, for each one it does not, why (file, line, the filter and the reason); a front
end says those and goes on, and an `@name` of one of them is an error with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from zoomtui import config as cfg
from zoomtui.filternames import (
    MAX_SAVED_FILTERS,
    NAME_PATTERN,
    SavedFilter,
    SavedFilterNotAllowed,
    check_filter_expression,
    check_filter_name,
)
from zoomtui.monitor.filters import FilterError, compile_filter

__all__ = [
    "SavedFilters",
    "expand_saved",
    "has_references",
    "load_saved",
    "save_filter",
]


def _tokens(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each term: runs up to unquoted whitespace, as the filter parser reads
    them (inside quotes, a backslash escapes a quote or a backslash)."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        quoted = False
        while i < n and (quoted or not text[i].isspace()):
            if text[i] == "\\" and quoted and i + 1 < n:
                i += 2
                continue
            if text[i] == '"':
                quoted = not quoted
            i += 1
        yield start, i


def _references(text: str) -> Iterator[tuple[int, int, str, bool]]:
    """(start, end, name, negated) of each `@name` or `-@name` term."""
    for start, end in _tokens(text):
        negated = text[start] == "-"
        body = text[start + negated : end]
        if body.startswith("@") and NAME_PATTERN.match(body[1:]):
            yield start, end, body[1:], negated


def has_references(text: str) -> bool:
    """Whether `text` names a saved filter (`@name` or `-@name`)."""
    return "@" in text and next(_references(text), None) is not None


def _names(saved: Mapping[str, object]) -> str:
    if not saved:
        return "none are saved (ctrl+s in the monitor's filter, or [filters] in config.toml)"
    return "saved: " + ", ".join(f"@{name}" for name in sorted(saved))


def expand_saved(
    text: str, saved: Mapping[str, str], problems: Mapping[str, str] | None = None
) -> str:
    """`text` with each `@name` term replaced by that saved filter's expression.

    A `FilterError` (at the term) for a name not saved (listing those that are), a name in
    `problems` (saying why it was left out), or a negated `-@name`."""
    out: list[str] = []
    last = 0
    for start, end, name, negated in _references(text):
        if negated:
            raise FilterError(
                f"-@{name}: a saved filter cannot be negated (its terms must all match); "
                "negate its terms one by one",
                start,
            )
        if name not in saved:
            if problems and name in problems:
                raise FilterError(problems[name], start)
            raise FilterError(f"no saved filter @{name}; {_names(saved)}", start)
        out += [text[last:start], saved[name]]
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def language_problem(expression: str) -> str | None:
    """Why `expression` cannot be a saved filter in the filter language (None: it can)."""
    for _, _, name, _ in _references(expression):
        return f"a saved filter cannot use another (@{name})"
    try:
        compile_filter(expression)
    except FilterError as exc:
        return str(exc)
    return None


@dataclass(frozen=True, slots=True)
class SavedFilters:
    """The saved filters a front end uses, and those it left out with why."""

    #: name -> expression: each one a filter the language reads
    filters: Mapping[str, str] = field(default_factory=dict)
    #: name -> why it was left out (the file, the line, the filter and the reason)
    problems: Mapping[str, str] = field(default_factory=dict)

    def expand(self, text: str) -> str:
        """`text` with its `@name` terms expanded (`expand_saved`)."""
        return expand_saved(text, self.filters, self.problems)


def checked(config: cfg.Config) -> SavedFilters:
    """The config's saved filters, each checked with the filter language."""
    filters: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, saved in config.filters.items():
        problem = language_problem(saved.expression)
        if problem is None:
            filters[name] = saved.expression
            continue
        where = f"{config.path}, line {saved.line}" if saved.line else str(config.path)
        shown = saved.expression if len(saved.expression) <= 80 else saved.expression[:79] + "…"
        problems[name] = (
            f"{where}: saved filter '{name}' ({shown}) is not a filter zoomtui understands: "
            f"{problem}. Fix or delete that line."
        )
    return SavedFilters(filters, problems)


def load_saved(path: Path | None = None) -> SavedFilters:
    """The saved filters of the config file (`ConfigError` when the file cannot be read)."""
    return checked(cfg.load_config(path or cfg.config_path()))


def save_filter(name: str, expression: str, path: Path | None = None) -> bool:
    """Keep `expression` as saved filter `name` in the config file, everything else in it
    kept (its comments aside); True when it replaced a filter of that name.  A
    `ConfigError` says what is wrong (the name, the filter, the file)."""
    path = path or cfg.config_path()
    try:
        check_filter_name(name)
    except SavedFilterNotAllowed as exc:
        raise cfg.ConfigError(f"Not saved: the name must be {exc}.") from None
    try:
        text = check_filter_expression(expression)
    except SavedFilterNotAllowed as exc:
        raise cfg.ConfigError(f"Not saved: the filter must be {exc}.") from None
    problem = language_problem(text)
    if problem is not None:
        raise cfg.ConfigError(
            f"Not saved: {text!r} is not a filter zoomtui understands: {problem}."
        )
    config = cfg.load_config(path)
    profiles = {n: {**config.extra.get(n, {}), **v} for n, v in config.profiles.items()}
    replaced = name in config.filters
    saved = {**config.filters, name: SavedFilter(name, text)}
    if len(saved) > MAX_SAVED_FILTERS:
        raise cfg.ConfigError(f"Not saved: the config file holds at most {MAX_SAVED_FILTERS}.")
    cfg.write_config(path, profiles, config.ui, saved)
    return replaced
