"""Named profiles in one TOML file, with no secrets in it.

The file lives at `platformdirs.user_config_dir("zoomtui")/config.toml` unless
`--config PATH` or `ZOOMTUI_CONFIG` says otherwise:

    [profiles.default]
    account_id = "..."
    client_id = "..."
    subscription_id = "..."
    heartbeat_interval = 30.0

    [ui]
    theme = "nord"        # the monitor's theme, as last chosen in it (ctrl+p, "theme")

    [filters]             # saved filters: `@vip` in a filter (zoomtui.filternames)
    vip = "user:ana@example.com"

It is read with `tomllib` and written by the small writer below (the values are
flat strings, numbers and booleans, so a dependency would buy nothing).  Writes
are atomic (temp file in the same directory, then `os.replace`) with mode 0600,
so a crash never leaves half a file and other users never read it.  Comments in
the file are not preserved.

A client secret never goes in this file: `save_profile` refuses any secret-like
key, and a file that contains one is refused with its path and line.

Every value is checked against its type and range (`check_value`) when the file is read
and before it is written: a wrong one is a `ConfigError` naming the file, the line, the
key and what is allowed.  Keys zoomtui does not know are kept (a newer version may have
written them) and reported in `Config.warnings`, with the nearest known key.

`insecure_transport = true` is not taken from a profile: cleartext to another machine is
allowed only for one run (`--insecure-transport` or ZOOMTUI_INSECURE_TRANSPORT=1), so a
file nobody looks at cannot turn the refusal off.  Such a line is ignored with a warning.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import platformdirs

from zoomtui.filternames import SavedFilter, SavedFilterNotAllowed, filters_toml, read_filters_table
from zoomtui.settings import (
    CLOUDS,
    ENV_INSECURE_TRANSPORT,
    ENV_PROFILE,
    GRANTS,
    SettingsError,
    check_url,
    parse_on_displaced,
)
from zoomtui.tomltext import toml_string, toml_value

APP_NAME = "zoomtui"
CONFIG_FILENAME = "config.toml"
ENV_CONFIG = "ZOOMTUI_CONFIG"
DEFAULT_PROFILE = "default"

#: what a profile may hold, and the type each value must have.  Connection
#: values first, then display settings the front ends read from the profile.
PROFILE_KEYS: dict[str, type] = {
    "account_id": str,
    "client_id": str,
    "subscription_id": str,
    "oauth_url": str,
    "ws_url": str,
    "api_url": str,
    #: how the token is asked for: account_credentials (default) or client_credentials
    "grant": str,
    #: which Zoom cloud gives the default token and API hosts: zoom (default) or gov
    "cloud": str,
    "heartbeat_interval": float,
    "max_frame_bytes": int,
    "insecure_transport": bool,
    #: after another consumer displaced the connection: wait, retake, retake after <duration>
    "on_displaced": str,
    #: ask Zoom's Dashboard API who is in each live meeting at the start and after each gap
    "hydrate": bool,
    #: the user confirmed storing this profile's secret in a plain-file keyring backend
    "insecure_keyring": bool,
    "log_limit": int,
    "archive": bool,
    #: retention of the event archive (0: no limit of that kind)
    "archive_max_age_days": float,
    "archive_max_size_mb": float,
    #: minutes of archived history the monitor shows on start (0: none)
    "history_minutes": float,
}

#: profile keys the front ends read (not connection settings): `resolve()` passes them
#: through for `profiles show`, and they never reach ConnectionSettings
DISPLAY_KEYS = (
    "log_limit",
    "archive",
    "archive_max_age_days",
    "archive_max_size_mb",
    "history_minutes",
)

#: what each key allows, in words (`check_value` enforces it).  Numbers: the inclusive range,
#: in the unit named.  Heartbeats under 1 s flood Zoom and over 5 min leave a dead link unseen
#: for long; frames: 1 KiB holds any control frame, 64 MiB is far beyond any event.
RANGES: dict[str, tuple[float, float, str]] = {
    "heartbeat_interval": (1, 300, "a number of seconds from 1 to 300"),
    "max_frame_bytes": (1024, 64 << 20, "a whole number of bytes from 1024 to 67108864 (64 MiB)"),
    "log_limit": (100, 1_000_000, "a whole number of rows from 100 to 1000000"),
    "archive_max_age_days": (0, 36_500, "a number of days from 0 (no limit) to 36500"),
    "archive_max_size_mb": (0, 1 << 20, "a number of MB from 0 (no limit) to 1048576"),
    "history_minutes": (0, 525_600, "a number of minutes from 0 (none) to 525600 (a year)"),
}
#: tables inside a profile that zoomtui reads elsewhere and keeps when it rewrites the file:
#: `[[profiles.NAME.alerts]]` (checked by `zoomtui.alerts.rules` when a front end starts)
PROFILE_TABLES = ("alerts",)
#: the `[ui]` table: the monitor's own preferences, for every profile.  A theme is a name
#: (which names exist is Textual's business: the monitor falls back to its default).
UI_KEYS: dict[str, type] = {"theme": str}
_THEME_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
THEME_ALLOWED = "a theme name: lower-case letters, digits, '-' or '_' (at most 64)"

#: keys that take one of a few words.  A function: `CLOUDS` is read when a value is checked.
CHOICES = {"grant": lambda: GRANTS, "cloud": lambda: tuple(CLOUDS)}
#: text keys whose value must parse: key -> the parser (its ValueError says what is allowed)
TEXT_RULES: dict[str, Callable[[str], object]] = {"on_displaced": parse_on_displaced}
URL_KEYS = ("oauth_url", "ws_url", "api_url")
MAX_ID_CHARS = 256
_ID_ALLOWED = f"text of at most {MAX_ID_CHARS} characters, without control characters"
#: cleartext is a choice for one run, not a setting a file can hold
INSECURE_TRANSPORT_IGNORED = (
    "insecure_transport = true is ignored in a profile: cleartext to another machine is "
    f"allowed only for one run, with --insecure-transport or {ENV_INSECURE_TRANSPORT}=1."
)

TOP_TABLES = ("profiles", "ui", "filters")
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# Anything that looks like it would hold a credential is refused, whatever it is called.
_SECRET_KEY = re.compile(r"(?i)secret|password|passwd|token|credential|api_key|apikey")
_LINE_IN_ERROR = re.compile(r"\(at line (\d+), column (\d+)\)")
_TYPE_WORDS = {str: "a string", float: "a number", int: "a whole number", bool: "true or false"}

_HEADER = (
    "# zoomtui profiles, written by `zoomtui login` (comments here are not kept).\n"
    "# No secrets in this file: the client secret lives in the OS keyring\n"
    "# (service 'zoomtui', user '<profile>:client_secret') or in ZOOM_CLIENT_SECRET.\n"
)


class ConfigError(SettingsError):
    """The config file cannot be read or written, or holds something it must not.
    The message names the file (and line, when known) and what to do."""


class ConfigUnreadable(ConfigError):
    """The file cannot be read as a config file at all (not TOML, not UTF-8, unreadable):
    nothing in it can be meant for a run whose settings all come from elsewhere."""


@dataclass(frozen=True, slots=True)
class Config:
    """The parsed file: profile name -> its values (only known keys, typed)."""

    path: Path
    profiles: dict[str, dict[str, object]] = field(default_factory=dict)
    exists: bool = False
    #: per profile, scalar keys this version does not know (a newer zoomtui wrote them):
    #: kept so that saving a profile does not silently drop them
    extra: dict[str, dict[str, object]] = field(default_factory=dict)
    #: what was read but not used (unknown keys, ignored values), each naming file and line
    warnings: tuple[str, ...] = ()
    #: the `[ui]` table, checked (UI_KEYS)
    ui: dict[str, object] = field(default_factory=dict)
    #: the `[filters]` table, checked as far as the config can (zoomtui.filternames)
    filters: dict[str, SavedFilter] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.profiles)


def default_config_path() -> Path:
    # Called through the module so tests (and platforms) can redirect it.
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILENAME


def config_path(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The file to use: `--config PATH`, else `ZOOMTUI_CONFIG`, else the per-user default."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return default_config_path()


def selected_profile(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The profile in use: `--profile NAME`, else `ZOOMTUI_PROFILE`, else `default`."""
    env = os.environ if env is None else env
    return explicit or env.get(ENV_PROFILE) or DEFAULT_PROFILE


def check_profile_name(name: str) -> str:
    if not _PROFILE_NAME.match(name or ""):
        raise ConfigError(
            f"{name!r} is not a usable profile name: use letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (at most 64 characters)."
        )
    return name


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


# --- reading ----------------------------------------------------------------------


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """Best-effort line number of `key` (inside `[table]` when given) for error messages."""
    current: str | None = None
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[]").strip().replace('"', "").replace("'", "")
            if table is None and current == key:
                return number
            continue
        if key_re.match(line) and (table is None or current == table):
            return number
    return None


def _where(path: Path, line: int | None) -> str:
    return f"{path}, line {line}" if line else str(path)


class ValueNotAllowed(ValueError):
    """A value `check_value` refuses; `str()` says what is allowed."""


def check_value(key: str, value: object) -> object:
    """`value` as profile key `key` holds it (a whole number widened for a number key).
    Raises `ValueNotAllowed` with what is allowed, for a wrong type or a value out of range."""
    want = PROFILE_KEYS[key]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ValueNotAllowed(f"{_TYPE_WORDS[want]}, not {type(value).__name__}")
    if key in RANGES and isinstance(value, int | float):
        low, high, allowed = RANGES[key]
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueNotAllowed(f"{allowed}, not {value!r}")
    elif key in CHOICES and isinstance(value, str):
        allowed_words = CHOICES[key]()
        if value not in allowed_words:
            raise ValueNotAllowed(f"one of {', '.join(allowed_words)}, not {value[:40]!r}")
    elif key in TEXT_RULES and isinstance(value, str):
        try:
            TEXT_RULES[key](value)
        except ValueError as exc:
            raise ValueNotAllowed(str(exc)) from None
    elif key in URL_KEYS and isinstance(value, str):
        try:
            check_url(key, value)
        except SettingsError as exc:
            raise ValueNotAllowed(f"a URL zoomtui can connect to: {exc}") from None
    elif isinstance(value, str) and (
        len(value) > MAX_ID_CHARS or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value)
    ):
        raise ValueNotAllowed(_ID_ALLOWED)
    return value


def _coerce(path: Path, text: str, table: str, key: str, value: object) -> object:
    try:
        return check_value(key, value)
    except ValueNotAllowed as exc:
        raise ConfigError(
            f"{_where(path, _line_of(text, table, key))}: {key} must be {exc}. "
            "Fix or delete that line."
        ) from None


def _unknown(path: Path, line: int | None, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{_where(path, line)}: '{key}' is not a setting zoomtui knows{hint}; it is ignored."


def _read_toml(text: str, path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _LINE_IN_ERROR.search(str(exc))
        reason = _LINE_IN_ERROR.sub("", str(exc)).strip()
        line = f", line {m.group(1)}, column {m.group(2)}" if m else ""
        raise ConfigUnreadable(
            f"The config file {path}{line} is not valid TOML ({reason}). "
            "Fix that line, or move the file away and run `zoomtui login` again."
        ) from None
    except RecursionError:  # arrays or tables nested thousands deep: no config is like that
        raise ConfigUnreadable(
            f"The config file {path} is nested too deeply to read (arrays or tables inside "
            "each other thousands of times). Move it away and run `zoomtui login` again."
        ) from None


def _profile_values(
    path: Path, text: str, name: str, raw: dict, warnings: list[str]
) -> tuple[dict[str, object], dict[str, object]]:
    """One profile's checked values, and the unknown scalars kept for rewriting."""
    table = f"profiles.{name}"
    values: dict[str, object] = {}
    extra: dict[str, object] = {}
    for key, value in raw.items():
        if is_secret_key(key):
            raise _secret_in_file(path, _line_of(text, table, key), key)
        if key in PROFILE_KEYS:
            checked = _coerce(path, text, table, key, value)
            if key == "insecure_transport" and checked is True:
                line = _line_of(text, table, key)
                warnings.append(f"{_where(path, line)}: {INSECURE_TRANSPORT_IGNORED}")
                continue
            values[key] = checked
            continue
        if key in PROFILE_TABLES:
            extra[key] = value  # kept as written; its reader checks it
            continue
        line = _line_of(text, table, key) or _line_of(text, None, f"{table}.{key}")
        warnings.append(_unknown(path, line, key, list(PROFILE_KEYS)))
        if isinstance(value, str | int | float | bool):
            extra[key] = value
    return values, extra


def parse_config(text: str, path: Path) -> Config:
    """Parse the file's text; every problem is a `ConfigError` naming the path and line."""
    data = _read_toml(text, path)
    profiles: dict[str, dict[str, object]] = {}
    extra: dict[str, dict[str, object]] = {}
    warnings: list[str] = []
    for key in data:
        # Unknown top-level keys are tolerated (a newer version may have written them),
        # but a secret is not, wherever it is.
        if key != "profiles" and is_secret_key(key):
            raise _secret_in_file(path, _line_of(text, None, key), key)
        if key not in TOP_TABLES:
            warnings.append(_unknown(path, _line_of(text, None, key), key, list(TOP_TABLES)))
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigError(
            f"{_where(path, _line_of(text, None, 'profiles'))}: 'profiles' must be a table of [profiles.NAME] sections."
        )
    for name, raw in raw_profiles.items():
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{_where(path, _line_of(text, 'profiles', name))}: profile {name!r} must be a [profiles.{name}] table."
            )
        profiles[name], unknown = _profile_values(path, text, name, raw, warnings)
        if unknown:
            extra[name] = unknown
    ui = _ui_values(path, text, data.get("ui", {}), warnings)
    try:
        saved = read_filters_table(data.get("filters", {}), path, partial(_line_of, text))
    except SavedFilterNotAllowed as exc:
        raise ConfigError(str(exc)) from None
    return Config(path, profiles, True, extra, tuple(warnings), ui, saved)


def check_ui_value(key: str, value: object) -> object:
    """A `[ui]` value as the file holds it; `ValueNotAllowed` says what is allowed."""
    if not isinstance(value, str) or not _THEME_NAME.match(value):
        shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
        raise ValueNotAllowed(f"{THEME_ALLOWED}, not {shown}")
    return value


def _ui_values(path: Path, text: str, raw: object, warnings: list[str]) -> dict[str, object]:
    if not isinstance(raw, dict):
        where = _where(path, _line_of(text, None, "ui"))
        raise ConfigError(f"{where}: 'ui' must be a [ui] table.")
    values: dict[str, object] = {}
    for key, value in raw.items():
        line = _line_of(text, "ui", key)
        if key not in UI_KEYS:
            warnings.append(_unknown(path, line, key, list(UI_KEYS)))
            continue
        try:
            values[key] = check_ui_value(key, value)
        except ValueNotAllowed as exc:
            raise ConfigError(
                f"{_where(path, line)}: {key} must be {exc}. Fix or delete that line."
            ) from None
    return values


def _secret_in_file(path: Path, line: int | None, key: str) -> ConfigError:
    return ConfigError(
        f"{_where(path, line)}: '{key}' does not belong in the config file, where it sits in plain "
        "text. Delete that line (and rotate the secret if others could read the file); store the "
        "secret with `zoomtui login` or set ZOOM_CLIENT_SECRET."
    )


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config, not an error."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except UnicodeDecodeError:
        raise ConfigUnreadable(
            f"The config file {path} is not UTF-8 text. Move it away and run `zoomtui login` again."
        ) from None
    except OSError as exc:
        raise ConfigUnreadable(
            f"Cannot read the config file {path}: {exc.strerror or exc}."
        ) from None
    return parse_config(text, path)


def get_profile(name: str, path: Path | None = None) -> dict[str, object] | None:
    return load_config(path).profiles.get(name)


# --- writing ----------------------------------------------------------------------


_toml_string = toml_string  # (the fuzz tests read config through it)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def _toml_value(value: object) -> str:
    try:
        return toml_value(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def dump_config(
    profiles: Mapping[str, Mapping[str, object]],
    ui: Mapping[str, object] | None = None,
    filters: Mapping[str, SavedFilter] | None = None,
) -> str:
    """Render profiles (and the `[ui]` and `[filters]` tables) as TOML (`tomllib` reads
    back the same)."""
    parts = [_HEADER]
    if ui:
        parts.append("\n[ui]\n")
        parts += [f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in ui.items()]
    parts.append(filters_toml(filters or {}))
    for name in sorted(profiles):
        parts.append(f"\n[profiles.{_toml_key(name)}]\n")
        tables: list[tuple[str, list]] = []
        for key, value in profiles[name].items():
            if value is None:
                continue
            if key in PROFILE_TABLES and isinstance(value, list):
                tables.append((key, value))  # after the scalars: TOML wants them last
                continue
            parts.append(f"{_toml_key(key)} = {_toml_value(value)}\n")
        for key, items in tables:
            for item in items:
                if not isinstance(item, Mapping):
                    continue
                parts.append(f"\n[[profiles.{_toml_key(name)}.{key}]]\n")
                parts.extend(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in item.items())
    return "".join(parts)


def _check_values(values: Mapping[str, object]) -> dict[str, object]:
    clean: dict[str, object] = {}
    for key, value in values.items():
        if is_secret_key(key):
            raise ConfigError(
                f"Refusing to write '{key}' to the config file: secrets go to the OS keyring "
                "(or ZOOM_CLIENT_SECRET), never to a file."
            )
        if key not in PROFILE_KEYS:
            raise ConfigError(
                f"'{key}' is not a profile setting (known: {', '.join(PROFILE_KEYS)})."
            )
        if value is None:
            continue
        if key == "insecure_transport" and value is True:
            raise ConfigError(f"Not written to the config file: {INSECURE_TRANSPORT_IGNORED}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: {value!r} cannot be stored; use a finite number.")
        try:
            clean[key] = check_value(key, value)
        except ValueNotAllowed as exc:
            raise ConfigError(f"{key} must be {exc}.") from None
    return clean


def write_config(
    path: Path,
    profiles: Mapping[str, Mapping[str, object]],
    ui: Mapping[str, object] | None = None,
    filters: Mapping[str, SavedFilter] | None = None,
) -> None:
    """Write the whole file atomically, mode 0600, creating missing directories with 0700."""
    text = dump_config(profiles, ui, filters)
    parent = path.parent
    try:
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True)
        if parent == default_config_path().parent:
            # our own directory: keep it private even if something else created it
            os.chmod(parent, 0o700)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"Cannot write the config file {path}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigError(f"Cannot write the config file {path}: {exc.strerror or exc}.") from None


def save_profile(
    name: str,
    values: Mapping[str, object | None],
    path: Path | None = None,
    *,
    replace: bool = False,
) -> Path:
    """Create or update profile `name` (merged with what it holds unless `replace`).
    A value of None removes that key.  Refuses secret-like keys.  Returns the path written."""
    check_profile_name(name)
    path = path or config_path()
    for key in values:
        if is_secret_key(key):
            _check_values({key: ""})  # raises the refusal
    config = load_config(path)
    current = {} if replace else dict(config.profiles.get(name, {}))
    for key, value in values.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    profiles = {n: {**config.extra.get(n, {}), **v} for n, v in config.profiles.items()}
    profiles[name] = {**({} if replace else config.extra.get(name, {})), **_check_values(current)}
    write_config(path, profiles, config.ui, config.filters)
    return path


def save_ui(values: Mapping[str, object | None], path: Path | None = None) -> Path:
    """Set (None: remove) `[ui]` values, keeping the profiles as they are."""
    path = path or config_path()
    config = load_config(path)
    ui = dict(config.ui)
    for key, value in values.items():
        if key not in UI_KEYS:
            raise ConfigError(f"'{key}' is not a [ui] setting (known: {', '.join(UI_KEYS)}).")
        if value is None:
            ui.pop(key, None)
        else:
            try:
                ui[key] = check_ui_value(key, value)
            except ValueNotAllowed as exc:
                raise ConfigError(f"{key} must be {exc}.") from None
    profiles = {n: {**config.extra.get(n, {}), **v} for n, v in config.profiles.items()}
    write_config(path, profiles, ui, config.filters)
    return path


def delete_profile(name: str, path: Path | None = None) -> bool:
    """Remove a profile; False when it was not there (nothing is written then)."""
    path = path or config_path()
    config = load_config(path)
    if name not in config.profiles:
        return False
    profiles = {
        n: {**config.extra.get(n, {}), **v} for n, v in config.profiles.items() if n != name
    }
    write_config(path, profiles, config.ui, config.filters)
    return True
