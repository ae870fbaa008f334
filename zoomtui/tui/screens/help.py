"""The help screen: every key, grouped, generated from the BINDINGS it is given,
plus the filter language cheatsheet.  Nothing here lists a key by hand, so a
binding added (or remapped by id) anywhere shows up here too."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from zoomtui.tui.screens.boxed import BoxedModal

FILTER_CHEATSHEET: Sequence[tuple[str, str]] = (
    (
        'word  "two words"',
        "text in the event name, topic, meeting id/uuid, participant name or email",
    ),
    (
        "type:meeting.participant_*",
        "event name glob (alias event:); type:participant_joined works too",
    ),
    ("family:webinar", "event family (the part before the dot)"),
    ("meeting:<id, uuid or topic>", 'one meeting (a pasted "857 4635 2415" works)'),
    ("user:<name or email>", "one participant"),
    ("sub:<subscription>", "one subscription (events read from a team hub carry theirs)"),
    ("type:gap  type:malformed", "gaps in the record, frames that could not be read"),
    ("-term", "leave out what matches term: -type:*.qos"),
    ("a b c", "all terms must match; case does not matter"),
)

#: a section title and the bindings it lists
BindingSection = tuple[str, Iterable[BindingType]]


def binding_rows(bindings: Iterable[BindingType]) -> list[Binding]:
    """Bindings with a description, one row per action (keys joined: `k, up`); actions that
    share their keys (connect and disconnect on `c`) share a row: "Connect / Disconnect"."""
    by_action: dict[tuple[str, str], Binding] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.description:
            continue
        key = (binding.action, binding.description)
        if key in by_action:
            prev = by_action[key]
            by_action[key] = prev.with_key(f"{prev.key},{binding.key}", prev.key_display)
        else:
            by_action[key] = binding
    by_keys: dict[str, Binding] = {}
    for binding in by_action.values():
        same_keys = by_keys.get(binding.key)
        if same_keys is None:
            by_keys[binding.key] = binding
        else:
            by_keys[binding.key] = dataclasses.replace(
                same_keys, description=f"{same_keys.description} / {binding.description}"
            )
    return list(by_keys.values())


class HelpScreen(BoxedModal):
    """Keys by area, then the filter language. Escape, q, ? or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen .section { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen .keys, HelpScreen .cheatsheet { height: auto; }
    HelpScreen .row { height: auto; }
    HelpScreen .key { width: 30; padding-right: 2; text-style: bold; color: $text-primary; }
    HelpScreen .keys .key { text-align: right; width: 16; }
    HelpScreen .what { width: 1fr; }
    """

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, sections: Sequence[BindingSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Help"
            box.border_subtitle = "escape closes"
            with VerticalScroll():
                for title, bindings in self.sections:
                    rows = binding_rows(bindings)
                    if not rows:
                        continue
                    yield Static(title, classes="section", markup=False)
                    with Vertical(classes="keys"):
                        for b in rows:
                            yield self._row(self._key_text(b), b.tooltip or b.description)
                yield Static("Filter language", classes="section", markup=False)
                with Vertical(classes="cheatsheet"):
                    for term, text in FILTER_CHEATSHEET:
                        yield self._row(term, text)

    @staticmethod
    def _row(key: str, what: str) -> Horizontal:
        return Horizontal(
            Static(key, classes="key", markup=False),
            Static(what, classes="what", markup=False),
            classes="row",
        )

    def _key_text(self, b: Binding) -> str:
        if b.key_display:
            return b.key_display
        return ", ".join(self.app.get_key_display(b.with_key(k)) for k in b.key.split(","))
