"""A question before an action that is hard to undo: disconnecting (events sent meanwhile
are lost) or taking the subscription back from another consumer (it is knocked off).

The safe answer has the focus, so a stray `enter` (or a key pasted into the wrong pane,
which arrives as keys in tmux) does nothing harmful; no letter confirms, only the acting
button does (tab or the arrows to it, then enter, or a click).  `escape` and `n` answer
no.  The screen returns True only for the acting button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


@dataclass(frozen=True, slots=True)
class Question:
    """What to ask, and the words on the two buttons."""

    title: str
    text: str
    #: the button that acts (never the default)
    act: str
    #: the button that leaves things as they are (the default: it has the focus)
    keep: str = "Cancel"


class ConfirmScreen(ModalScreen[bool]):
    """Ask `question`; dismissed with True only when the acting button is pressed."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72;
        max-width: 95%;
        height: auto;
        border: thick $warning;
        border-title-color: $text-warning;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #confirm-text { height: auto; margin-bottom: 1; }
    ConfirmScreen #confirm-buttons { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "keep", "No", id="confirm.keep"),
        Binding("left,right", "app.focus_next", "Other button", show=False),
    ]

    #: the safe answer has the focus when the question opens
    AUTO_FOCUS = "#confirm-keep"

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        question = self.question
        with Vertical() as box:
            box.border_title = Content(question.title)
            box.border_subtitle = "enter: the highlighted button · escape: no"
            yield Static(question.text, id="confirm-text", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(question.keep, id="confirm-keep", variant="primary")
                yield Button(question.act, id="confirm-act", variant="error")

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-act")

    def action_keep(self) -> None:
        self.dismiss(False)
