"""The barcode scanners as a device kind (one line in ``posboxless/kinds.py``)."""

from __future__ import annotations

from posboxless.kind import DeviceKind
from posboxless.scanner.config import ScannerConfig, parse_scanners


def _ports(config: ScannerConfig) -> list[str]:
    return [config.device] if config.device else []


KIND = DeviceKind(
    key="scanner",
    package="posboxless.scanner",
    parse=lambda tables: tuple(parse_scanners(list(tables))),
    many=True,
    ports=_ports,
    config_field="scanners",
)
