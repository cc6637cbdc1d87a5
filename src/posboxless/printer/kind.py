"""The printer as a device kind (one line in ``posboxless/kinds.py``)."""

from __future__ import annotations

from posboxless.kind import DeviceKind
from posboxless.printer.config import PrinterConfig, parse_printers


def _ports(config: PrinterConfig) -> list[str]:
    return [port for port in (config.device, config.serial) if port]


KIND = DeviceKind(
    key="printer",
    package="posboxless.printer",
    parse=lambda tables: tuple(parse_printers(list(tables))),
    many=True,
    ports=_ports,
    config_field="printers",
)
