"""Simulated scales on pty pairs, for the tests and the ``--simulate`` demo.

The code under test opens ``simulator.port`` (the pty slave, e.g. ``/dev/pts/7``) with pyserial,
exactly as it would open ``/dev/ttyACM0``. The simulator answers through the same sans-I/O codec
modules the service uses, and can be scripted: weight, motion, over capacity, under zero, tare,
silence, garbage, slow answers, and unplugging (closing the pty): see ``posboxless.pty_simulator``.
"""

from __future__ import annotations

from posboxless.pty_simulator import PtySimulator
from posboxless.scale import adam, toledo8217
from posboxless.scale.toledo8217 import Command, StatusFlags


class Toledo8217Simulator(PtySimulator):
    """A Mettler-Toledo scale in 8217 mode (Ariva-S protocol option 3)."""

    capacity = 15.0
    zero_range = 0.3
    """How far from the calibrated zero the ``Z`` command may move zero (2 % of capacity)."""

    def __init__(self, *, weight: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.load = weight
        """Kilograms on the platter."""
        self.zero_offset = 0.0
        self.tare = 0.0
        self.moving = False
        self.forced_status: StatusFlags | None = None
        """Answer ``W`` with exactly this status (any combination of bits), whatever the load."""
        self.parity_bit = False
        """Set bit 7 of status characters, as a 7E1 frame read in 8 bits may show."""
        self._commands = toledo8217.CommandParser()

    # ---- scripting ------------------------------------------------------------------------------

    def set_weight(self, kilograms: float, *, moving: bool = False) -> None:
        self.load = kilograms
        self.moving = moving

    def flags(self) -> StatusFlags:
        shown = self.load - self.zero_offset
        value = shown - self.tare
        flags = StatusFlags.NONE
        if self.moving:
            flags |= StatusFlags.MOTION
        if self.load > self.capacity:
            flags |= StatusFlags.OVER_CAPACITY
        if value < -0.0005:
            flags |= StatusFlags.UNDER_ZERO
        if abs(self.zero_offset) > self.zero_range:
            flags |= StatusFlags.OUTSIDE_ZERO_RANGE
        if abs(shown) < 0.0005:
            flags |= StatusFlags.CENTER_OF_ZERO
        if self.tare:
            flags |= StatusFlags.NET
        return flags

    def weight_answer(self) -> bytes:
        if self.forced_status is not None:
            return toledo8217.encode_status(self.forced_status, parity_bit=self.parity_bit)
        flags = self.flags()
        if flags & toledo8217.NO_VALID_WEIGHT:
            return self._status(flags)
        return toledo8217.encode_weight(
            self.load - self.zero_offset - self.tare, net=bool(self.tare)
        )

    def _status(self, flags: StatusFlags | None = None) -> bytes:
        return toledo8217.encode_status(
            self.flags() if flags is None else flags, parity_bit=self.parity_bit
        )

    # ---- protocol -------------------------------------------------------------------------------

    def on_data(self, data: bytes) -> None:
        for command in self._commands.feed(data):
            self._execute(command)

    def on_idle(self) -> None:
        for command in self._commands.idle():
            self._execute(command)

    def _execute(self, command: Command) -> None:
        kind = command.kind
        if kind == "W":
            self._answer(self.weight_answer())
        elif kind == "Z":
            self._zero()
        elif kind == "T":
            flags = self.flags()
            if not flags & toledo8217.NO_VALID_WEIGHT:
                self.tare = self.load - self.zero_offset
            self._answer(self._status())
        elif kind == "tare_preset":
            self.tare = command.grams / 1000
            self._answer(self._status())
        elif kind == "C":
            self.tare = 0.0
            self._answer(self._status())
        elif kind == "E":
            self._answer(toledo8217.ECHO_STARTED)
        elif kind == "echo":
            self.send(command.data)
        elif kind == "A":
            self._answer(b"\x02\r")
        elif kind == "B":
            self._answer(self._status(StatusFlags.NONE))

    def _zero(self) -> None:
        flags = self.flags()
        refused = flags & (StatusFlags.MOTION | StatusFlags.OVER_CAPACITY | StatusFlags.NET)
        if refused:
            self._answer(self._status(flags))
            return
        if abs(self.load) > self.zero_range:
            self._answer(self._status(flags | StatusFlags.OUTSIDE_ZERO_RANGE))
            return
        self.zero_offset = self.load
        self._answer(self._status())


class AdamSimulator(PtySimulator):
    """An Adam Equipment scale: answers ``P`` only for a new non-zero weight."""

    def __init__(self, *, weight: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.load = weight
        self.zero_offset = 0.0
        self.tare = 0.0
        self.beeps = 0
        """Requests for an unchanged weight (the real scale beeps at each)."""
        self._last_sent: float | None = None
        self._line = bytearray()

    def set_weight(self, kilograms: float, *, moving: bool = False) -> None:
        self.load = kilograms

    @property
    def shown(self) -> float:
        return round(self.load - self.zero_offset - self.tare, 3)

    def on_data(self, data: bytes) -> None:
        self._line += data
        while (end := self._line.find(b"\n")) >= 0:
            line = bytes(self._line[:end])
            del self._line[: end + 1]
            self._execute(adam.parse_command(line))

    def _execute(self, command: str) -> None:
        if command == "P":
            shown = self.shown
            if shown > 0 and shown != self._last_sent:
                self._last_sent = shown
                self._answer(adam.encode_weight(shown))
            elif shown == self._last_sent:
                self.beeps += 1
        elif command == "Z":
            self.zero_offset = self.load
            self._last_sent = None
        elif command == "T":
            self.tare = self.load - self.zero_offset
            self._last_sent = None
