"""The fake Zoom's fixed demo credentials.

Fixed on purpose: a client that cached a profile or a token can reconnect to a
restarted fake, and `zoomtui fake-server` can print the same export lines every
time.  None of these is a real secret; they only open the fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zoomtui.redaction import Secret
from zoomtui.settings import ConnectionSettings


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    account_id: str
    client_id: str
    client_secret: str
    subscription_id: str

    def __repr__(self) -> str:  # the secret is fake, but the habit is the point
        return (
            f"DemoCredentials(account_id={self.account_id!r}, client_id={self.client_id!r}, "
            f"client_secret='***', subscription_id={self.subscription_id!r})"
        )


DEMO_CREDENTIALS = DemoCredentials(
    account_id="demo-account-0001",
    client_id="demoClientId0001",
    client_secret="demo-secret-not-a-real-one-0001",
    subscription_id="demoSubscription0001",
)


def fake_settings(
    c: DemoCredentials, oauth_url: str, ws_url: str, api_url: str, changes: Mapping[str, object]
) -> ConnectionSettings:
    """ConnectionSettings for credentials `c` at a fake's URLs (`changes` applied on top).
    Hydration is off unless `changes` turn it on: a test about events sees only the events
    it plays, and the demo and the hydration tests ask for it (`hydrate=True`)."""
    urls = ("oauth_url", "ws_url", "api_url")
    s = ConnectionSettings(
        account_id=c.account_id,
        client_id=c.client_id,
        client_secret=Secret(c.client_secret),
        subscription_id=c.subscription_id,
        profile="demo",
        # the fake's tokens open nothing else: never written to the user's keyring
        keyring_token=False,
        hydrate=False,
        sources={
            k: "fake zoom"
            for k in ("account_id", "client_id", "client_secret", "subscription_id", *urls)
        },
        oauth_url=oauth_url,
        ws_url=ws_url,
        api_url=api_url,
    )
    return s.replace(**changes) if changes else s
