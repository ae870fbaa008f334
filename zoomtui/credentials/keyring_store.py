"""The client secret in the OS keyring, or in this process's memory when there is none.

The keyring is a third-party stack (D-Bus, a desktop daemon, a file backend) that
can be missing, misconfigured, locked or hung.  Every call goes through
`_call_with_timeout` in a daemon thread, and every failure becomes one
`KeyringUnavailable` with plain words.  The secret never goes to a file: with no
usable keyring the user is told so and offered the environment or a session-only
secret (`save_session_secret`); a plain-file keyring backend is used only after
explicit confirmation.  Entries: service `zoomtui`, user `<profile>:client_secret`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from zoomtui import config as cfg
from zoomtui.redaction import Secret, redact
from zoomtui.settings import ENV_CLIENT_SECRET, ENV_WEBHOOK_SECRET_TOKEN

T = TypeVar("T")

KEYRING_SERVICE = "zoomtui"
KEYRING_TIMEOUT = 3.0
#: a username that never holds anything: reading it tells whether the keyring answers at all
_PROBE_USER = "zoomtui-keyring-check"


KeyringState = Literal["usable", "none", "insecure", "error"]


@dataclass(frozen=True, slots=True)
class SecretWords:
    """How a keyring message names the secret the call is for, and the environment
    variable that gives it instead (a message about the webhook token must not speak of
    the client secret)."""

    noun: str
    env: str


CLIENT_SECRET_WORDS = SecretWords("client secret", ENV_CLIENT_SECRET)
WEBHOOK_SECRET_WORDS = SecretWords("webhook secret token", ENV_WEBHOOK_SECRET_TOKEN)


def keyring_username(profile: str) -> str:
    return f"{profile}:client_secret"


class KeyringUnavailable(Exception):
    """The keyring cannot be used for this call. `str()` is a plain sentence for the user;
    `state` is "none", "insecure" or "error" (see `KeyringStatus`)."""

    def __init__(self, message: str, state: KeyringState = "error") -> None:
        super().__init__(message)
        self.message = message
        self.state = state


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """What the keyring can do here, found by asking it (not by guessing from the platform).

    usable:   a real OS keyring answered.
    none:     no backend (keyring's fail or null backend, or an empty chain).
    insecure: a plain-file backend (keyrings.alt style); used only after confirmation.
    error:    misconfigured (PYTHON_KEYRING_BACKEND), locked, hung, or failing.
    """

    state: KeyringState
    backend_name: str
    message: str

    @property
    def usable(self) -> bool:
        return self.state == "usable"


def _call_with_timeout(
    fn: Callable[[], T], timeout: float, what: str, words: SecretWords = CLIENT_SECRET_WORDS
) -> T:
    """Run one keyring call in a daemon thread and give up after `timeout` seconds.

    A locked keyring can block forever waiting for an unlock prompt nobody sees
    (SSH session, no D-Bus).  A daemon thread (not an executor) so a hung call
    never keeps the process from exiting."""
    box: dict[str, Any] = {}  # "value": what fn returned (a T), or "error": what it raised
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"zoomtui-keyring-{what}", daemon=True).start()
    if not done.wait(timeout):
        raise KeyringUnavailable(
            f"The keyring did not answer within {timeout:g} s ({what}); it may be locked and "
            f"waiting for an unlock prompt. Unlock it and try again, or use {words.env}.",
            "error",
        )
    if "error" in box:
        raise box["error"]
    result: T = box["value"]
    return result


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_plain_file_backend(backend: object) -> bool:
    """keyrings.alt's file backends (or anything modelled on them) keep secrets in a file."""
    for cls in type(backend).__mro__:
        if cls.__module__.startswith("keyrings.alt") or cls.__name__ in (
            "PlaintextKeyring",
            "UncryptedFileKeyring",
        ):
            return True
    return False


def _classify(backend: object) -> tuple[KeyringState, str]:
    """The state a backend is in before it is asked anything: none / insecure / usable."""
    from keyring.backends import chainer, fail, null

    name = _backend_name(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return "none", name
    if isinstance(backend, chainer.ChainerBackend):
        children = list(backend.backends)
        if not children:
            return "none", name
        name = f"{name} [{', '.join(_backend_name(b) for b in children)}]"
        if any(_is_plain_file_backend(b) for b in children):
            return "insecure", name
        return "usable", name
    if _is_plain_file_backend(backend):
        return "insecure", name
    return "usable", name


def state_message(
    state: KeyringState, name: str, detail: str = "", noun: str = CLIENT_SECRET_WORDS.noun
) -> str:
    """What the keyring's state means for the secret (`noun`), in a sentence for the user."""
    if state == "usable":
        return f"Secrets are stored in the OS keyring ({name})."
    if state == "none":
        return (
            f"No usable keyring on this machine ({name}), so zoomtui cannot store the {noun} "
            "(and it never writes it to a file)."
        )
    if state == "insecure":
        return (
            f"The only keyring available ({name}) keeps secrets in a plain file on disk that any "
            "program running as you can read. zoomtui uses it only if you confirm."
        )
    return f"The keyring ({name}) is not working: {detail}"


def _explain(
    exc: BaseException,
    name: str,
    secret: str | None = None,
    words: SecretWords = CLIENT_SECRET_WORDS,
) -> KeyringUnavailable:
    """Turn whatever the keyring stack raised into one plain-words `KeyringUnavailable`."""
    from keyring import errors

    if isinstance(exc, KeyringUnavailable):
        return exc
    extra = [secret] if secret else []
    if isinstance(exc, errors.NoKeyringError):
        return KeyringUnavailable(state_message("none", name, noun=words.noun), "none")
    if isinstance(exc, errors.KeyringLocked):
        return KeyringUnavailable(
            state_message(
                "error",
                name,
                "it is locked. Unlock it (for example by logging in to the "
                f"desktop session) and try again, or use {words.env}.",
            ),
            "error",
        )
    env_backend = os.environ.get("PYTHON_KEYRING_BACKEND")
    if (
        isinstance(exc, ImportError | AttributeError | ValueError | RuntimeError)
        and env_backend
        and name == "?"
    ):
        return KeyringUnavailable(
            f"PYTHON_KEYRING_BACKEND={env_backend} cannot be loaded ({type(exc).__name__}: "
            f"{redact(exc, extra)}). Fix or unset it.",
            "error",
        )
    detail = f"{type(exc).__name__}: {redact(exc, extra)}".rstrip(": ")
    return KeyringUnavailable(state_message("error", name, detail + "."), "error")


def _get_backend() -> Any:  # keyring ships no type information
    # keyring is imported only when used (about 45 ms, and it may probe D-Bus backends):
    # commands that get the secret from the environment never pay for it.
    import keyring

    return keyring.get_keyring()


def keyring_status(timeout: float = KEYRING_TIMEOUT) -> KeyringStatus:
    """Ask the keyring what it is and whether it answers (a harmless read of a probe entry)."""
    name = "?"

    def probe() -> KeyringStatus:
        nonlocal name
        backend = _get_backend()
        state, name = _classify(backend)
        if state == "none":
            return KeyringStatus("none", name, state_message("none", name))
        backend.get_password(KEYRING_SERVICE, _PROBE_USER)
        return KeyringStatus(state, name, state_message(state, name))

    try:
        return _call_with_timeout(probe, timeout, "status")
    except Exception as exc:  # every failure is a state, never a crash
        err = _explain(exc, name)
        if name == "?":  # the backend failed to load: name what was asked for, if anything
            name = os.environ.get("PYTHON_KEYRING_BACKEND") or name
        return KeyringStatus(err.state, name, err.message)


def _usable_backend(
    allow_insecure: bool, for_what: str, words: SecretWords = CLIENT_SECRET_WORDS
) -> tuple[Any, str]:
    backend = _get_backend()
    state, name = _classify(backend)
    if state == "none":
        raise KeyringUnavailable(state_message("none", name, noun=words.noun), "none")
    if state == "insecure" and not allow_insecure:
        raise KeyringUnavailable(
            state_message("insecure", name)
            + f" Without that confirmation it is not used to {for_what}.",
            "insecure",
        )
    return backend, name


def _guarded(
    op: Callable[[dict[str, str]], T],
    timeout: float,
    what: str,
    secret: str | None = None,
    words: SecretWords = CLIENT_SECRET_WORDS,
) -> T:
    """Run `op(ctx)` with a timeout; `op` puts the backend's name in `ctx["name"]` as soon as
    it knows it, so a failure message can name the backend."""
    ctx = {"name": "?"}
    try:
        return _call_with_timeout(lambda: op(ctx), timeout, what, words)
    except KeyringUnavailable:
        raise
    except Exception as exc:
        raise _explain(exc, ctx["name"], secret, words) from None


def get_secret(
    profile: str,
    timeout: float = KEYRING_TIMEOUT,
    *,
    allow_insecure: bool = False,
    user: str | None = None,
    words: SecretWords = CLIENT_SECRET_WORDS,
) -> Secret | None:
    """The stored client secret of `profile` (or another secret of it: `user`, the
    entry's name, and `words`, how messages name it), or None when there is none."""
    entry = user or keyring_username(profile)

    def read(ctx: dict[str, str]) -> Secret | None:
        backend, ctx["name"] = _usable_backend(allow_insecure, "read the secret", words)
        value = backend.get_password(KEYRING_SERVICE, entry)
        return Secret(value) if value else None

    return _guarded(read, timeout, "read", words=words)


def set_secret(
    profile: str,
    secret: Secret,
    timeout: float = KEYRING_TIMEOUT,
    *,
    allow_insecure: bool = False,
    user: str | None = None,
    words: SecretWords = CLIENT_SECRET_WORDS,
) -> str:
    """Store the secret (the client secret, or the entry `user`, named in messages by
    `words`); returns the backend's name.  Reads it back, because some backends accept a
    write and keep nothing."""
    cfg.check_profile_name(profile)
    value = secret.reveal()
    user = user or keyring_username(profile)

    def write(ctx: dict[str, str]) -> str:
        backend, ctx["name"] = _usable_backend(allow_insecure, "store the secret", words)
        backend.set_password(KEYRING_SERVICE, user, value)
        if backend.get_password(KEYRING_SERVICE, user) != value:
            raise KeyringUnavailable(
                state_message(
                    "error", ctx["name"], "it accepted the secret but does not give it back."
                ),
                "error",
            )
        return ctx["name"]

    return _guarded(write, timeout, "store", value, words)


def delete_secret(
    profile: str, timeout: float = KEYRING_TIMEOUT, *, user: str | None = None
) -> bool:
    """Remove the stored secret (the client secret, or the entry `user`); False when none
    was stored.  Removing is allowed from any backend, insecure ones included."""
    user = user or keyring_username(profile)

    def delete(ctx: dict[str, str]) -> bool:
        backend, ctx["name"] = _usable_backend(True, "delete the secret")
        if backend.get_password(KEYRING_SERVICE, user) is None:
            return False
        backend.delete_password(KEYRING_SERVICE, user)
        return True

    return _guarded(delete, timeout, "delete")


# --- other entries (the shared access token): a real keyring only -----------------


def read_entry(user: str, timeout: float = KEYRING_TIMEOUT) -> str | None:
    """The value of entry `user` of service `zoomtui`, or None.  Only from a real OS keyring:
    a missing or plain-file one raises `KeyringUnavailable` (state "none" or "insecure")."""

    def read(ctx: dict[str, str]) -> str | None:
        backend, ctx["name"] = _usable_backend(False, "read it")
        value = backend.get_password(KEYRING_SERVICE, user)
        return value if isinstance(value, str) else None

    return _guarded(read, timeout, "read")


def write_entry(user: str, value: str, timeout: float = KEYRING_TIMEOUT) -> None:
    """Store `value` as entry `user` of service `zoomtui`, in a real OS keyring only."""

    def write(ctx: dict[str, str]) -> None:
        backend, ctx["name"] = _usable_backend(False, "store it")
        backend.set_password(KEYRING_SERVICE, user, value)

    _guarded(write, timeout, "store", value)


def delete_entry(user: str, timeout: float = KEYRING_TIMEOUT) -> bool:
    """Remove entry `user` of service `zoomtui` from a real OS keyring; False when absent."""

    def delete(ctx: dict[str, str]) -> bool:
        backend, ctx["name"] = _usable_backend(False, "delete it")
        if backend.get_password(KEYRING_SERVICE, user) is None:
            return False
        backend.delete_password(KEYRING_SERVICE, user)
        return True

    return _guarded(delete, timeout, "delete")


# --- session-only secrets (no keyring on this box) --------------------------------

_session_lock = threading.Lock()
_session_secrets: dict[str, Secret] = {}


def save_session_secret(profile: str, secret: Secret) -> None:
    """Keep a secret in this process's memory only (a box with no usable keyring).
    `resolve_settings` finds it (source "session"); it is gone when the process ends."""
    with _session_lock:
        _session_secrets[profile] = secret


def session_secret(profile: str) -> Secret | None:
    with _session_lock:
        return _session_secrets.get(profile)


def forget_session_secret(profile: str | None = None) -> None:
    """Drop one profile's session secret (or all of them)."""
    with _session_lock:
        if profile is None:
            _session_secrets.clear()
        else:
            _session_secrets.pop(profile, None)
