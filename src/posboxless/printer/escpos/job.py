"""What a renderer hands to the printer service: the bytes of one job and its warnings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from posboxless.printer.escpos import encoder

if TYPE_CHECKING:
    from posboxless.printer.profiles import PrinterProfile


@dataclass(frozen=True)
class RenderedJob:
    data: bytes
    warnings: tuple[str, ...] = ()
    """Things that printed differently from what was asked (replaced characters...)."""
    kind: str = "receipt"
    """``receipt``, ``drawer`` or ``ticket``."""


def job_prologue(profile: PrinterProfile) -> bytes:
    """``ESC @``, the profile's code table (once per job) and ``ESC R 0``."""
    return (
        encoder.initialise()
        + encoder.select_code_table(profile.code_table)
        + encoder.international_set(0)
    )
