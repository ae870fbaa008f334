"""Save filter as…: asks the name to keep the filter in effect under (ctrl+s in the filter,
or the palette).  The name is checked as it is typed (a short word, as `@name` recalls
it); a name already saved is said before it is replaced.  Enter saves, escape does not."""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from zoomtui.filternames import SavedFilterNotAllowed, check_filter_name


class SaveFilterScreen(ModalScreen[str | None]):
    """Dismissed with the name to save under, or None (escape)."""

    DEFAULT_CSS = """
    SaveFilterScreen { align: center middle; }
    SaveFilterScreen > Vertical {
        width: 72;
        max-width: 95%;
        height: auto;
        border: thick $primary;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    SaveFilterScreen #save-filter-text { height: auto; margin-bottom: 1; color: $text-muted; }
    SaveFilterScreen Input { margin-bottom: 1; }
    SaveFilterScreen #save-filter-note { height: auto; }
    SaveFilterScreen #save-filter-note.-error { color: $text-error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="save_filter.cancel"),
    ]

    def __init__(self, expression: str, taken: Collection[str]) -> None:
        super().__init__()
        self.expression = expression
        self.taken = frozenset(taken)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save filter as"
            box.border_subtitle = "enter: save · escape: cancel"
            yield Static(Text(self.expression), id="save-filter-text", markup=False)
            yield Input(placeholder="a name, e.g. vip", id="save-filter-name", max_length=32)
            yield Static(
                Text("Recall it with @name in a filter, or ctrl+p."),
                id="save-filter-note",
                markup=False,
            )

    def _problem(self, name: str) -> str | None:
        try:
            check_filter_name(name)
        except SavedFilterNotAllowed as exc:
            return f"The name must be {exc}."
        return None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        name = event.value.strip()
        problem = self._problem(name) if name else None
        note = problem or (
            f"Replaces the saved filter @{name}."
            if name in self.taken
            else "Recall it with @name in a filter, or ctrl+p."
        )
        label = self.query_one("#save-filter-note", Static)
        label.set_class(problem is not None, "-error")
        label.update(Text(note))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if name and self._problem(name) is None:
            self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
