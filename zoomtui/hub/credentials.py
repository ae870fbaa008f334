"""The hub's credentials: in the OS keyring like the other secrets, or the environment.

One keyring entry per hub (service `zoomtui`, user `hub:<host>:<port>`) holds what that hub
wants, as JSON: a token, a user and password, or a creds file's path (a NATS user JWT and
NKey seed; the file stays where it is, only its path is kept).  The environment wins over
the keyring (`ZOOMTUI_HUB_TOKEN`, `ZOOMTUI_HUB_USER` + `ZOOMTUI_HUB_PASSWORD`,
`ZOOMTUI_HUB_CREDS`), and an explicit option over both.  Every secret read is wrapped in a
`Secret` at once, so it is never printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from zoomtui.credentials.keyring_store import (
    KEYRING_TIMEOUT,
    KeyringUnavailable,
    delete_secret,
    get_secret,
    set_secret,
)
from zoomtui.hub.settings import (
    ENV_HUB_CREDS,
    ENV_HUB_INSECURE,
    ENV_HUB_PASSWORD,
    ENV_HUB_TOKEN,
    ENV_HUB_URL,
    ENV_HUB_USER,
    HubSettings,
    check_hub_url,
    hub_key,
)
from zoomtui.redaction import Secret
from zoomtui.settings import SettingsError

#: the profile name the keyring calls are checked against (the entry names the hub)
_PROFILE = "default"


def hub_username(url: str) -> str:
    return f"hub:{hub_key(url)}"


@dataclass(frozen=True, slots=True)
class HubCredentials:
    token: Secret | None = None
    user: str = ""
    password: Secret | None = None
    creds_file: str = ""
    #: where they came from ("keyring", "env ...", "option"), or "" for none
    source: str = ""
    #: why the keyring could not be read ("" when it could, or was not needed)
    problem: str = ""


def _from_env(env: Mapping[str, str]) -> HubCredentials | None:
    if env.get(ENV_HUB_CREDS):
        return HubCredentials(creds_file=env[ENV_HUB_CREDS], source=f"env {ENV_HUB_CREDS}")
    if env.get(ENV_HUB_USER):
        password = env.get(ENV_HUB_PASSWORD, "")
        return HubCredentials(
            user=env[ENV_HUB_USER],
            password=Secret(password) if password else None,
            source=f"env {ENV_HUB_USER}",
        )
    if env.get(ENV_HUB_TOKEN):
        return HubCredentials(token=Secret(env[ENV_HUB_TOKEN]), source=f"env {ENV_HUB_TOKEN}")
    return None


def _from_keyring(url: str, timeout: float) -> HubCredentials:
    try:
        stored = get_secret(_PROFILE, timeout, user=hub_username(url))
    except KeyringUnavailable as exc:
        return HubCredentials(problem=exc.message)
    if stored is None:
        return HubCredentials()
    try:
        body = orjson.loads(stored.reveal())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return HubCredentials(problem=f"the keyring's entry {hub_username(url)} is not readable")
    token, password = body.get("token"), body.get("password")
    return HubCredentials(
        token=Secret(token) if isinstance(token, str) and token else None,
        user=str(body.get("user") or ""),
        password=Secret(password) if isinstance(password, str) and password else None,
        creds_file=str(body.get("creds_file") or ""),
        source="keyring",
    )


def resolve_hub_credentials(
    url: str,
    *,
    user: str | None = None,
    creds_file: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = KEYRING_TIMEOUT,
) -> HubCredentials:
    """The options', else the environment's, else the keyring's credentials for `url`."""
    env = os.environ if env is None else env
    if creds_file:
        return HubCredentials(creds_file=creds_file, source="option")
    found = _from_env(env)
    if found is None:
        found = _from_keyring(url, timeout)
    if user and found.user != user:  # another user than the one kept: its password only
        password = env.get(ENV_HUB_PASSWORD, "")
        return HubCredentials(
            user=user, password=Secret(password) if password else None, source="option"
        )
    return found


def hub_settings(
    url: str | None,
    *,
    user: str | None = None,
    creds_file: str | None = None,
    insecure_transport: bool = False,
    env: Mapping[str, str] | None = None,
    **limits: Any,
) -> HubSettings:
    """The settings for the hub at `url` (else `ZOOMTUI_HUB`), its credentials resolved;
    `SettingsError` saying what is wrong."""
    env = os.environ if env is None else env
    url = url or env.get(ENV_HUB_URL, "")
    if not url:
        raise SettingsError(f"No hub given: pass --hub nats://HOST:4222 or set {ENV_HUB_URL}.")
    check_hub_url(url)
    found = resolve_hub_credentials(url, user=user, creds_file=creds_file, env=env)
    insecure = insecure_transport or env.get(ENV_HUB_INSECURE, "").lower() in ("1", "true")
    settings = HubSettings(
        url=url,
        token=found.token,
        user=found.user,
        password=found.password,
        creds_file=found.creds_file,
        insecure_transport=insecure,
        sources={"credentials": found.source} if found.source else {},
        **limits,
    )
    settings.check_transport()
    return settings


def save_hub_credentials(url: str, credentials: HubCredentials) -> str:
    """Keep `credentials` for the hub at `url` in the keyring; returns the backend's name
    (`KeyringUnavailable` when it cannot)."""
    check_hub_url(url)
    body: dict[str, str] = {}
    if credentials.creds_file:
        body["creds_file"] = credentials.creds_file
    if credentials.user:
        body["user"] = credentials.user
        body["password"] = credentials.password.reveal() if credentials.password else ""
    elif credentials.token:
        body["token"] = credentials.token.reveal()
    value = Secret(orjson.dumps(body).decode())
    return set_secret(_PROFILE, value, user=hub_username(url))


def delete_hub_credentials(url: str) -> bool:
    """Forget the hub's credentials; False when none were kept."""
    return delete_secret(_PROFILE, user=hub_username(url))


__all__ = [
    "HubCredentials",
    "hub_settings",
    "resolve_hub_credentials",
    "save_hub_credentials",
    "delete_hub_credentials",
    "SettingsError",
]
