"""The filters the monitor keeps for a person: the recent ones (up / down in the filter
input) and the saved ones (the palette's "Filter: <name>", `@name` in a filter, "Save
filter as…").  The main screen owns one; it knows no widget.

A filter is noted as recent when it becomes the one in effect by a person's choice (they
leave the filter input, a quick filter, a saved filter from the palette) and the language
read it: not each keystroke's half-typed text.  Files are written on worker threads (an
fsync may take a while on a busy disk); what cannot be written is said, never a crash.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from zoomtui.filternames import SavedFilterNotAllowed, check_filter_name
from zoomtui.monitor import filters
from zoomtui.monitor.recentfilters import write_recent
from zoomtui.monitor.savedfilters import SavedFilters, language_problem
from zoomtui.redaction import redact

if TYPE_CHECKING:
    from zoomtui.monitor.filters import Filter
    from zoomtui.tui.app import ZoomtuiApp


class FilterMemory:
    """Recent and saved filters of the monitor (`AppOptions.filters`)."""

    def __init__(self, app: ZoomtuiApp) -> None:
        options = app.options.filters
        self._app = app
        self._recent = options.recent
        self._store = options.save
        #: the saved filters in use (those saved in this run added)
        self.saved: SavedFilters = options.saved

    # -- the filter language with @name ------------------------------------------------
    def compile(self, text: str) -> Filter:
        """`text` as a filter, its `@name` terms expanded (`FilterError` says what is wrong)."""
        # (through the module: tests slow the compiler down to provoke races)
        return filters.compile_filter(self.saved.expand(text))

    # -- recent ------------------------------------------------------------------------
    def recent(self) -> tuple[str, ...]:
        """The recent filters, newest first."""
        return self._recent.entries if self._recent is not None else ()

    def remember(self, text: str) -> None:
        """`text` is the filter in effect now, by a person's choice."""
        recent = self._recent
        if recent is None or not recent.add(text) or recent.path is None:
            return
        self._app.run_worker(
            partial(self._write_recent, recent.path, recent.entries),
            thread=True,
            group="recent-filters",
            exit_on_error=False,
        )

    def _write_recent(self, path: Path, entries: tuple[str, ...]) -> None:
        try:
            write_recent(path, entries)
        except OSError as exc:
            self._warn_from_thread(f"{path}: {exc.strerror or exc}", "Recent filters not kept")

    # -- saved -------------------------------------------------------------------------
    def say_problems(self) -> None:
        """Say once what was left out: saved filters the language does not read, a recent
        filters file that was ignored."""
        for problem in self.saved.problems.values():
            self._warn(problem, "A saved filter is left out")
        if self._recent is not None and self._recent.warning:
            self._warn(self._recent.warning, "Recent filters")

    def ask_to_save(self, text: str, error: str | None) -> None:
        """Save filter as…: ask a name for `text` (the filter in effect), then keep it."""
        from zoomtui.tui.screens.save_filter import SaveFilterScreen

        text = text.strip()
        if not text:
            self._warn("Type a filter first: there is none to save.", "Nothing to save")
            return
        try:
            expression = self.saved.expand(text)
        except filters.FilterError as exc:
            error = str(exc)
        problem = error or language_problem(expression)
        if problem:
            self._warn(f"This filter has an error: {problem}", "Not saved")
            return

        def named(name: str | None) -> None:
            if name:
                self.save(name, expression)

        self._app.push_screen(SaveFilterScreen(expression, self.saved.filters), named)

    def save(self, name: str, expression: str) -> None:
        """Keep `expression` as saved filter `name`: at once for this run, in the config
        file on a worker thread."""
        try:
            check_filter_name(name)
        except SavedFilterNotAllowed as exc:
            self._warn(f"The name must be {exc}.", "Not saved")
            return
        replaced = name in self.saved.filters
        problems = {k: v for k, v in self.saved.problems.items() if k != name}
        self.saved = SavedFilters({**self.saved.filters, name: expression}, problems)
        verb = "replaced" if replaced else "saved"
        if self._store is None:
            self._app.notify(f"@{name} {verb} (for this run)", title="Filter saved", markup=False)
            return
        self._app.run_worker(
            partial(self._keep, name, expression, verb),
            thread=True,
            group="saved-filters",
            exit_on_error=False,
        )

    def _keep(self, name: str, expression: str, verb: str) -> None:
        assert self._store is not None
        try:
            self._store(name, expression)
        except Exception as exc:  # noqa: BLE001 - a filter not kept: said, never a crash
            self._warn_from_thread(redact(str(exc)), "The filter is kept for this run only")
            return
        self._app.call_from_thread(
            self._app.notify, f"@{name} {verb}: {expression}", title="Filter saved", markup=False
        )

    # -- saying -------------------------------------------------------------------------
    def _warn(self, text: str, title: str) -> None:
        self._app.notify(text, title=title, severity="warning", timeout=10, markup=False)

    def _warn_from_thread(self, text: str, title: str) -> None:
        self._app.call_from_thread(self._warn, text, title)
