"""The ``[scale]`` table. (Owned by the scale package.)

Example::

    [scale]
    usb = "0eb8:2200"            # or port = "/dev/serial/by-id/usb-Mettler_Toledo...", or neither
    protocol = "toledo8217"      # or "adam"
    serial_settings = "9600 7E1" # default per protocol
    probe = true                 # with neither port nor usb: look for the scale on free ports
    poll_interval = 0.2          # seconds between weight requests
    reply_timeout = 1.0          # seconds to wait for one answer
    stale_after = 2.0            # a reading older than this is not served as current
    owner = "posboxless"         # "browser": Odoo 19.4/20 reads it over Web Serial; never opened
"""

from __future__ import annotations

from dataclasses import dataclass

from posboxless.scale import adam, toledo8217
from posboxless.settings import ConfigError, Table, parse_usb_id, serial_settings_format
from posboxless.transports.serial_port import SerialSettings

PROTOCOLS = ("toledo8217", "adam")
OWNERS = ("posboxless", "browser")
_DEFAULT_SETTINGS = {"toledo8217": toledo8217.DEFAULT_SETTINGS, "adam": adam.DEFAULT_SETTINGS}
# Adam beeps when asked for an unchanged weight, so it is asked less often (Odoo: 0.5 s).
_DEFAULT_POLL = {"toledo8217": 0.2, "adam": 0.5}


@dataclass(frozen=True)
class ScaleConfig:
    port: str | None = None
    """A device path (``/dev/serial/by-id/...``, ``/dev/ttyUSB0``) or a pyserial URL."""
    protocol: str = "toledo8217"
    usb: tuple[int, int] | None = None
    """USB vendor and product id of the serial port to use, e.g. ``(0x0EB8, 0x2200)``."""
    serial_settings: SerialSettings | None = None
    """None: the protocol's default (9600 7E1 for 8217, 4800 8N1 for Adam)."""
    probe: bool = True
    poll_interval: float | None = None
    reply_timeout: float = 1.0
    stale_after: float = 2.0
    retry_max: float = 1.0
    """Longest wait between two attempts to find or reopen the scale."""
    adam_hold: float = 10.0
    """Adam only answers for a new weight: how long its last weight stays valid (Odoo: 10 s)."""
    name: str = "scale"
    owner: str = "posboxless"
    """``browser``: the POS reads the scale itself (Odoo 19.4/20 over Web Serial); posboxless
    never opens nor probes any port for it, and ``port``/``usb`` only say which one it is."""

    @property
    def browser_owned(self) -> bool:
        return self.owner == "browser"

    @property
    def effective_settings(self) -> SerialSettings:
        if self.serial_settings is not None:
            return self.serial_settings
        return SerialSettings.parse(_DEFAULT_SETTINGS[self.protocol])

    @property
    def effective_poll_interval(self) -> float:
        if self.poll_interval is not None:
            return self.poll_interval
        return _DEFAULT_POLL[self.protocol]


def parse_scale(table: Table | None) -> ScaleConfig | None:
    if table is None:
        return None
    protocol = table.choice("protocol", PROTOCOLS, "toledo8217")
    settings_text = table.str("serial_settings", None)
    settings = None
    if settings_text is not None:
        try:
            settings = SerialSettings.parse(settings_text)
        except ValueError:
            raise ConfigError(
                table.key("serial_settings"), serial_settings_format("9600 7E1"), settings_text
            ) from None
    config = ScaleConfig(
        port=table.str("port", None),
        protocol=protocol,
        usb=parse_usb_id(table, "usb"),
        serial_settings=settings,
        probe=table.bool("probe", True),
        poll_interval=table.float("poll_interval", None, minimum=0.01, maximum=10.0),
        reply_timeout=table.float("reply_timeout", 1.0, minimum=0.05, maximum=10.0),
        stale_after=table.float("stale_after", 2.0, minimum=0.1, maximum=60.0),
        retry_max=table.float("retry_max", 1.0, minimum=0.05, maximum=30.0),
        adam_hold=table.float("adam_hold", 10.0, minimum=0.0, maximum=600.0),
        name=table.str("name", "scale"),
        owner=table.choice("owner", OWNERS, "posboxless"),
    )
    table.finish()
    if config.port is not None and config.usb is not None:
        raise ConfigError(table.key("usb"), "either 'port' or 'usb', not both", "both set")
    if (
        protocol == "adam"
        and config.port is None
        and config.usb is None
        and not config.browser_owned
    ):
        raise ConfigError(
            table.key("port"), "a port or a usb id: an Adam scale cannot be found by probing"
        )
    if config.stale_after <= config.reply_timeout:
        raise ConfigError(
            table.key("stale_after"),
            f"more than reply_timeout ({config.reply_timeout} s)",
            config.stale_after,
        )
    return config
