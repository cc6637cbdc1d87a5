"""ESC/POS character code tables (``ESC t n``) and the one-table text encoder.

A receipt is printed with ONE code table chosen by the printer profile (devices.md §1.3): switching
tables per character (python-escpos' "magic encode", Odoo's cascade) prints the euro sign from the
Greek table and surprises everyone. A character the table lacks is replaced and reported.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

# Epson numbering (TM-T20II / TM-T88V). Only single-byte tables that Python has a codec for.
CODE_TABLES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    13: "cp857",
    14: "cp737",
    15: "iso8859_7",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    32: "cp720",
    36: "cp862",
    39: "iso8859_2",
    40: "iso8859_15",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
}

REPLACEMENT = "?"

# Look-alikes tried when a table lacks a character and Unicode decomposition does not help.
# The narrow no-break space is what French number formatting puts between thousands.
_LOOKALIKES = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "ı": "i",
    "Ø": "O",
    "ø": "o",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "*",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
}

# Printable means: not a C0/C1 control character. Control characters inside receipt text would be
# executed by the printer as commands (an ESC in a receipt footer could reset or cut the paper).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def canonical_codec(name: str) -> str:
    """The Python codec name for ``name``; raises ``LookupError`` if unknown."""
    return codecs.lookup(name).name


def is_single_byte(codec: str) -> bool:
    """True when the codec maps every byte to one character (ESC/POS tables are 8-bit): each
    byte alone decodes to one character, and lead-byte pairs of UTF-8 / Shift-JIS / GBK do not
    merge into one."""
    try:
        singles = [bytes([b]).decode(codec, errors="replace") for b in range(256)]
        pairs = [bytes(p).decode(codec, errors="replace") for p in _MULTIBYTE_PROBES]
    except (LookupError, TypeError):
        return False
    return all(len(c) == 1 for c in singles) and all(len(p) == 2 for p in pairs)


_MULTIBYTE_PROBES = ((0xC3, 0xA9), (0x82, 0xA0), (0xB0, 0xA1), (0xE4, 0x40))


@dataclass(frozen=True)
class Encoded:
    data: bytes
    replaced: tuple[str, ...]
    """The characters that the code table could not represent, in order of appearance."""


class TextEncoder:
    """Encodes text for one code table. An unencodable character becomes its unaccented base
    letter or a look-alike (``ź`` -> ``z``, ``ł`` -> ``l``), else ``?``, and is reported."""

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self._cache: dict[str, tuple[bytes, bool]] = {}

    def encode(self, text: str) -> Encoded:
        replaced: list[str] = []
        if _CONTROL.search(text):
            text = _CONTROL.sub(lambda m: self._control(m.group(), replaced), text)
        try:
            return Encoded(text.encode(self.codec), tuple(replaced))
        except UnicodeEncodeError:
            pass
        out = bytearray()
        for char in text:
            out += self._char(char, replaced)
        return Encoded(bytes(out), tuple(replaced))

    def _control(self, char: str, replaced: list[str]) -> str:
        if char == "\t":
            return " "
        if char == "\r":
            return ""
        replaced.append(char)
        return REPLACEMENT

    def _char(self, char: str, replaced: list[str]) -> bytes:
        cached = self._cache.get(char)
        if cached is None:
            try:
                cached = (char.encode(self.codec), False)
            except UnicodeEncodeError:
                cached = (self._fallback(char), True)
            self._cache[char] = cached
        data, was_replaced = cached
        if was_replaced:
            replaced.append(char)
        return data

    def _fallback(self, char: str) -> bytes:
        lookalike = _LOOKALIKES.get(char)
        if lookalike is not None:
            try:
                return lookalike.encode(self.codec)
            except UnicodeEncodeError:
                pass
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if base and base != char:
            try:
                return base.encode(self.codec)
            except UnicodeEncodeError:
                pass
        return REPLACEMENT.encode(self.codec)


def describe_replacements(replaced: tuple[str, ...], codec: str) -> str:
    unique = list(dict.fromkeys(replaced))
    shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unique[:10])
    more = f" and {len(unique) - 10} more" if len(unique) > 10 else ""
    return f"{len(replaced)} character(s) not printable with code table {codec}: {shown}{more}"
