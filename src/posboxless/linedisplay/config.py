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
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from posboxless.linedisplay import commands
from posboxless.linedisplay.commands import CommandError, CommandSet
from posboxless.linedisplay.text import codec_for
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
    commands: CommandSet = commands.PROFILES["epson"]
    serial_settings: SerialSettings = DEFAULT_SETTINGS
    welcome: tuple[str, ...] = DEFAULT_WELCOME
    welcome_after: float = 300.0
    name: str = "pole-display"

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


def parse_customer_display(table: Table | None) -> CustomerDisplayConfig | None:
    if table is None:
        return None
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
    config = CustomerDisplayConfig(
        port=table.str("port", None),
        commands=command_set,
        serial_settings=replace(settings, write_timeout=write_timeout),
        welcome=welcome,
        welcome_after=table.float("welcome_after", 300.0, minimum=0.0, maximum=86400.0),
        name=table.str("name", "pole-display"),
    )
    table.finish()
    if not config.port:
        raise ConfigError(
            table.key("port"), "the display's serial port, e.g. '/dev/serial/by-id/usb-...'"
        )
    return config
