"""Serial scanner framing: bytes in, barcodes out (sans-I/O).

A serial (USB-COM / RS-232) scanner sends the code in ASCII followed by a suffix, usually CR, LF or
CR LF. With ``auto`` any of the three ends a code (CR LF counts once because empty lines are
skipped). CR and LF never belong to a barcode, so they are removed wherever they appear; other
control characters are removed too, except GS (0x1D), the GS1 field separator.
"""

from __future__ import annotations

from typing import Literal

SerialSuffix = Literal["auto", "cr", "lf", "crlf", "tab"]

_TERMINATORS: dict[str, tuple[bytes, ...]] = {
    "auto": (b"\r", b"\n"),
    "cr": (b"\r",),
    "lf": (b"\n",),
    "crlf": (b"\r\n",),
    "tab": (b"\t",),
}
_GS = "\x1d"


class LineSplitter:
    def __init__(self, suffix: SerialSuffix = "auto", *, max_length: int = 4096) -> None:
        self.suffix = suffix
        self.max_length = max_length
        self._terminators = _TERMINATORS[suffix]
        self._buffer = bytearray()
        self.dropped = 0
        """Codes dropped for being longer than ``max_length`` without a suffix."""

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)

    def feed(self, data: bytes) -> list[str]:
        """Takes received bytes; returns the codes they completed, in order."""
        self._buffer += data
        codes: list[str] = []
        while True:
            cut = self._find_terminator()
            if cut is None:
                break
            end, length = cut
            line = bytes(self._buffer[:end])
            del self._buffer[: end + length]
            code = clean(line)
            if code:
                codes.append(code)
        if len(self._buffer) > self.max_length:
            self._buffer.clear()
            self.dropped += 1
        return codes

    def reset(self) -> None:
        self._buffer.clear()

    def _find_terminator(self) -> tuple[int, int] | None:
        found = [(i, len(t)) for t in self._terminators if (i := self._buffer.find(t)) >= 0]
        return min(found) if found else None


def clean(line: bytes) -> str:
    """Bytes of one code -> text: UTF-8 when valid (QR codes carry it), else Latin-1; control
    characters removed except GS."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("latin-1")
    return "".join(c for c in text if c == _GS or (c.isprintable() and c not in "\r\n"))
