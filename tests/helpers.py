"""Helpers shared by the tests: waiting on a condition, never on a fixed time.

``timeout`` is a bound for a busy machine, not a speed requirement: a condition that holds
returns at once, and one that never holds fails with what was awaited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL = 0.01


async def until(
    predicate: Callable[[], object], what: str = "condition", *, timeout: float = 10.0
) -> None:
    """Wait on the event loop until ``predicate()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"never happened within {timeout:g} s: {what}")
        await asyncio.sleep(POLL)


def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> bool:
    """The same from a plain thread; returns whether it happened (the caller asserts)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True
