"""What the token endpoint gives (`Token`) and how asking it fails (`AuthError` and its
kinds), with what to tell the user.  `zoomtui.zoom.auth` asks; these are its answers.

Also the shape of a shared token cache (`TokenCache`) and what a token belongs to
(`TokenOwner`): the provider is handed a cache by the front end (the keyring-backed one is
`zoomtui.credentials.token_cache.SharedTokenCache`), so this layer never reads the keyring."""

from __future__ import annotations

import email.utils
import hashlib
from dataclasses import dataclass
from typing import Protocol

from zoomtui.redaction import Secret, redact
from zoomtui.settings import GRANT_ACCOUNT, GRANT_CLIENT, ConnectionSettings

CREDENTIALS_HINT = (
    "Check the account id, the client id and the client secret of the Server-to-Server "
    "OAuth app (Zoom App Marketplace > Manage > your app > App Credentials), that the app "
    "is activated, and that it has the scopes your event subscription needs."
)
CLIENT_CREDENTIALS_HINT = (
    "Check the client id and the client secret of the app (Zoom App Marketplace > Manage > "
    "your app > App Credentials), that the app is activated, and that it has the scopes your "
    "event subscription needs. A Server-to-Server OAuth app takes the account_credentials "
    "grant, with its account id."
)


def credentials_hint(grant: str) -> str:
    """What to check when Zoom rejects the credentials of this grant."""
    return CLIENT_CREDENTIALS_HINT if grant == GRANT_CLIENT else CREDENTIALS_HINT


class AuthError(Exception):
    """A token request failed. `str()` is a redacted, human sentence."""

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        super().__init__(redact(message))
        self.status = status
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class CredentialsRejected(AuthError):
    """Zoom said no to these credentials (4xx other than 429). Needs a person, not a retry."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str = "",
        reason: str = "",
        hint: str = CREDENTIALS_HINT,
    ) -> None:
        super().__init__(message, status=status, hint=hint)
        self.error = error
        self.reason = redact(reason)


class RateLimited(AuthError):
    """429: Zoom asks us to wait `retry_after` seconds before asking again."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TransientAuthError(AuthError):
    """5xx, network error, timeout or an unreadable answer: worth retrying later."""


@dataclass(frozen=True, slots=True)
class Token:
    access_token: Secret
    expires_at: float  # epoch seconds, from the provider's clock
    obtained_at: float  # when the request was sent (conservative for expiry)
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"
    api_url: str | None = None
    #: the token endpoint's Date header, verbatim (for clock-skew checks)
    date_header: str | None = None
    #: local clock when the answer arrived
    received_at: float = 0.0
    status: int = 200
    #: taken from the shared token cache, not asked of Zoom by this provider
    from_cache: bool = False

    @property
    def lifetime(self) -> float:
        return max(0.0, self.expires_at - self.obtained_at)

    def expires_in(self, now: float) -> float:
        return self.expires_at - now

    @property
    def server_time(self) -> float | None:
        """The token endpoint's clock (Date header) as epoch seconds, or None."""
        if not self.date_header:
            return None
        try:
            return email.utils.parsedate_to_datetime(self.date_header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None

    @property
    def clock_skew(self) -> float | None:
        """Local clock minus the server's (positive: we are ahead). Date has 1 s resolution."""
        server = self.server_time
        if server is None:
            return None
        local = (self.obtained_at + self.received_at) / 2 if self.received_at else self.obtained_at
        return local - server


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """What a token belongs to: settings that differ in any of these get another token."""

    profile: str
    grant: str
    oauth_url: str
    client_id: str
    account_id: str  # "" for client_credentials (app-level tokens name no account)
    secret_fingerprint: str

    @classmethod
    def of(cls, settings: ConnectionSettings) -> TokenOwner:
        digest = hashlib.sha256()
        for part in ("zoomtui token owner", settings.client_id, settings.client_secret.reveal()):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return cls(
            profile=settings.profile,
            grant=settings.grant,
            oauth_url=settings.oauth_url,
            client_id=settings.client_id,
            account_id=settings.account_id if settings.grant == GRANT_ACCOUNT else "",
            secret_fingerprint=digest.hexdigest(),
        )


class TokenCache(Protocol):
    """Where a `TokenProvider` shares its token.  Blocking calls: run them in a thread."""

    @property
    def where(self) -> str: ...

    def load(self, owner: TokenOwner) -> Token | None: ...

    def save(self, owner: TokenOwner, token: Token) -> None: ...

    def drop(self, owner: TokenOwner, token: Token) -> None: ...
