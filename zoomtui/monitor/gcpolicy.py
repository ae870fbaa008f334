"""How a long-running monitor tunes CPython's cyclic garbage collector (no Textual here).

The TUI keeps 100,000 events, the meeting tracker and Textual's widgets alive: a few
hundred thousand objects that reference counting frees (rows and meetings hold no
cycles).  Under CPython's default thresholds (700, 10, 10) a flood of events makes the
collector run a *full* collection every second or so, each one walking every live object
for hundreds of milliseconds (measured: 61 in 60 s at 5,000 events/s, up to 669 ms each,
key presses waiting behind them).  Meanwhile the garbage that does need the collector is
young: Textual's rendered lines (`Strip`) cache themselves, a cycle per line painted.

The policy (`GcPolicy`):

- young collections every `YOUNG_THRESHOLD` allocations (not 700): the parsed bodies of
  events in flight die before a collection sees them, and each young collection frees a
  few frames' worth of painted lines in a few milliseconds;
- a middle collection every `MIDDLE_THRESHOLD` young ones, so what survives (retained
  rows, tracker records) moves on to the old generation in small steps;
- no automatic full collection (the old generation is never walked on its own); instead
  the owner calls `collect()` every `FULL_INTERVAL` seconds: 60-110 ms with 100,000
  events retained, once a minute.  What it is for: painted lines that lived long enough
  to reach the old generation (Textual's caches keep some for seconds), about 30 a second
  under a flood, 2 MB a minute if nothing collected them;
- what is alive once the app has started (Textual's app, styles and widgets) is frozen
  (`gc.freeze()`) at `install()`: no collection walks it again.  `uninstall()` unfreezes.

`install()` returns False (and changes nothing) when the policy is already in place, so
nested users (a test app inside a test process) leave the first owner in charge.
"""

from __future__ import annotations

import gc
import time

#: allocations between young collections (CPython's default: 700)
YOUNG_THRESHOLD = 20_000
#: young collections between middle ones (default: 10)
MIDDLE_THRESHOLD = 5
#: middle collections between full ones: never, in practice (`collect()` does them)
NO_AUTOMATIC_FULL = 1_000_000
#: seconds between the owner's full collections
FULL_INTERVAL = 60.0


class GcPolicy:
    """The collector tuned for a monitor that keeps a large, acyclic working set."""

    _owner: GcPolicy | None = None  # the policy in place (one per process)

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None
        #: seconds the last `collect()` took (the panel or a benchmark may show it)
        self.last_pause = 0.0
        self.collections = 0

    @property
    def installed(self) -> bool:
        return GcPolicy._owner is self

    def install(self) -> bool:
        """Put the policy in place and freeze what is alive now (the app after startup)."""
        if GcPolicy._owner is not None:
            return False
        GcPolicy._owner = self
        self._saved = gc.get_threshold()
        gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, NO_AUTOMATIC_FULL)
        self.collect()
        gc.freeze()
        return True

    def collect(self) -> int:
        """A full collection (of everything not frozen at startup); the owner's timer."""
        if not self.installed:
            return 0
        start = time.perf_counter()
        found = gc.collect()
        self.last_pause = time.perf_counter() - start
        self.collections += 1
        return found

    def uninstall(self) -> None:
        """Back to the thresholds found at `install()`; frozen objects are collectable again."""
        if not self.installed:
            return
        GcPolicy._owner = None
        gc.unfreeze()
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
