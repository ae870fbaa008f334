"""`doctor`'s alert steps: the profile's rules, listed (or why one is refused), and with
`--test-alerts` a test alert through each rule's actions, each saying whether it arrived."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zoomtui.commands.common import EXIT_CONFIG
from zoomtui.settings import SettingsError

if TYPE_CHECKING:
    from zoomtui.alerts.rules import Rule
    from zoomtui.commands.doctor import Report


def check_alerts(
    report: Report, profile: str | None, config_path: str | None, *, test: bool
) -> None:
    from zoomtui import config as cfg
    from zoomtui.alerts.rules import load_rules

    name = cfg.selected_profile(profile)
    try:
        rules = load_rules(cfg.config_path(config_path), name).rules
    except SettingsError as exc:
        report.step("fail", "alert rules", str(exc), code=EXIT_CONFIG)
        return
    if not rules:
        found = f"none in profile {name} (add [[profiles.{name}.alerts]] tables: see the README)"
        report.step("skip", "alert rules", found)
        return
    report.step(
        "ok", "alert rules", [f"{len(rules)} in profile {name}"] + [r.describe() for r in rules]
    )
    if test:
        test_alerts(report, rules)


def test_alerts(report: Report, rules: Sequence[Rule]) -> None:
    """A test alert through every action of every rule, now (blocking, each bounded)."""
    from zoomtui.alerts.actions import AlertDispatcher, desktop_command
    from zoomtui.alerts.engine import AlertEngine

    engine = AlertEngine(rules)
    dispatcher = AlertDispatcher(rules, workers=0)
    for rule in rules:
        actions = rule.actions()
        if not actions:
            report.step("skip", f"test alert {rule.name!r}", "no actions (the TUI shows it only)")
            continue
        failures = dispatcher.run_actions(rule, engine.test_alert(rule))
        if failures:
            report.step("fail", f"test alert {rule.name!r}", failures, "Fix the action, then run "
                        "`zoomtui doctor --test-alerts` again.")  # fmt: skip
        else:
            found = f"sent: {', '.join(actions)}"
            if rule.desktop and desktop_command("zoomtui", "test") is None:
                found += " (this machine has no desktop notifications: that one was skipped)"
            report.step("ok", f"test alert {rule.name!r}", found)
