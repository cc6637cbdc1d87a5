"""Printer status: the ``DLE EOT n`` queries and a pure decoder of their answers (devices.md §1.8).

Each query gets one byte back. Answers have bits 1 and 4 set and bits 0 and 7 clear
(``0xx1xx10``); the first byte of an Automatic Status Back frame has bit 1 clear (``0xx1xx00``),
which is how a reader tells an unsolicited ASB frame from the answer it is waiting for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STATUS_QUERIES: tuple[bytes, bytes, bytes, bytes] = (
    b"\x10\x04\x01",  # printer status
    b"\x10\x04\x02",  # offline cause
    b"\x10\x04\x03",  # error cause
    b"\x10\x04\x04",  # roll paper sensor
)

_DLE_EOT = b"\x10\x04"

_ANSWER_MASK = 0x93
_ANSWER_PATTERN = 0x12
_ASB_PATTERN = 0x10


class StatusDecodeError(ValueError):
    """Bytes that are not DLE EOT answers were given to ``decode_status``."""


def count_status_queries(data: bytes) -> int:
    """How many ``DLE EOT n`` (n = 1..4) a printer finds in ``data`` and answers.

    A printer looks for real-time commands in every byte it receives, raster data included
    (devices.md §1.9), so a job can hold "queries" nobody meant to send. The scan follows the
    printer's receive logic: a ``10 04`` whose third byte is not 1..4 is not a query, and that
    third byte is looked at again (it may itself start ``10 04 n``).
    """
    count = 0
    start = 0
    while (found := data.find(_DLE_EOT, start)) != -1 and found + 2 < len(data):
        if 1 <= data[found + 2] <= 4:
            count += 1
            start = found + 3
        else:
            start = found + 2
    return count


def is_status_answer(byte: int) -> bool:
    """True for a DLE EOT answer byte (``0xx1xx10``)."""
    return (byte & _ANSWER_MASK) == _ANSWER_PATTERN


def is_asb_header(byte: int) -> bool:
    """True for the first byte of an Automatic Status Back frame (``0xx1xx00``)."""
    return (byte & _ANSWER_MASK) == _ASB_PATTERN


@dataclass(frozen=True)
class PrinterState:
    online: bool
    cover_open: bool
    paper_near_end: bool
    paper_out: bool
    drawer_pin3_high: bool
    """Level of the drawer switch; whether high means open depends on the drawer."""
    error: str | None

    def messages(self) -> list[str]:
        """Plain words for the cashier; ``[]`` when all is fine."""
        found = []
        if self.cover_open:
            found.append("Cover open")
        if self.paper_out:
            found.append("Paper out")
        if self.error:
            found.append(self.error)
        if not self.online and not found:
            found.append("Printer offline")
        if self.paper_near_end and not self.paper_out:
            found.append("Paper near end")
        return found


def _error_text(offline_cause: int, error_cause: int) -> str | None:
    if error_cause & 0x08:
        return "Paper cutter jammed (clear the jam, then close the cover)"
    if error_cause & 0x20:
        return "Printer error that needs a restart (switch the printer off and on)"
    if error_cause & 0x40:
        return "Print head overheated or cover opened while printing (waiting to recover)"
    if error_cause & 0x04:
        return "Printer mechanism error"
    if offline_cause & 0x40:
        return "Printer error"
    return None


def decode_status(answers: Sequence[int]) -> PrinterState:
    """Decode the answers to ``DLE EOT 1``, ``2``, ``3``, ``4`` (in that order)."""
    if len(answers) != 4:
        raise StatusDecodeError(f"expected 4 status bytes, got {len(answers)}")
    for n, byte in enumerate(answers, start=1):
        if not 0 <= byte <= 255 or not is_status_answer(byte):
            raise StatusDecodeError(f"byte {byte!r} is not an answer to DLE EOT {n}")
    printer, offline, error, paper = answers
    return PrinterState(
        online=not printer & 0x08,
        cover_open=bool(offline & 0x04),
        paper_near_end=bool(paper & 0x0C),
        paper_out=bool(paper & 0x60) or bool(offline & 0x20),
        drawer_pin3_high=bool(printer & 0x04),
        error=_error_text(offline, error),
    )


def decode_asb(frame: Sequence[int]) -> PrinterState:
    """Decode a 4-byte Automatic Status Back frame (``GS a n``)."""
    if len(frame) != 4 or not is_asb_header(frame[0]):
        raise StatusDecodeError(f"not an Automatic Status Back frame: {bytes(frame).hex(' ')}")
    first, second, third, _ = frame
    error_cause = second & 0x6C
    return PrinterState(
        online=not first & 0x08,
        cover_open=bool(first & 0x20),
        paper_near_end=bool(third & 0x03),
        paper_out=bool(third & 0x0C),
        drawer_pin3_high=bool(first & 0x04),
        error=_error_text(0, error_cause),
    )
