"""The customer display service: one worker thread owns the display's serial port.

The POS sends a message for every key a cashier presses (customer-display.md §3.2: no debouncing),
and a 9600-baud display takes about 20 screens a second. So a message only replaces the wanted
screen and wakes the worker; the worker always writes the newest one, and a burst collapses into
the screens the display had time for, ending with the last. ``show`` never touches the port and
answers at once whatever the display does.

The port stays open; while idle the worker drains what the display sends every ``check_interval``,
which also notices an unplugged device (the read fails), then it reopens the port until the
display is back, and writes the set-up and the current screen again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posboxless.device import (
    Activity,
    DeviceStatus,
    PoleDisplaySimulatorView,
    PoleDisplaySnapshot,
)
from posboxless.linedisplay.commands import CommandSet
from posboxless.linedisplay.screens import screen_for, snapshot_details
from posboxless.linedisplay.text import Layout, Screen
from posboxless.transports.base import Transport, TransportError
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.worker import DeviceWorker

log = logging.getLogger(__name__)

TransportFactory = Callable[[str, SerialSettings], Transport]


@dataclass(frozen=True)
class DisplayTiming:
    retry_min: float = 0.1
    retry_max: float = 2.0
    check_interval: float = 0.5
    """How often an idle worker looks at the port (drains it; notices an unplugged device)."""
    welcome_after: float = 0.0
    """Seconds without a message after which the welcome text comes back (the POS was closed);
    0: never."""
    misses_before_error: int = 2
    """Unanswered messages in a row (with read-after-write) before the status says so."""


@dataclass(frozen=True)
class Shown:
    screen: Screen
    sequence: int


class PoleDisplayService:
    """A 2×20 customer pole display on a serial / USB-serial port."""

    kind = "customer_display"

    def __init__(
        self,
        *,
        name: str = "pole-display",
        port: str,
        settings: SerialSettings,
        commands: CommandSet,
        welcome: tuple[str, ...] = (),
        timing: DisplayTiming | None = None,
        transport_factory: TransportFactory = SerialTransport,
    ) -> None:
        self.name = name
        self.port = port
        self.settings = settings
        self.commands = commands
        self.timing = timing or DisplayTiming()
        self.layout = Layout(
            commands.width, commands.rows, commands.code_table, commands.international
        )
        self.welcome = self.layout.screen(list(welcome))
        self._transport_factory = transport_factory
        self.activity = Activity()
        self.simulator: PoleDisplaySimulatorView | None = None
        """Set by the factory in simulate mode: the simulated display (``.lines``)."""
        self._worker: DeviceWorker[None] = DeviceWorker(
            f"customer display {name}",
            self._connect_and_serve,
            logger=log,
            retry_min=self.timing.retry_min,
            retry_max=self.timing.retry_max,
            status=DeviceStatus("connecting", ("Starting the customer display service",)),
            thread_name=f"display-{name}",
            after_session=self._forget_shown,
            activity=self.activity,
        )
        self._wanted_lock = threading.Lock()
        self._wanted = Shown(self.welcome, 0)
        self._written = -1
        self._taken = -1
        """The newest screen the worker took (written, or being written)."""
        self._shown: Screen | None = None
        self._last_message = time.monotonic()
        self._last_replaced: tuple[str, ...] = ()

    # ---- cached answers (never block) ----------------------------------------------------------

    def status(self) -> DeviceStatus:
        return self._worker.status

    def snapshot(self) -> PoleDisplaySnapshot:
        shown = self._shown
        simulator = self.simulator
        return PoleDisplaySnapshot(
            name=self.name,
            status=self.status(),
            profile=self.commands.profile,
            port=self.port,
            serial_settings=str(self.settings),
            rows=self.commands.rows,
            width=self.commands.width,
            code_table=self.layout.codec,
            shown=tuple(shown.text) if shown is not None else None,
            wanted=tuple(self._wanted.screen.text),
            not_shown_characters="".join(dict.fromkeys(self._last_replaced)) or None,
            simulated=simulator is not None,
            display_shows=tuple(simulator.lines) if simulator is not None else None,
            activity=self.activity.snapshot(),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        return snapshot_details(snapshot, serial_settings=snapshot.serial_settings)

    # ---- messages ------------------------------------------------------------------------------

    def show(self, lines: list[str]) -> Screen:
        """Make ``lines`` the screen to show (the newest wins); returns it as it will appear.
        ``lines`` must not have more entries than the display has rows."""
        screen = screen_for(self.name, self.layout, lines, self._last_replaced)
        self._last_replaced = screen.replaced
        self._set_wanted(screen)
        self.activity.counters["messages"] = self.activity.counters.get("messages", 0) + 1
        return screen

    def show_welcome(self) -> None:
        self._set_wanted(self.welcome)

    def _set_wanted(self, screen: Screen) -> None:
        with self._wanted_lock:
            if self._taken < self._wanted.sequence:  # replaced before the worker took it
                self.activity.counters["collapsed"] = self.activity.counters.get("collapsed", 0) + 1
            self._wanted = Shown(screen, self._wanted.sequence + 1)
            self._last_message = time.monotonic()
        self._worker.wake()

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.shut_down(
            self.settings.write_timeout + 5.0, "Customer display service stopped"
        )

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._worker.on_stop(callback)

    # ---- worker thread ------------------------------------------------------------------------

    def _forget_shown(self) -> None:
        self._shown = None

    def _connect_and_serve(self) -> bool:
        transport = self._transport_factory(self.port, self.settings)
        try:
            transport.open()
        except TransportError as exc:
            self._worker.report("disconnected", str(exc))
            return False
        # a display that was away shows nothing (or something stale): write the screen again
        with self._wanted_lock:
            self._written = self._taken = -1
        try:
            opening = self.commands.opening()
            if opening:
                transport.write(opening)
            return self._serve(transport)
        except TransportError as exc:
            self._failed(exc)
            return False
        finally:
            transport.close()

    def _failed(self, exc: TransportError) -> None:
        text = str(exc)
        if "timeout" in text.lower():
            self._worker.report(
                "error",
                f"The customer display on {self.port} does not take data (write timed out): "
                f"check that it is on, its cable, and the serial settings ({self.settings})",
            )
        else:
            self._worker.report("disconnected", f"Customer display on {self.port}: {text}")

    def _serve(self, transport: Transport) -> bool:
        misses = 0
        answered = False
        if not self.commands.read_after_write:
            self._connected()
        worker = self._worker
        while not worker.stopping:
            if self._written == self._wanted.sequence:
                worker.wait(self.timing.check_interval)  # show() wakes it
            with self._wanted_lock:
                wanted = self._wanted
                self._taken = wanted.sequence
            if worker.stopping:
                break
            if self._written == wanted.sequence:
                transport.read(256, 0)  # drain; raises once the device is gone
                self._idle()
                continue
            transport.write(self.commands.message(list(wanted.screen.data)))
            with self._wanted_lock:
                self._written = wanted.sequence
            self._shown = wanted.screen
            self.activity.ok("shown")
            if self.commands.read_after_write:
                if transport.read(1, self.commands.read_after_write):
                    misses = 0
                    answered = True
                    self._connected()
                else:
                    misses += 1
                    self.activity.counters["no_answer"] = (
                        self.activity.counters.get("no_answer", 0) + 1
                    )
                    if misses >= self.timing.misses_before_error:
                        self._worker.report(
                            "error",
                            f"No answer from the customer display on {self.port} after "
                            f"{misses} messages: check that it is on, its cable and the "
                            f"serial settings ({self.settings}), or set read_after_write = 0",
                        )
        return answered or not self.commands.read_after_write

    def _connected(self) -> None:
        c = self.commands
        self._worker.report(
            "connected",
            f"Connected to the {c.profile} customer display ({c.rows}×{c.width}) on "
            f"{self.port} ({self.settings})",
        )

    def _idle(self) -> None:
        after = self.timing.welcome_after
        if not after:
            return
        with self._wanted_lock:
            quiet = time.monotonic() - self._last_message
            if quiet >= after and self._wanted.screen is not self.welcome:
                log.info(
                    "customer display %s: no message for %.0f s, showing the welcome text",
                    self.name,
                    quiet,
                )
                self._wanted = Shown(self.welcome, self._wanted.sequence + 1)
