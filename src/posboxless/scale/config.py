"""The ``[scale]`` table. (Owned by the scale package.)"""

from __future__ import annotations

from dataclasses import dataclass

from posboxless.settings import Table


@dataclass(frozen=True)
class ScaleConfig:
    port: str | None = None
    protocol: str = "toledo8217"


def parse_scale(table: Table | None) -> ScaleConfig | None:
    if table is None:
        return None
    config = ScaleConfig(
        port=table.str("port", None),
        protocol=table.choice("protocol", ["toledo8217", "adam"], "toledo8217"),
    )
    table.finish()
    return config
