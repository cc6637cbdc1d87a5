"""Builds the printer services from the ``[[printer]]`` tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from posboxless.device import PrinterService, ServiceContext
from posboxless.printer.config import PrinterConfig, default_printer_name
from posboxless.transports.base import Transport

SIMULATED_PRINTER_NAME = "receipt"


def create_transport(config: PrinterConfig) -> Transport:
    """The transport named by exactly one of ``device``/``usb``/``host``/``serial``/``file``."""
    if config.host is not None:
        from posboxless.transports.tcp import TcpTransport

        return TcpTransport(*config.host)
    if config.usb is not None:
        from posboxless.transports.usb import UsbTransport

        return UsbTransport(
            *config.usb, in_endpoint=config.in_endpoint, out_endpoint=config.out_endpoint
        )
    if config.device is not None:
        from posboxless.transports.usblp import UsblpTransport

        return UsblpTransport(config.device)
    if config.serial is not None:
        from posboxless.transports.serial_port import SerialTransport

        # A receipt image takes seconds at 38400 bps: the write timeout must cover a whole job.
        settings = replace(config.serial_settings, write_timeout=120.0)
        return SerialTransport(config.serial, settings)
    if config.file is not None:
        from posboxless.transports.file import FileTransport

        return FileTransport(config.file)
    raise ValueError(f"printer {config.name!r} has no connection")


def create_printers(
    configs: Sequence[PrinterConfig], ctx: ServiceContext
) -> tuple[dict[str, PrinterService], str | None]:
    from posboxless.printer.service import EscPosPrinterService

    if ctx.simulate:
        return _simulated_printer(ctx)
    printers: dict[str, PrinterService] = {}
    for config in configs:
        printers[config.name] = EscPosPrinterService(config, create_transport(config), ctx.data_dir)
    return printers, default_printer_name(list(configs))


def _simulated_printer(ctx: ServiceContext) -> tuple[dict[str, PrinterService], str | None]:
    """One real printer service on a loopback TCP printer that saves each receipt (text + PNG)
    in ``<data_dir>/simulated-printer/``."""
    from posboxless.printer.service import EscPosPrinterService
    from posboxless.printer.simulator import SimulatedPrinter, TcpPrinterSimulator
    from posboxless.transports.tcp import TcpTransport

    simulator = TcpPrinterSimulator(
        SimulatedPrinter(output_dir=ctx.data_dir / "simulated-printer")
    ).start()
    config = PrinterConfig(
        name=SIMULATED_PRINTER_NAME,
        default=True,
        host=(simulator.host, simulator.port),
        profile="TM-T20III",
    )
    service = EscPosPrinterService(
        config,
        TcpTransport(simulator.host, simulator.port),
        ctx.data_dir,
        on_stop=simulator.stop,
    )
    service.simulator = simulator
    return {SIMULATED_PRINTER_NAME: service}, SIMULATED_PRINTER_NAME
