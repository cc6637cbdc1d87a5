"""Builds the customer display service from ``[customer_display]`` (or, in simulate mode, on a
simulated display): on its own serial port, or on a printer's display port (``printer = ...``),
then through that printer's service (in simulate mode, the simulated printer's display)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from posboxless.device import PrinterDisplayPort, PrinterService, ServiceContext
from posboxless.linedisplay.config import CustomerDisplayConfig
from posboxless.linedisplay.emulator import DisplayEmulator
from posboxless.linedisplay.printer_port import PrinterPortDisplay
from posboxless.linedisplay.screens import PoleDisplay
from posboxless.linedisplay.service import DisplayTiming, PoleDisplayService
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.printer.simulator import SimulatedPrinter

log = logging.getLogger(__name__)


def centred(lines: tuple[str, ...], width: int) -> tuple[str, ...]:
    return tuple(line.strip().center(width) for line in lines)


def build_service(config: CustomerDisplayConfig) -> PoleDisplayService:
    assert config.port is not None
    return PoleDisplayService(
        name=config.name,
        port=config.port,
        settings=config.serial_settings,
        commands=config.commands,
        welcome=centred(config.welcome, config.commands.width),
        timing=DisplayTiming(welcome_after=config.welcome_after),
    )


def create_customer_display(
    config: CustomerDisplayConfig | None,
    ctx: ServiceContext,
    printers: Mapping[str, PrinterService] | None = None,
) -> PoleDisplay | None:
    if config is not None and config.printer is not None:
        return _through_printer(config, ctx, printers or {})
    if ctx.simulate:
        return create_simulated_display(config or CustomerDisplayConfig())
    if config is None:
        return None
    return build_service(config)


def _through_printer(
    config: CustomerDisplayConfig, ctx: ServiceContext, printers: Mapping[str, PrinterService]
) -> PrinterPortDisplay:
    printer: object = printers.get(config.printer or "")
    if printer is None and ctx.simulate and printers:
        printer = next(iter(printers.values()))  # the simulated printer stands in for it
    if not isinstance(printer, PrinterDisplayPort):
        raise ValueError(
            f"customer display: printer {config.printer!r} has no display port "
            f"(printers: {', '.join(printers) or 'none'})"
        )
    commands = config.commands
    service = PrinterPortDisplay(
        name=config.name,
        printer=printer,
        commands=commands,
        welcome=centred(config.welcome, commands.width),
        welcome_after=config.welcome_after,
        baudrate=config.baudrate,
    )
    control = printer.simulator if isinstance(printer, PrinterService) else None
    simulator = control.printer if control is not None else None
    if isinstance(simulator, SimulatedPrinter):
        # what the simulated printer passes on goes to a display of the configured model
        simulator.display = DisplayEmulator(commands.profile, commands.width, commands.rows)
        service.simulator = simulator
        log.info(
            "simulated %s customer display on the display port of printer '%s'",
            commands.profile,
            printer.name,
        )
    return service


def create_simulated_display(config: CustomerDisplayConfig) -> PoleDisplayService:
    """The real service bound to a pty simulator of the configured profile."""
    commands = config.commands
    simulator = PoleDisplaySimulator(dialect=commands.profile, width=commands.width)
    if commands.read_after_write:
        simulator.answer_byte = b"\x00"
    simulator.start()
    service = build_service(replace(config, port=simulator.port))
    service.simulator = simulator
    service.on_stop(simulator.close)
    log.info("simulated %s customer display on %s", commands.profile, simulator.port)
    return service
