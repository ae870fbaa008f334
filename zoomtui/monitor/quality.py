"""How well events arrive (no Textual): their lag over the last minute and duplicates.

- `LagWindow`: lag (receive time minus Zoom's `event_ts`) p50/p95 over the last minute.
  Each lag is counted in a log-spaced bin (about 4 % wide) of the current second; a
  running total over the window's seconds makes a percentile one walk over the bins.
  Per event: one `bisect` and two dictionary increments; memory is bounded by the
  bins, whatever the rate.
- `DuplicateWindow`: the same frame received again within a window (Zoom's frames carry
  no delivery id: the same bytes are the same event sent twice).  The session counts
  duplicates with one; an alert rule (`duplicate_within`) keeps one of its own window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from math import ceil

from zoomtui.zoom.protocol import ZoomEvent

#: seconds of lag history behind the percentiles
LAG_WINDOW = 60
#: the ratio between the edges of neighbouring lag bins (a percentile is known within it)
_BIN_RATIO = 1.04
#: the smallest lag told apart from zero, and the largest bin edge (past it: one last bin)
_SMALLEST, _LARGEST = 0.001, 30 * 86_400.0

#: remembered event contents for duplicates (a bound: Zoom's data is hostile)
MAX_REMEMBERED = 200_000
#: how long the session remembers a frame to call a second copy a duplicate (seconds)
DUPLICATE_WINDOW = 300.0


def _lag_edges() -> list[float]:
    """Bin edges, symmetric around zero (Zoom's clock can be ahead: negative lags)."""
    positive = [_SMALLEST]
    while positive[-1] < _LARGEST:
        positive.append(positive[-1] * _BIN_RATIO)
    return [-e for e in reversed(positive)] + positive


_EDGES = _lag_edges()


def _bin_value(index: int) -> float:
    """What a bin stands for: the middle of its edges (the outermost bins: their edge)."""
    edges = _EDGES
    if index <= 0:
        return edges[0]
    if index >= len(edges):
        return edges[-1]
    low, high = edges[index - 1], edges[index]
    if low < 0 < high:  # the bin around zero
        return 0.0
    return (low + high) / 2


class LagWindow:
    """Lag percentiles over the last `window` seconds, in whole-second buckets.

    `roll(now)` once per batch moves to the current second; `add(lag)` per event."""

    __slots__ = ("window", "_second", "_current", "_past", "_total", "count")

    def __init__(self, window: int = LAG_WINDOW) -> None:
        self.window = window
        self._second: int | None = None
        #: bin -> count, for the current second
        self._current: dict[int, int] = {}
        #: (second, its bins), oldest first: what leaves the window next
        self._past: deque[tuple[int, dict[int, int]]] = deque()
        #: bin -> count over the window (the current second included)
        self._total: dict[int, int] = {}
        #: lags counted in the window
        self.count = 0

    def roll(self, now: float) -> None:
        """Count the lags that follow in the second of `now`; forget seconds past the window."""
        second = int(now)
        if second == self._second:
            return
        if self._current:
            self._past.append((self._second or 0, self._current))
            self._current = {}
        self._second = second
        self._expire(second)

    def _expire(self, second: int) -> None:
        past, total = self._past, self._total
        while past and past[0][0] <= second - self.window:
            _, bins = past.popleft()
            for index, n in bins.items():
                left = total[index] - n
                if left:
                    total[index] = left
                else:
                    del total[index]
                self.count -= n

    def add(self, lag: float) -> None:
        """One event's lag, in the current second (`roll` first)."""
        index = bisect_left(_EDGES, lag)
        current, total = self._current, self._total
        current[index] = current.get(index, 0) + 1
        total[index] = total.get(index, 0) + 1
        self.count += 1

    def percentiles(self, now: float, *quantiles: float) -> list[float] | None:
        """The lags under which `quantiles` (0..1) of the window's events fell, within a
        bin's width (None: no event with a time in the window)."""
        self.roll(now)
        if not self.count:
            return None
        # nearest rank: the smallest lag with at least q of the events at or under it
        ranks = [max(1, min(self.count, ceil(q * self.count - 1e-9))) for q in quantiles]
        out: dict[int, float] = {}
        seen = 0
        for index in sorted(self._total):
            seen += self._total[index]
            for rank in ranks:
                if rank not in out and seen >= rank:
                    out[rank] = _bin_value(index)
            if len(out) == len(set(ranks)):
                break
        return [out[r] for r in ranks]


class DuplicateWindow:
    """Frames received within the last `seconds`, to tell a copy of one of them."""

    __slots__ = ("seconds", "limit", "_seen", "_order")

    def __init__(self, seconds: float, limit: int = MAX_REMEMBERED) -> None:
        self.seconds = seconds
        self.limit = limit
        #: content -> when it was first received (within the window)
        self._seen: dict[int, float] = {}
        #: (when, content), oldest first: what leaves the window next
        self._order: deque[tuple[float, int]] = deque()

    def first_seen(self, event: ZoomEvent) -> float | None:
        """When the same frame was first received within the window; None when it was not
        (it is remembered from now on).  Events must come in the order received."""
        at = event.received_at
        seen, order = self._seen, self._order
        cutoff = at - self.seconds
        while order and (order[0][0] < cutoff or len(order) >= self.limit):
            first, old = order.popleft()
            if seen.get(old) == first:
                del seen[old]
        key = hash(event.stored_raw)
        first_at = seen.get(key)
        if first_at is None:
            seen[key] = at
            order.append((at, key))
        return first_at
