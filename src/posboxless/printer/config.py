"""The ``[[printer]]`` tables. (Owned by the printer package; extended as printing grows.)"""

from __future__ import annotations

from dataclasses import dataclass

from posboxless.settings import ConfigError, Table


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    default: bool = False
    device: str | None = None
    """Device path: ``/dev/usb/lp0`` (usblp node) or a serial port."""
    usb: tuple[int, int] | None = None
    host: tuple[str, int] | None = None
    profile: str = "generic-80"


def parse_printers(tables: list[Table]) -> list[PrinterConfig]:
    from posboxless.settings import parse_host_port, parse_usb_id

    printers = []
    for t in tables:
        printers.append(
            PrinterConfig(
                name=t.str("name", f"printer{len(printers) + 1}"),
                default=t.bool("default", False),
                device=t.str("device", None),
                usb=parse_usb_id(t, "usb"),
                host=parse_host_port(t, "host", 9100),
                profile=t.str("profile", "generic-80"),
            )
        )
        t.finish()
    names = [p.name for p in printers]
    if len(set(names)) != len(names):
        raise ConfigError("printer[].name", "unique printer names", names)
    return printers
