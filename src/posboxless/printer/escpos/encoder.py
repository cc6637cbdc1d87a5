"""ESC/POS command encoder: pure functions from arguments to bytes (devices.md §1).

Every function validates its arguments and raises ``ValueError`` with a plain message when a value
cannot be expressed (out of range, length field overflow), so that nothing is ever silently
truncated or wrapped. Renderers turn those errors into ``InvalidInput`` or warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ESC = b"\x1b"
GS = b"\x1d"
DLE = b"\x10"
FS = b"\x1c"
LF = b"\n"
NUL = b"\x00"

MAX_U16 = 0xFFFF

Align = Literal["left", "center", "right"]
Size = Literal["normal", "double-height", "double-width", "double"]
Underline = Literal["off", "on", "double"]

_ALIGN = {"left": 0, "center": 1, "right": 2}
_SIZE_MODE = {"normal": 0x00, "double-height": 0x10, "double-width": 0x20, "double": 0x30}
_UNDERLINE = {"off": 0, "on": 1, "double": 2}


def _byte(value: int, what: str, low: int = 0, high: int = 255) -> int:
    if not low <= value <= high:
        raise ValueError(f"{what} must be from {low} to {high}, got {value}")
    return value


def u16(value: int, what: str) -> bytes:
    """Little-endian 2-byte field; refuses to wrap (python-escpos wraps GS ( L lengths)."""
    if not 0 <= value <= MAX_U16:
        raise ValueError(f"{what} {value} does not fit in a 2-byte ESC/POS length (max 65535)")
    return value.to_bytes(2, "little")


def initialise() -> bytes:
    """``ESC @``: reset styles and code table."""
    return ESC + b"@"


def select_code_table(table: int) -> bytes:
    """``ESC t n``."""
    return ESC + b"t" + bytes([_byte(table, "code table")])


def international_set(n: int = 0) -> bytes:
    """``ESC R n``; keep 0 (USA) so that ``# $ @ [ \\ ] ^ { | } ~`` print as themselves."""
    return ESC + b"R" + bytes([_byte(n, "international character set", 0, 17)])


def align(alignment: Align) -> bytes:
    """``ESC a n`` (effective at the start of a line)."""
    return ESC + b"a" + bytes([_ALIGN[alignment]])


def print_mode(
    *,
    font_b: bool = False,
    bold: bool = False,
    double_height: bool = False,
    double_width: bool = False,
    underline: bool = False,
) -> bytes:
    """``ESC ! n`` (also resets the bold/underline/font set by other commands)."""
    n = (
        (0x01 if font_b else 0)
        | (0x08 if bold else 0)
        | (0x10 if double_height else 0)
        | (0x20 if double_width else 0)
        | (0x80 if underline else 0)
    )
    return ESC + b"!" + bytes([n])


def size_mode(size: Size) -> bytes:
    """``ESC ! 00/10/20/30`` as Odoo's ``size`` attribute emits it."""
    return ESC + b"!" + bytes([_SIZE_MODE[size]])


def bold(on: bool) -> bytes:
    """``ESC E n``."""
    return ESC + b"E" + (b"\x01" if on else b"\x00")


def underline(mode: Underline) -> bytes:
    """``ESC - n``: 0 off, 1 thin, 2 thick."""
    return ESC + b"-" + bytes([_UNDERLINE[mode]])


def font(name: Literal["a", "b"]) -> bytes:
    """``ESC M n``: font A (12x24) or B (9x17)."""
    return ESC + b"M" + (b"\x01" if name == "b" else b"\x00")


def color(name: Literal["black", "red"]) -> bytes:
    """``ESC r n``: second colour on two-colour printers."""
    return ESC + b"r" + (b"\x01" if name == "red" else b"\x00")


def character_size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: width and height multipliers 1..8."""
    _byte(width, "character width multiplier", 1, 8)
    _byte(height, "character height multiplier", 1, 8)
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def reverse(on: bool) -> bytes:
    """``GS B n``: white on black."""
    return GS + b"B" + (b"\x01" if on else b"\x00")


def feed_lines(n: int) -> bytes:
    """``ESC d n``: print and feed n lines."""
    return ESC + b"d" + bytes([_byte(n, "line feed count")])


def feed_dots(n: int) -> bytes:
    """``ESC J n``: print and feed n motion units."""
    return ESC + b"J" + bytes([_byte(n, "dot feed")])


def line_spacing(units: int | None = None) -> bytes:
    """``ESC 3 n`` or, with ``None``, the default spacing ``ESC 2``."""
    if units is None:
        return ESC + b"2"
    return ESC + b"3" + bytes([_byte(units, "line spacing")])


def select_peripheral(n: int = 1) -> bytes:
    """``ESC = n``: 1 addresses the printer (Odoo sends it before drawer kicks)."""
    return ESC + b"=" + bytes([_byte(n, "peripheral")])


CutMode = Literal["full", "partial", "feed-full", "feed-partial", "none"]
CUT_FEED_LINES = 6


def cut(mode: CutMode | str) -> bytes:
    """The bytes for one cut in the profile's style (devices.md §1.4).

    ``full``/``partial`` feed six lines first (the cutter sits above the print head);
    ``feed-full``/``feed-partial`` use ``GS V 65/66 0`` (the printer feeds to the cutter itself).
    """
    if mode == "full":
        return feed_lines(CUT_FEED_LINES) + GS + b"V\x00"
    if mode == "partial":
        return feed_lines(CUT_FEED_LINES) + GS + b"V\x01"
    if mode == "feed-full":
        return GS + b"VA\x00"
    if mode == "feed-partial":
        return GS + b"VB\x00"
    if mode == "none":
        return b""
    raise ValueError(f"unknown cut mode {mode!r}")


def partial_variant(mode: str) -> str:
    """The partial-cut counterpart of a profile's cut mode (same feed behaviour)."""
    return {"full": "partial", "feed-full": "feed-partial"}.get(mode, mode)


def full_variant(mode: str) -> str:
    """The full-cut counterpart of a profile's cut mode (same feed behaviour)."""
    return {"partial": "full", "feed-partial": "feed-full"}.get(mode, mode)


def drawer_pulse(pin: int, on_ms: int, off_ms: int) -> bytes:
    """``ESC p m t1 t2``: a COMPLETE pulse command (Odoo's lacks t1/t2). Times in 2 ms steps."""
    if pin not in (2, 5):
        raise ValueError(f"drawer pin must be 2 or 5, got {pin}")
    t1 = _byte(round(on_ms / 2), "drawer pulse on time (x 2 ms)", 1, 255)
    t2 = _byte(round(off_ms / 2), "drawer pulse off time (x 2 ms)", 1, 255)
    return ESC + b"p" + bytes([0 if pin == 2 else 1, t1, t2])


def drawer_pulse_realtime(pin: int, on_ms: int) -> bytes:
    """``DLE DC4 1 m t``: executed at once even when the printer is busy; t x 100 ms, t 1..8."""
    if pin not in (2, 5):
        raise ValueError(f"drawer pin must be 2 or 5, got {pin}")
    t = _byte(round(on_ms / 100), "real-time pulse time (x 100 ms)", 1, 8)
    return DLE + b"\x14\x01" + bytes([0 if pin == 2 else 1, t])


def status_query(n: int) -> bytes:
    """``DLE EOT n`` (n = 1..4)."""
    return DLE + b"\x04" + bytes([_byte(n, "status query", 1, 4)])


# --- barcodes ---------------------------------------------------------------------------------

# canonical name -> (GS k "m", valid data, what valid data is in words)
_BARCODES: dict[str, tuple[int, re.Pattern[str], str]] = {
    "UPC-A": (0, re.compile(r"\d{11,12}"), "11 or 12 digits"),
    "UPC-E": (1, re.compile(r"\d{6,8}|\d{11,12}"), "6 to 8, 11 or 12 digits"),
    "EAN13": (2, re.compile(r"\d{12,13}"), "12 or 13 digits"),
    "EAN8": (3, re.compile(r"\d{7,8}"), "7 or 8 digits"),
    "CODE39": (4, re.compile(r"[0-9A-Z $%*+\-./]{1,255}"), "digits, capitals, space and $%*+-./"),
    "ITF": (5, re.compile(r"(\d\d){1,127}"), "an even number of digits"),
    "CODABAR": (6, re.compile(r"[0-9A-Da-d$+\-./:]{1,255}"), "digits, A-D and $+-./:"),
}
_BARCODES_B: dict[str, tuple[int, re.Pattern[str], str]] = {
    "CODE93": (72, re.compile(r"[\x00-\x7f]{1,255}"), "ASCII characters"),
    "CODE128": (73, re.compile(r"[\x00-\x7f]{1,253}"), "ASCII characters"),
}
BARCODE_ALIASES = {
    "UPCA": "UPC-A",
    "UPC_A": "UPC-A",
    "UPCE": "UPC-E",
    "UPC_E": "UPC-E",
    "EAN-13": "EAN13",
    "JAN13": "EAN13",
    "EAN-8": "EAN8",
    "JAN8": "EAN8",
    "CODE-39": "CODE39",
    "NW7": "CODABAR",
    "CODE-93": "CODE93",
    "CODE-128": "CODE128",
}
BARCODE_TYPES = tuple(_BARCODES) + tuple(_BARCODES_B)


def barcode_type(name: str) -> str:
    """Canonical barcode type for an Odoo ``encoding`` attribute (case-insensitive)."""
    upper = name.strip().upper()
    canonical = BARCODE_ALIASES.get(upper, upper)
    if canonical not in BARCODE_TYPES:
        raise ValueError(f"unknown barcode type {name!r} (known: {', '.join(BARCODE_TYPES)})")
    return canonical


def barcode(
    kind: str,
    data: str,
    *,
    height: int = 100,
    module_width: int = 3,
    hri_position: int = 2,
    hri_font: int = 0,
) -> bytes:
    """Setup (``GS h``, ``GS w``, ``GS f``, ``GS H``) and ``GS k``.

    Function A (``GS k m data NUL``) for the classic symbologies, function B (``GS k m n data``)
    for CODE93/CODE128 (CODE128 data without a ``{A``/``{B``/``{C`` prefix gets ``{B``).
    """
    kind = barcode_type(kind)
    setup = (
        GS
        + b"h"
        + bytes([_byte(height, "barcode height", 1, 255)])
        + GS
        + b"w"
        + bytes([_byte(module_width, "barcode module width", 2, 6)])
        + GS
        + b"f"
        + bytes([_byte(hri_font, "barcode text font", 0, 1)])
        + GS
        + b"H"
        + bytes([_byte(hri_position, "barcode text position", 0, 3)])
    )
    if kind in _BARCODES:
        m, pattern, expected = _BARCODES[kind]
        if not pattern.fullmatch(data):
            raise ValueError(f"{kind} barcode needs {expected}, got {data!r}")
        return setup + GS + b"k" + bytes([m]) + data.encode("ascii") + NUL
    m, pattern, expected = _BARCODES_B[kind]
    if kind == "CODE128" and not data.startswith(("{A", "{B", "{C")):
        data = "{B" + data
    if not pattern.fullmatch(data):
        raise ValueError(f"{kind} barcode needs {expected} (at most 255), got {data!r}")
    encoded = data.encode("ascii")
    return setup + GS + b"k" + bytes([m, len(encoded)]) + encoded


# --- QR codes -----------------------------------------------------------------------------------

QR_ERROR_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}
QR_MAX_DATA = 7089  # numeric capacity of a version 40 symbol; printers store at most ~7 KB


def _qr_function(payload: bytes) -> bytes:
    return GS + b"(k" + u16(len(payload), "QR code parameter length") + payload


def qr_code(data: str | bytes, *, module_size: int = 6, error_correction: str = "M") -> bytes:
    """Model 2 QR code with ``GS ( k`` (store, then print)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw:
        raise ValueError("QR code data is empty")
    if len(raw) > QR_MAX_DATA:
        raise ValueError(f"QR code data too long: {len(raw)} bytes (max {QR_MAX_DATA})")
    level = QR_ERROR_LEVELS.get(error_correction.upper())
    if level is None:
        raise ValueError(f"QR error correction must be L, M, Q or H, got {error_correction!r}")
    return (
        _qr_function(b"1A2\x00")
        + _qr_function(b"1C" + bytes([_byte(module_size, "QR module size", 1, 16)]))
        + _qr_function(b"1E" + bytes([level]))
        + _qr_function(b"1P0" + raw)
        + _qr_function(b"1Q0")
    )


# --- styles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextStyle:
    align: Align = "left"
    size: Size = "normal"
    color: Literal["black", "red"] = "black"
    underline: Underline = "off"
    bold: bool = False
    font: Literal["a", "b"] = "a"


def style_commands(style: TextStyle) -> bytes:
    """The whole style as one command string, in Odoo's order: ``ESC !`` resets underline and
    bold, so align/size/colour come first and underline/bold/font after."""
    return (
        align(style.align)
        + size_mode(style.size)
        + color(style.color)
        + underline(style.underline)
        + bold(style.bold)
        + font(style.font)
    )
