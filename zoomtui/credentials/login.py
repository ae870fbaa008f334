"""Login (the CLI's and the first-run form's): check the credentials with Zoom, then store them.

`verify_and_save` runs its steps in order and stops at the first that fails, with
nothing saved: check what was typed (`_checked_settings`), find where the secret can go
(`_secret_store`), ask Zoom for a token (`_verified`), put the secret in the keyring
(`_store_secret`), then write the profile (`_save_profile`, which takes the secret back
out of the keyring when the profile cannot be written).  A step that fails raises
`_NothingSaved` holding the result to return.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from zoomtui import config as cfg
from zoomtui.credentials.keyring_store import (
    KEYRING_TIMEOUT,
    KeyringStatus,
    KeyringUnavailable,
    delete_secret,
    forget_session_secret,
    keyring_status,
    save_session_secret,
    set_secret,
    state_message,
)
from zoomtui.credentials.resolution import LABELS
from zoomtui.redaction import Secret, redact
from zoomtui.settings import (
    DEFAULT_CLOUD,
    ENV_CLIENT_SECRET,
    GRANT_ACCOUNT,
    GRANT_CLIENT,
    ConnectionSettings,
    SettingsError,
    cloud_hosts,
    endpoint_and_subscription,
)
from zoomtui.timefmt import duration_short

T = TypeVar("T")
#: the stores that are a keyring (the secret is written there, and taken back on failure)
_IN_KEYRING = ("keyring", "insecure keyring")


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
    #: problem "credentials": the values Zoom's answer points at (the others were not
    #: refused: a person need not type them again)
    rejected: tuple[str, ...] = ()


NoKeyringPolicy = Literal["session", "profile_only", "refuse"]


async def _verify(
    settings: ConnectionSettings, timeout: float
) -> tuple[float | None, tuple[str, ...]]:
    """Ask the token endpoint for a token with these credentials (raises the auth errors)."""
    import time

    # Imported here: the token provider sits below this layer; only login needs it.
    from zoomtui.zoom.auth import TokenProvider

    # No shared cache: a check of the credentials asks Zoom, whatever another process holds.
    async with TokenProvider(settings, timeout=min(10.0, timeout), cache=None) as provider:
        token = await asyncio.wait_for(provider.get(), timeout)
    return token.expires_at - time.time(), tuple(token.scopes)


def _auth_failure(
    exc: BaseException, settings: ConnectionSettings, timeout: float
) -> tuple[str, str, float | None]:
    """(problem, message, retry_after) for a failed verification, in plain words."""
    from zoomtui.zoom import auth

    detail = redact(exc, [settings.client_secret.reveal()]).strip()
    if isinstance(exc, auth.CredentialsRejected):
        return ("credentials", f"{detail} {exc.hint} Nothing was saved.", None)
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
    grant: str | None = None,
    cloud: str | None = None,
) -> SaveResult:
    """Check the credentials with Zoom's token endpoint, then store them: the secret in the
    keyring, everything else in the profile.  When anything fails, nothing is saved.

    With no usable keyring (`no_keyring`): "session" keeps the secret in this process's
    memory (`save_session_secret`) and saves the profile; "profile_only" saves the profile
    and leaves the secret where it came from (ZOOM_CLIENT_SECRET); "refuse" saves nothing.
    A plain-file keyring needs `allow_insecure_keyring=True` (the user's confirmation);
    without it the result has `needs_confirmation=True` and nothing is saved.
    `oauth_url`/`ws_url` None means the cloud's own (and removes a custom one from the
    profile).  `ws_url` may be the endpoint URL Zoom shows (`...?subscriptionId=...`): its
    subscription id is saved, and `subscription_id` may then be empty (a different one is
    an error).  `grant`/`cloud` None: account_credentials, zoom.
    """
    login = _Login.cleaned(
        profile,
        {"account_id": account_id, "client_id": client_id, "subscription_id": subscription_id},
        client_secret,
        oauth_url=oauth_url,
        ws_url=ws_url,
        path=cfg.config_path(config_path),
        insecure_transport=insecure_transport,
        keyring_timeout=keyring_timeout,
        grant=grant or GRANT_ACCOUNT,
        cloud=cloud or DEFAULT_CLOUD,
    )
    expires_in: float | None = None
    scopes: tuple[str, ...] = ()
    try:
        settings = _checked_settings(login)
        status = await _keyring_status(keyring_timeout)
        store = _secret_store(login, status, allow_insecure_keyring, no_keyring)
        if verify:
            expires_in, scopes = await _verified(login, settings, status, verify_timeout)
        await _store_secret(login, store, status, verified=verify)
        written = await _save_profile(login, settings, store, status, verified=verify)
    except _NothingSaved as stop:
        return stop.result

    if store == "session":
        save_session_secret(profile, login.secret)
    else:
        forget_session_secret(profile)
    return _saved(login, store, status, written, verify, expires_in, scopes)


class _NothingSaved(Exception):
    """A step of `verify_and_save` failed; `result` says why (nothing was saved)."""

    def __init__(self, result: SaveResult) -> None:
        super().__init__(result.problem)
        self.result = result


@dataclass(frozen=True, slots=True)
class _Login:
    """What is to be saved, cleaned up: ids stripped, the secret without pasted whitespace."""

    profile: str
    ids: dict[str, str]  # account_id, client_id, subscription_id
    secret: Secret
    oauth_url: str | None
    ws_url: str | None
    path: Path
    insecure_transport: bool
    keyring_timeout: float
    grant: str
    cloud: str

    @classmethod
    def cleaned(
        cls,
        profile: str,
        ids: dict[str, str],
        client_secret: Secret | str,
        *,
        oauth_url: str | None,
        ws_url: str | None,
        path: Path,
        insecure_transport: bool,
        keyring_timeout: float,
        grant: str,
        cloud: str,
    ) -> _Login:
        secret = client_secret if isinstance(client_secret, Secret) else Secret(str(client_secret))
        if (
            secret.reveal() != secret.reveal().strip()
        ):  # a pasted newline or space is never part of it
            secret = Secret(secret.reveal().strip())
        return cls(
            profile=profile,
            ids={k: (v or "").strip() for k, v in ids.items()},
            secret=secret,
            oauth_url=oauth_url,
            ws_url=ws_url,
            path=path,
            insecure_transport=insecure_transport,
            keyring_timeout=keyring_timeout,
            grant=grant,
            cloud=cloud,
        )

    def failed(
        self,
        problem: str,
        message: str,
        *,
        needs_confirmation: bool = False,
        keyring: KeyringStatus | None = None,
        verified: bool = False,
        retry_after: float | None = None,
        rejected: tuple[str, ...] = (),
    ) -> _NothingSaved:
        """The stop of a failed step, for it to raise."""
        return _NothingSaved(
            SaveResult(
                ok=False,
                profile=self.profile,
                message=message,
                problem=problem,
                needs_confirmation=needs_confirmation,
                verified=verified,
                config_path=self.path,
                keyring=keyring,
                retry_after=retry_after,
                rejected=rejected,
            )
        )


def _checked_settings(login: _Login) -> ConnectionSettings:
    """Every value given, a usable profile name, a safe transport, a readable config file:
    all before asking Zoom anything."""
    try:
        cfg.check_profile_name(login.profile)
        _check_given(login)
        settings = ConnectionSettings(
            account_id=login.ids["account_id"] if login.grant != GRANT_CLIENT else "",
            client_id=login.ids["client_id"],
            client_secret=login.secret,
            subscription_id=login.ids["subscription_id"],
            oauth_url=login.oauth_url or "",
            ws_url=login.ws_url or "",
            profile=login.profile,
            insecure_transport=login.insecure_transport,
            grant=login.grant,
            cloud=login.cloud,
        )
        settings.check_transport()
        cfg.load_config(login.path)  # a broken config file: say so before asking Zoom anything
    except cfg.ConfigError as exc:
        raise login.failed("config", str(exc)) from None
    except SettingsError as exc:
        raise login.failed("transport", str(exc)) from None
    return settings


def _check_given(login: _Login) -> None:
    """What the grant needs was given; the subscription id, or an endpoint URL naming it
    (and the same one when both were given).  Raises the stop of an "invalid" login."""
    try:
        hosts = cloud_hosts(login.cloud)
        ws_url = login.ws_url or hosts.ws_url
        subscription = login.ids["subscription_id"]
        if ws_url:
            subscription = endpoint_and_subscription(ws_url, subscription)[1]
    except SettingsError as exc:
        raise login.failed("invalid", str(exc)) from None
    needed = ["account_id"] if login.grant != GRANT_CLIENT else []
    empty = [LABELS[k] for k in (*needed, "client_id") if not login.ids[k]]
    if not login.secret:
        empty.append("client secret")
    if not subscription:
        empty.append(
            "subscription id (or the endpoint URL Zoom shows, wss://...?subscriptionId=...)"
            if ws_url
            else "the endpoint URL Zoom shows for the subscription (wss://...?subscriptionId=...)"
        )
    if empty:
        raise login.failed("invalid", f"Missing {', '.join(empty)}.")


async def _keyring_status(timeout: float) -> KeyringStatus:
    try:
        return await _keyring_call(keyring_status, timeout=timeout)
    except TimeoutError:
        return KeyringStatus("error", "?", state_message("error", "?", "it did not answer."))


def _secret_store(
    login: _Login, status: KeyringStatus, allow_insecure_keyring: bool, no_keyring: NoKeyringPolicy
) -> str:
    """Where the secret will go: "keyring", "insecure keyring" (confirmed), "session", or
    "not stored" (it stays in the environment)."""
    if status.state == "usable":
        return "keyring"
    if status.state == "insecure":
        if not allow_insecure_keyring:
            raise login.failed(
                "insecure_keyring",
                status.message + " Nothing was saved.",
                needs_confirmation=True,
                keyring=status,
            )
        return "insecure keyring"
    if no_keyring == "session":
        return "session"
    if no_keyring == "profile_only":
        return "not stored"
    raise login.failed("no_keyring", status.message + " Nothing was saved.", keyring=status)


async def _verified(
    login: _Login, settings: ConnectionSettings, status: KeyringStatus, timeout: float
) -> tuple[float | None, tuple[str, ...]]:
    """Zoom's token endpoint accepts the credentials: the token's lifetime and scopes."""
    try:
        return await _verify(settings, timeout)
    except Exception as exc:
        problem, message, retry = _auth_failure(exc, settings, timeout)
        rejected = rejected_values(exc, settings.grant) if problem == "credentials" else ()
        raise login.failed(
            problem, message, keyring=status, retry_after=retry, rejected=rejected
        ) from None


def rejected_values(exc: BaseException, grant: str) -> tuple[str, ...]:
    """The values a token endpoint's refusal points at: its words name the account id, or
    the client id and secret (Zoom's usual "invalid_client"); naming neither, all of them.
    The subscription id is never part of a token request, so never among them."""
    said = f"{getattr(exc, 'error', '')} {getattr(exc, 'reason', '')}".lower()
    with_account = grant != GRANT_CLIENT  # app-level tokens send no account id
    if "account" in said and with_account:
        return ("account_id",)
    if "client" in said:
        return ("client_id", "client_secret")
    return (*(("account_id",) if with_account else ()), "client_id", "client_secret")


async def _store_secret(
    login: _Login, store: str, status: KeyringStatus, *, verified: bool
) -> None:
    """The secret into the keyring, when that is where it goes."""
    if store not in _IN_KEYRING:
        return
    try:
        await _keyring_call(
            set_secret,
            login.profile,
            login.secret,
            timeout=login.keyring_timeout,
            allow_insecure=store != "keyring",
        )
    except (KeyringUnavailable, TimeoutError) as exc:
        message = (
            exc.message if isinstance(exc, KeyringUnavailable) else "The keyring did not answer."
        )
        raise login.failed(
            "keyring", message + " Nothing was saved.", keyring=status, verified=verified
        ) from None


async def _save_profile(
    login: _Login,
    settings: ConnectionSettings,
    store: str,
    status: KeyringStatus,
    *,
    verified: bool,
) -> Path:
    """The profile (no secret in it) into the config file; on failure the secret stored a
    moment ago is taken back out, so a failure saves nothing.  Defaults are not written
    (an old non-default value is removed): the profile follows them."""
    own_ws = cloud_hosts(settings.cloud).ws_url
    values: dict[str, object | None] = {
        "account_id": settings.account_id or None,
        "client_id": settings.client_id,
        "subscription_id": settings.subscription_id,  # a pasted endpoint URL's, if it named one
        "oauth_url": login.oauth_url or None,
        # the endpoint without the subscription (it is saved on its own line above)
        "ws_url": settings.ws_url if login.ws_url and settings.ws_url != own_ws else None,
        "grant": settings.grant if settings.grant != GRANT_ACCOUNT else None,
        "cloud": settings.cloud if settings.cloud != DEFAULT_CLOUD else None,
        "insecure_transport": None,  # cleartext is for one run: an old `true` is dropped
        "insecure_keyring": True if store == "insecure keyring" else None,
    }
    try:
        return cfg.save_profile(login.profile, values, login.path)
    except cfg.ConfigError as exc:
        if store in _IN_KEYRING:  # undo, so a failure saves nothing
            with contextlib.suppress(KeyringUnavailable, TimeoutError):
                await _keyring_call(delete_secret, login.profile, timeout=login.keyring_timeout)
        raise login.failed("config", str(exc), keyring=status, verified=verified) from None


def _saved(
    login: _Login,
    store: str,
    status: KeyringStatus,
    written: Path,
    verified: bool,
    expires_in: float | None,
    scopes: tuple[str, ...],
) -> SaveResult:
    """The result of a login that saved everything, with what it did in words."""
    message = (
        _checked_message(verified, expires_in, scopes),
        f"Saved profile '{login.profile}' in {written} (no secret in it).",
        _where_message(store, status),
    )
    return SaveResult(
        ok=True,
        profile=login.profile,
        message="\n".join(message),
        verified=verified,
        secret_store=store,
        config_path=written,
        keyring=status,
        token_expires_in=expires_in,
        scopes=scopes,
    )


def _checked_message(verify: bool, expires_in: float | None, scopes: tuple[str, ...]) -> str:
    if not verify:
        return "Saved without checking the credentials with Zoom."
    checked = "Zoom accepted the credentials"
    if expires_in is not None:
        checked += f" (token valid {duration_short(expires_in)}; scopes: {' '.join(scopes) or 'none listed'})"
    return checked + "."


def _where_message(store: str, status: KeyringStatus) -> str:
    """Where the secret is now, in a sentence for the user."""
    return {
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
