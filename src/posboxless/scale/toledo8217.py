"""Mettler-Toledo 8217 ("weight-only", Ariva-S protocol option 3), sans I/O.

Host side: command bytes to send (``W``, ``Z``, ``T``, ``TWWWWW CR``, ``C``, echo probe) and
``AnswerParser``, which turns arbitrary chunks from the port into answer frames and resynchronises
on garbage. Scale side (used by the simulator): ``CommandParser`` and the ``encode_*`` functions.

Frames (devices.md §3.2): ``STX ww.www CR`` gross kg, ``STX ww.wwwN CR`` net kg (two decimals mean
lb), ``STX ? <status> CR`` when there is no valid weight, ``STX E CR`` when echo mode starts.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

STX = 0x02
CR = 0x0D

WEIGHT = b"W"
ZERO = b"Z"
TARE = b"T"
CLEAR_TARE = b"C"
ECHO_START = b"E"
ECHO_END = b"F"

PROBE_TEXT = b"hello"
PROBE_REQUEST = ECHO_START + PROBE_TEXT
PROBE_ANSWER = b"\x02E\r" + PROBE_TEXT
"""What Odoo 13+ expects back from ``Ehello`` (then it sends ``F``)."""

DEFAULT_SETTINGS = "9600 7E1"
DISPLAY_NAME = "Mettler-Toledo 8217"

MAX_DIGITAL_TARE_KG = 99.999
LB_TO_KG = 0.45359237

# A weight frame is at most "STX 999.999N CR" plus a few padding spaces; anything longer after an
# STX is garbage, and waiting for its CR would delay the next good frame.
_MAX_FRAME = 16


class StatusFlags(enum.IntFlag):
    """Bits 0-5 of the status character; bit 6 is always 1 and bit 7 is parity."""

    NONE = 0
    MOTION = 0x01
    OVER_CAPACITY = 0x02
    UNDER_ZERO = 0x04
    OUTSIDE_ZERO_RANGE = 0x08
    CENTER_OF_ZERO = 0x10
    NET = 0x20


_FLAG_NAMES: tuple[tuple[StatusFlags, str], ...] = (
    (StatusFlags.MOTION, "moving"),
    (StatusFlags.OVER_CAPACITY, "over_capacity"),
    (StatusFlags.UNDER_ZERO, "negative"),
    (StatusFlags.OUTSIDE_ZERO_RANGE, "outside_zero_capture_range"),
    (StatusFlags.CENTER_OF_ZERO, "center_of_zero"),
    (StatusFlags.NET, "net_weight"),
)

NO_VALID_WEIGHT = StatusFlags.MOTION | StatusFlags.OVER_CAPACITY | StatusFlags.UNDER_ZERO
"""Conditions under which the scale cannot give a weight (the reading is then 0.0)."""


def decode_status(char: int) -> StatusFlags:
    """The flags of a status character; the always-set bit 6 and the parity bit are ignored."""
    return StatusFlags(char & 0x3F)


def flag_names(flags: StatusFlags) -> list[str]:
    """Odoo's names for the flags (``moving``, ``over_capacity``, ``negative``...), bit order."""
    return [name for flag, name in _FLAG_NAMES if flags & flag]


@dataclass(frozen=True)
class WeightFrame:
    """A stable, valid weight. ``value`` is in ``unit``; ``net`` when a tare is active."""

    value: float
    unit: str  # "kg" or "lb"
    net: bool

    @property
    def kilograms(self) -> float:
        return self.value if self.unit == "kg" else round(self.value * LB_TO_KG, 3)


@dataclass(frozen=True)
class StatusFrame:
    flags: StatusFlags


@dataclass(frozen=True)
class EchoStartFrame:
    """``STX E CR``: the scale entered echo mode; what follows is our own bytes echoed."""


Answer = WeightFrame | StatusFrame | EchoStartFrame

_WEIGHT_BODY = re.compile(rb" *(-?)(\d{1,3})\.(\d{2,3})(N?) *")


def parse_frame_body(body: bytes) -> Answer | None:
    """What lies between STX and CR, or None when it is not a valid frame."""
    if len(body) == 2 and body[0:1] == b"?":
        # bit 6 is always set in a real status character: without it this is noise
        return StatusFrame(decode_status(body[1])) if body[1] & 0x40 else None
    if body == b"E":
        return EchoStartFrame()
    match = _WEIGHT_BODY.fullmatch(body)
    if match is None:
        return None
    sign, whole, decimals, net = match.groups()
    value = float(f"{sign.decode()}{whole.decode()}.{decimals.decode()}")
    return WeightFrame(value, "kg" if len(decimals) == 3 else "lb", bool(net))


class AnswerParser:
    """Turns bytes from the scale into frames, in any chunking.

    Bytes outside ``STX ... CR`` and frames that do not parse are dropped (and counted), so a burst
    of line noise or a half frame left over from before costs one answer, never the sync.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0
        """Bytes dropped as garbage since creation (for diagnostics and tests)."""

    def reset(self) -> None:
        self.discarded += len(self._buffer)
        self._buffer.clear()

    def feed(self, data: bytes) -> list[Answer]:
        self._buffer += data
        frames: list[Answer] = []
        while True:
            start = self._buffer.find(STX)
            if start < 0:
                self.discarded += len(self._buffer)
                self._buffer.clear()
                return frames
            if start:
                self.discarded += start
                del self._buffer[:start]
            end = self._buffer.find(CR, 1, _MAX_FRAME + 1)
            if end < 0:
                if len(self._buffer) > _MAX_FRAME:
                    self._drop_one()
                    continue
                return frames  # frame still incomplete
            body = bytes(self._buffer[1:end])
            # An STX inside the body means the earlier frame was cut: restart at the later STX.
            if STX in body:
                self._drop_one()
                continue
            frame = parse_frame_body(body)
            if frame is None:
                self.discarded += end + 1
                del self._buffer[: end + 1]
                continue
            del self._buffer[: end + 1]
            frames.append(frame)

    def _drop_one(self) -> None:
        self.discarded += 1
        del self._buffer[:1]


def digital_tare(kilograms: float) -> bytes:
    """``TWWWWW CR``: preset tare, five digits with an implied ``WW.WWW`` kg."""
    if not 0 <= kilograms <= MAX_DIGITAL_TARE_KG:
        raise ValueError(f"a tare must be between 0 and {MAX_DIGITAL_TARE_KG} kg, not {kilograms}")
    return b"T%05d\r" % round(kilograms * 1000)


def probe_matches(received: bytes) -> bool:
    """True when what came back after ``PROBE_REQUEST`` proves an 8217 scale is listening."""
    return PROBE_ANSWER in received


# ---- scale side (simulator) -------------------------------------------------------------------


def encode_weight(kilograms: float, *, net: bool = False) -> bytes:
    """``STX 01.234 CR`` (or ``...N CR`` for a net weight)."""
    return b"\x02%06.3f%s\r" % (kilograms, b"N" if net else b"")


def encode_status(flags: StatusFlags, *, parity_bit: bool = False) -> bytes:
    """``STX ? <0x40 | flags> CR``; ``parity_bit`` sets bit 7 as an 8-bit link would show it."""
    char = 0x40 | int(flags) | (0x80 if parity_bit else 0)
    return bytes((STX, ord("?"), char, CR))


ECHO_STARTED = b"\x02E\r"


@dataclass(frozen=True)
class Command:
    """One host command as the scale sees it. ``kind`` is ``W``, ``Z``, ``T``, ``C``, ``A``,
    ``B``, ``E`` (echo starts), ``F`` (echo ends), ``echo`` (bytes to echo back), ``tare_preset``
    (``grams`` set) or ``unknown``."""

    kind: str
    data: bytes = b""
    grams: int = 0


class CommandParser:
    """Scale-side parser of host commands, fed in any chunking.

    A lone ``T`` is ambiguous until the next bytes arrive (``T`` tare vs ``TWWWWW CR`` preset);
    like the scale, which waits 150 ms, the caller says when the line went quiet (``idle()``).
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._echo = False

    @property
    def echoing(self) -> bool:
        return self._echo

    def feed(self, data: bytes) -> list[Command]:
        commands: list[Command] = []
        for byte in data:
            commands += self._byte(byte)
        return commands

    def idle(self) -> list[Command]:
        if self._pending == b"T":
            self._pending.clear()
            return [Command("T")]
        return []

    def _byte(self, byte: int) -> list[Command]:
        char = bytes((byte & 0x7F,))  # a 7-bit link may hand us the parity bit
        if self._echo:
            if char == ECHO_END:
                self._echo = False
                return [Command("F")]
            return [Command("echo", char)]
        if self._pending:
            return self._in_tare(char)
        if char == b"T":
            self._pending += char
            return []
        if char == ECHO_START:
            self._echo = True
            return [Command("E")]
        if char in (b"W", b"Z", b"C", b"A", b"B", b"F"):
            return [Command(char.decode())]
        return [Command("unknown", char)]

    def _in_tare(self, char: bytes) -> list[Command]:
        if char.isdigit() and len(self._pending) < 6:
            self._pending += char
            return []
        if char == b"\r" and len(self._pending) == 6:
            grams = int(self._pending[1:])
            self._pending.clear()
            return [Command("tare_preset", grams=grams)]
        pending = bytes(self._pending)
        self._pending.clear()
        if pending == b"T":
            # a plain tare directly followed by another command
            return [Command("T"), *self._byte(char[0])]
        return [Command("unknown", pending + char)]
