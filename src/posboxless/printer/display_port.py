"""The printer's display port: a customer display wired through the printer (pass-through).

The PC talks to the printer only; ``ESC = 2`` (1B 3D 02) sends what follows to the display behind
it and ``ESC = 1`` selects the printer again (devices.md §5, customer-display.md §5.1). The
printer's worker owns the link, so it writes the display's frames itself, between jobs; this
channel is how a frame reaches it:

* only the newest frame is kept (a cashier typing quantities replaces the screen many times a
  second: the display gets the latest, nothing queues) and nothing goes to the print journal;
* the worker writes ``ESC = 2`` + frame + ``ESC = 1`` in one write, never inside a job nor
  between a job's bytes and its confirmation;
* after a reconnection the current frame is due again (a printer that was off shows nothing);
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

SELECT_DISPLAY = b"\x1b=\x02"
SELECT_PRINTER = b"\x1b=\x01"
_FORBIDDEN = re.compile(rb"\x10[\x04\x05\x14]|\x1b=")


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: bytes | None = None
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

    def offer(self, frame: bytes) -> int:
        """Make ``frame`` the next one to write; returns its number."""
        problem = frame_problem(frame)
        if problem is not None:
            raise ValueError(f"display frame refused: {problem}")
        with self._lock:
            if self._frame is not None and self._taken < self._wanted:
                self.collapsed += 1
            self._frame = frame
            self._wanted += 1
            return self._wanted

    def due(self) -> tuple[int, bytes] | None:
        """The frame to write now, with ``ESC = 2`` / ``ESC = 1`` around it, or None."""
        with self._lock:
            if self._frame is None or self._written == self._wanted:
                return None
            self._taken = self._wanted
            return self._wanted, SELECT_DISPLAY + self._frame + SELECT_PRINTER

    def done(self, number: int) -> None:
        with self._lock:
            self._written = max(self._written, number)
            self.writes += 1

    def reconnected(self) -> None:
        """The printer's link is new: the display may show nothing; write the frame again."""
        with self._lock:
            self._written = self._taken = 0
