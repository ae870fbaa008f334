"""The box the read-only pop-ups share (help, connection details): a bordered column in
the middle of the screen, at most 90 cells wide, whose rows scroll where they do not fit."""

from __future__ import annotations

from textual.screen import ModalScreen


class BoxedModal(ModalScreen[None]):
    """A modal whose content is one `Vertical` (titled in its border) holding a
    `VerticalScroll`; subclasses style their rows."""

    DEFAULT_CSS = """
    BoxedModal { align: center middle; }
    BoxedModal > Vertical {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-color: $text-primary;
        background: $surface;
        padding: 0 1;
    }
    BoxedModal VerticalScroll { height: auto; max-height: 100%; }
    """
