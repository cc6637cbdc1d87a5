"""A simulated pole display on a pty pair, for the tests, ``--simulate`` and the demo.

The service opens ``simulator.port`` with pyserial exactly as it would open ``/dev/ttyUSB0``; the
simulator runs every byte through ``DisplayEmulator`` and exposes the two lines shown. It can be
unplugged (the pty closes), stalled (it stops reading, so writes block as behind a display that
holds CTS low), and made to answer each message with a byte (the DM-D110 read-after-write).
"""

from __future__ import annotations

import logging
import threading

from posboxless.linedisplay.emulator import DisplayEmulator
from posboxless.pty_simulator import PtySimulator

log = logging.getLogger(__name__)


class PoleDisplaySimulator(PtySimulator):
    """``dialect``: ``epson``, ``bixolon`` or ``aures`` (which commands it understands)."""

    def __init__(
        self, *, dialect: str = "epson", width: int = 20, rows: int = 2, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.emulator = DisplayEmulator(dialect, width, rows)
        self.answer_byte = b""
        """Sent back once the line goes quiet after data (a display that acknowledges)."""
        self.changed = threading.Condition()
        self.writes = 0
        """Chunks of data received (a burst of messages arrives in few chunks when collapsed)."""
        self._answer_due = False

    @property
    def lines(self) -> list[str]:
        with self.changed:
            return self.emulator.lines

    def wait_for(self, lines: list[str], timeout: float = 5.0) -> bool:
        """True once the display shows exactly ``lines``."""
        with self.changed:
            return self.changed.wait_for(lambda: self.emulator.lines == lines, timeout)

    def on_data(self, data: bytes) -> None:
        with self.changed:
            self.emulator.feed(data)
            self.writes += 1
            self.changed.notify_all()
        self._answer_due = bool(self.answer_byte)

    def on_idle(self) -> None:
        if self._answer_due:
            self._answer_due = False
            self._answer(self.answer_byte)
