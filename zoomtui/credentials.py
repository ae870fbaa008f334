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

The keyring is a third-party stack (D-Bus, a desktop daemon, a file backend) that
can be missing, misconfigured, locked or hung.  Every call goes through
`_call_with_timeout` in a daemon thread, and every failure becomes one
`KeyringUnavailable` with plain words.  The secret never goes to a file: with no
usable keyring the user is told so and offered the environment or a session-only
secret; a plain-file keyring backend is used only after explicit confirmation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, TypeVar

from zoomtui import config as cfg
from zoomtui.redaction import Secret, redact
from zoomtui.settings import (
    ENV_ACCOUNT_ID,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_OAUTH_URL,
    ENV_SUBSCRIPTION_ID,
    ENV_WS_URL,
    ZOOM_OAUTH_URL,
    ZOOM_WS_URL,
    ConnectionSettings,
    SettingsError,
)

T = TypeVar("T")

KEYRING_SERVICE = "zoomtui"
KEYRING_TIMEOUT = 3.0
#: a username that never holds anything: reading it tells whether the keyring answers at all
_PROBE_USER = "zoomtui-keyring-check"

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
LABELS = {
    "account_id": "account id",
    "client_id": "client id",
    "client_secret": "client secret",
    "subscription_id": "subscription id",
}
_SETTINGS_FIELDS = {f.name: f for f in fields(ConnectionSettings)}
#: ConnectionSettings fields a profile (or an override) may set besides the ENV_FOR ones
_TUNABLES = ("heartbeat_interval", "max_frame_bytes", "insecure_transport")

KeyringState = Literal["usable", "none", "insecure", "error"]


# --- the keyring ------------------------------------------------------------------


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


def _call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run one keyring call in a daemon thread and give up after `timeout` seconds.

    A locked keyring can block forever waiting for an unlock prompt nobody sees
    (SSH session, no D-Bus).  A daemon thread (not an executor) so a hung call
    never keeps the process from exiting."""
    box: dict[str, object] = {}
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
            "waiting for an unlock prompt. Unlock it and try again, or use ZOOM_CLIENT_SECRET.",
            "error",
        )
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


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


def _state_message(state: KeyringState, name: str, detail: str = "") -> str:
    if state == "usable":
        return f"Secrets are stored in the OS keyring ({name})."
    if state == "none":
        return (
            f"No usable keyring on this machine ({name}), so zoomtui cannot store the client "
            "secret (and it never writes it to a file)."
        )
    if state == "insecure":
        return (
            f"The only keyring available ({name}) keeps secrets in a plain file on disk that any "
            "program running as you can read. zoomtui uses it only if you confirm."
        )
    return f"The keyring ({name}) is not working: {detail}"


def _explain(exc: BaseException, name: str, secret: str | None = None) -> KeyringUnavailable:
    """Turn whatever the keyring stack raised into one plain-words `KeyringUnavailable`."""
    from keyring import errors

    if isinstance(exc, KeyringUnavailable):
        return exc
    extra = [secret] if secret else []
    if isinstance(exc, errors.NoKeyringError):
        return KeyringUnavailable(_state_message("none", name), "none")
    if isinstance(exc, errors.KeyringLocked):
        return KeyringUnavailable(
            _state_message(
                "error",
                name,
                "it is locked. Unlock it (for example by logging in to the "
                "desktop session) and try again, or use ZOOM_CLIENT_SECRET.",
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
    return KeyringUnavailable(_state_message("error", name, detail + "."), "error")


def _get_backend() -> object:
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
            return KeyringStatus("none", name, _state_message("none", name))
        backend.get_password(KEYRING_SERVICE, _PROBE_USER)  # type: ignore[attr-defined]
        return KeyringStatus(state, name, _state_message(state, name))

    try:
        return _call_with_timeout(probe, timeout, "status")
    except Exception as exc:  # every failure is a state, never a crash
        err = _explain(exc, name)
        if name == "?":  # the backend failed to load: name what was asked for, if anything
            name = os.environ.get("PYTHON_KEYRING_BACKEND") or name
        return KeyringStatus(err.state, name, err.message)


def _usable_backend(allow_insecure: bool, for_what: str) -> tuple[object, str]:
    backend = _get_backend()
    state, name = _classify(backend)
    if state == "none":
        raise KeyringUnavailable(_state_message("none", name), "none")
    if state == "insecure" and not allow_insecure:
        raise KeyringUnavailable(
            _state_message("insecure", name)
            + f" Not used to {for_what} without that confirmation.",
            "insecure",
        )
    return backend, name


def _guarded(
    op: Callable[[dict[str, str]], T], timeout: float, what: str, secret: str | None = None
) -> T:
    """Run `op(ctx)` with a timeout; `op` puts the backend's name in `ctx["name"]` as soon as
    it knows it, so a failure message can name the backend."""
    ctx = {"name": "?"}
    try:
        return _call_with_timeout(lambda: op(ctx), timeout, what)
    except KeyringUnavailable:
        raise
    except Exception as exc:
        raise _explain(exc, ctx["name"], secret) from None


def get_secret(
    profile: str, timeout: float = KEYRING_TIMEOUT, *, allow_insecure: bool = False
) -> Secret | None:
    """The stored client secret of `profile`, or None when there is none."""

    def read(ctx: dict[str, str]) -> Secret | None:
        backend, ctx["name"] = _usable_backend(allow_insecure, "read the secret")
        value = backend.get_password(KEYRING_SERVICE, keyring_username(profile))  # type: ignore[attr-defined]
        return Secret(value) if value else None

    return _guarded(read, timeout, "read")


def set_secret(
    profile: str, secret: Secret, timeout: float = KEYRING_TIMEOUT, *, allow_insecure: bool = False
) -> str:
    """Store the secret; returns the backend's name.  Reads it back, because some backends
    accept a write and keep nothing."""
    cfg.check_profile_name(profile)
    value = secret.reveal()
    user = keyring_username(profile)

    def write(ctx: dict[str, str]) -> str:
        backend, ctx["name"] = _usable_backend(allow_insecure, "store the secret")
        backend.set_password(KEYRING_SERVICE, user, value)  # type: ignore[attr-defined]
        if backend.get_password(KEYRING_SERVICE, user) != value:  # type: ignore[attr-defined]
            raise KeyringUnavailable(
                _state_message(
                    "error", ctx["name"], "it accepted the secret but does not give it back."
                ),
                "error",
            )
        return ctx["name"]

    return _guarded(write, timeout, "store", value)


def delete_secret(profile: str, timeout: float = KEYRING_TIMEOUT) -> bool:
    """Remove the stored secret; False when none was stored.  Removing is allowed from
    any backend, insecure ones included."""
    user = keyring_username(profile)

    def delete(ctx: dict[str, str]) -> bool:
        backend, ctx["name"] = _usable_backend(True, "delete the secret")
        if backend.get_password(KEYRING_SERVICE, user) is None:  # type: ignore[attr-defined]
            return False
        backend.delete_password(KEYRING_SERVICE, user)  # type: ignore[attr-defined]
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


# --- resolution -------------------------------------------------------------------


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
) -> Resolution:
    """Find every value without failing on missing ones (`resolve_settings` does that)."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    profile = cfg.selected_profile(profile, env)
    path = cfg.config_path(config_path, env)
    config = cfg.load_config(path)
    stored = config.profiles.get(profile)
    from_profile = dict(stored or {})
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    result = Resolution(
        profile=profile,
        config_path=path,
        values=values,
        sources=sources,
        missing=(),
        profile_found=stored is not None,
        profile_values=from_profile,
        known_profiles=tuple(config.names()),
    )

    for name, var in ENV_FOR.items():
        opt = overrides.pop(name, None)
        if opt not in (None, ""):
            values[name], sources[name] = opt, "option"
        elif env.get(var):
            values[name], sources[name] = env[var], f"env {var}"
        elif name == "client_secret":
            continue  # session / keyring below
        elif from_profile.get(name):
            values[name], sources[name] = from_profile[name], f"profile {profile}"
        elif name in DEFAULTS:
            values[name], sources[name] = DEFAULTS[name], "default"

    if "client_secret" not in values:
        kept = session_secret(profile)
        if kept:
            values["client_secret"], sources["client_secret"] = kept, "session"
        elif read_keyring:
            try:
                secret = get_secret(
                    profile,
                    keyring_timeout,
                    allow_insecure=bool(from_profile.get("insecure_keyring")),
                )
            except KeyringUnavailable as exc:
                result.keyring_problem, result.keyring_state = exc.message, exc.state
            else:
                if secret:
                    values["client_secret"], sources["client_secret"] = secret, "keyring"

    for name in _TUNABLES:
        opt = overrides.pop(name, None)
        if opt is not None:
            values[name], sources[name] = opt, "option"
        elif name in from_profile:
            values[name], sources[name] = from_profile[name], f"profile {profile}"
        else:
            values[name], sources[name] = _SETTINGS_FIELDS[name].default, "default"
    # Display settings the front ends read (not ConnectionSettings fields).
    for name in cfg.DISPLAY_KEYS:
        if name in from_profile:
            values[name], sources[name] = from_profile[name], f"profile {profile}"
    # Any other override that names a ConnectionSettings field passes through as an option.
    for name, value in overrides.items():
        if value is not None and name in _SETTINGS_FIELDS and name not in ("profile", "sources"):
            values[name], sources[name] = value, "option"

    result.missing = tuple(n for n in REQUIRED if not values.get(n))
    return result


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
    envs = ", ".join(ENV_FOR[n] for n in res.missing)
    parts.append(
        f"Run `zoomtui login --profile {res.profile}`, or set {envs}; or try `zoomtui demo`."
    )
    return " ".join(parts)


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
    (a `config.ConfigError` for a bad config file) naming what is missing
    and how to provide it.
    """
    res = resolve(profile=profile, config_path=config_path, overrides=overrides, env=env)
    if res.missing:
        raise SettingsError(_missing_message(res), missing=res.missing)
    values = dict(res.values)
    secret = values.pop("client_secret")
    for name in cfg.DISPLAY_KEYS:
        values.pop(name, None)
    try:
        return ConnectionSettings(
            account_id=str(values.pop("account_id")),
            client_id=str(values.pop("client_id")),
            client_secret=secret if isinstance(secret, Secret) else Secret(str(secret)),
            subscription_id=str(values.pop("subscription_id")),
            oauth_url=str(values.pop("oauth_url")),
            ws_url=str(values.pop("ws_url")),
            profile=res.profile,
            sources=dict(res.sources),
            **values,  # type: ignore[arg-type]
        )
    except TypeError as exc:  # a value of the wrong type from an override
        raise SettingsError(f"Invalid setting: {exc}.") from None


# --- login: verify, then save -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What `verify_and_save` did.  `message` is for the user (never holds the secret)."""

    ok: bool
    profile: str
    message: str
    #: None when ok; else "invalid", "transport", "credentials", "rate_limited",
    #: "unreachable", "insecure_keyring", "no_keyring", "keyring", "config"
    problem: str | None = None
    #: the only keyring is a plain-file one: ask the user, then call again with allow_insecure_keyring=True
    needs_confirmation: bool = False
    verified: bool = False
    #: "keyring", "insecure keyring", "session", or "not stored" (the secret stays in the environment)
    secret_store: str | None = None
    config_path: Path | None = None
    keyring: KeyringStatus | None = None
    token_expires_in: float | None = None
    scopes: tuple[str, ...] = ()
    retry_after: float | None = None


NoKeyringPolicy = Literal["session", "profile_only", "refuse"]


async def _verify(
    settings: ConnectionSettings, timeout: float
) -> tuple[float | None, tuple[str, ...]]:
    """Ask the token endpoint for a token with these credentials (raises the auth errors)."""
    import time

    # Imported here: the token provider sits below this layer; only login needs it.
    from zoomtui.zoom.auth import TokenProvider

    async with TokenProvider(settings, timeout=min(10.0, timeout)) as provider:
        token = await asyncio.wait_for(provider.get(), timeout)
    return token.expires_at - time.time(), tuple(token.scopes)


def _auth_failure(
    exc: BaseException, settings: ConnectionSettings, timeout: float
) -> tuple[str, str, float | None]:
    """(problem, message, retry_after) for a failed verification, in plain words."""
    from zoomtui.zoom import auth

    detail = redact(exc, [settings.client_secret.reveal()]).strip()
    if isinstance(exc, auth.CredentialsRejected):
        return ("credentials", f"{detail} {auth.CREDENTIALS_HINT} Nothing was saved.", None)
    if isinstance(exc, auth.RateLimited):
        return (
            "rate_limited",
            "Zoom's token endpoint is rate limiting requests (429). Nothing was saved; try again "
            f"in {exc.retry_after:.0f} s.",
            exc.retry_after,
        )
    if isinstance(exc, TimeoutError):
        detail = f"The token endpoint did not answer within {timeout:g} s."
    elif isinstance(exc, auth.TransientAuthError) and exc.status:
        # the provider's wording promises a retry; login does not retry by itself
        detail = f"Zoom's token endpoint ({settings.oauth_url}) answered HTTP {exc.status}."
    elif not isinstance(exc, auth.AuthError):
        detail = f"Unexpected error while asking for a token: {type(exc).__name__}: {detail}"
    return (
        "unreachable",
        f"{detail} Check the network and the OAuth URL, then try again. Nothing was saved.",
        None,
    )


async def _keyring_call(fn: Callable[..., T], *args: object, timeout: float, **kwargs: object) -> T:
    """A keyring call off the event loop.  The sync functions already give up after
    `timeout`; the outer wait is a second guard so the loop never waits much longer."""
    return await asyncio.wait_for(
        asyncio.to_thread(fn, *args, timeout=timeout, **kwargs), timeout + 2.0
    )


async def verify_and_save(
    profile: str,
    account_id: str,
    client_id: str,
    client_secret: Secret,
    subscription_id: str,
    oauth_url: str | None = None,
    ws_url: str | None = None,
    *,
    verify: bool = True,
    config_path: Path | None = None,
    allow_insecure_keyring: bool = False,
    no_keyring: NoKeyringPolicy = "session",
    insecure_transport: bool = False,
    keyring_timeout: float = KEYRING_TIMEOUT,
    verify_timeout: float = 30.0,
) -> SaveResult:
    """Check the credentials with Zoom's token endpoint, then store them: the secret in the
    keyring, everything else in the profile.  When anything fails, nothing is saved.

    With no usable keyring (`no_keyring`): "session" keeps the secret in this process's
    memory (`save_session_secret`) and saves the profile; "profile_only" saves the profile
    and leaves the secret where it came from (ZOOM_CLIENT_SECRET); "refuse" saves nothing.
    A plain-file keyring needs `allow_insecure_keyring=True` (the user's confirmation);
    without it the result has `needs_confirmation=True` and nothing is saved.
    `oauth_url`/`ws_url` None means Zoom's own (and removes a custom one from the profile).
    """
    path = cfg.config_path(config_path)

    def fail(problem: str, message: str, **kw: object) -> SaveResult:
        return SaveResult(
            ok=False, profile=profile, message=message, problem=problem, config_path=path, **kw
        )  # type: ignore[arg-type]

    ids = {"account_id": account_id, "client_id": client_id, "subscription_id": subscription_id}
    ids = {k: (v or "").strip() for k, v in ids.items()}
    secret = client_secret if isinstance(client_secret, Secret) else Secret(str(client_secret))
    if secret.reveal() != secret.reveal().strip():  # a pasted newline or space is never part of it
        secret = Secret(secret.reveal().strip())
    empty = [LABELS[k] for k, v in ids.items() if not v] + ([] if secret else ["client secret"])
    try:
        cfg.check_profile_name(profile)
        if empty:
            raise SettingsError(f"Missing {', '.join(empty)}.")
        settings = ConnectionSettings(
            client_secret=secret,
            oauth_url=oauth_url or ZOOM_OAUTH_URL,
            ws_url=ws_url or ZOOM_WS_URL,
            profile=profile,
            insecure_transport=insecure_transport,
            **ids,
        )
        settings.check_transport()
        cfg.load_config(path)  # a broken config file: say so before asking Zoom anything
    except cfg.ConfigError as exc:
        return fail("config", str(exc))
    except SettingsError as exc:
        return fail("invalid" if empty else "transport", str(exc))

    try:
        status = await _keyring_call(keyring_status, timeout=keyring_timeout)
    except TimeoutError:
        status = KeyringStatus("error", "?", _state_message("error", "?", "it did not answer."))
    store: str
    if status.state == "usable":
        store = "keyring"
    elif status.state == "insecure":
        if not allow_insecure_keyring:
            return fail(
                "insecure_keyring",
                status.message + " Nothing was saved.",
                needs_confirmation=True,
                keyring=status,
            )
        store = "insecure keyring"
    elif no_keyring == "session":
        store = "session"
    elif no_keyring == "profile_only":
        store = "not stored"
    else:
        return fail("no_keyring", status.message + " Nothing was saved.", keyring=status)

    expires_in: float | None = None
    scopes: tuple[str, ...] = ()
    if verify:
        try:
            expires_in, scopes = await _verify(settings, verify_timeout)
        except Exception as exc:
            problem, message, retry = _auth_failure(exc, settings, verify_timeout)
            return fail(problem, message, keyring=status, retry_after=retry)

    if store in ("keyring", "insecure keyring"):
        try:
            await _keyring_call(
                set_secret,
                profile,
                secret,
                timeout=keyring_timeout,
                allow_insecure=store != "keyring",
            )
        except (KeyringUnavailable, TimeoutError) as exc:
            message = (
                exc.message
                if isinstance(exc, KeyringUnavailable)
                else "The keyring did not answer."
            )
            return fail("keyring", message + " Nothing was saved.", keyring=status, verified=verify)

    values: dict[str, object | None] = {
        **ids,
        "oauth_url": oauth_url or None,
        "ws_url": ws_url or None,
        "insecure_transport": None,  # cleartext is for one run: an old `true` is dropped
        "insecure_keyring": True if store == "insecure keyring" else None,
    }
    try:
        written = cfg.save_profile(profile, values, path)
    except cfg.ConfigError as exc:
        if store in ("keyring", "insecure keyring"):  # undo, so a failure saves nothing
            with contextlib.suppress(KeyringUnavailable, TimeoutError):
                await _keyring_call(delete_secret, profile, timeout=keyring_timeout)
        return fail("config", str(exc), keyring=status, verified=verify)

    if store == "session":
        save_session_secret(profile, secret)
    else:
        forget_session_secret(profile)

    where = {
        "keyring": f"The client secret is in the OS keyring ({status.backend_name}).",
        "insecure keyring": (
            f"The client secret is in {status.backend_name}, a plain-file keyring you accepted; "
            "`zoomtui profiles show` keeps flagging it."
        ),
        "session": (
            "No usable keyring here, so the client secret is kept in memory for this session "
            f"only; next time, enter it again or set {ENV_CLIENT_SECRET}."
        ),
        "not stored": (
            f"No usable keyring here, so the client secret was not stored: keep {ENV_CLIENT_SECRET} set."
        ),
    }[store]
    if verify:
        checked = "Zoom accepted the credentials"
        if expires_in is not None:
            checked += f" (token valid {expires_in / 60:.0f} min; scopes: {' '.join(scopes) or 'none listed'})"
        checked += "."
    else:
        checked = "Saved without checking the credentials with Zoom."
    return SaveResult(
        ok=True,
        profile=profile,
        message="\n".join(
            (checked, f"Saved profile '{profile}' in {written} (no secret in it).", where)
        ),
        verified=verify,
        secret_store=store,
        config_path=written,
        keyring=status,
        token_expires_in=expires_in,
        scopes=scopes,
    )
