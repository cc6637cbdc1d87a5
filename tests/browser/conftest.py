from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..chromium import launched


# Module scope: the sync API runs its own event loop on this thread while it lives, which would
# stop the asyncio tests of other modules from running.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as instance:
        yield instance
