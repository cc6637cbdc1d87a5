"""What the customer reads: lines fitted to the display and encoded with its code table.

Order matters: characters the table lacks are replaced first (``œ`` -> ``oe``), then each line is
fitted to the width, then encoded, so every row is exactly ``width`` bytes and a replacement can
never push the price off the right edge.

Fitting (customer-display.md §2-3): the POS pads its lines to the width itself (Odoo 12/14 cut the
left part, 8/10 refuse to send otherwise), so a line that is too long comes from somewhere else.
It is shortened the way Odoo 12/14 do: the gap between the left text and a right-aligned amount
shrinks first, then the left text is cut and the amount kept; a line with no right part is cut.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from posboxless.printer.escpos.codepages import CODE_TABLES, TextEncoder

REPLACEMENT = "?"

# What a customer would write without the letter, when the table lacks it. Wider than one
# character on purpose: fitting comes afterwards.
_SPELLED = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "€": "EUR",
    "£": "GBP",
    "×": "x",
    "…": "...",
}

# Under the French international character set these ASCII bytes show à ° ç § é ù è ¨
# (ESC R 1, and the Aures "France" set-up): the characters themselves cannot be shown.
_FRANCE_TAKEN = {
    "@": "a",
    "[": "(",
    "]": ")",
    "\\": "/",
    "{": "(",
    "}": ")",
    "|": "!",
    "~": "-",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_GAP = re.compile(r" {2,}")


@dataclass(frozen=True)
class Screen:
    """Rows as the customer will read them (``text``) and as they are sent (``data``)."""

    text: tuple[str, ...]
    data: tuple[bytes, ...]
    replaced: tuple[str, ...]
    """Characters the display cannot show, in order (for the warning)."""


def codec_for(code_table: int | None) -> str:
    if code_table is None:
        return "ascii"
    try:
        return CODE_TABLES[code_table]
    except KeyError:
        raise ValueError(
            f"code table {code_table} is unknown; known: {', '.join(map(str, CODE_TABLES))}"
        ) from None


class Layout:
    """Fits and encodes lines for one display (width, rows, code table, character set)."""

    def __init__(
        self, width: int = 20, rows: int = 2, code_table: int | None = 19, international: str = ""
    ) -> None:
        self.width = width
        self.rows = rows
        self.codec = codec_for(code_table)
        self.france = international == "france"
        self._encoder = TextEncoder(self.codec)
        self._cache: dict[str, str | None] = {}
        self._plain: set[str] = set()
        """Characters known to be shown as they are (a subset of the cache)."""

    def screen(self, lines: list[str]) -> Screen:
        """``lines`` beyond the display's rows must have been refused by the caller; missing
        rows are blank."""
        replaced: list[str] = []
        text = []
        for index in range(self.rows):
            line = lines[index] if index < len(lines) else ""
            text.append(fit(self.showable(line, replaced), self.width))
        data = tuple(row.encode(self.codec) for row in text)
        return Screen(tuple(text), data, tuple(replaced))

    def showable(self, line: str, replaced: list[str]) -> str:
        """``line`` with every character the display cannot show replaced (and listed)."""
        line = unicodedata.normalize("NFC", line)
        # A message per keystroke: a line of characters already seen as plain is checked in C
        if self._plain.issuperset(line):
            return line
        out = []
        for char in line:
            substitute = self._substitute(char)
            if substitute is None:
                out.append(char)
            else:
                if char != "\t":
                    replaced.append(char)
                out.append(substitute)
        return "".join(out)

    def _substitute(self, char: str) -> str | None:
        if char in self._cache:
            return self._cache[char]
        result: str | None = None
        if char == "\t":
            result = " "
        elif _CONTROL.match(char):
            # a control character would be executed by the display as a command
            result = REPLACEMENT
        elif self.france and char in _FRANCE_TAKEN:
            result = _FRANCE_TAKEN[char]
        else:
            try:
                char.encode(self.codec)
            except UnicodeEncodeError:
                result = self._nearest(char)
        if len(self._cache) < 4096:
            self._cache[char] = result
            if result is None:
                self._plain.add(char)
        return result

    def _nearest(self, char: str) -> str:
        spelled = _SPELLED.get(char)
        if spelled is not None and self._encodable(spelled):
            return spelled
        # the printer's fallback: look-alikes and letters without their accents, else "?"
        substitute = self._encoder.encode(char).data.decode(self.codec)
        if self.france and substitute in _FRANCE_TAKEN:
            return _FRANCE_TAKEN[substitute]
        return substitute

    def _encodable(self, text: str) -> bool:
        try:
            text.encode(self.codec)
        except UnicodeEncodeError:
            return False
        return not (self.france and any(c in _FRANCE_TAKEN for c in text))


def fit(line: str, width: int) -> str:
    """``line`` made exactly ``width`` characters: padded with spaces, or shortened keeping a
    right-aligned part (an amount, after a gap of two spaces or more) whole."""
    line = line.rstrip()
    if len(line) <= width:
        return line.ljust(width)
    gaps = list(_GAP.finditer(line))
    if not gaps:
        return line[:width]
    gap = gaps[-1]
    left, right = line[: gap.start()], line[gap.end() :]
    if len(right) >= width - 1:
        return line[:width]
    keep = width - len(right) - 1
    return left[:keep].rstrip().ljust(keep) + " " + right
