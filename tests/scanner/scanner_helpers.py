"""Helpers shared by the scanner tests."""

from __future__ import annotations

import threading


class Collected:
    """Barcodes received from a reader thread, with a bounded wait."""

    def __init__(self) -> None:
        self.codes: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, code: str, source: str) -> None:
        with self._cond:
            self.codes.append((code, source))
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.codes) >= count, timeout)
            return [c for c, _ in self.codes]
