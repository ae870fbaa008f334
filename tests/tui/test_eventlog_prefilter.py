"""A re-filter that looks for a required word first gives exactly the rows a plain pass does.

`EventLog.set_filter` skips, from C over the rows' search texts, the events that lack a
word the filter requires (free words, ``meeting:`` text; a ``user:`` value in the text or
the participant key), then runs the whole filter on the rest; rows that are not events
are judged apart.  Checked against a plain reference
(every retained row through `Filter.matches`, gaps visible unless negated) on a log that
drops and compacts, for filters with and without required words.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from _eventlog_support import make_event, make_malformed
from hypothesis import given, settings
from hypothesis import strategies as st

from zoomtui.monitor import eventlog
from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.filters import compile_filter

USERS = ["Ana", "Bo", "Cy", "Ana Lima", "Dee"]
POOL = [
    make_event(
        i,
        name=name,
        meeting=i % 4,
        user=USERS[i % len(USERS)],
        topic=f"Topic {i % 4}" if i % 5 else "Sync [ana]",
    )
    for i, name in enumerate(
        ["meeting.participant_joined", "meeting.participant_left", "webinar.started"] * 14
    )
] + [
    GapRow(start=1.0, end=2.0, reason="cut ana"),
    make_malformed(99),
    StateRow(state="reconnecting", reason="server closed 1006 ana", at=3.0),
]
FILTERS = [
    "ana",
    "ana topic",
    "ana -type:gap",
    "-ana",
    "meeting:topic",
    "meeting:sync",
    "meeting:85746352401",
    "user:bo",
    "user:pid-ana",
    "user:ana -user:lima",
    "-user:bo",
    "ana user:lima",
    "type:malformed",
    "closed",
    "ana -meeting:topic",
    "zzz",
]


def reference(rows: list, text: str) -> list:
    flt = compile_filter(text)
    gaps = not any(t.negated and t.field == "type" and t.value == "gap" for t in flt.terms)
    return [r for r in rows if (gaps if isinstance(r, GapRow) else flt.matches(r))]


@contextmanager
def prefilter_from(n: int) -> Iterator[None]:
    saved = eventlog._PREFILTER_MIN
    eventlog._PREFILTER_MIN = n
    try:
        yield
    finally:
        eventlog._PREFILTER_MIN = saved


@pytest.mark.parametrize("text", FILTERS)
def test_a_big_log_that_drops_and_compacts(text: str) -> None:
    rng = random.Random(text)
    log = EventLog(limit=3000)
    retained: list = []
    for _ in range(40):  # 10,000 rows through a 3,000-row log: drops and compactions
        batch = [rng.choice(POOL) for _ in range(250)]
        log.extend(batch)
        retained = (retained + batch)[-3000:]
    log.set_filter(compile_filter(text))
    assert list(log) == reference(retained, text)
    # and rows that arrive after it are filtered as they come
    batch = [rng.choice(POOL) for _ in range(500)]
    log.extend(batch)
    retained = (retained + batch)[-3000:]
    assert list(log) == reference(retained, text)


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(1, 40),
    batches=st.lists(st.lists(st.integers(0, len(POOL) - 1), max_size=30), max_size=8),
    text=st.sampled_from(FILTERS),
)
def test_any_small_log_with_the_prefilter_always_on(limit: int, batches: list, text: str) -> None:
    with prefilter_from(1):
        log = EventLog(limit=limit)
        retained: list = []
        for picks in batches:
            batch = [POOL[k] for k in picks]
            log.extend(batch)
            retained = (retained + batch)[-limit:]
            log.set_filter(compile_filter(text))
            assert list(log) == reference(retained, text)


def test_required_words_of_a_filter() -> None:
    assert compile_filter('ana "weekly sync" -bo').required_substrings == ("ana", "weekly sync")
    assert compile_filter("meeting:sync user:ana type:x").required_substrings == ("sync",)
    assert compile_filter("meeting:857-4635 -meeting:x").required_substrings == ()
    assert compile_filter("").required_substrings == ()
    assert compile_filter("user:ana -user:bo user:x").user_values == ("ana", "x")
