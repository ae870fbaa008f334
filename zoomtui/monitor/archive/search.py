"""Answering a filter from the archive's search index: the planner and its query.

`plan_search` compiles a parsed filter (`zoomtui.monitor.filters.Filter`) into SQL over
the index (`searchindex`) where it can:

- ``type:`` / ``family:`` globs: the filter's own test run on each distinct event name
  the index holds, giving an exact set of names (``event IN``, or for ``-type:`` an
  exclusion);
- ``meeting:<number>``: the meeting id index (exact), or-ed with the topic's trigrams
  (the term also finds the number in a topic); ``-meeting:<number>`` excludes the id;
- ``user:``, ``meeting:<text>`` and free words: the full-text index, every trigram of
  the term (a superset of the events that hold it);
- ``sub:`` is not indexed: an archive holds the events of a handful of subscriptions (one,
  unless a hub viewer wrote it), so an index would narrow little; each row's
  subscription (schema 3) is read with it and checked with the rest of the filter.

The positive term with the fewest candidates drives: its rows are fetched by seq and
sorted by time (``index``).  When no term narrows the archive to `CANDIDATE_CAP` rows,
the archive is walked in time order, the exact conditions tested in SQL on the way
(``walk``); without an index it is a plain scan (``scan``).  Either way every row is
then rebuilt as a scan rebuilds it and checked with the whole filter in Python, so the
answer is exactly the scan's: the index only decides which rows are looked at.  Negated
text terms, terms under three characters and terms the index cannot hold are checked
only that way (`explain()` says which).

Rows the index does not cover yet (newer than its progress mark: written since the
writer last caught up, or an archive still being upgraded) are scanned and merged in,
so a search never waits for the index.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from zoomtui.monitor.archive.schema import subscription_column
from zoomtui.monitor.archive.searchindex import (
    IndexProgress,
    fts_query,
    index_progress,
    trigrams,
)
from zoomtui.monitor.filters import (
    Filter,
    Term,
    _family_check,
    _meeting_digits,
    _type_check,
)
from zoomtui.zoom.protocol import ZoomEvent, parse_frame

#: more candidates than this from the most selective term: walk the archive in time
#: order instead (sorting their times would take seconds before the first result, which
#: a walk gives at once)
CANDIDATE_CAP = 1_000_000
#: another positive term's candidates, up to this many, are intersected in SQL (past
#: it, building the set costs more than checking the driver's rows in Python)
INTERSECT_CAP = 100_000
#: rows read by seq at a time
_FETCH = 256
#: more distinct event names than this (hostile data): globs are checked row by row
NAME_CAP = 5_000

_NAMES_SQL = """
    WITH RECURSIVE names(n) AS (
        SELECT (SELECT min(event) FROM search_keys)
        UNION ALL
        SELECT (SELECT min(event) FROM search_keys WHERE event > n) FROM names
        WHERE n IS NOT NULL
    )
    SELECT n FROM names WHERE n IS NOT NULL LIMIT ?"""
_IN_NAMES = "IN (SELECT value FROM json_each(?))"
_FTS_SEQS = "SELECT rowid AS seq FROM search_text WHERE search_text MATCH ?"


@dataclass(frozen=True, slots=True)
class Sql:
    """A fragment of SQL and its parameters (every value a parameter)."""

    text: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class TermPlan:
    """What the index does for one term."""

    term: Term
    how: str  # for --explain
    #: a superset of the indexed rows the (positive) term matches: a query of seqs
    source: Sql | None = None
    #: an exact test of an indexed row (alias k = search_keys) for a positive term
    condition: Sql | None = None
    #: a test (alias k) that proves a negated term excludes the row
    exclusion: Sql | None = None
    #: candidates `source` gives, counted up to CANDIDATE_CAP + 1
    candidates: int | None = None


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How a filter is answered from one archive."""

    filter: Filter
    progress: IndexProgress
    terms: tuple[TermPlan, ...]
    mode: str  # "index", "walk" or "scan"
    driver: TermPlan | None = None
    #: the SQL of a row's subscription (`schema.subscription_column`)
    subscription: str = "NULL"

    def explain(self) -> list[str]:
        """What is indexed and what is scanned, in lines for people."""
        return explain_lines(self)


def _distinct_names(db: sqlite3.Connection) -> list[str] | None:
    names = [n for (n,) in db.execute(_NAMES_SQL, (NAME_CAP + 1,))]
    return None if len(names) > NAME_CAP else names


def _glob_plan(term: Term, names: list[str] | None) -> TermPlan:
    if names is None:
        return TermPlan(term, f"over {NAME_CAP:,} event names: checked row by row")
    check = (_type_check if term.field == "type" else _family_check)(Term(term.field, term.value))
    matched = [n for n in names if check(SimpleNamespace(name=n))]
    test = Sql(f"k.event {_IN_NAMES}", (json.dumps(matched),))
    shown = ", ".join(matched[:3]) + (", ..." if len(matched) > 3 else "")
    how = f"event-name index: {len(matched):,} name{'s' if len(matched) != 1 else ''}"
    how += f" ({shown})" if matched else ""
    if term.negated:
        return TermPlan(term, how + ", excluded", exclusion=test)
    source = Sql(f"SELECT seq FROM search_keys WHERE event {_IN_NAMES}", test.params)
    return TermPlan(term, how, source=source, condition=test)


def _text_source(term: Term) -> tuple[Sql | None, str]:
    grams = trigrams(term.value)
    if not grams:
        return None, "no trigram to look up (under three characters): checked row by row"
    return Sql(_FTS_SEQS, (fts_query(grams),)), f"full-text index ({len(grams)} trigrams)"


def _term_plan(term: Term, names: list[str] | None) -> TermPlan:
    if term.field in ("type", "family"):
        return _glob_plan(term, names)
    if term.field == "sub":
        return TermPlan(term, "subscriptions are few and not indexed: checked row by row")
    digits = _meeting_digits(term.value) if term.field == "meeting" else ""
    if digits and term.negated:
        return TermPlan(
            term,
            "meeting-id index excludes the id; a topic holding it is checked row by row",
            exclusion=Sql("k.meeting_id IS ?", (digits,)),
        )
    if term.negated:
        return TermPlan(term, "negated text has no exact index: checked row by row")
    source, how = _text_source(term)
    if digits and source is not None:
        ids = "SELECT seq FROM search_keys WHERE meeting_id = ?"
        source = Sql(f"{ids} UNION {source.text}", (digits, *source.params))
        how = "meeting-id index, or the topic through the " + how
    elif digits:
        how = "a topic may hold so short a number: " + how.split(": ")[-1]
    return TermPlan(term, how, source=source)


def _count(db: sqlite3.Connection, source: Sql) -> int:
    sql = f"SELECT count(*) FROM ({source.text} LIMIT ?)"
    return int(db.execute(sql, (*source.params, CANDIDATE_CAP + 1)).fetchone()[0])


def plan_search(db: sqlite3.Connection, flt: Filter) -> SearchPlan:
    """The plan for `flt` on the archive open as `db` (read in the caller's transaction)."""
    progress = index_progress(db)
    sub = subscription_column(db.execute("PRAGMA user_version").fetchone()[0])
    if not progress.usable:
        scanned = tuple(TermPlan(t, "no search index: scanned") for t in flt.terms)
        return SearchPlan(flt, progress, scanned, "scan", subscription=sub)
    needs_names = any(t.field in ("type", "family") for t in flt.terms)
    names = _distinct_names(db) if needs_names else None
    plans: list[TermPlan] = []
    for term in flt.terms:
        p = _term_plan(term, names)
        if p.source is not None:
            p = TermPlan(p.term, p.how, p.source, p.condition, p.exclusion, _count(db, p.source))
        plans.append(p)
    counted = [p for p in plans if p.candidates is not None]
    driver = min(counted, key=lambda p: p.candidates or 0, default=None)
    # The rows the index does not cover are read whole and sorted with the candidates
    # in the index plan: past the cap (an archive being upgraded), walk instead.
    small_tail = progress.pending_rows <= CANDIDATE_CAP
    if driver is not None and (driver.candidates or 0) <= CANDIDATE_CAP and small_tail:
        return SearchPlan(flt, progress, tuple(plans), "index", driver, sub)
    return SearchPlan(flt, progress, tuple(plans), "walk", subscription=sub)


# ---------------------------------------------------------------------------------------
# running a plan


def _time_sql(alias: str, lo: float | None, hi: float | None) -> Sql:
    text, params = "", list[float]()
    if lo is not None:
        text += f" AND {alias}at >= ?"
        params.append(lo)
    if hi is not None:
        text += f" AND {alias}at < ?"
        params.append(hi)
    return Sql(text, tuple(params))


def _key_tests(plan: SearchPlan, cap_others: bool) -> Sql:
    """The exact tests on indexed rows (alias k), and the other small candidate sets."""
    text, params = "", list[Any]()
    for p in plan.terms:
        if p is plan.driver:
            continue
        if p.condition is not None:
            text += f" AND {p.condition.text}"
            params.extend(p.condition.params)
        elif cap_others and p.source is not None and (p.candidates or 0) <= INTERSECT_CAP:
            text += f" AND k.seq IN ({p.source.text})"
            params.extend(p.source.params)
        if p.exclusion is not None:
            text += f" AND NOT ({p.exclusion.text})"
            params.extend(p.exclusion.params)
    return Sql(text, tuple(params))


def plan_sql(plan: SearchPlan, lo: float | None, hi: float | None) -> Sql:
    """The query giving (seq, at, raw, subscription) of every row the plan looks at, in
    (at, seq) order (the index plan: the seqs alone, its rows read by `_by_seq`)."""
    upto, sub = plan.progress.upto, plan.subscription
    if plan.mode == "scan":
        t = _time_sql("", lo, hi)
        return Sql(
            f"SELECT seq, at, raw, {sub} FROM log WHERE kind = 'event'{t.text} ORDER BY at, seq",
            t.params,
        )
    if plan.mode == "index":
        # Only (at, seq) are sorted: the frames are read afterwards, by seq (`_by_seq`).
        assert plan.driver is not None and plan.driver.source is not None
        src, keys, t = plan.driver.source, _key_tests(plan, True), _time_sql("l.", lo, hi)
        tail_t = _time_sql("+", lo, hi)  # "+": the seq range, not the time index
        # The key rows are read only to test them: with nothing to test, the join costs
        # a third of the sort (a row looked up per candidate) and changes no answer,
        # every candidate being checked with the whole filter anyway.
        with_keys = "CROSS JOIN search_keys AS k ON k.seq = c.seq " if keys.text else ""
        return Sql(
            f"SELECT seq FROM ("
            f"SELECT l.seq AS seq, l.at AS at FROM ({src.text}) AS c {with_keys}"
            "CROSS JOIN log AS l ON l.seq = c.seq "
            f"WHERE l.seq <= ? AND l.kind = 'event'{t.text}{keys.text} "
            "UNION ALL "
            f"SELECT seq, at FROM log WHERE seq > ? AND kind = 'event'{tail_t.text}"
            ") ORDER BY at, seq",
            (*src.params, upto, *t.params, *keys.params, upto, *tail_t.params),
        )
    keys, t = _key_tests(plan, False), _time_sql("l.", lo, hi)
    if not keys.text:  # nothing exact to test in SQL: the plain scan
        scan = SearchPlan(plan.filter, plan.progress, plan.terms, "scan", subscription=sub)
        return plan_sql(scan, lo, hi)
    sub = "NULL" if sub == "NULL" else f"l.{sub}"
    return Sql(
        f"SELECT l.seq, l.at, l.raw, {sub} FROM log AS l LEFT JOIN search_keys AS k ON k.seq = l.seq "
        f"WHERE l.kind = 'event'{t.text} AND (l.seq > ? OR (k.seq IS NOT NULL{keys.text})) "
        "ORDER BY l.at, l.seq",
        (*t.params, upto, *keys.params),
    )


def run_plan(
    db: sqlite3.Connection,
    plan: SearchPlan,
    lo: float | None = None,
    hi: float | None = None,
    limit: int | None = None,
) -> Iterator[ZoomEvent]:
    """The events the plan finds, in time order, each checked with the whole filter."""
    if limit is not None and limit <= 0:
        return
    sql = plan_sql(plan, lo, hi)
    matches = plan.filter.matches_event
    event_cls = ZoomEvent
    n = 0
    cursor = db.execute(sql.text, sql.params)
    cursor.arraysize = 512
    if plan.mode == "index":
        rows_of = _by_seq(db, cursor, plan.subscription)
    else:
        rows_of = iter(cursor.fetchmany, [])
    for rows in rows_of:
        for _seq, at, raw, sub in rows:
            ev = parse_frame(raw, at)  # exactly as a scan rebuilds it
            if not isinstance(ev, event_cls):
                continue
            if sub is not None:
                ev.subscription_id = sub
            if not matches(ev):
                continue
            yield ev
            n += 1
            if limit is not None and n >= limit:
                return


_BY_SEQ = "SELECT seq, at, raw, {} FROM log WHERE seq IN (SELECT value FROM json_each(?))"


def _by_seq(db: sqlite3.Connection, cursor: sqlite3.Cursor, sub: str) -> Iterator[list[Any]]:
    """(seq, at, raw, subscription) of the seqs `cursor` gives, in its order, a few hundred
    at a time.
    The seqs are all taken first (1,000,000 of them are a few megabytes): the sort is
    done before the frames are read."""
    seqs = [seq for (seq,) in cursor]
    for i in range(0, len(seqs), _FETCH):
        chunk = seqs[i : i + _FETCH]
        rows = db.execute(_BY_SEQ.format(sub), (json.dumps(chunk),))
        found = {row[0]: row for row in rows}
        yield [found[seq] for seq in chunk if seq in found]


# ---------------------------------------------------------------------------------------
# saying what was done


def explain_lines(plan: SearchPlan) -> list[str]:
    pr = plan.progress
    if not pr.usable:
        lines = [
            "No search index in this archive (written before zoomtui indexed archives, "
            "or being upgraded): every event is scanned."
        ]
    elif pr.complete:
        lines = [f"Search index: complete ({pr.last_seq:,} rows)."]
    else:
        lines = [
            f"Search index: covers rows up to {pr.upto:,} of {pr.last_seq:,}; the "
            f"{pr.pending_rows:,} newer rows are scanned (the index is built behind the writes)."
        ]
    if plan.mode == "index" and plan.driver is not None:
        lines.append(
            f"Plan: candidates from {plan.driver.term.describe()} "
            f"({plan.driver.candidates:,} indexed rows), read by seq and sorted by time."
        )
    elif plan.mode == "walk":
        why = (
            f"no term narrows the archive to {CANDIDATE_CAP:,} rows"
            if pr.pending_rows <= CANDIDATE_CAP
            else f"over {CANDIDATE_CAP:,} rows are not indexed yet"
        )
        lines.append(
            f"Plan: {why}: the archive is walked in time order, the exact index tests "
            "applied on the way."
        )
    else:
        lines.append("Plan: scan in time order.")
    for p in plan.terms:
        extra = f", {p.candidates:,} candidates" if p.candidates is not None else ""
        mark = "  <- drives" if p is plan.driver else ""
        lines.append(f"  {p.term.describe()}: {p.how}{extra}{mark}")
    lines.append("Every row looked at is checked with the whole filter: the answer is a scan's.")
    return lines
