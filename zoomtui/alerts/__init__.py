"""Alerts for on-call (no Textual): rules in the profile, an engine that is a session sink,
actions off the hot path, and Prometheus metrics.

- `rules`: `[[profiles.NAME.alerts]]` read and checked (`load_rules`, `Rule`, `RuleError`);
- `engine`: `AlertEngine`, the `SessionSink` that makes `Alert`s (`tick` for time);
- `trackers`: one per condition, and the cooldown and grouping every rule shares;
- `actions`: `AlertDispatcher` (desktop, command, HTTP POST) on worker threads;
- `metrics`: `MetricsSink`, the session in Prometheus' terms (`zoomtui watch --metrics`).
"""

from zoomtui.alerts.alert import Alert
from zoomtui.alerts.engine import AlertEngine
from zoomtui.alerts.rules import Rule, RuleError, RuleSet, load_rules

__all__ = ["Alert", "AlertEngine", "Rule", "RuleError", "RuleSet", "load_rules"]
