from __future__ import annotations

import pytest

from .scanner_helpers import Collected


@pytest.fixture
def collected() -> Collected:
    return Collected()
