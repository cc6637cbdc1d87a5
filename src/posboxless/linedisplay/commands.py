"""Command sets of 2×20 customer pole displays (sans-I/O: lines in, bytes out).

customer-display.md §4-5: Epson DM-D110/D210 and their "Epson mode" clones take ESC/POS display
commands (``US $ x y`` to move the cursor, ``ESC t n`` for the code table); Bixolon BCD-1100/2000
get what pywebdriver sends them (cursor off, clear, ``US $``, ASCII text); the Aures OCD-300 /
Oxhoo AF240 first need odoo-driver's STX/ENQ set-up (ESC/POS mode, French character set, code
page) and then speak the Epson set. Every field can be overridden from the configuration.

A message is always written as: ``init`` + ``clear`` + for each row (cursor to its column 1 +
the row padded to the full width). Full-width rows overwrite whatever was there, so a display
that missed a clear still ends up right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

ESC = 0x1B
US = 0x1F
STX = 0x02
ENQ = 0x05
ETX = 0x03

GOTO_STYLES = ("epson", "cd5220")
"""``epson``: ``US $ x y`` (1F 24); ``cd5220``: ``ESC l x y`` (1B 6C), what Odoo 8's box
module sent to Bixolon displays set to CD5220 emulation."""

TABLE_SELECTS = ("esc_t", "aures", "none")
"""How the code table is chosen: ``ESC t n`` before every message, the Aures set-up command
``STX ENQ U n ETX`` once after opening, or not at all (the display's own default)."""

INTERNATIONAL_SETS = ("usa", "france")


class CommandError(ValueError):
    """A command set that cannot be used (bad position, bad hex)."""


@dataclass(frozen=True)
class CommandSet:
    """Everything needed to drive one display model."""

    profile: str
    setup: bytes = b""
    """Sent once after the port opens (the Aures mode set-up)."""
    init: bytes = b""
    """Sent before every message: cheap and idempotent (cursor off), so a display that was
    power-cycled behind a USB adapter that stayed plugged in is right again at the next message."""
    clear: bytes = b"\x0c"
    goto: str = "epson"
    code_table: int | None = None
    """Epson ``ESC t`` number (19 = PC858); None: plain ASCII only."""
    table_select: str = "esc_t"
    international: str = "usa"
    """The character set the display is put in: ``france`` re-maps ``@ [ \\ ] { | } ~``."""
    width: int = 20
    rows: int = 2
    read_after_write: float = 0.0
    """Seconds to wait for one byte from the display after each message (pywebdriver does so
    for the DM-D110); 0: do not read."""

    def goto_bytes(self, column: int, row: int) -> bytes:
        """Cursor to ``column`` (1-based) of ``row`` (1-based)."""
        if not (1 <= column <= self.width and 1 <= row <= self.rows):
            raise CommandError(f"no position ({column}, {row}) on a {self.rows}×{self.width}")
        if self.goto == "cd5220":
            return bytes((ESC, 0x6C, column, row))
        return bytes((US, 0x24, column, row))

    def table_bytes(self) -> bytes:
        if self.code_table is None:
            return b""
        if self.table_select == "esc_t":
            return bytes((ESC, 0x74, self.code_table))
        if self.table_select == "aures":
            return aures_command(0x55, self.code_table)
        return b""

    def opening(self) -> bytes:
        """What to send once after the port opens."""
        if self.table_select == "aures":
            return self.setup + self.table_bytes()
        return self.setup

    def message(self, rows: list[bytes]) -> bytes:
        """One screen: ``rows`` are already encoded and exactly ``width`` bytes each."""
        if len(rows) != self.rows:
            raise CommandError(f"{len(rows)} rows for a display of {self.rows}")
        out = bytearray(self.init)
        if self.table_select == "esc_t":
            out += self.table_bytes()
        out += self.clear
        for number, row in enumerate(rows, start=1):
            if len(row) != self.width:
                raise CommandError(f"row {number} is {len(row)} bytes, not {self.width}")
            out += self.goto_bytes(1, number)
            out += row
        return bytes(out)


def aures_command(command: int, argument: int) -> bytes:
    """Aures OCD-300 set-up frame ``STX ENQ <command> <argument> ETX`` (odoo-driver)."""
    return bytes((STX, ENQ, command, argument, ETX))


AURES_ESCPOS_MODE = aures_command(0x43, 0x31)
AURES_FRANCE = aures_command(0x54, 0x01)

PROFILES: dict[str, CommandSet] = {
    # ESC t 19 = PC858: é è à ç and €; no œ (devices.md §1.3). Cursor off as every peer does.
    "epson": CommandSet(profile="epson", init=b"\x1f\x43\x00", code_table=19),
    # pywebdriver's bytes; its displays were only ever sent ASCII, so no code table by default.
    "bixolon": CommandSet(profile="bixolon", init=b"\x1f\x43\x00", code_table=None),
    # odoo-driver's /display_escpos/configure sequence, then the Epson set with PC858 text.
    "aures": CommandSet(
        profile="aures",
        setup=AURES_ESCPOS_MODE + AURES_FRANCE,
        code_table=19,
        table_select="aures",
        international="france",
    ),
}


def profile(name: str, **overrides: object) -> CommandSet:
    """The named profile with ``overrides`` (fields left None keep the profile's value)."""
    base = PROFILES[name]
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(base, **given)  # type: ignore[arg-type]


def parse_hex(text: str) -> bytes:
    """``"1B 40 1F 43 00"`` (spaces optional) -> bytes."""
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CommandError(f"bytes in hexadecimal like '1F 43 00', not {text!r}") from None
