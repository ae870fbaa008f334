"""The suite's hang guard (tests/waits.py): a wait that can never end fails, saying what it
waited for, and an error from the awaited code is not mistaken for a hang."""

from __future__ import annotations

import asyncio

import pytest

from tests import waits


@pytest.fixture
def short_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waits, "HANG_GUARD", 0.05)


async def test_a_hung_wait_says_what_it_waited_for(short_guard: None) -> None:
    never = asyncio.Event()
    with pytest.raises(AssertionError, match="still waiting for the answer after 0.05 s"):
        await waits.awaited(never.wait(), "the answer")
    with pytest.raises(AssertionError, match="still waiting for a change"):
        await waits.until(lambda: False, never, "a change")
    with pytest.raises(AssertionError, match="still waiting for a file"):
        waits.poll_until(lambda: False, "a file")


async def test_a_timeout_of_the_code_itself_is_its_own(short_guard: None) -> None:
    with pytest.raises(TimeoutError, match="the code's own"):
        async with waits.guard("anything"):
            raise TimeoutError("the code's own")


async def test_until_looks_again_at_each_signal() -> None:
    changed, seen = asyncio.Event(), []

    async def code_under_test() -> None:
        for i in range(3):
            await asyncio.sleep(0)
            seen.append(i)
            changed.set()

    task = asyncio.create_task(code_under_test())
    await waits.until(lambda: len(seen) == 3, changed, "three items")
    await task
