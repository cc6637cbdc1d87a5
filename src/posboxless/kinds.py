"""The registry of device kinds: one line per kind, in the order the page and ``status_json``
list them. Adding a kind is its package plus one line here (docs/architecture.md)."""

from __future__ import annotations

from posboxless.display import kind as display
from posboxless.kind import DeviceKind
from posboxless.linedisplay import kind as linedisplay
from posboxless.printer import kind as printer
from posboxless.scale import kind as scale
from posboxless.scanner import kind as scanner
from posboxless.terminal import kind as terminal

KINDS: list[DeviceKind] = [
    printer.KIND,
    scale.KIND,
    scanner.KIND,
    linedisplay.KIND,
    display.KIND,
    terminal.KIND,
]


def installed() -> tuple[DeviceKind, ...]:
    """The kinds, read at each call (a test may register one more)."""
    return tuple(KINDS)
