"""How the suite waits: on a condition the code under test signals, never on the clock.

A test that waits for something (an event shown, a connection accepted, a file written)
waits for exactly that, however long a loaded machine takes to get there.  No wait has a
time budget: a budget that is right on a quiet machine is exceeded on a busy one, and the
test then fails for no fault of the code.

`HANG_GUARD` is the one number that bounds a wait, and it is not a budget: nothing the
suite waits for takes more than a few seconds even beside CPU hogs, so reaching it means
the awaited thing will never happen (a bug).  It only turns that hang into a failure that
says what was awaited.  pytest-timeout (pyproject.toml) is the guard behind it, per test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

#: seconds after which one wait is declared hung (a guard against a hang, not a budget)
HANG_GUARD = 300.0


def hung(what: str) -> AssertionError:
    return AssertionError(
        f"still waiting for {what} after {HANG_GUARD:g} s: it will not happen "
        "(this is a guard against a hang, not a time budget)"
    )


@contextlib.asynccontextmanager
async def guard(what: str) -> AsyncIterator[None]:
    """Wrap a wait on a signal: a hang fails with `what` instead of stalling the suite."""
    deadline = asyncio.timeout(HANG_GUARD)
    try:
        async with deadline:
            yield
    except TimeoutError:
        if deadline.expired():
            raise hung(what) from None
        raise


async def awaited(aw: Awaitable[T], what: str) -> T:
    """`await aw`, under the hang guard."""
    async with guard(what):
        return await aw


async def until(
    predicate: Callable[[], object], changed: asyncio.Event, what: str = "condition"
) -> None:
    """Wait until `predicate()` holds, looking again each time `changed` is set (the code
    under test sets it whenever what the predicate reads may have changed)."""
    async with guard(what):
        while not predicate():
            changed.clear()
            await changed.wait()


def poll_until(predicate: Callable[[], object], what: str = "condition") -> None:
    """Block until `predicate()` holds, looking every 10 ms: only for state that another
    thread or process changes without signalling it (the archive's writer).  The 10 ms is
    how often it looks, not how long it waits."""
    deadline = time.monotonic() + HANG_GUARD
    while not predicate():
        if time.monotonic() > deadline:
            raise hung(what)
        time.sleep(0.01)


class StillMonotonic:
    """The `time` module as a module under test sees it (monkeypatch its `time` with one),
    but for a monotonic clock that stands still until the test moves it: how long a loaded
    machine stalls the test between two steps cannot change what the code does (a repaint
    coalesced by time, a writer started again "in 3 s")."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)
