"""The bell as a device kind: ``[[bell]]`` tables, one service each."""

from __future__ import annotations

from collections.abc import Sequence

from posboxless.device import ServiceContext
from posboxless.kind import DeviceKind
from posboxless.settings import ConfigError, Table

from .service import BellConfig, BellService


def parse(tables: Sequence[Table]) -> tuple[BellConfig, ...]:
    bells = []
    for table in tables:
        port = table.str("port", "")
        if not port.startswith("/dev/"):
            raise ConfigError(table.key("port"), "a device path such as /dev/ttyUSB0", port)
        bells.append(BellConfig(table.str("name", "bell"), port))
        table.finish()
    return tuple(bells)


def create(configs: tuple[BellConfig, ...], ctx: ServiceContext) -> list[BellService]:
    return [BellService(config, simulated=ctx.simulate) for config in configs]


KIND = DeviceKind(
    key="bell",
    package=__name__.rpartition(".")[0],
    parse=parse,
    many=True,
    ports=lambda config: [config.port],
    create=create,
)
