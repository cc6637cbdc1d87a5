"""Wiring: builds every device service from the configuration.

Each device package exposes one factory; this module only collects what they build. The kinds
older than the registry (``posboxless/kinds.py``) have typed fields, built here (the pole display
may hang off a printer); any other kind is built by its ``DeviceKind.create`` into ``others``.
In simulated mode the factories build the real services bound to the project's device
simulators, so the demo exercises the same code paths as a real till.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from posboxless import kinds
from posboxless.config import Config
from posboxless.device import (
    DeviceService,
    PrinterService,
    ScaleService,
    ScannerService,
    ServiceContext,
)
from posboxless.display.service import DisplayService
from posboxless.linedisplay.factory import create_customer_display
from posboxless.linedisplay.screens import PoleDisplay
from posboxless.printer.factory import create_printers
from posboxless.printer.selection import PrinterSelection
from posboxless.scale.factory import create_scale
from posboxless.scanner.factory import create_scanner
from posboxless.terminal.factory import create_terminals
from posboxless.terminal.registry import Terminals

log = logging.getLogger(__name__)


@dataclass
class Services:
    printers: dict[str, PrinterService] = field(default_factory=dict)
    default_printer_name: str | None = None
    scale: ScaleService | None = None
    scanner: ScannerService | None = None
    display: DisplayService = field(default_factory=DisplayService)
    terminals: Terminals = field(default_factory=Terminals)
    customer_display: PoleDisplay | None = None
    """The 2×20 pole display (``display`` is Odoo 12-18's HTML customer screen)."""
    others: dict[str, list[DeviceService]] = field(default_factory=dict)
    """The services of the kinds without a field above (``DeviceKind.create``), by the kind's
    key: a kind added to the registry needs no field here."""

    def printer_selection(
        self, is_local: Callable[[str], bool] | None = None
    ) -> PrinterSelection[PrinterService]:
        """The printers with the one rule that chooses among them (``printer/selection.py``):
        by name, by ``Host`` (``is_local`` says which hosts are this machine's) or by ePOS id."""
        if is_local is None:
            return PrinterSelection(self.printers, self.default_printer_name)
        return PrinterSelection(self.printers, self.default_printer_name, is_local)

    @property
    def default_printer(self) -> PrinterService | None:
        return self.printer_selection().default

    def all(self) -> list[DeviceService]:
        devices: list[DeviceService] = list(self.printers.values())
        devices += [d for d in (self.scale, self.scanner, self.customer_display) if d is not None]
        devices.append(self.display)
        devices += self.terminals.all()
        for others in self.others.values():
            devices += others
        return devices

    def of_kind(self, key: str) -> list[DeviceService]:
        """The services of one kind (``DeviceKind.key``)."""
        return [device for device in self.all() if device.kind == key]

    async def start(self) -> None:
        for device in self.all():
            await device.start()

    async def stop(self) -> None:
        results = await asyncio.gather(
            *(device.stop() for device in self.all()), return_exceptions=True
        )
        for device, result in zip(self.all(), results, strict=False):
            if isinstance(result, BaseException):
                log.error("stopping %s %s failed: %s", device.kind, device.name, result)


def claimed_serial_ports(config: Config) -> frozenset[str]:
    return frozenset(
        port
        for kind in kinds.installed()
        for device in config.configs_of(kind)
        for port in kind.ports(device)
    )


def build_services(config: Config) -> Services:
    ctx = ServiceContext(
        data_dir=config.server.data_dir,
        simulate=config.simulate,
        claimed_serial_ports=claimed_serial_ports(config),
    )
    printers, default_name = create_printers(config.printers, ctx)
    return Services(
        printers=printers,
        default_printer_name=default_name,
        scale=create_scale(config.scale, ctx),
        scanner=create_scanner(config.scanners, ctx),
        display=DisplayService(),
        terminals=create_terminals(config.terminals, ctx),
        customer_display=create_customer_display(config.customer_display, ctx, printers),
        others={
            kind.key: list(kind.create(config.configs_of(kind), ctx))
            for kind in kinds.installed()
            if kind.create is not None
        },
    )
