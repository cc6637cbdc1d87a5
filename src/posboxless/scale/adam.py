"""Adam Equipment (AZExtra) scales as Odoo 10-18 drive them, sans I/O.

4800 8N1; ``P CR LF`` asks for the weight; the scale answers a line such as ``   1.234kg CR LF``
only when it has a new non-zero weight (silence is a valid answer); ``Z CR LF`` zeroes and
``T CR LF`` tares; there is no clear-tare command (taring an empty platter clears it) and no probe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEIGHT = b"P\r\n"
ZERO = b"Z\r\n"
TARE = b"T\r\n"
CLEAR_TARE = TARE

DEFAULT_SETTINGS = "4800 8N1"
DISPLAY_NAME = "Adam Equipment"

_WEIGHT_LINE = re.compile(rb"\s*(-?\s*\d+(?:\.\d+)?)\s*kg\s*")
_MAX_LINE = 64


@dataclass(frozen=True)
class AdamWeight:
    kilograms: float


class AnswerParser:
    """Splits the scale's output into lines and keeps those that hold a weight in kg."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0

    def reset(self) -> None:
        self.discarded += len(self._buffer)
        self._buffer.clear()

    def feed(self, data: bytes) -> list[AdamWeight]:
        self._buffer += data
        weights: list[AdamWeight] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > _MAX_LINE:
                    # no line end in sight: keep only the tail, which may start a good line
                    self.discarded += len(self._buffer) - _MAX_LINE
                    del self._buffer[:-_MAX_LINE]
                return weights
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            match = _WEIGHT_LINE.fullmatch(line.rstrip(b"\r"))
            if match is None:
                self.discarded += len(line) + 1
                continue
            weights.append(AdamWeight(float(match.group(1).replace(b" ", b""))))


def encode_weight(kilograms: float) -> bytes:
    """The scale's answer line (simulator side)."""
    return b"%9.3fkg\r\n" % kilograms


def parse_command(line: bytes) -> str:
    """``P``, ``Z``, ``T`` or ``unknown`` for one host line without its CR LF (simulator side)."""
    text = line.strip()
    return text.decode("ascii", "replace") if text in (b"P", b"Z", b"T") else "unknown"
