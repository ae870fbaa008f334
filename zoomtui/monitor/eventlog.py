"""The bounded in-memory event log behind the TUI's event list (no Textual here).

Rows are kept in arrival order, each with an absolute sequence number (the
count of rows ever appended before it).  A filtered index holds the sequence
numbers of the rows that pass the current filter, so:

- appending filters only the new rows (the index grows incrementally);
- dropping the oldest rows beyond the limit advances two head pointers
  instead of shifting 100,000 entries on every batch;
- re-filtering walks the retained rows once with the filter's `matches`
  driven from C (`itertools.compress`), which keeps 100,000 rows well under
  the 50 ms a keystroke can afford;
- a filter that requires a word (free text, ``meeting:`` text, a ``user:``
  value) first looks for it in the search texts (and lower-cased participant
  keys) kept in lists beside the rows, from C, and runs the whole filter on
  the hits only: after an hour of churn the row objects are scattered in
  memory, and reading 100,000 of them was most of a re-filter.

Retained `ZoomEvent`s are compacted on append: the parsed body is released
(the inspector re-parses it from the raw frame on demand) and the derived
keys, which repeat across thousands of events, are interned.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import compress, repeat
from operator import contains, or_
from typing import Protocol

from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent

#: Rows kept in memory by default (a setting: `EventLog(limit=...)`).
DEFAULT_LOG_LIMIT = 100_000

#: Dropped slots are reclaimed in chunks of at least this many, so a full log
#: that drops a few rows per batch does not memmove the whole list each time.
_COMPACT_MIN = 4096

#: Re-filters of at least this many rows look for a required word in `_texts` first.
_PREFILTER_MIN = 1000


@dataclass(frozen=True, slots=True)
class GapRow:
    """An interval with no connection, shown in line: Zoom never replays those events."""

    start: float
    end: float
    reason: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def received_at(self) -> float:
        # Sorts and displays with the moment the gap began.
        return self.start


@dataclass(frozen=True, slots=True)
class StateRow:
    """A connection state change shown in line (connected, reconnecting ...)."""

    state: str
    reason: str
    at: float

    @property
    def received_at(self) -> float:
        return self.at


Row = ZoomEvent | MalformedFrame | GapRow | StateRow


class RowFilter(Protocol):
    """What `zoomtui.monitor.filters.compile_filter` returns."""

    def matches(self, row: Row) -> bool: ...


class EventLog:
    """Rows in arrival order, at most `limit` of them, with a filtered view.

    Indices given to `visible()` are positions in the filtered view
    (0 = oldest visible row).  Sequence numbers (`seq`) are stable
    identities: a row keeps its seq for as long as it is retained.

    Gap rows pass every filter (unless it says ``-type:gap``): a gap may hide
    events of any kind, so a filtered view must still say that it has a hole.
    """

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the event log limit must be at least 1")
        self.limit = limit
        # _rows[k] holds seq _base + k; slots before _first are dropped (None).
        self._rows: list[Row | None] = []
        # _texts[k]: the search_text of _rows[k] ("" for rows that are not events), so a
        # re-filter can look for a required word without touching 100,000 row objects
        # (scattered in memory after hours of churn: half the time of a re-filter)
        self._texts: list[str] = []
        # _keys[k]: the participant key of _rows[k] lower-cased ("" without one), for
        # `user:` terms, which match the key as well as the name and email
        self._keys: list[str] = []
        self._base = 0
        self._first = 0  # seq of the oldest retained row == rows dropped so far
        # Filtered index: seqs of matching rows; entries before _vhead are dropped.
        self._index: array[int] | None = None  # None: no filter, every row visible
        self._vhead = 0
        # Seqs of the rows that are not events (gaps, state rows, malformed frames): few,
        # kept aside so a re-filter can run the filter's event check on every row from C.
        self._others: array[int] = array("q")
        self._ohead = 0
        self._filter: RowFilter | None = None
        #: rows dropped from the filtered view since the filter was last set; a
        #: view scrolled back in time subtracts the increase to hold its rows still
        self.visible_dropped = 0

    # -- size ------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Rows retained now."""
        return self._base + len(self._rows) - self._first

    @property
    def dropped(self) -> int:
        """Rows dropped so far because the log was full."""
        return self._first

    @property
    def appended(self) -> int:
        """Rows ever appended (the seq the next row will get)."""
        return self._base + len(self._rows)

    @property
    def visible_count(self) -> int:
        if self._index is None:
            return self.total
        return len(self._index) - self._vhead

    @property
    def filter(self) -> RowFilter | None:
        return self._filter

    # -- appending -------------------------------------------------------------------
    def extend(self, rows: Iterable[Row]) -> int:
        """Append rows (oldest first); returns how many of them are visible.

        Rows beyond the limit are dropped from the old end.  When a batch is
        itself larger than the limit, only its newest `limit` rows are kept.
        """
        new = list(rows)
        if not new:
            return 0
        start_seq = self.appended
        texts, keys = self._texts, self._keys
        for k, row in enumerate(new):
            if type(row) is ZoomEvent:
                _compact_event(row)
                texts.append(row.search_text)
                key = row.participant_key
                keys.append(_lower_key(key) if key is not None else "")
            else:
                self._others.append(start_seq + k)
                texts.append("")
                keys.append("")
        self._rows.extend(new)
        added_visible = len(new)
        if self._index is not None:
            before = len(self._index)
            self._index.extend(self._matching_seqs(new, start_seq))
            added_visible = len(self._index) - before
        overflow = self.total - self.limit
        if overflow > 0:
            added_visible -= self._drop_oldest(overflow, start_seq)
        return max(0, added_visible)

    def append(self, row: Row) -> int:
        return self.extend((row,))

    def _drop_oldest(self, count: int, new_from: int) -> int:
        """Drop `count` oldest rows; returns how many rows appended at/after `new_from` went."""
        old_first = self._first
        self._first += count
        rows, texts, keys = self._rows, self._texts, self._keys
        for k in range(old_first - self._base, self._first - self._base):
            rows[k] = None  # free the row now; the slot is reclaimed in a later compaction
            texts[k] = keys[k] = ""
        lost_new = 0
        if self._index is not None:
            idx = self._index
            head = bisect_left(idx, self._first, self._vhead)
            lost_new = head - bisect_left(idx, new_from, self._vhead, head)
            self.visible_dropped += head - self._vhead
            self._vhead = head
        else:
            lost_new = max(0, self._first - new_from)
            self.visible_dropped += count
        self._ohead = bisect_left(self._others, self._first, self._ohead)
        self._compact()
        return lost_new

    def _compact(self) -> None:
        dead = self._first - self._base
        if dead >= _COMPACT_MIN and dead * 2 >= len(self._rows):
            del self._rows[:dead]
            del self._texts[:dead]
            del self._keys[:dead]
            self._base = self._first
        if (
            self._index is not None
            and self._vhead >= _COMPACT_MIN
            and self._vhead * 2 >= len(self._index)
        ):
            del self._index[: self._vhead]
            self._vhead = 0
        if self._ohead >= 256 and self._ohead * 2 >= len(self._others):
            del self._others[: self._ohead]
            self._ohead = 0

    def clear(self) -> None:
        """Forget every row (counts restart; the filter stays)."""
        self._rows = []
        self._texts = []
        self._keys = []
        self._base = self._first = 0
        if self._index is not None:
            self._index = array("q")
        self._vhead = 0
        self._others = array("q")
        self._ohead = 0
        self.visible_dropped = 0

    # -- filtering -------------------------------------------------------------------
    def set_filter(self, flt: RowFilter | None) -> None:
        """Show only rows for which `flt.matches(row)` is true (None: all rows)."""
        self._filter = flt
        self.visible_dropped = 0
        if flt is None:
            self._index = None
            self._vhead = 0
            return
        lo = self._first - self._base
        self._index = array("q", self._matching_seqs(self._rows[lo:], self._first, lo))
        self._vhead = 0

    def _matching_seqs(self, rows: list, first_seq: int, at: int | None = None) -> Iterator[int]:
        """The seqs of `rows` (which start at `first_seq`) that pass the filter.

        Every row goes through the filter's event check in one C-driven pass
        (`map`); the few rows that are not events are swapped for a blank event
        in that pass and judged on their own afterwards.  `rows` may be changed.

        `at`: where `rows` start in `_rows` (a re-filter of everything retained).  When
        the filter names words every match must contain (`required_substrings`), the
        events without the first one are skipped from C over `_texts` first.
        """
        flt = self._filter
        assert flt is not None
        seqs = range(first_seq, first_seq + len(rows))
        match_event = getattr(flt, "matches_event", None)
        if match_event is None:
            return compress(seqs, map(_row_predicate(flt), rows))
        lo = bisect_left(self._others, first_seq, self._ohead)
        hi = bisect_left(self._others, first_seq + len(rows), lo)
        required: Sequence[str] = getattr(flt, "required_substrings", ())
        users: Sequence[str] = getattr(flt, "user_values", ())
        if at is not None and (required or users) and len(rows) >= _PREFILTER_MIN:
            texts = self._texts[at : at + len(rows)]
            # events whose text holds the word (a user: value: or whose key does), then the
            # whole filter on those only
            if required:
                mask = map(contains, texts, repeat(required[0]))
            else:
                keys = self._keys[at : at + len(rows)]
                v = users[0]
                mask = map(or_, map(contains, texts, repeat(v)), map(contains, keys, repeat(v)))
            hits = list(compress(range(len(rows)), mask))
            events = compress(hits, map(match_event, map(rows.__getitem__, hits)))
            found = list(map(first_seq.__add__, events))
            if lo != hi:  # (no hit is one of these: they have no text; few, judged apart)
                keep = _row_predicate(flt)
                found += [s for s in self._others[lo:hi] if keep(rows[s - first_seq])]
                found.sort()
            return iter(found)
        if lo == hi:
            return compress(seqs, map(match_event, rows))
        others = [(s - first_seq, rows[s - first_seq]) for s in self._others[lo:hi]]
        for k, _ in others:
            rows[k] = _BLANK
        results = list(map(match_event, rows))
        keep = _row_predicate(flt)
        for k, row in others:
            results[k] = keep(row)
        return compress(seqs, results)

    # -- reading ---------------------------------------------------------------------
    def visible(self, i: int) -> Row:
        """The i-th row of the filtered view (negative counts from the newest)."""
        return self._rows[self.seq_at(i) - self._base]  # type: ignore[return-value]  # rows are Rows

    def seq_at(self, i: int) -> int:
        """The seq of the i-th row of the filtered view."""
        n = self.visible_count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"visible row {i} out of range (0..{n - 1})")
        if self._index is None:
            return self._first + i
        return self._index[self._vhead + i]

    def row_by_seq(self, seq: int) -> Row | None:
        """The row with this seq, or None when it was dropped or never existed."""
        if not self._first <= seq < self.appended:
            return None
        return self._rows[seq - self._base]

    def visible_index_of_seq(self, seq: int) -> int | None:
        """Where the row with this seq sits in the filtered view (None: hidden or dropped)."""
        if not self._first <= seq < self.appended:
            return None
        if self._index is None:
            return seq - self._first
        idx = self._index
        k = bisect_left(idx, seq, self._vhead)
        if k < len(idx) and idx[k] == seq:
            return k - self._vhead
        return None

    def first_visible_at_or_after(self, seq: int) -> int:
        """The filtered-view position of the first visible row with seq >= `seq`.

        Equals `visible_count` when there is none; so ``visible_count - this``
        counts the visible rows that arrived since `seq` (the "+N new" count).
        """
        if self._index is None:
            return min(max(seq - self._first, 0), self.total)
        return bisect_left(self._index, seq, self._vhead) - self._vhead

    def nearest_visible_index(self, seq: int) -> int | None:
        """The filtered-view position of `seq`, or of the first visible row after it."""
        n = self.visible_count
        if n == 0:
            return None
        if self._index is None:
            return min(max(seq - self._first, 0), n - 1)
        k = bisect_left(self._index, seq, self._vhead)
        return min(k - self._vhead, n - 1)

    def seq_of(self, row: Row) -> int | None:
        """The seq of a retained row (identity), scanning from the newest end."""
        rows = self._rows
        lo = self._first - self._base
        for k in range(len(rows) - 1, lo - 1, -1):
            if rows[k] is row:
                return self._base + k
        return None

    def index_of(self, row: Row) -> int | None:
        """The filtered-view position of a retained row (None: hidden or dropped)."""
        seq = self.seq_of(row)
        return None if seq is None else self.visible_index_of_seq(seq)

    def __iter__(self) -> Iterator[Row]:
        """The visible rows, oldest first."""
        for i in range(self.visible_count):
            yield self.visible(i)

    def __len__(self) -> int:
        return self.visible_count


#: stands in for non-event rows in the event pass of a re-filter (its result is replaced)
_BLANK = ZoomEvent(
    name="",
    event_ts_ms=None,
    received_at=0.0,
    account_id=None,
    meeting_uuid=None,
    meeting_id=None,
    topic=None,
    participant_key=None,
    participant_name=None,
    participant_email=None,
    raw="",
)


def _lower_key(key: str, intern: Callable[[str], str] = sys.intern) -> str:
    """A participant key lower-cased, one copy per person (they recur in every event)."""
    return intern(key.lower())


def _compact_event(event: ZoomEvent, intern: Callable[[str], str] = sys.intern) -> None:
    """Make a retained event small: drop its parsed body, share its repeated strings.

    The same event names, meetings, topics and people recur thousands of times
    in a log; interning (which holds no reference of its own) keeps one copy of
    each, which roughly halves what 100,000 retained events cost.  (Spelled out
    field by field, not a getattr/setattr loop over the field names: this runs
    for every received event, and the loop took 0.7 us more of the 2 us per event
    that freeing the parsed body and interning cost.)
    """
    event.release()  # the body is parsed again from `raw` on demand (the inspector)
    event.name = intern(event.name)
    event.search_text = intern(event.search_text)
    if (v := event.account_id) is not None:
        event.account_id = intern(v)
    if (v := event.meeting_uuid) is not None:
        event.meeting_uuid = intern(v)
    if (v := event.meeting_id) is not None:
        event.meeting_id = intern(v)
    if (v := event.topic) is not None:
        event.topic = intern(v)
    if (v := event.participant_key) is not None:
        event.participant_key = intern(v)
    if (v := event.participant_name) is not None:
        event.participant_name = intern(v)
    if (v := event.participant_email) is not None:
        event.participant_email = intern(v)


def _row_predicate(flt: RowFilter) -> Callable[[Row], bool]:
    """`flt.matches`, except that gap rows pass unless the filter names them in a negation.

    Events go straight to `matches_event` when the filter has one (it skips the
    filter's own row-type dispatch), so the common row costs one closure call.
    """
    matches = flt.matches
    match_event = getattr(flt, "matches_event", None) or matches
    gaps_visible = not _negates_gaps(flt)
    event_cls, gap_cls = ZoomEvent, GapRow

    def keep(row: Row) -> bool:
        cls = row.__class__
        if cls is event_cls:
            return match_event(row)
        if cls is gap_cls:
            return gaps_visible
        return matches(row)

    return keep


def _negates_gaps(flt: RowFilter) -> bool:
    """True when the filter says ``-type:gap`` (or a negated glob/family that covers it)."""
    for term in getattr(flt, "terms", ()):
        if (
            getattr(term, "negated", False)
            and getattr(term, "field", None) in ("type", "family")
            and fnmatchcase("gap", getattr(term, "value", ""))
        ):
            return True
    return False
