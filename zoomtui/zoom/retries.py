"""How the connection answers a failed attempt: FAILED, or RECONNECTING after a backoff;
and a displacement: DISPLACED until a person acts, unless the policy says to retake.

A failure a person has to fix (credentials, subscription, a wrong URL) is FAILED with a
`FailureKind` and a hint; anything that may pass (network, a server error, a rate limit)
is retried with exponential backoff and full jitter, until `give_up_after` failures in a
row.  A refused token is replaced and retried at once, the first time in a row.
`Retries` keeps those counts and says what comes next as a `Verdict`; the connection
acts on it.

Displaced by another consumer of the subscription (PROTOCOL.md section 2), zoomtui does
not fight for it: reconnecting would knock that consumer, usually the production
integration, off in turn, and two clients that both reconnect fight for ever.  What
happens instead is the profile's `on_displaced` policy (`DisplacedPolicy`).
"""

from __future__ import annotations

import enum
import logging
import random
from dataclasses import dataclass, replace

from websockets.exceptions import InvalidStatus, InvalidURI

from zoomtui.redaction import mask_id, redact
from zoomtui.settings import ConnectionSettings, DisplacedPolicy
from zoomtui.timefmt import duration_short
from zoomtui.zoom.auth import AuthError, CredentialsRejected, RateLimited
from zoomtui.zoom.drops import Drop, open_error_reason
from zoomtui.zoom.protocol import KIND_INVALID_TOKEN, Envelope

# One logger for the whole connection, whichever of its modules speaks.
log = logging.getLogger("zoomtui.zoom.connection")

TRANSPORT_HINT = (
    "Use https:// and wss:// URLs (Zoom's are), or --insecure-transport for a "
    "test server you trust."
)

SUBSCRIPTION_HINT = (
    "Check the subscription id: in the Zoom App Marketplace open your Server-to-Server OAuth "
    "app > Feature > Event Subscriptions, pick the WebSocket subscription and copy its id; "
    "also check that the subscription belongs to this app and account."
)


DISPLACED_HINT = (
    "Connect again (c in the monitor) to take the subscription back: that disconnects the "
    "other consumer. To monitor without this, use a subscription of its own; "
    "on_displaced = retake in the profile reconnects by itself."
)


class FailureKind(enum.StrEnum):
    """Why the connection is FAILED (what a person has to look at)."""

    CREDENTIALS = "credentials"  # the token endpoint rejected the credentials
    SUBSCRIPTION = "subscription"  # Zoom refused the subscription id (or the connection)
    CONFIG = "config"  # the URL or another setting is wrong
    GAVE_UP = "gave_up"  # `give_up_after` failed attempts in a row


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a failed attempt leads to: FAILED when `failure` is set (a person must act),
    else RECONNECTING with the next attempt `retry_in` seconds away."""

    reason: str
    retry_in: float = 0.0
    failure: FailureKind | None = None
    hint: str = ""
    #: Zoom refused the token: the next attempt asks for a new one
    token_refused: bool = False
    #: DISPLACED: another consumer has the subscription; retake it after `retry_in` seconds,
    #: or (`wait_for_person`) not until a person connects
    displaced: bool = False
    wait_for_person: bool = False


class Retries:
    """The failures in a row (they drive the backoff and giving up) and the token refusals
    in a row (a fresh token refused too is not retried at once)."""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        rng: random.Random,
        backoff_base: float,
        backoff_cap: float,
        give_up_after: int | None,
        stable_after: float,
        heartbeat_interval: float,
    ) -> None:
        self._settings = settings
        self._rng = rng
        self._base = backoff_base
        self._cap = backoff_cap
        self._give_up_after = give_up_after
        self._stable_after = stable_after
        self._interval = heartbeat_interval
        self.failures = 0  # consecutive failed attempts (drives the backoff)
        self.invalid_streak = 0  # consecutive invalid-token answers

    def reset(self) -> None:
        """A fresh start (the user pressed connect after STOPPED or FAILED)."""
        self.failures = 0
        self.invalid_streak = 0

    def link_lasted(self, up_for: float) -> None:
        """A link that stayed up long enough clears the counts it proves wrong."""
        if up_for >= self._stable_after:
            self.failures = 0
        if up_for >= self._interval:
            self.invalid_streak = 0

    def token_invalid(self) -> bool:
        """Zoom called the token invalid on an open link: reconnect at once (True) only
        the first time in a row."""
        self.invalid_streak += 1
        return self.invalid_streak <= 1

    def backoff(self) -> float:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(n-1)))."""
        self.failures += 1
        ceiling = min(self._cap, self._base * (2 ** min(self.failures - 1, 62)))
        return self._rng.uniform(0.0, ceiling)

    def after_failure(self, reason: str, *, at_least: float = 0.0) -> Verdict:
        """RECONNECTING with the next backoff delay, or FAILED once we give up."""
        delay = max(at_least, self.backoff())
        if self._give_up_after is not None and self.failures >= self._give_up_after:
            return Verdict(
                f"gave up after {self.failures} failed attempts in a row; last: {reason}",
                failure=FailureKind.GAVE_UP,
                hint="Press connect to try again, or check the network and Zoom's status page.",
            )
        return Verdict(reason, retry_in=delay)

    def displaced(self, drop: Drop, policy: DisplacedPolicy) -> Verdict:
        """Another consumer took the subscription: wait for a person (DISPLACED), retake it
        later (DISPLACED, `retry_in` away), or retake it with the backoff (RECONNECTING:
        the failures in a row grow while the two fight, and so does the wait)."""
        if policy.retake and not policy.after:  # said as any drop is (the gap says the same)
            return self.after_failure(drop.reason)
        why = (
            "another consumer most likely connected to this subscription and displaced this "
            f"connection: Zoom closed it ({drop.close}); "
        )
        if not policy.retake:
            return Verdict(
                why + "not reconnecting by itself: connecting again would disconnect that consumer",
                hint=DISPLACED_HINT,
                displaced=True,
                wait_for_person=True,
            )
        delay = max(policy.after, self.backoff())
        return Verdict(
            why + f"taking it back in {duration_short(delay)} (on_displaced = {policy.text}), "
            "which will disconnect that consumer",
            retry_in=delay,
            hint=DISPLACED_HINT,
            displaced=True,
        )

    def token_refused(self, reason: str) -> Verdict:
        """New token and reconnect at once; back off if the fresh token is refused too."""
        self.invalid_streak += 1
        if self.invalid_streak <= 1:
            return Verdict(reason, token_refused=True)
        return replace(self.after_failure(reason), token_refused=True)

    def auth_failed(self, exc: BaseException) -> Verdict:
        """The token request failed."""
        if isinstance(exc, CredentialsRejected):
            return Verdict(exc.message, failure=FailureKind.CREDENTIALS, hint=exc.hint)
        if isinstance(exc, RateLimited):
            return self.after_failure(exc.message, at_least=exc.retry_after)
        if isinstance(exc, AuthError):
            return self.after_failure(exc.message)
        log.debug("token request failed: %s", redact(f"{type(exc).__name__}: {exc}"))
        return self.after_failure(f"token request failed ({type(exc).__name__})")

    def open_failed(self, exc: BaseException, host: str) -> Verdict:
        """The handshake or the wait for build_connection failed."""
        reason = open_error_reason(exc, host)
        if isinstance(exc, InvalidStatus):
            status = exc.response.status_code
            if status in (401, 403):  # the handshake itself refused the token
                return self.token_refused(reason)
            if status == 404:
                src = self._settings.sources.get("ws_url")
                where = f" (ws_url from {src})" if src else ""
                return Verdict(
                    reason,
                    failure=FailureKind.CONFIG,
                    hint=f"Nothing answers at that WebSocket path{where}: check the "
                    "WebSocket URL (Zoom's is wss://ws.zoom.us/ws).",
                )
        if isinstance(exc, InvalidURI):
            return Verdict(
                reason, failure=FailureKind.CONFIG, hint="Check the WebSocket URL setting."
            )
        return self.after_failure(reason)

    def refused(self, env: Envelope) -> Verdict:
        """Zoom answered the opening with invalid-token, or a build_connection that does not
        say `success: true` (false, or not said: either way not an acceptance)."""
        text = env.content_preview
        low = env.content_text.lower()  # all of it: the preview may cut the word off
        if env.kind == KIND_INVALID_TOKEN or "token" in low:
            return self.token_refused(
                f'Zoom refused the access token ("{text}"); getting a new one'
            )
        sub = mask_id(self._settings.subscription_id)
        src = self._settings.sources.get("subscription_id")
        where = f" (from {src})" if src else ""
        if env.success is None:  # not said either way: not an acceptance (see PROTOCOL.md)
            reason = (
                f"Zoom's build_connection answer for subscription {sub}{where} does not say "
                f'success: "{text}"'
            )
        elif "subscription" in low:
            reason = f'Zoom refused subscription {sub}{where}: "{text}"'
        else:
            reason = f'Zoom refused the connection to subscription {sub}{where}: "{text}"'
        return Verdict(reason, failure=FailureKind.SUBSCRIPTION, hint=SUBSCRIPTION_HINT)
