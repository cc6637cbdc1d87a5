"""Logging set-up: plain lines on stderr (the journal adds time and unit under systemd) and a ring
buffer of recent lines for the diagnostics page and support bundles."""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"


class RecentLines(logging.Handler):
    """Keeps the last ``capacity`` formatted records in memory."""

    def __init__(self, capacity: int = 500) -> None:
        super().__init__()
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter(_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken log call must never break the caller
            line = f"{record.levelname} {record.name}: {record.msg!r}"
        with self._guard:
            self._lines.append(line)

    def lines(self, limit: int | None = None) -> list[str]:
        with self._guard:
            items = list(self._lines)
        return items[-limit:] if limit else items


recent = RecentLines()
"""The process-wide ring buffer (installed by ``setup``)."""

_installed: list[logging.Handler] = []


def setup(level: str = "info") -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in _installed:  # setup() may run again (tests, reloads): no doubled lines
        root.removeHandler(handler)
    _installed.clear()
    stderr = logging.StreamHandler(sys.stderr)
    # Under systemd the journal stamps each line itself (JOURNAL_STREAM is set for us).
    fmt = _JOURNAL_FORMAT if os.environ.get("JOURNAL_STREAM") else _FORMAT
    stderr.setFormatter(logging.Formatter(fmt))
    for handler in (stderr, recent):
        root.addHandler(handler)
        _installed.append(handler)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
