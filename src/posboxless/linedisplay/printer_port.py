"""A pole display wired through an Epson printer's display port (DM-D110/D210 pass-through).

The printer's worker owns the link, so this service has no thread and no transport: ``show``
fits and encodes the lines as the serial display service does (``screens``, ``text.Layout``),
builds the display's frame with the same command set, and hands it to the printer's display
channel (``PrinterDisplayPort.show_on_display``), which keeps only the newest and writes it
between jobs, never into the print journal, no faster than the display's line (``baudrate``)
takes it: a burst of messages collapses to the latest screens. Its status follows the
printer's: a printer that is unplugged or silent takes the display with it, and the POS is told
so.

The welcome text comes back after ``welcome_after`` seconds without a message (the POS was
closed), from a timer on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Protocol

from posboxless.device import (
    Activity,
    DeviceStatus,
    PoleDisplaySnapshot,
    PrinterDisplayPort,
    StatusName,
)
from posboxless.linedisplay.commands import CommandSet
from posboxless.linedisplay.screens import screen_for, snapshot_details
from posboxless.linedisplay.text import Layout, Screen

log = logging.getLogger(__name__)


class PrinterDisplaySimulatorView(Protocol):
    @property
    def display_lines(self) -> list[str]:
        """What the display on the simulated printer's display port shows."""
        ...


class PrinterPortDisplay:
    """A 2×20 customer display on the display port of ``printer``."""

    kind = "customer_display"

    def __init__(
        self,
        *,
        name: str = "pole-display",
        printer: PrinterDisplayPort,
        commands: CommandSet,
        welcome: tuple[str, ...] = (),
        welcome_after: float = 0.0,
        baudrate: int = 9600,
    ) -> None:
        self.name = name
        self.printer = printer
        self.baudrate = baudrate
        """The display's line speed behind the printer: frames are paced to it."""
        self.commands = commands
        self.welcome_after = welcome_after
        self.layout = Layout(
            commands.width, commands.rows, commands.code_table, commands.international
        )
        self.welcome = self.layout.screen(list(welcome))
        self.activity = Activity()
        self.simulator: PrinterDisplaySimulatorView | None = None
        """Set in simulate mode: the simulated printer (``.display_lines``)."""
        self._wanted: Screen = self.welcome
        self._number = 0
        """The printer channel's number of ``_wanted``."""
        self._shown: tuple[int, Screen] | None = None
        self._last_replaced: tuple[str, ...] = ()
        self._last_message = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None
        self._started = False

    @property
    def port(self) -> str:
        return f"printer '{self.printer.name}'"

    # ---- cached answers (never block) ----------------------------------------------------------

    def status(self) -> DeviceStatus:
        if not self._started:
            return DeviceStatus("disconnected", ("Customer display service stopped",))
        state = self.printer.display_port()
        printer = state.printer_status
        where = f"printer '{state.printer}' ({state.connection})"
        if state.writable:
            c = self.commands
            return DeviceStatus(
                "connected",
                (
                    f"Connected to the {c.profile} customer display ({c.rows}×{c.width}) on the "
                    f"display port of {where}",
                ),
            )
        problem = "; ".join(printer.messages) or printer.status
        if printer.status == "connecting":
            return DeviceStatus("connecting", (f"Waiting for {where}: {problem}",))
        # "error": silent, or holding a job it cannot print (paper out...); else unplugged
        status: StatusName = "error" if printer.status == "error" else "disconnected"
        return DeviceStatus(
            status,
            (
                f"The customer display is wired through {where}, which cannot pass it data "
                f"now ({problem}); it will show the latest text when the printer is back",
            ),
        )

    def snapshot(self) -> PoleDisplaySnapshot:
        state = self.printer.display_port()
        shown = self._shown_screen(state.written)
        simulator = self.simulator
        activity = self.activity.snapshot()
        # the serial service's vocabulary: messages, screens shown, screens collapsed
        counters = {**activity.counters, "shown": state.writes, "collapsed": state.collapsed}
        return PoleDisplaySnapshot(
            name=self.name,
            status=self.status(),
            profile=self.commands.profile,
            port=self.port,
            rows=self.commands.rows,
            width=self.commands.width,
            code_table=self.layout.codec,
            shown=tuple(shown.text) if shown is not None else None,
            wanted=tuple(self._wanted.text),
            not_shown_characters="".join(dict.fromkeys(self._last_replaced)) or None,
            simulated=simulator is not None,
            display_shows=tuple(simulator.display_lines) if simulator is not None else None,
            printer=state.printer,
            printer_connection=state.connection,
            printer_status=state.printer_status,
            activity=replace(activity, counters=MappingProxyType(counters)),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        printer_status = snapshot.printer_status
        return snapshot_details(
            snapshot,
            printer=snapshot.printer,
            printer_connection=snapshot.printer_connection,
            printer_status=printer_status.as_json() if printer_status is not None else None,
        )

    def _shown_screen(self, written: int) -> Screen | None:
        """The screen the display shows, as far as this service knows (None after a
        reconnection until the frame is written again)."""
        if written and written >= self._number:
            self._shown = (self._number, self._wanted)
        shown = self._shown
        if shown is None or not written or written < shown[0]:
            return None
        return shown[1]

    # ---- messages ------------------------------------------------------------------------------

    def show(self, lines: list[str]) -> Screen:
        """Make ``lines`` the screen to show (the newest wins); returns it as it will appear."""
        screen = screen_for(self.name, self.layout, lines, self._last_replaced)
        self._last_replaced = screen.replaced
        self._last_message = time.monotonic()
        self._offer(screen)
        self.activity.counters["messages"] = self.activity.counters.get("messages", 0) + 1
        return screen

    def show_welcome(self) -> None:
        self._offer(self.welcome)

    def _offer(self, screen: Screen) -> None:
        frame = self.commands.opening() + self.commands.message(list(screen.data))
        self._wanted = screen
        self._number = self.printer.show_on_display(frame, self.baudrate)
        self.activity.ok()

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._last_message = time.monotonic()
        self._offer(self._wanted)  # the welcome text (or the last screen after a restart)
        log.info(
            "customer display %s: on the display port of printer '%s'",
            self.name,
            self.printer.name,
        )
        self._arm(self.welcome_after)

    async def stop(self) -> None:
        self._started = False
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _arm(self, delay: float) -> None:
        if not self.welcome_after or not self._started:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: no idle welcome
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self._check_idle)

    def _check_idle(self) -> None:
        """The POS is gone quiet for ``welcome_after`` seconds: back to the welcome text."""
        self._timer = None
        quiet = time.monotonic() - self._last_message
        if quiet >= self.welcome_after:
            if self._wanted is not self.welcome:
                log.info(
                    "customer display %s: no message for %.0f s, showing the welcome text",
                    self.name,
                    quiet,
                )
                self.show_welcome()
            self._last_message = time.monotonic()
            self._arm(self.welcome_after)
        else:
            self._arm(self.welcome_after - quiet)
