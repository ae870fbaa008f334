"""The fake Zoom's fixed demo credentials.

Fixed on purpose: a client that cached a profile or a token can reconnect to a
restarted fake, and `zoomtui fake-server` can print the same export lines every
time.  None of these is a real secret; they only open the fake.
"""

from __future__ import annotations

from dataclasses import dataclass


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
