"""Small fixed jobs: the cash-drawer kick and plain text tickets (status, test page)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from posboxless.printer.escpos import encoder
from posboxless.printer.escpos.codepages import TextEncoder, describe_replacements
from posboxless.printer.escpos.job import RenderedJob, job_prologue

if TYPE_CHECKING:
    from posboxless.printer.profiles import PrinterProfile


def render_drawer_kick(profile: PrinterProfile) -> RenderedJob:
    """``ESC = 1`` then one complete ``ESC p m t1 t2`` per configured pin."""
    data = encoder.select_peripheral(1) + b"".join(
        encoder.drawer_pulse(pin, profile.drawer_on_ms, profile.drawer_off_ms)
        for pin in profile.drawer_pins
    )
    return RenderedJob(data=data, kind="drawer")


def _wrapped(line: str, columns: int) -> list[str]:
    """Printed lines at word boundaries: the printer itself would break a long line anywhere,
    mid-word (a warning on the test page is read over the phone)."""
    out: list[str] = []
    for physical in line.split("\n"):
        if len(physical) <= columns:
            out.append(physical)  # as written, leading spaces included
        else:
            out += textwrap.wrap(physical, columns, break_on_hyphens=False)
    return out


def render_text_ticket(
    lines: Sequence[str], profile: PrinterProfile, *, title: str | None = None
) -> RenderedJob:
    """A plain ticket: optional centred bold double-size title, then the lines, then a cut."""
    text = TextEncoder(profile.encoding)
    out = bytearray(job_prologue(profile))
    replaced: list[str] = []
    if title:
        encoded = text.encode(title)
        replaced += encoded.replaced
        out += encoder.align("center") + encoder.size_mode("double") + encoder.bold(True)
        out += encoded.data + encoder.LF
        out += encoder.size_mode("normal") + encoder.bold(False) + encoder.align("left")
        out += encoder.LF
    for line in lines:
        for physical in _wrapped(line, profile.columns):
            encoded = text.encode(physical)
            replaced += encoded.replaced
            out += encoded.data + encoder.LF
    out += encoder.cut(profile.cut)
    warnings: tuple[str, ...] = ()
    if replaced:
        warnings = (describe_replacements(tuple(replaced), profile.encoding),)
    return RenderedJob(data=bytes(out), warnings=warnings, kind="ticket")
