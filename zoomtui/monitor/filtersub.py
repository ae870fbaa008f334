"""The `sub:` filter term: which subscription an event came through.

An event read from a hub carries the subscription it was published under
(`ZoomEvent.subscription_id`, the subscription's token in the hub's subjects: Zoom's id
when it is plain letters, digits, `-` and `_`, as Zoom's ids are).  ``sub:<glob>`` matches
that id, ignoring case: ``sub:AbC123``, ``sub:abc*``, ``-sub:staging-*``.

An event a collector received carries its subscription too, and an archive keeps each
event's (schema 3), so ``sub:`` finds in a viewer's or a collector's archive what it found
live.  An event from a direct Zoom connection carries none, nor does one archived before:
a monitor of one subscription has no subscription to tell apart, so ``sub:`` matches none
of its events (and ``-sub:x`` keeps them all), as ``meeting:`` matches no row that is not
about a meeting.  Rows that are not events never match either.

A pattern that could match no subscription id (a `.`, a space, a quote) is an error
saying so rather than a filter that silently shows nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

#: a pattern longer than this is refused (ids are a few dozen characters; see filterglobs)
MAX_SUB_GLOB_CHARS = 200
#: what a subscription token holds, lower-cased, and the glob's own characters
_SUB_GLOB_TEXT = re.compile(r"[a-z0-9_\-*?\[\]!^]*")
#: distinct ids remembered per term (a hub carries a handful; hostile data cannot grow it)
_CACHE_LIMIT = 10_000


def sub_problem(value: str) -> str | None:
    """Why ``sub:<value>`` cannot match any subscription id (None: it may)."""
    if len(value) > MAX_SUB_GLOB_CHARS:
        return (
            f"a sub: pattern is at most {MAX_SUB_GLOB_CHARS} characters "
            f"(this one has {len(value):,}; subscription ids are far shorter)"
        )
    low = value.lower()
    if _SUB_GLOB_TEXT.fullmatch(low):
        return None
    odd = next(c for c in low if not _SUB_GLOB_TEXT.fullmatch(c))
    shown = repr(odd) if odd.isprintable() and not odd.isspace() else f"U+{ord(odd):04X}"
    return (
        f"{shown} is in no subscription id: sub: takes a glob over ids of letters, digits, "
        "'-' and '_', e.g. sub:AbC123 or sub:abc*"
    )


def sub_check(value: str) -> Callable[[Any], bool]:
    """The check of a `sub:` term of (lower-cased) `value` on an event-shaped row."""
    rx = re.compile(fnmatch.translate(value), re.DOTALL)
    seen: dict[str, bool] = {}

    def by_subscription(e: Any) -> bool:
        sub = e.subscription_id
        if sub is None:
            return False
        ok = seen.get(sub)
        if ok is None:
            if len(seen) >= _CACHE_LIMIT:
                seen.clear()
            ok = seen[sub] = rx.match(sub.lower()) is not None
        return ok

    return by_subscription
