"""Where each update goes in the hub: subjects, lease keys, and message ids.

An event of subscription S of account A named `meeting.participant_joined` is published to
`zoom.A.S.meeting.participant_joined`; what the collector says about its link goes to
`zoom.A.S._state`, `._gap`, `._heartbeat`, `._malformed` and `._notice`.  Zoom's data is
hostile, and a subject token cannot hold `.`, `*`, `>` or white space, so every token is
cleaned to letters, digits, `-` and `_`, cut to a length, and (when cleaning changed it)
given a short hash of what it was, so two different names do not share a subject.  Event
tokens are lower-cased first, as filters on event names ignore case: a viewer's `type:` term
can then be a subject filter on the server (`subjectfilter`).  An event token never starts
with `_`: those are the collector's own.  The subject only routes: the event's true name is
read from the frame.

The message id (`Nats-Msg-Id`) is a hash of the subscription and the frame's bytes, so the
same frame published twice (a collector's takeover overlapping the last one, a republish
after a reconnect) is stored once: JetStream drops the second within its duplicate window.
"""

from __future__ import annotations

import hashlib
import re

ROOT = "zoom"
#: the collector's own subjects (a cleaned event token never starts with "_")
STATE = "_state"
GAP = "_gap"
HEARTBEAT = "_heartbeat"
MALFORMED = "_malformed"
NOTICE = "_notice"
OWN_TOKENS = (STATE, GAP, HEARTBEAT, MALFORMED, NOTICE)
#: longest token kept as it is; at most this many tokens of an event's name
MAX_TOKEN = 64
MAX_EVENT_TOKENS = 6
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
#: an account of an app-level token (client_credentials grant has no account id)
NO_ACCOUNT = "app"


def _digest(text: str, size: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:size]


def token(text: str, *, empty: str = "none") -> str:
    """`text` as one safe subject token (and a KV key part)."""
    cleaned = _UNSAFE.sub("_", text)
    if cleaned == text and 0 < len(text) <= MAX_TOKEN:
        return text
    if not text:
        return empty
    return f"{cleaned[: MAX_TOKEN - 9]}-{_digest(text)}"


def event_tokens(name: str) -> str:
    """An event's name as the tail of its subject: its dotted parts, lower-cased, each cleaned."""
    parts = name.lower().split(".") if name else [""]
    if len(parts) > MAX_EVENT_TOKENS:
        head = parts[: MAX_EVENT_TOKENS - 1]
        parts = [*head, "_".join(parts[MAX_EVENT_TOKENS - 1 :])]
    cleaned = [token(p, empty="unnamed") for p in parts]
    if cleaned[0].startswith("_"):
        cleaned[0] = "x" + cleaned[0]
    return ".".join(cleaned)


def subscription_prefix(account_id: str, subscription_id: str) -> str:
    """`zoom.<account>.<subscription>`: every subject of one subscription starts so."""
    return f"{ROOT}.{token(account_id or NO_ACCOUNT)}.{token(subscription_id)}"


def subscription_of(subject: str) -> str | None:
    """The subscription token of a subject `subscription_prefix` began (None: not one)."""
    parts = subject.split(".", 3)
    return parts[2] if len(parts) == 4 and parts[0] == ROOT and parts[2] else None


def lease_key(account_id: str, subscription_id: str) -> str:
    """The subscription's key in the lease bucket."""
    return f"{token(account_id or NO_ACCOUNT)}.{token(subscription_id)}"


def message_id(prefix: str, kind: str, content: bytes) -> str:
    """The `Nats-Msg-Id` of a message: the same content of the same subscription, the same id."""
    h = hashlib.sha256(prefix.encode("utf-8", "surrogatepass"))
    h.update(b"\x00" + kind.encode() + b"\x00")
    h.update(content)
    return h.hexdigest()[:40]
