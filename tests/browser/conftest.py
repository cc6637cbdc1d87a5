from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..chromium import CHROMIUM, CHROMIUM_ARGS


# Module scope: the sync API runs its own event loop on this thread while it lives, which would
# stop the asyncio tests of other modules from running.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("the distribution's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()
