"""One filter language for the TUI, ``zoomtui tail --filter`` and ``export``. Pure: no I/O.

Space-separated terms; every term must match; matching ignores case::

    ana                        free text: a substring of the event name, topic, meeting
    "weekly sync"              id or uuid, participant name or email, or the subject of an
                               event not about a meeting (ZoomEvent.search_text)
    type:meeting.participant_* glob on the event name (alias ``event:``); a pattern also
                               matches the name without its family, so ``type:participant_joined``
                               finds meeting.participant_joined and webinar.participant_joined
    family:webinar             glob on the family (the part of the name before the first dot)
    meeting:85746352415        the meeting id (digits; spaces and dashes ignored, so a pasted
                               "857 4635 2415" works), else a substring of the uuid or topic
    user:ana@example.com       a substring of the participant's name, email or participant key,
                               or of the subject (name and email) of a user.*, account.* ... event
    sub:AbC123*                glob on the subscription a hub's event came through (none else)
    -term                      negation of any of the above: ``-type:*.qos``, ``-"test room"``

Values may be quoted (``user:"Ana Lima"``); inside quotes ``\\"`` is a quote and ``\\\\`` a
backslash.  Quoted text next to unquoted text joins into one value, as in a shell.  A word
that starts like a field (``usr:x``) is an error, so a typo is never silently searched as
text: quote it (``"usr:x"``) to search for it.

Rows that are not events (what the event log shows beside them) match by a pseudo event
name and a text of their own, so one filter works on the whole log:

    MalformedFrame   type:malformed; free text searches its reason and preview
    Gap / GapRow     type:gap; free text searches its reason
    StateRow / StateChanged  type:state; free text searches the state and reason
    Notice / Envelope        type:notice; free text searches the module and content
    anything else    its class name lower-cased; objects may define ``filter_name`` and
                     ``filter_text`` to take part.  ``meeting:``, ``user:`` and ``sub:``
                     never match a non-event row (so ``-user:x`` keeps it).

Speed: the TUI re-filters 100,000 retained rows on a keystroke, so each term is compiled
once to the cheapest check (``in`` on the pre-lowered search_text; a per-event-name cache
for globs; a lower-case cache for field values) and the checks are composed into one
closure per filter.  `Filter.matches` takes any row; `Filter.matches_event` skips the
row-type dispatch when the caller knows it has a ZoomEvent.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zoomtui.monitor.filterglobs import MAX_GLOB_CHARS, glob_problem
from zoomtui.monitor.filtersub import sub_check, sub_problem
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, family_of

__all__ = [
    "FIELDS",
    "MAX_FILTER_CHARS",
    "MAX_GLOB_CHARS",
    "Filter",
    "FilterError",
    "Term",
    "compile_filter",
    "filter_for_meeting",
    "filter_for_participant",
    "filter_for_type",
    "quote_value",
]

#: Field names a user may type, and the canonical field each one means.
FIELDS: dict[str, str] = {
    "type": "type",
    "event": "type",
    "meeting": "meeting",
    "user": "user",
    "family": "family",
    "sub": "sub",
}
_FIELD_LIST = ", ".join(f"{f}:" for f in FIELDS)

_FIELD_START = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:")
_ID_CHARS = re.compile(r"[0-9\s-]+")

#: Caches keyed by event name / field text are cleared beyond this many entries, so a
#: stream of unusual values cannot grow them without bound.
_CACHE_LIMIT = 50_000

#: Compile time is bounded by refusing what no one types: a filter is parsed in one pass,
#: and a glob's length is bounded too (`zoomtui.monitor.filterglobs`).
MAX_FILTER_CHARS = 2000
_GLOB_FIELDS = ("type", "family")


class FilterError(ValueError):
    """A filter the user typed cannot be understood. `position` is a 0-based offset into it."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed term. `value` is lower-cased; `field` is canonical (None = free text)."""

    field: str | None
    value: str
    negated: bool = False
    position: int = 0

    def describe(self) -> str:
        head = "-" if self.negated else ""
        if self.field is None:
            return head + quote_value(self.value, bare=True)
        return f"{head}{self.field}:{quote_value(self.value)}"


def quote_value(value: str, *, bare: bool = False) -> str:
    """`value` written so the parser reads it back unchanged.

    Quotes are added when the value holds whitespace or a quote; for a free-text word
    (`bare`) also when it would read as a negation (leading ``-``) or a field (``x:``).
    """
    needs = (
        not value
        or '"' in value
        or any(c.isspace() for c in value)
        or (bare and (value.startswith("-") or _FIELD_START.match(value) is not None))
    )
    if not needs:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------
# parsing


def _parse(text: str) -> list[Term]:
    terms: list[Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = False
        if text[i] == "-":
            negated = True
            i += 1
            if i >= n or text[i].isspace():
                raise FilterError("'-' needs a term after it (for example -type:*.qos)", start)
            if text[i] == "-":
                raise FilterError("two '-' in a row: a term can be negated only once", i)
        field: str | None = None
        m = _FIELD_START.match(text, i)
        if m is not None:
            typed = m.group()[:-1]
            field = FIELDS.get(typed.lower())
            if field is None:
                raise FilterError(_unknown_field_message(typed), i)
            i = m.end()
            if i >= n or text[i].isspace():
                raise FilterError(f"empty value after '{typed}:'", i)
        value, i = _read_value(text, i)
        if not value:
            what = f"after '{text[m.start() : m.end()]}'" if m is not None else "in quotes"
            raise FilterError(f"empty value {what}", start)
        problem = glob_problem(field, value) if field in _GLOB_FIELDS else None
        problem = sub_problem(value) if field == "sub" else problem
        if problem:
            raise FilterError(problem, start)
        terms.append(Term(field, value.lower(), negated, start))
    return terms


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read one value up to unquoted whitespace: bare runs and quoted runs joined."""
    out: list[str] = []
    n = len(text)
    while i < n and not text[i].isspace():
        c = text[i]
        if c != '"':
            j = i
            while j < n and text[j] != '"' and not text[j].isspace():
                j += 1
            out.append(text[i:j])
            i = j
            continue
        quote_at = i
        i += 1
        while True:
            if i >= n:
                raise FilterError('unclosed quote: add a closing "', quote_at)
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
                continue
            out.append(c)
            i += 1
    return "".join(out), i


def _unknown_field_message(typed: str) -> str:
    msg = f"unknown field '{typed}:' — fields are {_FIELD_LIST}"
    close = difflib.get_close_matches(typed.lower(), list(FIELDS), n=1, cutoff=0.6)
    if close:
        return msg + f" (did you mean {close[0]}:?)"
    return msg + f'; to search for the text itself, quote it: "{typed}:..."'


# ---------------------------------------------------------------------------------------
# compiling terms to checks
#
# A check takes a row-shaped object: a ZoomEvent, or a _RowView built for other rows,
# with the same attribute names.  Checks never raise on None fields.

Check = Callable[[Any], bool]


class _Lower(dict[str | None, str]):
    """str -> str.lower(), computed once per distinct value (topics and names repeat)."""

    def __missing__(self, key: str | None) -> str:
        low = "" if key is None else key.lower()
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[key] = low
        return low


_lower = _Lower()


class _NameMatches(dict[str, bool]):
    """event name -> whether the glob matches it (a few hundred names exist at most)."""

    def __init__(self, test: Callable[[str], bool]) -> None:
        super().__init__()
        self._test = test

    def __missing__(self, name: str) -> bool:
        ok = self._test(name)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[name] = ok
        return ok


def _glob(term: Term) -> re.Pattern[str]:
    # fnmatch.translate never fails, and always yields a valid pattern.
    return re.compile(fnmatch.translate(term.value), re.DOTALL)


def _type_check(term: Term) -> Check:
    rx = _glob(term)

    def test(name: str) -> bool:
        low = name.lower()
        if rx.match(low):
            return True
        _, dot, rest = low.partition(".")
        return bool(dot) and rx.match(rest) is not None

    cache = _NameMatches(test)
    return lambda e: cache[e.name]


def _family_check(term: Term) -> Check:
    rx = _glob(term)
    cache = _NameMatches(lambda name: rx.match(family_of(name).lower()) is not None)
    return lambda e: cache[e.name]


def _word_check(term: Term) -> Check:
    w = term.value
    return lambda e: w in e.search_text


def _meeting_digits(v: str) -> str:
    """The meeting number a `meeting:` value stands for ("" when it is text)."""
    return "".join(ch for ch in v if ch in "0123456789") if _ID_CHARS.fullmatch(v) else ""


def _required(terms: Iterable[Term]) -> tuple[str, ...]:
    """Texts an event's search_text must contain for the terms to match it: positive free
    words, and ``meeting:`` text (not a number, which is compared with the id)."""
    return tuple(
        t.value
        for t in terms
        if not t.negated
        and (t.field is None or (t.field == "meeting" and not _meeting_digits(t.value)))
    )


def _meeting_check(term: Term) -> Check:
    v = term.value
    low = _lower
    digits = _meeting_digits(v)
    if digits:
        # An id is exact (857... must not match 1857...); the topic may still hold digits.
        def by_id(e: Any) -> bool:
            if e.meeting_id == digits:
                return True
            topic = e.topic
            return topic is not None and v in low[topic]

        return by_id

    def by_text(e: Any) -> bool:
        # search_text holds the lower-cased uuid and topic: a cheap reject for most rows.
        if v not in e.search_text:
            return False
        uuid = e.meeting_uuid
        if uuid is not None and v in low[uuid]:
            return True
        topic = e.topic
        return topic is not None and v in low[topic]

    return by_text


def _user_check(term: Term) -> Check:
    v = term.value
    low = _lower

    def by_user(e: Any) -> bool:
        if v in e.search_text:  # name and email are in search_text: check which field
            name = e.participant_name
            if name is not None and v in low[name]:
                return True
            email = e.participant_email
            if email is not None and v in low[email]:
                return True
            subject = e.subject  # user.created and the like: "Jill Chill <jchill@...>"
            if subject is not None and v in low[subject]:
                return True
        key = e.participant_key  # mostly unique per person: lower() beats a cache miss
        return key is not None and v in key.lower()

    return by_user


_MAKERS: dict[str | None, Callable[[Term], Check]] = {
    None: _word_check,
    "type": _type_check,
    "family": _family_check,
    "meeting": _meeting_check,
    "user": _user_check,
    "sub": lambda t: sub_check(t.value),
}

# Cheapest first: && stops at the first failing check.
_COST = {"type": 0, "family": 0, "sub": 0, None: 1, "meeting": 2, "user": 3}


def _compose(terms: list[Term]) -> Check | None:
    """One predicate for all terms (None: match everything)."""
    if not terms:
        return None
    # Positive free-text words share one search_text fetch; the rest in cost order.
    words = tuple(t.value for t in terms if t.field is None and not t.negated)
    staged: list[tuple[int, Check]] = []
    if len(words) == 1:
        staged.append((_COST[None], _word_check(Term(None, words[0]))))
    elif words:

        def all_words(e: Any) -> bool:
            st = e.search_text
            for w in words:  # noqa: SIM110 -- a loop; all() over a generator is slower per row
                if w not in st:
                    return False
            return True

        staged.append((_COST[None], all_words))
    for t in terms:
        if t.field is None and not t.negated:
            continue
        c = _MAKERS[t.field](t)
        staged.append((_COST[t.field], _negate(c) if t.negated else c))
    staged.sort(key=lambda sc: sc[0])  # stable: equal costs keep the typed order
    checks = [c for _, c in staged]
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda e: a(e) and b(e)
    cs = tuple(checks)

    def every(e: Any) -> bool:
        for c in cs:  # noqa: SIM110 -- a loop; all() over a generator is slower per row
            if not c(e):
                return False
        return True

    return every


def _negate(c: Check) -> Check:
    return lambda e: not c(e)


# ---------------------------------------------------------------------------------------
# rows that are not events


class _RowView:
    """A non-event row seen through the attributes the checks read."""

    __slots__ = (
        "name",
        "search_text",
        "meeting_id",
        "meeting_uuid",
        "topic",
        "participant_name",
        "participant_email",
        "participant_key",
        "subject",
        "subscription_id",
    )

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.search_text = text.lower()
        self.meeting_id = self.meeting_uuid = self.topic = None
        self.participant_name = self.participant_email = self.participant_key = None
        self.subject = self.subscription_id = None


def row_view(row: object) -> _RowView:
    """The pseudo event name and search text a non-event row is filtered by."""
    name = getattr(row, "filter_name", None)
    if isinstance(name, str):
        text = getattr(row, "filter_text", "")
        return _RowView(name, text if isinstance(text, str) else "")
    if isinstance(row, MalformedFrame):
        return _RowView("malformed", f"{row.reason}\x00{row.preview}")
    cls = type(row).__name__
    reason = getattr(row, "reason", "")
    reason = reason if isinstance(reason, str) else ""
    if cls in ("Gap", "GapRow"):
        return _RowView("gap", reason)
    if cls in ("StateRow", "StateChanged"):
        return _RowView("state", f"{getattr(row, 'state', '')}\x00{reason}")
    if cls in ("Notice", "Envelope"):
        env = getattr(row, "envelope", row)
        text = getattr(row, "text", "") or getattr(env, "content_text", "")
        return _RowView("notice", f"{getattr(env, 'module', '')}\x00{text}")
    return _RowView(cls.lower(), reason)


# ---------------------------------------------------------------------------------------
# the compiled filter


def _true(_row: object) -> bool:
    return True


def _any_row(pred: Check, terms: tuple[Term, ...]) -> Callable[[object], bool]:
    """`matches` for any row: events go straight to the checks, other rows through a view.

    A filter of one plain word (what the user types first) inlines its check here, which
    saves a call per row (about 10-20% of a 100,000-row refilter).
    """
    event_cls = ZoomEvent
    if len(terms) == 1 and terms[0].field is None and not terms[0].negated:
        w = terms[0].value

        def matches_word(row: object) -> bool:
            if row.__class__ is event_cls:
                return w in row.search_text
            return w in row_view(row).search_text

        return matches_word

    def matches(row: object) -> bool:
        if row.__class__ is event_cls:
            return pred(row)
        return pred(row_view(row))

    return matches


class Filter:
    """A compiled filter. Immutable; safe to share between the TUI, tail and export."""

    __slots__ = ("text", "terms", "matches", "matches_event", "required_substrings", "user_values")

    text: str
    terms: tuple[Term, ...]
    #: matches(row) -> bool for any row the log holds (event, malformed, gap, state ...).
    matches: Callable[[object], bool]
    #: matches_event(event) -> bool, for callers that know they hold a ZoomEvent.
    matches_event: Callable[[ZoomEvent], bool]
    #: texts that the search_text of every event this filter matches contains (free words,
    #: meeting text): a log can skip, from C, the events whose search_text lacks one
    required_substrings: tuple[str, ...]
    #: values of `user:` terms (not negated): an event they match holds each in its
    #: search_text (name, email) or its lower-cased participant key
    user_values: tuple[str, ...]

    def __init__(self, text: str, terms: Iterable[Term]) -> None:
        self.text = text
        self.terms = tuple(terms)
        self.required_substrings = _required(self.terms)
        self.user_values = tuple(t.value for t in self.terms if t.field == "user" and not t.negated)
        pred = _compose(list(self.terms))
        if pred is None:
            self.matches = self.matches_event = _true
            return
        self.matches_event = pred
        self.matches = _any_row(pred, self.terms)

    def matches_any(self, row: object) -> bool:
        """The same as `matches`: any row type (kept as the documented spelling)."""
        return self.matches(row)

    @property
    def is_empty(self) -> bool:
        """True when the filter has no terms and so matches every row."""
        return not self.terms

    def describe(self) -> str:
        """The canonical text: fields canonical, values lower-cased, quoted only when needed.

        ``compile_filter(f.describe())`` is a filter equal to ``f``.
        """
        return " ".join(t.describe() for t in self.terms)

    def select(self, rows: Iterable[object]) -> list[object]:
        """The rows that match, in order."""
        return list(filter(self.matches, rows))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash(self.describe())

    def __repr__(self) -> str:
        return f"Filter({self.describe()!r})"


def compile_filter(text: str) -> Filter:
    """Parse and compile a filter; empty (or blank) text matches everything.

    Raises `FilterError` (with a message for the user and a position) on bad input,
    and nothing else.
    """
    if not isinstance(text, str):
        raise FilterError(f"a filter is text, not {type(text).__name__}", 0)
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(
            f"a filter is at most {MAX_FILTER_CHARS} characters (this one has {len(text):,})",
            MAX_FILTER_CHARS,
        )
    return Filter(text, _parse(text))


# ---------------------------------------------------------------------------------------
# quick filters from a selected event (the TUI's "filter to this meeting/person/type")


#: Families whose ``payload.object.id`` is a meeting number.  In other families (user.*,
#: account.*, ...) ``object.id`` is some other id, so it is no meeting to filter on.
_MEETING_ID_FAMILIES = frozenset({"meeting", "webinar", "recording"})


def filter_for_meeting(event: ZoomEvent) -> str | None:
    """``meeting:<uuid>`` (one occurrence), else ``meeting:<id>``; None for no meeting."""
    if event.meeting_uuid:
        return "meeting:" + quote_value(event.meeting_uuid)
    if event.meeting_id and event.meeting_id.isdigit() and event.family in _MEETING_ID_FAMILIES:
        return "meeting:" + event.meeting_id
    return None


def filter_for_participant(event: ZoomEvent) -> str | None:
    """``user:<participant key>``, else email, else name; None when the event has no participant."""
    for v in (event.participant_key, event.participant_email, event.participant_name):
        if v and v.strip():
            return "user:" + quote_value(v)
    return None


def filter_for_type(event: object) -> str:
    """``type:<event name>`` (``type:malformed`` / ``type:gap`` for other rows)."""
    name = event.name if isinstance(event, ZoomEvent) else row_view(event).name
    return "type:" + quote_value(name)
