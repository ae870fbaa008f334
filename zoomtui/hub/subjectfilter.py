"""Which of the hub's subjects a viewer's filter needs: its `type:` and `family:` terms as
JetStream subject filters, so the server sends only those events (`filter_subjects`).

The server's filter only narrows what is sent; the viewer still applies the whole filter to
what arrives, so what it shows is the same with it and without.  That holds because every
subject filter made here is a *superset*: for every event name the filter's term matches
(`zoomtui.monitor.filters`: a glob on the lower-cased name, or on the name without its
family), the subject the collector published it under (`subjects.event_tokens`) matches one
of the subject filters.  Where a glob cannot be said in subject wildcards it is widened, never
narrowed:

- a glob token that is a plain name token (letters, digits, `-`, `_`, at most `MAX_TOKEN`)
  is that subject token (the collector lower-cases event tokens, as the filter ignores case);
- any other literal token (`:`, `/`, too long, empty, a leading `_`) is `*`: one token, since
  the collector cleaned it to a token of its own;
- a token holding `*`, `?` or `[` may match across dots, so it and all after it are `>`;
- from the sixth token on (where the collector folds the rest of a long name into one) `>`;
- `type:` also matches the name without its family, so each glob gives a second subject
  filter one token further in;
- positive terms all must match, so their subject sets are intersected; negations and the
  other fields are left to the viewer.

A filter with no such term, or one whose subjects would cover every event, reads the whole
stream.  The collector's own subjects (states, gaps, heartbeats, notices, malformed frames)
are always read: the viewer shows them whatever the filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zoomtui.hub.subjects import MAX_EVENT_TOKENS, MAX_TOKEN, OWN_TOKENS, ROOT
from zoomtui.monitor.filters import Filter, Term

#: a glob token that is one subject token as it is (the collector lower-cases event tokens)
_PLAIN = re.compile(r"[a-z0-9_-]+")
#: characters after which a glob token may match across a `.`
_SPANNING = frozenset("*?[")
#: event tokens kept apart: from this position on the collector may have folded the name
_LAST_PLAIN = MAX_EVENT_TOKENS - 1
#: more subject filters than this are not worth the server's while: read everything
MAX_SUBJECTS = 32
#: every subscription of the hub
ALL_SUBSCRIPTIONS = f"{ROOT}.*.*"


@dataclass(frozen=True, slots=True)
class Pattern:
    """Event tokens as subject wildcards: each a token or None (`*`); `more`: then `>`."""

    tokens: tuple[str | None, ...]
    more: bool = False

    def subject(self, prefix: str) -> str:
        parts = [prefix, *("*" if t is None else t for t in self.tokens)]
        if self.more:
            parts.append(">")
        return ".".join(parts)

    @property
    def is_everything(self) -> bool:
        return not self.tokens and self.more


@dataclass(frozen=True, slots=True)
class ServerFilter:
    """What the server is asked to send: `subjects` (empty: the whole stream), and in words
    what the viewer is told (`describe`)."""

    subjects: tuple[str, ...] = ()
    #: why the whole stream is read ("" when it is narrowed, or there is no filter)
    why_not: str = ""

    @property
    def narrows(self) -> bool:
        return bool(self.subjects)

    def describe(self) -> str:
        if self.subjects:
            events = [s for s in self.subjects if s.rsplit(".", 1)[-1] not in OWN_TOKENS]
            if not events:
                return "filtered on the server to the collector's own subjects: no event can match"
            return "filtered on the server to " + ", ".join(events)
        return f"every event is read and filtered here ({self.why_not})" if self.why_not else ""


def _literal(token: str, position: int) -> str | None:
    """The subject token of a glob token without wildcards (None: any one token)."""
    if not (_PLAIN.fullmatch(token) and len(token) <= MAX_TOKEN):
        return None
    if position == 0 and token.startswith("_"):  # the collector prefixed such a name
        return None
    return token


def glob_patterns(glob: str, *, skip_family: bool) -> Pattern:
    """The subjects of the names `glob` (lower-cased) matches; with `skip_family`, of the
    names whose part after the first dot it matches."""
    tokens: list[str | None] = [None] if skip_family else []
    for part in glob.split("."):
        position = len(tokens)
        if position >= _LAST_PLAIN or _SPANNING.intersection(part):
            return Pattern(tuple(tokens), more=True)
        tokens.append(_literal(part, position))
    return Pattern(tuple(tokens))


def _type_patterns(term: Term) -> list[Pattern]:
    return [
        glob_patterns(term.value, skip_family=False),
        glob_patterns(term.value, skip_family=True),
    ]


def _family_patterns(term: Term) -> list[Pattern]:
    # family_of(name) is the part before the first dot, which a glob cannot match across: a
    # name of that one part, or of more.
    glob = term.value
    head = None if _SPANNING.intersection(glob) else _literal(glob, 0)
    if head is None:
        return [Pattern((), more=True)]
    return [Pattern((head,)), Pattern((head,), more=True)]


def intersect(a: Pattern, b: Pattern) -> Pattern | None:
    """The pattern of the subjects both match (None: no subject does)."""
    la, lb = len(a.tokens), len(b.tokens)
    if (not a.more and not b.more and la != lb) or (not a.more and lb >= la and b.more):
        return None
    if not b.more and la >= lb and a.more:
        return None
    tokens: list[str | None] = []
    for i in range(max(la, lb)):
        x = a.tokens[i] if i < la else None
        y = b.tokens[i] if i < lb else None
        if x is not None and y is not None and x != y:
            return None
        tokens.append(x if x is not None else y)
    return Pattern(tuple(tokens), more=a.more and b.more)


def covers(a: Pattern, b: Pattern) -> bool:
    """Whether every subject `b` matches, `a` matches too."""
    la, lb = len(a.tokens), len(b.tokens)
    if a.more:
        if lb < la or (lb == la and not b.more):
            return False
    elif b.more or la != lb:
        return False
    return all(x is None or x == y for x, y in zip(a.tokens, b.tokens, strict=False))


def _simplest(patterns: list[Pattern]) -> list[Pattern]:
    """`patterns` without repeats or one another covers (the server sends a message that
    several filters match once; fewer filters are cheaper to check)."""
    kept: list[Pattern] = []
    for p in dict.fromkeys(patterns):
        if any(covers(k, p) for k in kept):
            continue
        kept = [k for k in kept if not covers(p, k)]
        kept.append(p)
    return kept


def event_patterns(flt: Filter) -> tuple[list[Pattern] | None, str]:
    """The patterns the filter's events are under (None: any event), and why when None."""
    makers = {"type": _type_patterns, "family": _family_patterns}
    terms = [t for t in flt.terms if t.field in makers and not t.negated]
    if not terms:
        return None, "the filter has no type: or family: term to send to the server"
    result: list[Pattern] = [Pattern((), more=True)]
    for term in terms:
        mine = makers[str(term.field)](term)
        both = [intersect(a, b) for a in result for b in mine]
        result = _simplest([p for p in both if p is not None])
        if len(result) > MAX_SUBJECTS:
            return None, "its type: terms need too many subject filters"
    if any(p.is_everything for p in result):
        return None, "its patterns may match any event name from the first part on"
    return result, ""


def server_filter(flt: Filter | None, prefix: str = ALL_SUBSCRIPTIONS) -> ServerFilter:
    """The subjects of the hub to read for `flt` under `prefix` (`zoom.<account>.<sub>`)."""
    if flt is None or flt.is_empty:
        return ServerFilter()
    patterns, why = event_patterns(flt)
    if patterns is None:
        return ServerFilter(why_not=why)
    events = [p.subject(prefix) for p in patterns]
    own = [f"{prefix}.{name}" for name in OWN_TOKENS]
    return ServerFilter(tuple(events + own))
