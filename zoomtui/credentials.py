"""Resolving connection settings: command-line option, then environment, then keyring/profile.

(Minimal version: options and environment. The credentials issue extends it with
profiles and the OS keyring without changing `resolve_settings`'s signature.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from zoomtui.redaction import Secret
from zoomtui.settings import (
    ENV_ACCOUNT_ID,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_OAUTH_URL,
    ENV_PROFILE,
    ENV_SUBSCRIPTION_ID,
    ENV_WS_URL,
    ZOOM_OAUTH_URL,
    ZOOM_WS_URL,
    ConnectionSettings,
    SettingsError,
)

# field -> environment variable
ENV_FOR = {
    "account_id": ENV_ACCOUNT_ID,
    "client_id": ENV_CLIENT_ID,
    "client_secret": ENV_CLIENT_SECRET,
    "subscription_id": ENV_SUBSCRIPTION_ID,
    "oauth_url": ENV_OAUTH_URL,
    "ws_url": ENV_WS_URL,
}
DEFAULTS = {"oauth_url": ZOOM_OAUTH_URL, "ws_url": ZOOM_WS_URL}
REQUIRED = ("account_id", "client_id", "client_secret", "subscription_id")


def resolve_settings(
    *,
    profile: str | None = None,
    config_path: Path | None = None,
    overrides: Mapping[str, object | None] | None = None,
    env: Mapping[str, str] | None = None,
) -> ConnectionSettings:
    """Resolve every setting and remember where it came from.

    `overrides` holds command-line values by field name (None = not given);
    extra keys that are ConnectionSettings fields (heartbeat_interval,
    insecure_transport, ...) are passed through.  Raises `SettingsError`
    naming what is missing and how to provide it.
    """
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    profile = profile or env.get(ENV_PROFILE) or "default"
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name, var in ENV_FOR.items():
        opt = overrides.pop(name, None)
        if opt not in (None, ""):
            values[name], sources[name] = opt, "option"
        elif env.get(var):
            values[name], sources[name] = env[var], f"env {var}"
        elif name in DEFAULTS:
            values[name], sources[name] = DEFAULTS[name], "default"
    missing = tuple(n for n in REQUIRED if n not in values)
    if missing:
        raise SettingsError(
            "Missing " + ", ".join(missing) + ". Set " + ", ".join(ENV_FOR[n] for n in missing)
            + f", or run `zoomtui login --profile {profile}`, or try `zoomtui demo`.",
            missing=missing,
        )
    secret = values["client_secret"]
    extra = {k: v for k, v in overrides.items() if v is not None}
    return ConnectionSettings(
        account_id=str(values["account_id"]),
        client_id=str(values["client_id"]),
        client_secret=secret if isinstance(secret, Secret) else Secret(str(secret)),
        subscription_id=str(values["subscription_id"]),
        oauth_url=str(values["oauth_url"]),
        ws_url=str(values["ws_url"]),
        profile=profile,
        sources=sources,
        **extra,
    )
