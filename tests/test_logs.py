from __future__ import annotations

import logging

from posboxless.logs import RecentLines, RepeatFilter


def test_identical_lines_are_held_back_and_counted() -> None:
    now = [0.0]
    ring = RecentLines()
    ring.addFilter(RepeatFilter(window=10, clock=lambda: now[0]))
    log = logging.getLogger("test.repeats")
    log.addHandler(ring)
    log.propagate = False
    try:
        for _ in range(1000):
            log.error("accept failed: %s", "Too many open files")
        log.error("something else")
        now[0] = 11.0
        log.error("accept failed: %s", "Too many open files")
    finally:
        log.removeHandler(ring)
    lines = ring.lines()
    assert len(lines) == 3
    assert lines[0].endswith("accept failed: Too many open files")
    assert "something else" in lines[1]
    assert lines[2].endswith(
        "accept failed: Too many open files (999 more like it held back since the previous one)"
    )
