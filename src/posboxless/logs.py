"""Logging set-up: plain lines on stderr (the journal adds time and unit under systemd) and a ring
buffer of recent lines for the diagnostics page and support bundles.

Identical lines are rate-limited on both (``RepeatFilter``): a fault that repeats in a tight loop
(descriptors exhausted, a device failing on every poll) writes one line per ``window`` seconds
with the count of the lines held back, not megabytes of journal."""

from __future__ import annotations

import collections
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

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


class RepeatFilter(logging.Filter):
    """Lets a line through, then holds back identical ones (same logger, level and text) for
    ``window`` seconds; the first one after that says how many were held back. One instance per
    handler; the state is bounded (``capacity`` distinct lines)."""

    def __init__(
        self,
        window: float = 10.0,
        capacity: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window = window
        self.capacity = capacity
        self.clock = clock
        self._seen: collections.OrderedDict[tuple[str, int, str], list[float]] = (
            collections.OrderedDict()
        )
        self._guard = threading.Lock()

    @staticmethod
    def _key(record: logging.LogRecord) -> tuple[str, int, str]:
        key: tuple[str, int, str] | None = getattr(record, "_repeat_key", None)
        if key is None:
            try:
                text = record.getMessage()
            except Exception:  # a broken log call is not ours to fix here
                text = repr(record.msg)
            key = (record.name, record.levelno, text)
            record._repeat_key = key
        return key

    def filter(self, record: logging.LogRecord) -> bool:
        key = self._key(record)
        now = self.clock()
        with self._guard:
            entry = self._seen.get(key)
            if entry is not None and now - entry[0] < self.window:
                entry[1] += 1
                return False
            held = int(entry[1]) if entry is not None else 0
            self._seen[key] = [now, 0]
            self._seen.move_to_end(key)
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        if held and not getattr(record, "_repeat_noted", False):
            # Shared by the handlers: the other one's filter sees the same key and count.
            record.msg = f"{key[2]} ({held} more like it held back since the previous one)"
            record.args = None
            record._repeat_noted = True
        return True


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
    recent.filters.clear()
    for handler in (stderr, recent):
        handler.addFilter(RepeatFilter())
        root.addHandler(handler)
        _installed.append(handler)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
