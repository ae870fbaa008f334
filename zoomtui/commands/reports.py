"""What `zoomtui doctor` and `zoomtui status` share: the settings they list, the marks
they print, how a failure's exit code wins over another, and their quiet logging."""

from __future__ import annotations

import logging
from typing import IO

from zoomtui.commands.common import EXIT_FAILURE, EXIT_OK
from zoomtui.redaction import install_log_redaction

#: the settings a report lists, in order: (field, label)
SETTING_LABELS = (
    ("grant", "grant"),
    ("cloud", "cloud"),
    ("account_id", "account id"),
    ("client_id", "client id"),
    ("client_secret", "client secret"),
    ("subscription_id", "subscription id"),
    ("oauth_url", "token URL"),
    ("ws_url", "WebSocket URL"),
    ("api_url", "API URL"),
)

#: where the client secret came from, when that is a plain-file keyring the profile accepted
INSECURE_KEYRING_SOURCE = "keyring, INSECURE plain-file backend"


def secret_source(source: str, keyring_state: str) -> str:
    """Where a client secret came from, in words that name a plain-file keyring as such
    (doctor, status and `profiles show` must say the same)."""
    return (
        INSECURE_KEYRING_SOURCE if source == "keyring" and keyring_state == "insecure" else source
    )


def marks_for(out: IO[str]) -> dict[str, str]:
    """A step's mark by its state (ok, fail, warn, skip) and the one before what to do
    (todo): symbols where `out` can encode them, else words."""
    try:
        "✓✗→".encode(getattr(out, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return {"ok": "OK", "fail": "FAIL", "warn": "WARN", "skip": "-", "todo": "->"}
    return {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-", "todo": "→"}


def worse_exit(current: int, new: int) -> int:
    """The exit code after one more failure: a settings or credentials failure (3, 4) says
    more than a generic one (1), so the first of those stands."""
    return new if current in (EXIT_OK, EXIT_FAILURE) else current


def quiet_logging() -> None:
    """Redact what is logged, and print none of it: the report says it all."""
    install_log_redaction()
    logging.getLogger("zoomtui").addHandler(logging.NullHandler())
