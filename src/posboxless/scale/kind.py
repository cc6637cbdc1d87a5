"""The scale as a device kind (one line in ``posboxless/kinds.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from posboxless.kind import DeviceKind
from posboxless.scale.config import ScaleConfig, parse_scale
from posboxless.settings import Table


def _parse(tables: Sequence[Table]) -> tuple[ScaleConfig, ...]:
    found = parse_scale(tables[0] if tables else None)
    return (found,) if found is not None else ()


def _ports(config: ScaleConfig) -> list[str]:
    return [config.port] if config.port else []


KIND = DeviceKind(
    key="scale", package="posboxless.scale", parse=_parse, ports=_ports, config_field="scale"
)
