"""The webhook secret token: what `zoomtui forward` signs with, a credential like the
client secret.

Zoom signs the webhooks it posts with the app's "Secret Token" (not the OAuth client
secret, PROTOCOL.md section 5); a handler checks the signature with it.  zoomtui keeps
it where it keeps the client secret: in the OS keyring (service `zoomtui`, user
`<profile>:webhook_secret_token`), put there by `zoomtui login`.
`ZOOM_WEBHOOK_SECRET_TOKEN` wins over the keyring.  It is only ever wrapped in a
`Secret`, so it is never printed or logged (and `redact()` knows it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from zoomtui.credentials.keyring_store import (
    KEYRING_TIMEOUT,
    WEBHOOK_SECRET_WORDS,
    KeyringUnavailable,
    delete_secret,
    get_secret,
    set_secret,
)
from zoomtui.redaction import Secret
from zoomtui.settings import ENV_WEBHOOK_SECRET_TOKEN


def webhook_username(profile: str) -> str:
    """The keyring entry of a profile's webhook secret token."""
    return f"{profile}:webhook_secret_token"


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """The webhook secret token found for a profile, and where it came from."""

    #: None: there is none (or the keyring could not be read: `problem` says why)
    secret: Secret | None
    #: "env ZOOM_WEBHOOK_SECRET_TOKEN", "keyring", or "" when none was found
    source: str
    #: why the keyring could not be read ("" when it could, or was not needed)
    problem: str = ""


def resolve_webhook_secret(
    profile: str,
    *,
    env: Mapping[str, str] | None = None,
    allow_insecure: bool = False,
    timeout: float = KEYRING_TIMEOUT,
) -> WebhookSecret:
    """The environment's token, else the keyring's.  Never raises: a keyring that cannot
    be read is a `problem`, said to the user with what to do."""
    env = os.environ if env is None else env
    value = env.get(ENV_WEBHOOK_SECRET_TOKEN, "")
    if value:
        return WebhookSecret(Secret(value), f"env {ENV_WEBHOOK_SECRET_TOKEN}")
    try:
        stored = get_secret(
            profile,
            timeout,
            allow_insecure=allow_insecure,
            user=webhook_username(profile),
            words=WEBHOOK_SECRET_WORDS,
        )
    except KeyringUnavailable as exc:
        return WebhookSecret(None, "", exc.message)
    return WebhookSecret(stored, "keyring" if stored else "")


def save_webhook_secret(profile: str, secret: Secret, *, allow_insecure: bool = False) -> str:
    """Keep the token in the keyring; returns the backend's name (`KeyringUnavailable`
    when it cannot)."""
    return set_secret(
        profile,
        secret,
        allow_insecure=allow_insecure,
        user=webhook_username(profile),
        words=WEBHOOK_SECRET_WORDS,
    )


def delete_webhook_secret(profile: str) -> bool:
    """Remove the stored token; False when none was stored."""
    return delete_secret(profile, user=webhook_username(profile))


#: what ends the help when the token cannot be done without: `forward --check`
CHECK_NEEDS_THE_TOKEN = (
    "--check needs it: a handler answers Zoom's challenge with a hash made with this token, "
    "so there is nothing to check without it (--unsigned does not apply)."
)
UNSIGNED_WAY_OUT = (
    "Or pass --unsigned to forward without a signature (a handler that checks it will refuse them)."
)


def no_webhook_secret_help(profile: str, problem: str = "", *, needed_for: str = "") -> str:
    """What to do when there is no webhook secret token to sign with (plain words).
    `problem`: why the keyring could not be read; then the environment is the way, and
    keeping the token in the keyring is not offered.  `needed_for`: why it cannot be
    done without (else --unsigned is offered)."""
    in_the_shell = (
        f"set it for this shell, typed without echo: read -rs {ENV_WEBHOOK_SECRET_TOKEN}"
        f" && export {ENV_WEBHOOK_SECRET_TOKEN}\n"
    )
    if problem:
        why, what_to_do = f"{problem}\n", f"then {in_the_shell}"
    else:
        keep = f"run `zoomtui login --profile {profile} --webhook-secret` to keep it in the keyring"
        why, what_to_do = "", f"then either:\n  - {keep},\n  - or {in_the_shell}"
    return (
        f"{why}No webhook secret token for profile '{profile}', so the events cannot be "
        "signed as Zoom signs them.\n"
        "Take the Secret Token from your app's page (Zoom App Marketplace, your app, Features,\n"
        f"Access; not the OAuth client secret), {what_to_do}" + (needed_for or UNSIGNED_WAY_OUT)
    )
