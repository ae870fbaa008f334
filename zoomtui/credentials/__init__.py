"""Resolving connection settings: command-line option, then environment, then keyring/profile.

Each value comes from the first of:

1. a command-line option (`overrides`; the secret is never an option on the CLI,
   but the TUI's first-run form may pass one),
2. the environment (`ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID`, `ZOOM_CLIENT_SECRET`,
   `ZOOM_SUBSCRIPTION_ID`, `ZOOMTUI_OAUTH_URL`, `ZOOMTUI_WS_URL`),
3. for the secret: a session-only secret typed in this process, then the OS
   keyring (service `zoomtui`, user `<profile>:client_secret`); for the rest: the
   profile in the config file (`zoomtui.config`),
4. defaults (Zoom's URLs, a 30 s heartbeat).

`ConnectionSettings.sources` records which one ("option", "env ZOOM_CLIENT_ID",
"session", "keyring", "profile work", "default").

The parts: `keyring_store` (the keyring, every call bounded and every failure in plain
words, and session-only secrets), `resolution` (`resolve`, `resolve_settings`), and
`login` (`verify_and_save`: check the credentials with Zoom, then store them).  Import
their public names from here.
"""

from __future__ import annotations

from zoomtui.credentials.keyring_store import (
    KEYRING_SERVICE,
    KEYRING_TIMEOUT,
    KeyringState,
    KeyringStatus,
    KeyringUnavailable,
    delete_secret,
    forget_session_secret,
    get_secret,
    keyring_status,
    keyring_username,
    save_session_secret,
    session_secret,
    set_secret,
)
from zoomtui.credentials.login import NoKeyringPolicy, SaveResult, verify_and_save
from zoomtui.credentials.resolution import (
    DEFAULTS,
    ENV_FOR,
    LABELS,
    REQUIRED,
    Resolution,
    required,
    resolve,
    resolve_settings,
)
from zoomtui.credentials.webhook import (
    WebhookSecret,
    delete_webhook_secret,
    no_webhook_secret_help,
    resolve_webhook_secret,
    save_webhook_secret,
    webhook_username,
)

__all__ = [
    "DEFAULTS",
    "ENV_FOR",
    "KEYRING_SERVICE",
    "KEYRING_TIMEOUT",
    "LABELS",
    "REQUIRED",
    "KeyringState",
    "KeyringStatus",
    "KeyringUnavailable",
    "NoKeyringPolicy",
    "Resolution",
    "SaveResult",
    "WebhookSecret",
    "delete_secret",
    "delete_webhook_secret",
    "forget_session_secret",
    "get_secret",
    "keyring_status",
    "keyring_username",
    "no_webhook_secret_help",
    "required",
    "resolve",
    "resolve_settings",
    "resolve_webhook_secret",
    "save_session_secret",
    "save_webhook_secret",
    "session_secret",
    "set_secret",
    "verify_and_save",
    "webhook_username",
]
