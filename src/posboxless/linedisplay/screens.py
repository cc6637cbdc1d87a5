"""What both pole-display wirings share: the interface the web layer and the wiring use, and the
screen bookkeeping (a display on its own serial port, ``service.PoleDisplayService``, and one on
a printer's display port, ``printer_port.PrinterPortDisplay``)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from posboxless.device import DeviceStatus, PoleDisplaySnapshot
from posboxless.linedisplay.commands import CommandSet
from posboxless.linedisplay.text import Layout, Screen

log = logging.getLogger(__name__)


class PoleDisplay(Protocol):
    """A 2×20 customer pole display service (``status_json`` key ``customer_display``)."""

    kind: str
    name: str
    commands: CommandSet
    layout: Layout

    @property
    def simulator(self) -> object | None:
        """The simulated device in simulate mode (its ``lines`` / ``display_lines``), else None;
        readers use ``snapshot().display_shows``."""
        ...

    @property
    def port(self) -> str:
        """Where it is connected, for people: a serial port, or "printer 'receipt'"."""
        ...

    def status(self) -> DeviceStatus: ...

    def snapshot(self) -> PoleDisplaySnapshot:
        """Cached state, typed and frozen; never blocks."""
        ...

    def details(self) -> dict[str, Any]:
        """The JSON form of ``snapshot()`` (page, support bundle)."""
        ...

    def show(self, lines: list[str]) -> Screen:
        """Make ``lines`` the next screen (the newest wins); never blocks."""
        ...

    def show_welcome(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def snapshot_details(snapshot: PoleDisplaySnapshot, **wiring: Any) -> dict[str, Any]:
    """The JSON form of a pole display's snapshot (page, support bundle): what both wirings
    share, then ``wiring``'s own facts (the serial settings, or the printer it hangs off)."""
    activity = snapshot.activity
    details: dict[str, Any] = {
        "profile": snapshot.profile,
        "port": snapshot.port,
        **wiring,
        "size": f"{snapshot.rows}x{snapshot.width}",
        "code_table": snapshot.code_table,
        "lines": list(snapshot.shown) if snapshot.shown is not None else None,
        "wanted": list(snapshot.wanted),
        "not_shown_characters": snapshot.not_shown_characters,
        "last_ok": activity.last_ok,
        "last_error": activity.last_error,
        "last_error_message": activity.last_error_message,
        "counters": dict(activity.counters),
        "simulated": snapshot.simulated,
    }
    if snapshot.display_shows is not None:
        # what the simulated display made of the bytes (the demo page shows it)
        details["display_shows"] = list(snapshot.display_shows)
    return details


def screen_for(
    name: str, layout: Layout, lines: list[str], previous_replaced: tuple[str, ...]
) -> Screen:
    """``lines`` as the display will show them; logs the characters it cannot show once per
    change (``previous_replaced``: those of the previous message), not once per keystroke."""
    screen = layout.screen(lines)
    if screen.replaced and set(screen.replaced) != set(previous_replaced):
        log.warning(
            "customer display %s cannot show %s (code table %s): shown as %r",
            name,
            ", ".join(repr(c) for c in dict.fromkeys(screen.replaced)),
            layout.codec,
            " / ".join(t.rstrip() for t in screen.text),
        )
    return screen
