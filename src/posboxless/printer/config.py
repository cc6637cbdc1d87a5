"""The ``[[printer]]`` tables.

Example::

    [[printer]]
    name = "receipt"
    default = true
    host = "192.168.1.50:9100"      # or device = "/dev/usb/lp0", usb = "04b8:0202",
                                    # serial = "/dev/ttyUSB0" (+ serial_settings), file = "..."
    profile = "TM-T20III"
    profile_overrides = { width_dots = 512 }
    offline = "wait"                # "wait": answer once printed, or fail (and withdraw the job)
                                    # after answer_timeout; "queue": keep jobs and print them
                                    # later (kitchen printers); "refuse": fail at once when off
    answer_timeout = 8              # seconds a print call waits for the printer's confirmation
    max_queued = 100
    receipt_max_age = 3600          # seconds; older receipts are not printed (marked expired)
    drawer_max_age = 10
    status_interval = 5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from posboxless.printer.escpos.errors import ProfileError
from posboxless.printer.profiles import get_profile
from posboxless.settings import (
    ConfigError,
    Table,
    parse_host_port,
    parse_usb_id,
    serial_settings_format,
)
from posboxless.transports.serial_port import SerialSettings

OfflinePolicy = Literal["wait", "queue", "refuse"]

_CONNECTION_KEYS = ("device", "usb", "host", "serial", "file")


@dataclass(frozen=True)
class PrinterConfig:
    name: str
    default: bool = False
    device: str | None = None
    """Path of a ``usblp`` node: ``/dev/usb/lp0``."""
    usb: tuple[int, int] | None = None
    """Vendor-class USB printer reached through libusb: ``(0x04B8, 0x0202)``."""
    host: tuple[str, int] | None = None
    serial: str | None = None
    serial_settings: SerialSettings = field(default_factory=lambda: SerialSettings(38400))
    file: str | None = None
    profile: str = "generic-80"
    profile_overrides: dict[str, Any] = field(default_factory=dict)
    offline: OfflinePolicy = "wait"
    """What a print call answers when the printer cannot print now: ``wait`` (the default) waits
    up to ``answer_timeout`` for the printed confirmation, then withdraws the job and answers
    failure; ``queue`` keeps receipts to print later and answers "queued"; ``refuse`` answers
    failure at once while the printer is known to be off. Drawer kicks are never kept."""
    answer_timeout: float = 8.0
    """Seconds a print or drawer call waits for the printer; well under browser time-outs."""
    max_queued: int = 100
    receipt_max_age: float = 3600.0
    drawer_max_age: float = 10.0
    status_interval: float = 5.0
    status_timeout: float = 0.5
    status_queries: bool = True
    """False for printers that do not answer DLE EOT: jobs are then sent without checks."""
    startup_ticket: bool = False
    in_endpoint: int | None = None
    out_endpoint: int | None = None

    @property
    def connection(self) -> str:
        """Where the printer is, for messages and the diagnostics page."""
        if self.host:
            return f"{self.host[0]}:{self.host[1]}"
        if self.usb:
            return f"USB {self.usb[0]:04x}:{self.usb[1]:04x}"
        return self.device or self.serial or self.file or "(none)"


def parse_printers(tables: list[Table]) -> list[PrinterConfig]:
    printers = [_parse_printer(t, index) for index, t in enumerate(tables)]
    names = [p.name for p in printers]
    if len(set(names)) != len(names):
        raise ConfigError("printer[].name", "unique printer names", names)
    defaults = [p.name for p in printers if p.default]
    if len(defaults) > 1:
        raise ConfigError("printer[].default", "at most one printer with default = true", defaults)
    return printers


def default_printer_name(printers: list[PrinterConfig] | tuple[PrinterConfig, ...]) -> str | None:
    """The printer with ``default = true``, else the first one."""
    for printer in printers:
        if printer.default:
            return printer.name
    return printers[0].name if printers else None


def _parse_printer(t: Table, index: int) -> PrinterConfig:
    name = t.str("name", f"printer{index + 1}")
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(t.key("name"), "a name of letters, digits, '-' or '_'", name)
    given = [key for key in _CONNECTION_KEYS if t.has(key)]
    if len(given) != 1:
        raise ConfigError(
            t.path,
            "exactly one of device, usb, host, serial, file",
            ", ".join(given) if given else "none",
        )
    settings_text = t.str("serial_settings", None)
    serial_settings = SerialSettings(38400)
    if settings_text is not None:
        try:
            serial_settings = SerialSettings.parse(settings_text)
        except ValueError:
            raise ConfigError(
                t.key("serial_settings"), serial_settings_format("38400 8N1"), settings_text
            ) from None
    overrides_table = t.table("profile_overrides")
    overrides = dict(overrides_table.data) if overrides_table is not None else {}
    profile = t.str("profile", "generic-80")
    try:  # validate now, not at first print
        get_profile(profile, overrides, key=t.key("profile"))
    except ProfileError as exc:
        if exc.has_value:
            raise ConfigError(exc.key, exc.expected, exc.got) from None
        raise ConfigError(exc.key, exc.expected) from None
    config = PrinterConfig(
        name=name,
        default=t.bool("default", False),
        device=t.str("device", None),
        usb=parse_usb_id(t, "usb"),
        host=parse_host_port(t, "host", 9100),
        serial=t.str("serial", None),
        serial_settings=serial_settings,
        file=t.str("file", None),
        profile=profile,
        profile_overrides=overrides,
        offline=t.choice("offline", ("wait", "queue", "refuse"), "wait"),
        answer_timeout=t.float("answer_timeout", 8.0, minimum=0.1, maximum=60),
        max_queued=t.int("max_queued", 100, minimum=1, maximum=100_000),
        receipt_max_age=t.float("receipt_max_age", 3600.0, minimum=1, maximum=7 * 86400),
        drawer_max_age=t.float("drawer_max_age", 10.0, minimum=1, maximum=3600),
        status_interval=t.float("status_interval", 5.0, minimum=0.01, maximum=3600),
        status_timeout=t.float("status_timeout", 0.5, minimum=0.01, maximum=30),
        status_queries=t.bool("status_queries", True),
        startup_ticket=t.bool("startup_ticket", False),
        in_endpoint=t.int("in_endpoint", None, minimum=0x81, maximum=0x8F),
        out_endpoint=t.int("out_endpoint", None, minimum=0x01, maximum=0x0F),
    )
    if (config.in_endpoint or config.out_endpoint) and config.usb is None:
        raise ConfigError(t.key("out_endpoint"), "only with usb = 'vvvv:pppp'")
    t.finish()
    return config
