"""The alerts list (`!`, or "Alerts" in the palette): the alerts of this run, newest
first, each with its rule, state, count and message.  Enter opens what it is about: its
event in the inspector, or its gap in the list; Escape closes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from zoomtui.alerts.alert import Alert
from zoomtui.alerts.rules import Rule
from zoomtui.visible import visible_text

_STATE_STYLE = {"firing": "bold red", "cleared": "green", "test": "cyan"}


def alert_line(alert: Alert) -> Text:
    line = Text()
    line.append(time.strftime("%H:%M:%S", time.localtime(alert.at)) + "  ", style="dim")
    line.append(f"{alert.state:<8} ", style=_STATE_STYLE.get(alert.state, ""))
    line.append(visible_text(alert.rule), style="bold")
    if alert.count > 1:
        line.append(f"  x{alert.count}", style="bold")
    line.append("  " + alert.message)  # plain text: never markup
    if alert.event is not None or alert.gap is not None:
        line.append("  ↵", style="dim")
    return line


class AlertsScreen(ModalScreen[Alert | None]):
    """Dismisses with the alert chosen (to open its event or gap), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,exclamation_mark", "close", "Close", id="alerts.close"),
    ]

    DEFAULT_CSS = """
    AlertsScreen {
        align: center middle;
        & > #alerts {
            width: 92%;
            height: 80%;
            border: thick $primary;
            border-title-style: bold;
            background: $surface;
            padding: 0 1;
        }
        & #alerts-rules { color: $text-muted; height: auto; }
        & OptionList { height: 1fr; }
    }
    """

    def __init__(
        self, alerts: Sequence[Alert], rules: Sequence[Rule], *, demo: bool = False
    ) -> None:
        super().__init__()
        self.alerts = list(reversed(alerts))
        self.rules = list(rules)
        #: the demo runs without a profile: its "no rules" says where rules come from
        self.demo = demo

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts") as box:
            box.border_title = Text(f"Alerts ({len(self.alerts)})")
            names = ", ".join(visible_text(r.name) for r in self.rules)
            rules = f"{len(self.rules)} rules: {names}" if self.rules else self.no_rules()
            yield Static(rules, id="alerts-rules", markup=False)
            if self.alerts:
                yield OptionList(
                    *(Option(alert_line(a), id=str(i)) for i, a in enumerate(self.alerts))
                )
            else:
                yield Static("No alerts so far.", markup=False)
        yield Footer()

    def no_rules(self) -> str:
        """What to do for alerts when there are no rules (a profile's config has them)."""
        if self.demo:
            return (
                "No alert rules: they come from a profile's config, and the demo has no "
                "profile. To use them, run `zoomtui login`, then add [[profiles.NAME.alerts]] "
                "tables to its config (see the README's on-call section)."
            )
        return (
            "No alert rules in this profile: add [[profiles.NAME.alerts]] tables "
            "(see the README's on-call section)."
        )

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        self.dismiss(self.alerts[message.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
