"""What a `type:` or `family:` pattern may hold, said before it silently matches nothing.

Event names are ASCII letters, digits, `.`, `_` and `-` (a `:` or `/` is let through); a
pattern is a glob over them (`*`, `?`, `[...]`, `[!...]`).  Anything else (`type:(`, `type:meeting,webinar`,
`family:"webinar "`) can never match: the filter bar would show "0 of 623" and a person
on call would read it as "no such events".  Those are errors with the hint instead.
"""

from __future__ import annotations

import re

#: Compile time is bounded by refusing what no one types: a glob is translated in time
#: quadratic in its `[` (10,000 of them took 2.6 s, pasted into the TUI's filter bar).
#: Event names are under 100 characters.
MAX_GLOB_CHARS = 200

_GLOB_TEXT = re.compile(r"[a-z0-9_.:/\-*?\[\]!^]*")
_EXAMPLES = {"type": "type:meeting.participant_*", "family": "family:webinar"}


def glob_problem(field: str, value: str) -> str | None:
    """Why the `field:` pattern `value` cannot match any event name (None: it may)."""
    if len(value) > MAX_GLOB_CHARS:
        return (
            f"a type: or family: pattern is at most {MAX_GLOB_CHARS} characters "
            f"(this one has {len(value):,}; event names are far shorter)"
        )
    if _GLOB_TEXT.fullmatch(value.lower()):
        return None
    odd = next(c for c in value.lower() if not _GLOB_TEXT.fullmatch(c))
    shown = repr(odd) if odd.isprintable() and not odd.isspace() else f"U+{ord(odd):04X}"
    return (
        f"{shown} is in no event name: {field}: takes a glob, e.g. "
        f"{_EXAMPLES.get(field, _EXAMPLES['type'])}; to search for text, leave out {field}:"
    )
