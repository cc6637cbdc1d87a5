"""The printer's display port: a customer display wired through the printer (pass-through).

The PC talks to the printer only; ``ESC = 2`` (1B 3D 02) sends what follows to the display behind
it and ``ESC = 1`` selects the printer again (devices.md §5, customer-display.md §5.1). The
printer's worker owns the link, so it writes the display's frames itself, between jobs; this
channel is how a frame reaches it:

* only the newest frame is kept (a cashier typing quantities replaces the screen many times a
  second: the display gets the latest, nothing queues) and nothing goes to the print journal;
* the worker writes ``ESC = 2`` + frame + ``ESC = 1`` in one write, never inside a job nor
  between a job's bytes and its confirmation;
* frames are paced: the next one is due no sooner than the previous one takes on the display's
  line (frame bytes × 10 bits / the display's baud rate). The printer passes display data on at
  that speed; writing faster would only fill its receive buffer with screens nobody sees, and a
  receipt sent after a burst would wait behind them. So a burst collapses to about one frame per
  frame time, and the newest frame is always written once its time comes (``wait_time`` tells
  the worker when; ``offer`` says when the worker must be woken: not at every keystroke);
* after a reconnection the current frame is due again at once (a printer that was off shows
  nothing);
* once a display is attached, every job is sent after ``ESC = 1``: a frame cut off after
  ``ESC = 2`` (the link dropped, a previous process died) would otherwise leave the printer
  ignoring the job while it still answers the status queries that confirm it (a deselected
  printer keeps executing real-time commands).

A frame must not hold what a deselected printer still acts on: real-time commands (``DLE EOT``,
``DLE ENQ``, ``DLE DC4``: they would be answered or executed and upset the worker's answer
counting) or ``ESC =`` (the rest would print). Display text never holds control bytes (the
display's layout replaces them), so only configured command bytes could: ``frame_problem`` says
which, and ``offer`` refuses such a frame.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

SELECT_DISPLAY = b"\x1b=\x02"
SELECT_PRINTER = b"\x1b=\x01"
_FORBIDDEN = re.compile(rb"\x10[\x04\x05\x14]|\x1b=")
DEFAULT_BAUDRATE = 9600
"""The display's line speed behind the printer when none is configured (DM-D110/D210 default)."""


def frame_problem(frame: bytes) -> str | None:
    """Why ``frame`` cannot go through the printer (None: it can)."""
    found = _FORBIDDEN.search(SELECT_DISPLAY + frame + SELECT_PRINTER, len(SELECT_DISPLAY) - 1)
    if found is None or found.start() >= len(SELECT_DISPLAY) + len(frame):
        return None
    what = (
        "ESC = (printer/display selection)" if found.group()[0] == 0x1B else "a real-time command"
    )
    return f"bytes {found.group().hex(' ').upper()} are {what}, which the printer would act on"


class DisplayChannel:
    """The newest frame for the display behind one printer (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._frame: bytes | None = None
        self._baudrate = DEFAULT_BAUDRATE
        self._taken_size = 0
        self._next_at = 0.0
        """When the display's line is free again (``clock`` time): the next frame is due."""
        self._wanted = 0
        self._written = 0
        self._taken = 0
        self.writes = 0
        """Frames written (the printer's ``display_frames`` counter)."""
        self.collapsed = 0
        """Frames replaced before the worker took them."""

    @property
    def attached(self) -> bool:
        """A display was ever given a frame: jobs must re-select the printer first."""
        return self._frame is not None

    @property
    def wanted(self) -> int:
        return self._wanted

    @property
    def written(self) -> int:
        """Number of the last frame written in full since the printer (re)connected; 0: none."""
        return self._written

    def offer(self, frame: bytes, baudrate: int = DEFAULT_BAUDRATE) -> int:
        """Make ``frame`` the next one to write; returns its number."""
        return self.submit(frame, baudrate)[0]

    def submit(self, frame: bytes, baudrate: int = DEFAULT_BAUDRATE) -> tuple[int, bool]:
        """Like ``offer``; also says whether the worker must be woken: when no frame was
        waiting (the worker's wait does not count on one) or this one is due now. A frame
        replacing one that waits for its time is taken when that time comes: no wake."""
        problem = frame_problem(frame)
        if problem is not None:
            raise ValueError(f"display frame refused: {problem}")
        if baudrate <= 0:
            raise ValueError(f"display baud rate must be positive, not {baudrate}")
        with self._lock:
            waiting = self._pending()
            if self._frame is not None and self._taken < self._wanted:
                self.collapsed += 1
            self._frame = frame
            self._baudrate = baudrate
            self._wanted += 1
            return self._wanted, not waiting or self._clock() >= self._next_at

    def _pending(self) -> bool:
        return self._frame is not None and self._written < self._wanted

    def wait_time(self) -> float | None:
        """Seconds until the waiting frame is due (0: now), None when no frame waits."""
        with self._lock:
            if not self._pending():
                return None
            return max(0.0, self._next_at - self._clock())

    def due(self) -> tuple[int, bytes] | None:
        """The frame to write now, with ``ESC = 2`` / ``ESC = 1`` around it, or None (none
        waits, or the display's line is still busy with the previous one)."""
        with self._lock:
            if not self._pending() or self._clock() < self._next_at:
                return None
            assert self._frame is not None
            self._taken = self._wanted
            self._taken_size = len(self._frame)
            return self._wanted, SELECT_DISPLAY + self._frame + SELECT_PRINTER

    def frame_time(self, size: int) -> float:
        """Seconds ``size`` bytes take on the display's line (8N1: 10 bits a byte)."""
        return size * 10 / self._baudrate

    def done(self, number: int) -> None:
        """Frame ``number`` was written: the next is due once the display has received it."""
        with self._lock:
            self._written = max(self._written, number)
            self.writes += 1
            self._next_at = self._clock() + self.frame_time(self._taken_size)

    def reconnected(self) -> None:
        """The printer's link is new: the display may show nothing; write the frame again now."""
        with self._lock:
            self._written = self._taken = 0
            self._next_at = 0.0
