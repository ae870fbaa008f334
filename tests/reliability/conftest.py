"""Fixtures for the reliability tests (fault matrix, fuzzing, leaks, transport policy)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict]]:
    """What reached the event loop's exception handler during the test ("Task exception was
    never retrieved", a callback that raised): an exception that escaped every handler.

    The test asserts the list is empty after its own clean-up; tasks are collected first,
    since asyncio reports an unretrieved exception only when the task is garbage."""
    loop = asyncio.get_running_loop()
    errors: list[dict] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield errors
    finally:
        gc.collect()
        loop.set_exception_handler(old)
