"""The ``[[scanner]]`` tables. (Owned by the scanner package.)"""

from __future__ import annotations

from dataclasses import dataclass

from posboxless.settings import Table


@dataclass(frozen=True)
class ScannerConfig:
    name: str
    device: str | None = None
    layout: str = "us"


def parse_scanners(tables: list[Table]) -> list[ScannerConfig]:
    scanners = []
    for t in tables:
        scanners.append(
            ScannerConfig(
                name=t.str("name", f"scanner{len(scanners) + 1}"),
                device=t.str("device", None),
                layout=t.str("layout", "us"),
            )
        )
        t.finish()
    return scanners
