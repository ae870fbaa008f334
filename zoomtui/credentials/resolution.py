"""Where each connection setting comes from: option, environment, session or keyring, profile, default.

`resolve` finds every value and records its source without failing on missing ones
(for `profiles show` and `doctor`); `resolve_settings` turns them into
`ConnectionSettings` or raises a `SettingsError` that says what is missing and how to
provide it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from zoomtui import config as cfg
from zoomtui.credentials.keyring_store import (
    KEYRING_TIMEOUT,
    KeyringState,
    KeyringUnavailable,
    get_secret,
    session_secret,
)
from zoomtui.redaction import Secret
from zoomtui.settings import (
    DEFAULT_CLOUD,
    ENV_ACCOUNT_ID,
    ENV_API_URL,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_CLOUD,
    ENV_GRANT,
    ENV_OAUTH_URL,
    ENV_SUBSCRIPTION_ID,
    ENV_WS_URL,
    GRANT_ACCOUNT,
    GRANT_CLIENT,
    ZOOM_API_URL,
    ZOOM_OAUTH_URL,
    ZOOM_WS_URL,
    CloudHosts,
    ConnectionSettings,
    SettingsError,
    endpoint_and_subscription,
    no_ws_host_message,
)

# field -> environment variable
ENV_FOR = {
    "account_id": ENV_ACCOUNT_ID,
    "client_id": ENV_CLIENT_ID,
    "client_secret": ENV_CLIENT_SECRET,
    "subscription_id": ENV_SUBSCRIPTION_ID,
    "oauth_url": ENV_OAUTH_URL,
    "ws_url": ENV_WS_URL,
    "api_url": ENV_API_URL,
    "grant": ENV_GRANT,
    "cloud": ENV_CLOUD,
}
#: the defaults of the default cloud (another cloud's URLs come from `settings.CLOUDS`)
DEFAULTS = {
    "grant": GRANT_ACCOUNT,
    "cloud": DEFAULT_CLOUD,
    "oauth_url": ZOOM_OAUTH_URL,
    "ws_url": ZOOM_WS_URL,
    "api_url": ZOOM_API_URL,
}
#: what an account_credentials profile needs (`required` says it for any grant)
REQUIRED = ("account_id", "client_id", "client_secret", "subscription_id")
_URL_FIELDS = ("oauth_url", "ws_url", "api_url")
LABELS = {
    "account_id": "account id",
    "client_id": "client id",
    "client_secret": "client secret",
    "subscription_id": "subscription id",
    "ws_url": "WebSocket endpoint URL",
}


def required(grant: object) -> tuple[str, ...]:
    """The values a connection with this grant cannot do without (client_credentials
    tokens are app-level: no account id).  The WebSocket URL always has to be known; only
    a cloud without a documented WebSocket host leaves it missing."""
    ids = REQUIRED[1:] if grant == GRANT_CLIENT else REQUIRED
    return (*ids, "ws_url")


_SETTINGS_FIELDS = {f.name: f for f in fields(ConnectionSettings)}
#: ConnectionSettings fields a profile (or an override) may set besides the ENV_FOR ones
_TUNABLES = (
    "heartbeat_interval",
    "max_frame_bytes",
    "insecure_transport",
    "on_displaced",
    "hydrate",
)


@dataclass(slots=True)
class Resolution:
    """Every value found, where it came from, and what is missing (for `profiles show`)."""

    profile: str
    config_path: Path
    values: dict[str, object]
    sources: dict[str, str]
    missing: tuple[str, ...]
    profile_found: bool
    profile_values: dict[str, object] = field(default_factory=dict)
    #: why the values cannot make settings though none is missing (a typed subscription id
    #: that is not the one in the pasted endpoint URL, a malformed URL)
    problem: str | None = None
    #: why the keyring could not be read, when it was needed and failed
    keyring_problem: str | None = None
    keyring_state: KeyringState | None = None
    known_profiles: tuple[str, ...] = ()


def resolve(
    *,
    profile: str | None = None,
    config_path: Path | str | None = None,
    overrides: Mapping[str, object | None] | None = None,
    env: Mapping[str, str] | None = None,
    read_keyring: bool = True,
    keyring_timeout: float = KEYRING_TIMEOUT,
    skip_config: bool = False,
) -> Resolution:
    """Find every value without failing on missing ones (`resolve_settings` does that).
    `skip_config`: as if the config file did not exist (it is broken, and what is needed
    may come from the environment and the options alone)."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    profile = cfg.selected_profile(profile, env)
    path = cfg.config_path(config_path, env)
    config = cfg.Config(path=path) if skip_config else cfg.load_config(path)
    stored = config.profiles.get(profile)
    from_profile = dict(stored or {})
    result = Resolution(
        profile=profile,
        config_path=path,
        values={},
        sources={},
        missing=(),
        profile_found=stored is not None,
        profile_values=from_profile,
        known_profiles=tuple(config.names()),
    )
    _connection_values(result, overrides, env)
    if "client_secret" not in result.values:
        _stored_secret(result, read_keyring, keyring_timeout)
    _tunables_and_the_rest(result, overrides)
    _split_endpoint(result)
    result.missing = tuple(
        n for n in required(result.values.get("grant")) if not result.values.get(n)
    )
    return result


def _connection_values(
    result: Resolution, overrides: dict[str, object | None], env: Mapping[str, str]
) -> None:
    """The grant, the cloud, the ids and URLs: option, environment, profile, default (the
    secret: option or environment only here; a URL's default: the cloud's).  Takes what it
    uses out of `overrides`."""
    values, sources, from_profile = result.values, result.sources, result.profile_values
    # The cloud first: it gives the URLs their defaults.
    for name in ("grant", "cloud", *(n for n in ENV_FOR if n not in ("grant", "cloud"))):
        var = ENV_FOR[name]
        opt = overrides.pop(name, None)
        if opt not in (None, ""):
            values[name], sources[name] = opt, "option"
        elif env.get(var):
            values[name], sources[name] = env[var], f"env {var}"
        elif name == "client_secret":
            continue  # session / keyring: `_stored_secret`
        elif from_profile.get(name):
            values[name], sources[name] = from_profile[name], f"profile {result.profile}"
        elif name in _URL_FIELDS:
            _cloud_default(result, name)
        elif name in DEFAULTS:
            values[name], sources[name] = DEFAULTS[name], "default"


def _cloud_default(result: Resolution, name: str) -> None:
    """A URL nobody set: the cloud's (none when the cloud documents no such host)."""
    from zoomtui import settings  # CLOUDS is read now: a test may point a cloud elsewhere

    cloud = result.values.get("cloud")
    hosts: CloudHosts | None = settings.CLOUDS.get(cloud) if isinstance(cloud, str) else None
    url = getattr(hosts, name, None)
    if url:
        result.values[name] = url
        result.sources[name] = "default" if cloud == DEFAULT_CLOUD else f"cloud {cloud}"


def _split_endpoint(result: Resolution) -> None:
    """Zoom's endpoint URL pasted as the WebSocket URL: its subscription id is the one used
    when none was given, and one that was given must match it."""
    values, sources = result.values, result.sources
    ws_url, typed = values.get("ws_url"), values.get("subscription_id")
    if not isinstance(ws_url, str) or "?" not in ws_url:
        return
    try:
        base, subscription = endpoint_and_subscription(ws_url, str(typed or ""))
    except SettingsError as exc:  # resolve_settings raises it; `profiles show` shows the rest
        result.problem = str(exc)
        return
    values["ws_url"] = base
    if subscription and not typed:
        values["subscription_id"] = subscription
        sources["subscription_id"] = f"{sources.get('ws_url', 'option')} (endpoint URL)"


def _stored_secret(result: Resolution, read_keyring: bool, keyring_timeout: float) -> None:
    """The secret kept for this session, else the keyring's (why not, when it fails)."""
    profile = result.profile
    kept = session_secret(profile)
    if kept:
        result.values["client_secret"], result.sources["client_secret"] = kept, "session"
        return
    if not read_keyring:
        return
    try:
        secret = get_secret(
            profile,
            keyring_timeout,
            allow_insecure=bool(result.profile_values.get("insecure_keyring")),
        )
    except KeyringUnavailable as exc:
        result.keyring_problem, result.keyring_state = exc.message, exc.state
    else:
        if secret:
            result.values["client_secret"], result.sources["client_secret"] = secret, "keyring"


def _tunables_and_the_rest(result: Resolution, overrides: dict[str, object | None]) -> None:
    """The tunables (option, profile, default), the display settings, and any override
    left that names a ConnectionSettings field."""
    values, sources, from_profile = result.values, result.sources, result.profile_values
    in_profile = f"profile {result.profile}"
    for name in _TUNABLES:
        opt = overrides.pop(name, None)
        if opt is not None:
            values[name], sources[name] = opt, "option"
        elif name in from_profile:
            values[name], sources[name] = from_profile[name], in_profile
        else:
            values[name], sources[name] = _SETTINGS_FIELDS[name].default, "default"
    # Display settings the front ends read (not ConnectionSettings fields).
    for name in cfg.DISPLAY_KEYS:
        if name in from_profile:
            values[name], sources[name] = from_profile[name], in_profile
    # Any other override that names a ConnectionSettings field passes through as an option.
    for name, value in overrides.items():
        if value is not None and name in _SETTINGS_FIELDS and name not in ("profile", "sources"):
            values[name], sources[name] = value, "option"


def _missing_message(res: Resolution) -> str:
    labels = [LABELS[n] for n in res.missing]
    parts = [f"Missing {', '.join(labels)} for profile '{res.profile}'."]
    if not res.profile_found and set(res.missing) - {"client_secret"}:
        if res.known_profiles:
            parts.append(
                f"There is no profile '{res.profile}' in {res.config_path} "
                f"(profiles there: {', '.join(res.known_profiles)})."
            )
        else:
            parts.append(f"There are no profiles yet ({res.config_path} holds none).")
    if "client_secret" in res.missing and res.keyring_problem:
        parts.append(res.keyring_problem)
    if "ws_url" in res.missing:
        parts.append(no_ws_host_message(str(res.values.get("cloud"))))
    envs = ", ".join(ENV_FOR[n] for n in res.missing)
    parts.append(
        f"Run `zoomtui login --profile {res.profile}`, or set {envs}; or try `zoomtui demo`."
    )
    return " ".join(parts)


def resolve_settings(
    *,
    profile: str | None = None,
    config_path: Path | str | None = None,
    overrides: Mapping[str, object | None] | None = None,
    env: Mapping[str, str] | None = None,
    skip_config: bool = False,
) -> ConnectionSettings:
    """Resolve every setting and remember where it came from.

    `overrides` holds command-line values by field name (None = not given);
    extra keys that are ConnectionSettings fields (heartbeat_interval,
    insecure_transport, ...) are passed through.  Raises `SettingsError`
    (a `config.ConfigError` for a bad config file) naming what is missing
    and how to provide it.
    """
    res = resolve(
        profile=profile,
        config_path=config_path,
        overrides=overrides,
        env=env,
        skip_config=skip_config,
    )
    if res.missing:
        raise SettingsError(_missing_message(res), missing=res.missing)
    if res.problem:
        raise SettingsError(res.problem)
    values = dict(res.values)
    secret = values.pop("client_secret")
    for name in cfg.DISPLAY_KEYS:
        values.pop(name, None)
    try:
        return ConnectionSettings(
            account_id=str(values.pop("account_id", "")),
            client_id=str(values.pop("client_id")),
            client_secret=secret if isinstance(secret, Secret) else Secret(str(secret)),
            subscription_id=str(values.pop("subscription_id")),
            oauth_url=str(values.pop("oauth_url")),
            ws_url=str(values.pop("ws_url")),
            api_url=str(values.pop("api_url")),
            grant=str(values.pop("grant")),
            cloud=str(values.pop("cloud")),
            profile=res.profile,
            sources=dict(res.sources),
            **values,  # type: ignore[arg-type]  # any type: a wrong one is the TypeError below
        )
    except TypeError as exc:  # a value of the wrong type from an override
        raise SettingsError(f"Invalid setting: {exc}.") from None
