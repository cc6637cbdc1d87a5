"""The payment terminals (``[[payment_terminal]]``) as a device kind (one line in
``posboxless/kinds.py``)."""

from __future__ import annotations

from posboxless.kind import DeviceKind
from posboxless.terminal.config import TerminalConfig, parse_terminals


def _ports(config: TerminalConfig) -> list[str]:
    return [config.port] if config.port else []


KIND = DeviceKind(
    key="payment_terminal",
    package="posboxless.terminal",
    parse=lambda tables: tuple(parse_terminals(list(tables))),
    many=True,
    ports=_ports,
    config_field="terminals",
)
