"""Alert rules: `[[profiles.NAME.alerts]]` tables in config.toml, checked at start.

    [[profiles.default.alerts]]
    name = "link down"
    disconnected_for = "2m"          # the condition: exactly one of CONDITION_KEYS
    cooldown = "10m"                 # optional (default 5 min)
    desktop = true                   # optional actions: a desktop notification,
    command = ["/usr/local/bin/page", "--team", "zoom"]   # a command (JSON on stdin),
    post = "https://hooks.slack.com/services/..."          # an HTTP POST of JSON
    slack = true                     # ... shaped {"text": ...} for Slack

Every rule also shows in the TUI (a toast and the bell) whatever actions it names.

A rule that cannot work is refused when zoomtui starts, never skipped: an alert that is
silently off is worse than none.  The error names the file, the line, the rule and the
field, in the words `zoomtui.config` uses for the profile's own values.  Durations are
seconds (a number) or words `parse_duration` reads ("90s", "5m", "1h30m").

A `post` URL may hold a secret (Slack's webhook URLs do): it is never shown whole,
only its scheme and host (`Rule.describe`).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from zoomtui.config import ConfigError
from zoomtui.monitor.filters import FilterError, compile_filter
from zoomtui.monitor.when import parse_duration
from zoomtui.settings import SettingsError, check_url, is_loopback
from zoomtui.timefmt import duration_plain

#: the condition keys: each rule has exactly one
CONDITION_KEYS = (
    "event",
    "disconnected_for",
    "gap_longer_than",
    "heartbeat_older_than",
    "reconnects",
    "displaced",
    "lag_above",
    "duplicate_within",
    "silent_for",
)
#: the other keys a rule may hold
OTHER_KEYS = (
    "name",
    "within",
    "cooldown",
    "desktop",
    "command",
    "command_timeout",
    "post",
    "slack",
    "post_timeout",
)
KNOWN_KEYS = CONDITION_KEYS + OTHER_KEYS
#: a rule that says nothing of its cooldown: one alert per condition per 5 minutes
DEFAULT_COOLDOWN = 300.0
DEFAULT_ACTION_TIMEOUT = 10.0
MAX_RULES = 100
MAX_NAME_CHARS = 100
MAX_ARGS = 64
MAX_ARG_CHARS = 4096
#: the longest duration a rule takes (30 days): anything longer is a mistake in units
MAX_DURATION = 30 * 86400.0
_DURATION_WORDS = 'a duration: seconds (90) or words such as "90s", "5m", "1h30m"'


class RuleError(ConfigError):
    """An alert rule that cannot work: the message names the file, line, rule and field."""


@dataclass(frozen=True, slots=True)
class Condition:
    """What a rule watches.  `kind` is one of CONDITION_KEYS; `seconds` the duration it
    takes (0 when none); `count` for reconnects; `filter_text` for event rules."""

    kind: str
    seconds: float = 0.0
    count: int = 0
    filter_text: str = ""

    def describe(self) -> str:
        k, s = self.kind, duration_plain(self.seconds)
        if k == "event":
            return f"an event matching {self.filter_text!r}"
        if k == "reconnects":
            return f"more than {self.count} reconnects within {s}"
        if k == "displaced":
            return "another consumer displaced the connection"
        words = {
            "disconnected_for": f"the link down for more than {s}",
            "gap_longer_than": "any gap" if not self.seconds else f"a gap longer than {s}",
            "heartbeat_older_than": f"no heartbeat answer for more than {s}",
            "lag_above": f"an event received more than {s} after Zoom stamped it",
            "duplicate_within": f"the same event received twice within {s}",
            "silent_for": f"no events for {s}",
        }
        return words[k]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    condition: Condition
    cooldown: float = DEFAULT_COOLDOWN
    desktop: bool = False
    #: argv of a command run with the alert as JSON on stdin (empty: none)
    command: tuple[str, ...] = ()
    command_timeout: float = DEFAULT_ACTION_TIMEOUT
    #: URL the alert is POSTed to as JSON (empty: none)
    post: str = ""
    slack: bool = False
    post_timeout: float = DEFAULT_ACTION_TIMEOUT

    def actions(self) -> list[str]:
        """What the rule does besides the TUI's toast and bell, in words (no secret)."""
        out = []
        if self.desktop:
            out.append("desktop notification")
        if self.command:
            out.append(f"command {self.command[0]}")
        if self.post:
            out.append(f"POST to {shown_url(self.post)}" + (" (Slack)" if self.slack else ""))
        return out

    def describe(self) -> str:
        actions = ", ".join(self.actions()) or "TUI only"
        return (
            f"{self.name}: {self.condition.describe()}; cooldown "
            f"{duration_plain(self.cooldown)}; {actions}"
        )


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one profile, in the file's order."""

    rules: tuple[Rule, ...] = ()
    path: Path | None = None
    warnings: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.rules)


def shown_url(url: str) -> str:
    """Scheme and host of a URL, never its path or query (a webhook's secret is there)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an unreadable URL)"
    return f"{parts.scheme}://{parts.hostname or ''}{port}/..."


# -- where a value is in the file -----------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[\s*(.+?)\s*\]\]\s*(#.*)?$")


def _rule_lines(text: str, profile: str) -> list[dict[str, int]]:
    """Per `[[profiles.<profile>.alerts]]` table, in order: key -> its line (1-based), and
    "" -> the header's line.  Best effort: an inline array of tables finds nothing."""
    tables: list[dict[str, int]] = []
    current: dict[str, int] | None = None
    want = f"profiles.{profile}.alerts"
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = _HEADER.match(stripped)
        if header:
            name = header.group(1).replace('"', "").replace("'", "").replace(" ", "")
            current = {"": number} if name == want else None
            if current is not None:
                tables.append(current)
            continue
        if stripped.startswith("["):
            current = None
            continue
        if current is not None and "=" in stripped and not stripped.startswith("#"):
            key = stripped.split("=", 1)[0].strip().strip("\"'")
            current.setdefault(key, number)
    return tables


class _Place:
    """Where a rule's values are, for error messages."""

    def __init__(self, path: Path, lines: dict[str, int], index: int) -> None:
        self.path, self.lines, self.index = path, lines, index
        self.name = ""

    def error(self, key: str, text: str) -> RuleError:
        line = self.lines.get(key) or self.lines.get("")
        where = f"{self.path}, line {line}" if line else str(self.path)
        who = f"alert rule {self.name!r}" if self.name else f"alert rule #{self.index + 1}"
        return RuleError(f"{where}: {who}: {text} Fix that line, or delete the rule.")


# -- checking one rule ----------------------------------------------------------------------
def _duration(place: _Place, key: str, value: object, *, zero_ok: bool = False) -> float:
    seconds: float | None
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value)
    else:
        seconds = None
    low_ok = seconds is not None and (seconds >= 0 if zero_ok else seconds > 0)
    if seconds is None or not math.isfinite(seconds) or not low_ok or seconds > MAX_DURATION:
        floor = "0 or more" if zero_ok else "more than 0"
        raise place.error(
            key, f"{key} must be {_DURATION_WORDS}, {floor}, at most 30 days; not {value!r}."
        )
    return seconds


def _flag(place: _Place, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise place.error(key, f"{key} must be true or false, not {value!r}.")
    return value


def _name(place: _Place, raw: Mapping[str, object], seen: set[str]) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise place.error("name", 'every rule needs a name (name = "link down").')
    if len(name) > MAX_NAME_CHARS or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise place.error("name", f"name must be at most {MAX_NAME_CHARS} characters, one line.")
    place.name = name
    if name in seen:
        raise place.error("name", "two rules have this name: names tell alerts apart.")
    return name


def _condition(place: _Place, raw: Mapping[str, object]) -> Condition:
    given = [k for k in CONDITION_KEYS if k in raw]
    if len(given) != 1:
        what = "none" if not given else ", ".join(given)
        raise place.error(
            given[1] if len(given) > 1 else "",
            f"a rule has exactly one condition (one of {', '.join(CONDITION_KEYS)}); "
            f"this one has {what}.",
        )
    kind = given[0]
    value = raw[kind]
    if "within" in raw and kind != "reconnects":
        raise place.error("within", "within goes with reconnects only.")
    if kind == "event":
        if not isinstance(value, str) or not value.strip():
            raise place.error(kind, "event must be a filter expression (the TUI's filter).")
        try:
            if compile_filter(value).is_empty:
                raise FilterError("it matches every event", 0)
        except FilterError as exc:
            raise place.error(kind, f"event is not a usable filter: {exc}.") from None
        return Condition(kind, filter_text=value)
    if kind == "displaced":
        if value is not True:
            raise place.error(kind, "displaced must be true (or the rule deleted).")
        return Condition(kind)
    if kind == "reconnects":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            raise place.error(
                kind, f"reconnects must be a whole number from 0 to 10000, not {value!r}."
            )
        if "within" not in raw:
            raise place.error(kind, 'reconnects needs within (reconnects = 3, within = "10m").')
        return Condition(kind, _duration(place, "within", raw["within"]), count=value)
    zero_ok = kind == "gap_longer_than"
    return Condition(kind, _duration(place, kind, value, zero_ok=zero_ok))


def _command(place: _Place, value: object) -> tuple[str, ...]:
    ok = (
        isinstance(value, list)
        and 0 < len(value) <= MAX_ARGS
        and all(isinstance(a, str) and 0 < len(a) <= MAX_ARG_CHARS and "\0" not in a for a in value)
    )
    if not ok:
        raise place.error(
            "command",
            'command must be a list of arguments, the program first (command = ["/usr/local/'
            'bin/page", "--team", "zoom"]); it is run as given, never through a shell.',
        )
    return tuple(value)  # type: ignore[arg-type]


def check_post_url(url: str) -> None:
    """http:// only to this machine, https:// (certificate verified) elsewhere: the rule
    `zoomtui.settings.check_transport` applies to the connection.  Raises `SettingsError`."""
    check_url("post URL", url)
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise SettingsError("The post URL must be an http(s) URL.")
    if scheme == "http" and not is_loopback(url):
        raise SettingsError(
            f"The post URL uses http:// to a non-loopback host ({urlsplit(url).hostname}): "
            "alerts carry event data. Use https://."
        )


def _post(place: _Place, value: object) -> str:
    if not isinstance(value, str):
        raise place.error("post", "post must be a URL in quotes.")
    try:
        check_post_url(value)
    except SettingsError as exc:
        raise place.error("post", f"{exc}".replace(repr(value), shown_url(value))) from None
    return value


def check_rule(place: _Place, raw: object, seen: set[str]) -> Rule:
    if not isinstance(raw, Mapping):
        raise place.error("", "each alert rule must be a [[profiles.NAME.alerts]] table.")
    name = _name(place, raw, seen)
    for key in raw:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise place.error(str(key), f"{key!r} is not a rule field{hint}.")
    condition = _condition(place, raw)
    rule = Rule(name=name, condition=condition)
    changes: dict[str, object] = {}
    if "cooldown" in raw:
        changes["cooldown"] = _duration(place, "cooldown", raw["cooldown"], zero_ok=True)
    for key in ("desktop", "slack"):
        if key in raw:
            changes[key] = _flag(place, key, raw[key])
    if "command" in raw:
        changes["command"] = _command(place, raw["command"])
    if "post" in raw:
        changes["post"] = _post(place, raw["post"])
    for key, needs in (("command_timeout", "command"), ("post_timeout", "post"), ("slack", "post")):
        if key in raw and needs not in raw:
            raise place.error(key, f"{key} goes with {needs}, which this rule does not have.")
        if key.endswith("timeout") and key in raw:
            seconds = _duration(place, key, raw[key])
            if seconds > 300:
                raise place.error(key, f"{key} must be at most 300 s, not {raw[key]!r}.")
            changes[key] = seconds
    return dataclasses.replace(rule, **changes)  # type: ignore[arg-type]


# -- the file ---------------------------------------------------------------------------------
def parse_rules(text: str, path: Path, profile: str) -> RuleSet:
    """The rules of `profile` in the file's text.  Raises `RuleError` for a rule that
    cannot work (and `ConfigError` for a file that is not TOML)."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        raise ConfigError(
            f"The config file {path} is not valid TOML: run `zoomtui doctor`."
        ) from None
    profiles = data.get("profiles")
    table = profiles.get(profile) if isinstance(profiles, dict) else None
    raw_rules = table.get("alerts", []) if isinstance(table, dict) else []
    lines = _rule_lines(text, profile)
    if not isinstance(raw_rules, list):
        raise RuleError(
            f"{path}: profiles.{profile}.alerts must be [[profiles.{profile}.alerts]] tables."
        )
    if len(raw_rules) > MAX_RULES:
        raise RuleError(f"{path}: at most {MAX_RULES} alert rules a profile, not {len(raw_rules)}.")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        place = _Place(path, lines[index] if index < len(lines) else {}, index)
        rule = check_rule(place, raw, seen)
        seen.add(rule.name)
        rules.append(rule)
    return RuleSet(tuple(rules), path)


def load_rules(path: Path, profile: str) -> RuleSet:
    """The rules of `profile` in the config file at `path` (none when there is no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RuleSet((), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc}.") from None
    return parse_rules(text, path, profile)
