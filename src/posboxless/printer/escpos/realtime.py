"""Real-time ``DLE DC4`` patterns inside job data; ``GS ( D`` switches them off (devices.md §1.9).

An Epson printer executes real-time commands the moment it *receives* their bytes, wherever they
are, raster data included. Of the ``DLE DC4`` functions (Epson ESC/POS reference; TM-T20 quick
reference), two act on the hardware and can be switched off with ``GS ( D`` (fn 20,
``1D 28 44 pL pH 14 [a b]...``):

* fn 1, ``10 14 01 m t`` (m = 0/1, t = 1..8): generate a drawer pulse; enabled at power-on
  (``a = 1``);
* fn 2, ``10 14 02 01 08``: execute the power-off sequence (the printer stops until it is powered
  again); disabled at power-on on the models that have it (``a = 2``).

The others cannot be switched off, and need no guard here: fn 3 (buzzer) is disabled at power-on
and only ``GS ( D`` could enable it; fn 7 (transmit a status) only sends bytes back, which the
worker's reader does not take for ``DLE EOT`` answers; fn 8 (clear buffers) needs the ten fixed
bytes ``10 14 08 01 03 14 01 06 02 08`` (a chance of 2^-80 per position in random data).
``DLE EOT`` (status) and ``DLE ENQ`` are not affected by ``GS ( D`` either: the worker counts the
``DLE EOT`` patterns a job holds (``status.count_status_queries``).

A printer applies ``GS ( D`` when it *processes* it, and some manuals (Wincor TH230) say ``ESC @``
restores the power-on setting: so the switch-off goes right after the job's leading ``ESC @``.
"""

from __future__ import annotations

_DLE_DC4 = b"\x10\x14"
_ESC_AT = b"\x1b@"

# GS ( D pL pH m a b, one function per command: a model that knows fn 1 but not fn 2 ignores
# only the command it does not know.
PULSE_OFF = b"\x1d(D\x03\x00\x14\x01\x00"
PULSE_ON = b"\x1d(D\x03\x00\x14\x01\x01"
POWER_OFF_OFF = b"\x1d(D\x03\x00\x14\x02\x00"

SWITCH_OFF = PULSE_OFF + POWER_OFF_OFF
"""Sent before a job holding real-time patterns."""
SWITCH_BACK = PULSE_ON
"""Sent after it: the power-on values (pulse enabled; power-off stays disabled, its default)."""

HAZARDOUS_FUNCTIONS = (1, 2)


def count_realtime_hazards(data: bytes) -> int:
    """How many ``DLE DC4`` fn 1 (drawer pulse) or fn 2 (power off) patterns ``data`` holds.

    Counted whatever their parameters (a model may accept values another refuses), following the
    printer's receive logic: after a ``10 14`` that is not one of them, the scan goes on at the
    byte after ``10 14``."""
    count = 0
    start = 0
    while (found := data.find(_DLE_DC4, start)) != -1 and found + 2 < len(data):
        if data[found + 2] in HAZARDOUS_FUNCTIONS:
            count += 1
            start = found + 3
        else:
            start = found + 2
    return count


def guard_realtime(data: bytes) -> bytes:
    """``data`` with the dangerous real-time commands switched off for its length.

    The switch-off follows a leading ``ESC @`` (which may restore the power-on setting), the
    switch-back ends the job. Neither holds a ``10`` byte, so no ``DLE EOT`` or ``DLE DC4``
    pattern is created or broken at the joins."""
    if data.startswith(_ESC_AT):
        return _ESC_AT + SWITCH_OFF + data[len(_ESC_AT) :] + SWITCH_BACK
    return SWITCH_OFF + data + SWITCH_BACK
