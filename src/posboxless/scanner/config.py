"""The ``[[scanner]]`` tables. (Owned by the scanner package.)

Each table describes either one scanner or a rule that recognises hot-plugged ones::

    [[scanner]]                  # a keyboard-mode scanner at a fixed path
    name = "counter"
    device = "/dev/input/by-id/usb-Datalogic_Gryphon-event-kbd"
    layout = "fr"                # the layout the scanner is PROGRAMMED for: us, fr, be, de
                                 # (any XKB layout with the optional xkbcommon package)
    suffix = "enter"             # enter (default), tab, or none (ends on 'gap_timeout' silence)

    [[scanner]]                  # a USB-COM / RS-232 scanner
    type = "serial"
    device = "/dev/serial/by-id/usb-Honeywell_1900-if00"
    serial_settings = "9600 8N1"
    suffix = "auto"              # auto (CR, LF or CR LF; default), cr, lf, crlf, tab

    [[scanner]]                  # a rule: any keyboard-mode scanner with this USB id or name
    usb = "05f9:2206"            # or: match = "Gryphon"
    layout = "be"

Keys: ``name``, ``type`` ("evdev" | "serial"; default from the path: ``/dev/input/...`` is evdev,
anything else serial; rules are evdev), ``device``, ``usb``, ``match``, ``layout`` (default "us"),
``suffix``, ``serial_settings`` (default "9600 8N1"), ``grab``, ``gap_timeout`` (seconds; default
0.5, or 0.1 with suffix "none"), ``autodetect``.

``grab`` (keyboard-mode scanners): ``true`` takes the scanner for posboxless alone, so it stops
typing into the desktop; ``false`` reads it alongside the desktop; ``"while-polled"`` takes it only
while a POS scans through the proxy (a ``/hw_proxy/scanner`` long-poll seen in the last seconds)
and gives it back to the browser when the polls stop. Default: true for a table naming a
``device``, ``usb`` or ``match``; "while-polled" for auto-detected scanners (no table, or a table
naming none of them), so that a scanner nobody configured is never taken by surprise.

``autodetect``: also take keyboard devices that look like scanners (name contains
barcode/scanner/reader, or a non-boot HID keyboard interface) and decode them with this table's
settings. It defaults to true for a table that names no device, USB id or match (a bare
``[[scanner]]`` with only ``layout = "fr"`` means "auto-detect scanners, programmed for fr"), and
false otherwise. With no ``[[scanner]]`` table at all, scanners are auto-detected with the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posboxless.scanner.evdev_source import GrabMode
from posboxless.scanner.keymaps import (
    BUILTIN_LAYOUTS,
    UnknownLayout,
    keymap_from_xkb,
    xkb_available,
)
from posboxless.settings import ConfigError, Table, parse_usb_id, serial_settings_format
from posboxless.transports.serial_port import SerialSettings

EVDEV_SUFFIXES = ("enter", "tab", "none")
SERIAL_SUFFIXES = ("auto", "cr", "lf", "crlf", "tab")


@dataclass(frozen=True)
class ScannerConfig:
    name: str
    device: str | None = None
    layout: str = "us"
    type: str = "evdev"
    usb: tuple[int, int] | None = None
    match: str | None = None
    suffix: str = "enter"
    serial_settings: SerialSettings = field(default_factory=SerialSettings)
    grab: GrabMode = "always"
    gap_timeout: float = 0.5
    autodetect: bool = False

    @property
    def is_rule(self) -> bool:
        """Recognises hot-plugged devices rather than naming one path."""
        return self.device is None


def parse_scanners(tables: list[Table]) -> list[ScannerConfig]:
    scanners: list[ScannerConfig] = []
    for t in tables:
        scanners.append(_parse_one(t, default_name=f"scanner{len(scanners) + 1}"))
        t.finish()
    names = [s.name for s in scanners]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError("scanner.name", "a different name for each scanner", name)
    return scanners


def _parse_one(t: Table, default_name: str) -> ScannerConfig:
    name = t.str("name", default_name)
    device = t.str("device", None)
    usb = parse_usb_id(t, "usb")
    match = t.str("match", None)
    if match is not None and not match.strip():
        raise ConfigError(t.key("match"), "part of the scanner's name", match)
    if device is not None and (usb is not None or match is not None):
        raise ConfigError(t.key("device"), "either 'device' or a rule ('usb' / 'match'), not both")
    default_type = "serial" if device and not device.startswith("/dev/input/") else "evdev"
    kind = t.choice("type", ("evdev", "serial"), default_type)
    if kind == "serial" and device is None:
        raise ConfigError(
            t.key("device"),
            "the serial port of a serial scanner (this key is required with type = 'serial')",
        )
    layout = t.str("layout", "us")
    if layout not in BUILTIN_LAYOUTS:
        if not xkb_available():
            raise ConfigError(
                t.key("layout"),
                "one of "
                + ", ".join(map(repr, BUILTIN_LAYOUTS))
                + " (other layouts need the 'xkbcommon' Python package)",
                layout,
            )
        try:
            keymap_from_xkb(layout)
        except UnknownLayout:
            raise ConfigError(t.key("layout"), "an XKB layout name such as 'fr'", layout) from None
    suffixes = SERIAL_SUFFIXES if kind == "serial" else EVDEV_SUFFIXES
    suffix = t.choice("suffix", suffixes, suffixes[0])
    settings_text = t.str("serial_settings", "9600 8N1")
    try:
        settings = SerialSettings.parse(settings_text)
    except ValueError:
        raise ConfigError(
            t.key("serial_settings"), serial_settings_format("9600 8N1"), settings_text
        ) from None
    is_rule = device is None and usb is None and match is None
    grab = _grab_mode(t, "while-polled" if is_rule else "always")
    gap = t.float("gap_timeout", 0.1 if suffix == "none" else 0.5, minimum=0.01, maximum=10.0)
    autodetect = t.bool("autodetect", is_rule)
    return ScannerConfig(
        name=name,
        device=device,
        layout=layout,
        type=kind,
        usb=usb,
        match=match,
        suffix=suffix,
        serial_settings=settings,
        grab=grab,
        gap_timeout=gap,
        autodetect=autodetect,
    )


def _grab_mode(t: Table, default: GrabMode) -> GrabMode:
    value = t.data.get("grab", default)
    t.has("grab")
    if value is True:
        return "always"
    if value is False:
        return "never"
    if value in ("always", "never", "while-polled"):
        return value
    raise ConfigError(t.key("grab"), "true, false or 'while-polled'", value)


_GRAB_WORDS = {
    "always": "always taken from the desktop",
    "never": "never taken (also types into the desktop)",
    "while-polled": "taken only while a POS scans via the proxy, else left to the browser",
}


def describe_grab(configs: list[ScannerConfig] | tuple[ScannerConfig, ...]) -> list[str]:
    """What happens to keyboard-mode scanners, in the words check-config prints."""
    keyboard = [c for c in configs if c.type == "evdev"]
    if not configs:
        return ["keyboard scanners (auto-detected): " + _GRAB_WORDS["while-polled"]]
    return [f"scanner '{c.name}': {_GRAB_WORDS[c.grab]}" for c in keyboard]
