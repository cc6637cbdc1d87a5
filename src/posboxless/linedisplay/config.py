"""The ``[customer_display]`` table: a 2×20 pole display. (Owned by the linedisplay package.)

Example::

    [customer_display]
    port = "/dev/serial/by-id/usb-Prolific_...-port0"   # or /dev/ttyUSB0
    profile = "epson"            # epson (DM-D110/D210 and clones), bixolon, aures
    serial_settings = "9600 8N1"
    welcome = ["Welcome!", ""]   # shown at start and after welcome_after seconds of silence
    # per-field overrides of the profile:
    # width = 20
    # code_table = 19            # Epson ESC t number (19 PC858, 16 WPC1252), or "ascii"
    # setup = "02 05 43 31 03"   # hex, once after opening
    # init = "1F 43 00"          # hex, before every message
    # clear = "0C"
    # goto = "epson"             # or "cd5220" (ESC l x y)
    # international = "usa"      # or "france"
    # read_after_write = 0.0     # seconds to wait for one byte after each message

A display wired through an Epson printer's display port (DM-D110/D210 "pass-through": the PC
talks to the printer, ``ESC = 2`` / ``ESC = 1`` switch between display and printer) names that
printer instead of a port; it then has no serial settings of its own::

    [customer_display]
    printer = "receipt"          # the name of a [[printer]]
    baudrate = 9600              # the display's line speed behind the printer

The printer passes display data on at the display's own line speed, which the PC cannot see:
``baudrate`` (only with ``printer``; default 9600, the DM-D110/D210 default) paces the frames so
that a burst of messages collapses instead of filling the printer's receive buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from posboxless.linedisplay import commands
from posboxless.linedisplay.commands import CommandError, CommandSet
from posboxless.linedisplay.text import codec_for
from posboxless.printer.display_port import frame_problem
from posboxless.settings import ConfigError, Table
from posboxless.transports.serial_port import SerialSettings

PROFILE_NAMES = tuple(commands.PROFILES)
DEFAULT_WELCOME = ("Welcome!", "")
# Odoo 8's box module gave up on a display after 2 s; longer would only delay the next screen.
DEFAULT_SETTINGS = SerialSettings(write_timeout=2.0)


@dataclass(frozen=True)
class CustomerDisplayConfig:
    port: str | None = None
    """A device path (``/dev/serial/by-id/...``, ``/dev/ttyUSB0``) or a pyserial URL."""
    printer: str | None = None
    """Instead of ``port``: the ``[[printer]]`` whose display port the display hangs off."""
    commands: CommandSet = commands.PROFILES["epson"]
    serial_settings: SerialSettings = DEFAULT_SETTINGS
    welcome: tuple[str, ...] = DEFAULT_WELCOME
    welcome_after: float = 300.0
    name: str = "pole-display"
    baudrate: int = 9600
    """With ``printer``: the display's line speed behind the printer (frames are paced to it)."""

    @property
    def profile(self) -> str:
        return self.commands.profile


def _hex(table: Table, name: str) -> bytes | None:
    text = table.str(name, None)
    if text is None:
        return None
    try:
        return commands.parse_hex(text)
    except CommandError:
        raise ConfigError(table.key(name), "bytes in hexadecimal like '1F 43 00'", text) from None


def _code_table(table: Table, default: int | None) -> int | None:
    if not table.has("code_table"):
        return default
    value = table.data["code_table"]  # an integer, or "ascii"
    if value == "ascii":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(table.key("code_table"), "an ESC t number (e.g. 19) or 'ascii'", value)
    try:
        codec_for(value)
    except ValueError as exc:
        raise ConfigError(table.key("code_table"), str(exc), value) from None
    result: int = value
    return result


_PORT_ONLY = ("serial_settings", "write_timeout", "read_after_write")
"""Keys of a display on its own port; through a printer its link is the printer's."""


def _through_printer(table: Table) -> str | None:
    port, printer = table.str("port", None), table.str("printer", None)
    if port is not None and printer is not None:
        raise ConfigError(
            table.key("printer"), "either port (its own serial port) or printer, not both", printer
        )
    if port is None and printer is None:
        raise ConfigError(
            table.key("port"),
            "the display's serial port, e.g. '/dev/serial/by-id/usb-...', or printer = "
            "'<name of a [[printer]]>' for a display on a printer's display port",
        )
    if printer is not None:
        if not printer:
            raise ConfigError(table.key("printer"), "the name of a [[printer]]", printer)
        for key in _PORT_ONLY:
            if table.has(key):
                raise ConfigError(
                    table.key(key),
                    f"no {key} with printer = {printer!r}: the display is reached through the "
                    "printer's own connection",
                    table.data[key],
                )
    elif table.has("baudrate"):
        raise ConfigError(
            table.key("baudrate"),
            "no baudrate with port: a display on its own port takes serial_settings",
            table.data["baudrate"],
        )
    return printer


def _check_through_printer(table: Table, command_set: CommandSet) -> None:
    """Command bytes a printer would act on while it passes them to the display."""
    for key in ("setup", "init", "clear"):
        problem = frame_problem(getattr(command_set, key))
        if problem is not None:
            raise ConfigError(table.key(key), f"display bytes ({problem})", table.data.get(key))
    blank = [b" " * command_set.width] * command_set.rows
    problem = frame_problem(command_set.opening() + command_set.message(blank))
    if problem is not None:
        raise ConfigError(table.key("printer"), f"a display command set that can pass ({problem})")


def parse_customer_display(table: Table | None) -> CustomerDisplayConfig | None:
    if table is None:
        return None
    printer = _through_printer(table)
    profile = table.choice("profile", PROFILE_NAMES, "epson")
    base = commands.PROFILES[profile]
    settings_text = table.str("serial_settings", "9600 8N1")
    try:
        settings = SerialSettings.parse(settings_text)
    except ValueError:
        raise ConfigError(
            table.key("serial_settings"), "serial settings like '9600 8N1'", settings_text
        ) from None
    write_timeout = table.float("write_timeout", 2.0, minimum=0.1, maximum=30.0)
    overrides = {
        "setup": _hex(table, "setup"),
        "init": _hex(table, "init"),
        "clear": _hex(table, "clear"),
        "goto": table.choice("goto", commands.GOTO_STYLES, None),
        "international": table.choice("international", commands.INTERNATIONAL_SETS, None),
        "width": table.int("width", None, minimum=8, maximum=40),
        "read_after_write": table.float("read_after_write", None, minimum=0.0, maximum=5.0),
    }
    command_set = replace(
        base,
        code_table=_code_table(table, base.code_table),
        **{k: v for k, v in overrides.items() if v is not None},
    )
    welcome = tuple(table.str_list("welcome", list(DEFAULT_WELCOME)))
    if len(welcome) > command_set.rows:
        raise ConfigError(table.key("welcome"), f"at most {command_set.rows} lines", welcome)
    if printer is not None:
        _check_through_printer(table, command_set)
    config = CustomerDisplayConfig(
        port=table.str("port", None),
        printer=printer,
        commands=command_set,
        serial_settings=replace(settings, write_timeout=write_timeout),
        welcome=welcome,
        welcome_after=table.float("welcome_after", 300.0, minimum=0.0, maximum=86400.0),
        name=table.str("name", "pole-display"),
        baudrate=table.int("baudrate", 9600, minimum=300, maximum=115200),
    )
    table.finish()
    if printer is None and not config.port:
        raise ConfigError(
            table.key("port"), "the display's serial port, e.g. '/dev/serial/by-id/usb-...'"
        )
    return config
