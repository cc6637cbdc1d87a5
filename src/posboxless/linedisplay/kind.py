"""The 2×20 pole display (``[customer_display]``) as a device kind (one line in
``posboxless/kinds.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from posboxless.kind import DeviceKind
from posboxless.linedisplay.config import CustomerDisplayConfig, parse_customer_display
from posboxless.settings import Table


def _parse(tables: Sequence[Table]) -> tuple[CustomerDisplayConfig, ...]:
    found = parse_customer_display(tables[0] if tables else None)
    return (found,) if found is not None else ()


def _ports(config: CustomerDisplayConfig) -> list[str]:
    return [config.port] if config.port else []


KIND = DeviceKind(
    key="customer_display",
    package="posboxless.linedisplay",
    parse=_parse,
    ports=_ports,
    config_field="customer_display",
)
