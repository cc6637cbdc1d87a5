"""The ``[[payment_terminal]]`` tables. (Owned by the terminal package.)

Example::

    [[payment_terminal]]
    name = "terminal"            # the OCA "Terminal Identifier" (oca_payment_terminal_id)
    port = "/dev/ttyACM0"        # or usb = "079b:0028"; neither: the first known Telium on USB
    serial_settings = "9600 8N1" # USB; a native RS-232 link: "9600 7E1"
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posboxless.settings import ConfigError, Table, parse_usb_id
from posboxless.terminal import telium
from posboxless.transports.serial_port import SerialSettings

KNOWN_USB_IDS = ((0x079B, 0x0028), (0x0B00, 0x0080))
"""Ingenico Move/5000 and Desk/5000 (odoo-driver's ``usb_devices.py``)."""


@dataclass(frozen=True)
class TerminalConfig:
    name: str = "terminal"
    """What the POS names in ``terminal_id``; also the ``status_json`` key suffix."""
    default: bool = False
    """The terminal used when the POS names none (the first one unless set)."""
    port: str | None = None
    usb: tuple[int, int] | None = None
    serial_settings: SerialSettings = field(default_factory=SerialSettings)
    """9600 8N1 (USB); a native RS-232 link uses 7E1."""
    pos_number: str = "01"
    full_answer: bool = True
    delay: str = "A010"
    force_authorisation: bool = False
    currencies: tuple[str, ...] = ()
    """Currencies this terminal takes; empty: any the protocol knows."""
    max_amount: float = 99_999.99
    timing: telium.Timing = field(default_factory=telium.Timing)


def parse_terminals(tables: list[Table]) -> list[TerminalConfig]:
    terminals = [_parse(table, index) for index, table in enumerate(tables)]
    names = [t.name for t in terminals]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError("payment_terminal", "unique names", name)
    if sum(t.default for t in terminals) > 1:
        raise ConfigError("payment_terminal", "at most one default terminal")
    return terminals


def _parse(table: Table, index: int) -> TerminalConfig:
    d = TerminalConfig()
    dt = d.timing
    settings_text = table.str("serial_settings", "9600 8N1")
    try:
        settings = SerialSettings.parse(settings_text)
    except ValueError:
        raise ConfigError(
            table.key("serial_settings"), "serial settings like '9600 7E1'", settings_text
        ) from None
    currencies = tuple(c.upper() for c in table.str_list("currencies", []))
    for currency in currencies:
        if currency not in telium.CURRENCIES:
            raise ConfigError(table.key("currencies"), "ISO 4217 codes such as 'EUR'", currency)
    pos_number = table.str("pos_number", d.pos_number)
    if len(pos_number) != 2 or not pos_number.isdigit():
        raise ConfigError(table.key("pos_number"), "two digits such as '01'", pos_number)
    config = TerminalConfig(
        name=table.str("name", d.name if index == 0 else f"terminal{index + 1}"),
        default=table.bool("default", False),
        port=table.str("port", None),
        usb=parse_usb_id(table, "usb"),
        serial_settings=settings,
        pos_number=pos_number,
        full_answer=table.choice("answer", ["full", "short"], "full") == "full",
        delay=table.choice("delay", ["A010", "A011"], d.delay),
        force_authorisation=table.bool("force_authorisation", False),
        currencies=currencies,
        max_amount=table.float("max_amount", d.max_amount, minimum=0.01, maximum=999_999.99),
        timing=telium.Timing(
            byte_timeout=table.float("byte_timeout", dt.byte_timeout, minimum=0.1, maximum=30),
            answer_timeout=table.float(
                "answer_timeout", dt.answer_timeout, minimum=10, maximum=900
            ),
            enq_retries=table.int("enq_retries", dt.enq_retries, minimum=0, maximum=10),
            retry_pause=dt.retry_pause,
            request_retries=table.int("request_retries", dt.request_retries, minimum=0, maximum=5),
            answer_retries=table.int("answer_retries", dt.answer_retries, minimum=0, maximum=5),
        ),
    )
    table.finish()
    if not config.name or not all(c.isalnum() or c in "-_" for c in config.name):
        raise ConfigError(table.key("name"), "letters, digits, '-' or '_'", config.name)
    if config.port is not None and config.usb is not None:
        raise ConfigError(table.key("usb"), "either 'port' or 'usb', not both", "both set")
    return config
