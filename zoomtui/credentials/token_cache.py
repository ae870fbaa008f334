"""One access token per profile, shared by the zoomtui processes of one user.

Zoom invalidates older tokens once "a max number" of them were issued (PROTOCOL.md
section 1), so a `tail` or a `doctor` started beside the monitor takes the monitor's token
instead of minting one of its own.

Where it is kept: the OS keyring (service `zoomtui`, user `<profile>:access_token`) when a
real one is usable; else this process's memory only.  Never a file: a plain-file keyring
backend is not used for tokens, whatever a profile accepted for its client secret.

What is kept with it: its expiry, and what it belongs to (grant, token URL, client id,
account id, a fingerprint of the client secret).  A token is handed only to settings that
would have been given the same one, so a changed secret, account or URL never reuses a
stale token.  The fingerprint is a SHA-256 over the client id and the secret: it tells
whether the secret changed and, the secret being long and random, not what it is.

Every keyring call is bounded (`keyring_store`); callers run these off the event loop.  A
keyring that fails is not asked again by that cache, which keeps to memory from then on.
The token is a `Secret` from the moment it is read (registered with `redact()`).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import fields
from typing import ClassVar

import orjson

from zoomtui.credentials.keyring_store import (
    KEYRING_TIMEOUT,
    KeyringUnavailable,
    delete_entry,
    read_entry,
    write_entry,
)
from zoomtui.redaction import Secret
from zoomtui.settings import ConnectionSettings
from zoomtui.zoom.tokens import Token, TokenOwner

log = logging.getLogger(__name__)

#: the format of a stored entry; another version is not read (a token is cheap to get again)
FORMAT = 1
#: an entry is well under 4 KiB (a Zoom token is a JWT of about 1 KiB); a larger one is not read
MAX_ENTRY_CHARS = 64 * 1024
IN_KEYRING = "OS keyring"
IN_MEMORY = "memory"


def token_username(profile: str) -> str:
    return f"{profile}:access_token"


_OWNER_FIELDS = tuple(f.name for f in fields(TokenOwner))


def encode_entry(owner: TokenOwner, token: Token) -> str:
    """The stored form: JSON with the owner, the token and what the provider needs of it."""
    entry: dict[str, object] = {name: getattr(owner, name) for name in _OWNER_FIELDS}
    entry.update(
        v=FORMAT,
        access_token=token.access_token.reveal(),
        token_type=token.token_type,
        expires_at=token.expires_at,
        obtained_at=token.obtained_at,
        received_at=token.received_at,
        scopes=list(token.scopes),
        api_url=token.api_url,
        date_header=token.date_header,
    )
    return orjson.dumps(entry).decode()


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def decode_entry(text: object, owner: TokenOwner) -> Token | None:
    """The token of a stored entry when it belongs to `owner`; None for anything else (an
    entry of other settings, another format, or not an entry at all)."""
    if not isinstance(text, str) or len(text) > MAX_ENTRY_CHARS:
        return None
    try:
        entry = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entry, dict) or entry.get("v") != FORMAT:
        return None
    if any(entry.get(name) != getattr(owner, name) for name in _OWNER_FIELDS):
        return None
    access_token = entry.get("access_token")
    expires_at, obtained_at = _number(entry.get("expires_at")), _number(entry.get("obtained_at"))
    if not isinstance(access_token, str) or not access_token:
        return None
    if expires_at is None or obtained_at is None:
        return None
    scopes = entry.get("scopes")
    return Token(
        access_token=Secret(access_token),
        expires_at=expires_at,
        obtained_at=obtained_at,
        scopes=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
        token_type=_text(entry.get("token_type")) or "bearer",
        api_url=_text(entry.get("api_url")),
        date_header=_text(entry.get("date_header")),
        received_at=_number(entry.get("received_at")) or 0.0,
        from_cache=True,
    )


class MemoryTokenCache:
    """This process's tokens, by profile: shared by its providers, gone when it ends."""

    where = IN_MEMORY
    _lock: ClassVar[threading.Lock] = threading.Lock()
    #: profile -> encoded entry (one form for both caches); one dict for the whole process
    _entries: ClassVar[dict[str, str]] = {}

    def load(self, owner: TokenOwner) -> Token | None:
        with self._lock:
            text = self._entries.get(owner.profile)
        return decode_entry(text, owner)

    def save(self, owner: TokenOwner, token: Token) -> None:
        with self._lock:
            self._entries[owner.profile] = encode_entry(owner, token)

    def drop(self, owner: TokenOwner, token: Token) -> None:
        with self._lock:
            held = decode_entry(self._entries.get(owner.profile), owner)
            if held is not None and held.access_token == token.access_token:
                del self._entries[owner.profile]

    @classmethod
    def clear(cls) -> None:
        """Forget every token of this process (tests; a logout)."""
        with cls._lock:
            cls._entries.clear()


class SharedTokenCache:
    """The OS keyring when a real one answers; else (or once it fails) this process's memory.

    A `zoomtui.zoom.tokens.TokenCache`: the front ends hand one to each `TokenProvider`
    (`shared_token_cache`)."""

    def __init__(self, timeout: float = KEYRING_TIMEOUT, *, keyring: bool = True) -> None:
        self._timeout = timeout
        self._memory = MemoryTokenCache()
        self._keyring_ok = keyring
        self._where = IN_MEMORY

    @property
    def where(self) -> str:
        """Where the last call kept or looked for the token."""
        return self._where

    def _keyring_failed(self, exc: KeyringUnavailable) -> None:
        # "none"/"insecure": no keyring to share through; "error": locked, hung or broken,
        # and not worth another wait on every token
        self._keyring_ok = False
        self._where = IN_MEMORY
        if exc.state == "error":
            log.info("the keyring failed; the access token stays in memory: %s", exc.message)

    def load(self, owner: TokenOwner) -> Token | None:
        if self._keyring_ok:
            try:
                text = read_entry(token_username(owner.profile), self._timeout)
            except KeyringUnavailable as exc:
                self._keyring_failed(exc)
            else:
                self._where = IN_KEYRING
                return decode_entry(text, owner)
        return self._memory.load(owner)

    def save(self, owner: TokenOwner, token: Token) -> None:
        if self._keyring_ok:
            try:
                write_entry(
                    token_username(owner.profile), encode_entry(owner, token), self._timeout
                )
            except KeyringUnavailable as exc:
                self._keyring_failed(exc)
            else:
                self._where = IN_KEYRING
                return
        self._memory.save(owner, token)

    def drop(self, owner: TokenOwner, token: Token) -> None:
        """Forget `token` for everyone, if it is still the one kept (another process may
        have replaced it with a good one meanwhile)."""
        if self._keyring_ok:
            user = token_username(owner.profile)
            try:
                held = decode_entry(read_entry(user, self._timeout), owner)
                if held is not None and held.access_token == token.access_token:
                    delete_entry(user, self._timeout)
            except KeyringUnavailable as exc:
                self._keyring_failed(exc)
            else:
                return
        self._memory.drop(owner, token)


def shared_token_cache(settings: ConnectionSettings) -> SharedTokenCache:
    """The cache the providers of these settings share their token through: the OS keyring
    unless the profile keeps tokens out of it, else this process's memory."""
    return SharedTokenCache(keyring=settings.keyring_token)


def forget_token(profile: str, timeout: float = KEYRING_TIMEOUT) -> bool:
    """Remove a profile's shared token from the keyring and from this process (a logout).
    True when the keyring held one."""
    with MemoryTokenCache._lock:
        MemoryTokenCache._entries.pop(profile, None)
    try:
        return delete_entry(token_username(profile), timeout)
    except KeyringUnavailable:
        return False
