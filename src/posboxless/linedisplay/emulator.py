"""A 2×20 display as the host sees it (sans-I/O): bytes in, the characters shown out.

It understands the commands of customer-display.md §5 per dialect, so the simulator (and the
tests through it) show what a real display would: text written before the Aures set-up comes out
in the display's native mode, accents come out of the selected code table, the French character
set re-maps ``@ [ \\ ] { | } ~``. Anything not understood is kept in ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posboxless.printer.escpos.codepages import CODE_TABLES

# Epson's France set (ESC R 1): these ASCII positions show other characters.
FRANCE = {0x40: "à", 0x5B: "°", 0x5C: "ç", 0x5D: "§", 0x7B: "é", 0x7C: "ù", 0x7D: "è", 0x7E: "¨"}

# Bytes after the command that belong to it (DM-D110 §5.4); None: not a command of the dialect.
_US_ARGS = {0x24: 2, 0x43: 1, 0x58: 1, 0x45: 1, 0x72: 1, 0x01: 0, 0x02: 0, 0x03: 0}
_US_ARGS |= {0x0A: 0, 0x0D: 0, 0x42: 0}
_ESC_ARGS = {0x40: 0, 0x74: 1, 0x52: 1, 0x3D: 1}
DIALECTS = ("epson", "bixolon", "aures")


@dataclass
class DisplayState:
    width: int = 20
    rows: int = 2
    cells: list[list[str]] = field(default_factory=list)
    column: int = 0
    row: int = 0
    cursor_visible: bool = True
    code_table: int = 0
    international: int = 0
    scroll: bool = False
    brightness: int = 4
    escpos_mode: bool = True

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]


class DisplayEmulator:
    def __init__(self, dialect: str = "epson", width: int = 20, rows: int = 2) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}")
        self.dialect = dialect
        self.state = DisplayState(width=width, rows=rows)
        # An Aures OCD-300 leaves the factory in its native mode: the STX/ENQ set-up switches it
        # to the ESC/POS commands (odoo-driver's /display_escpos/configure).
        self.state.escpos_mode = dialect != "aures"
        self.unknown: list[bytes] = []
        self.selected_printer = False
        self._pending = bytearray()
        self.reset()

    def reset(self) -> None:
        """Power-on state (also what ``ESC @`` restores, except the Aures set-up in memory)."""
        s = self.state
        s.cells = [[" "] * s.width for _ in range(s.rows)]
        s.column = s.row = 0
        s.cursor_visible = True
        s.scroll = False
        s.brightness = 4
        if self.dialect != "aures":
            s.code_table = 0
            s.international = 0

    @property
    def lines(self) -> list[str]:
        return self.state.lines()

    def feed(self, data: bytes) -> None:
        self._pending += data
        position = 0
        buffer = self._pending
        while position < len(buffer):
            used = self._step(buffer, position)
            if used == 0:  # an incomplete command: wait for its end
                break
            position += used
        del buffer[:position]

    # ---- parsing -------------------------------------------------------------------------------

    def _step(self, buffer: bytearray, at: int) -> int:
        byte = buffer[at]
        s = self.state
        if byte == 0x02 and self.dialect == "aures":
            return self._aures(buffer, at)
        if self.selected_printer and byte != 0x1B:
            return 1  # data meant for the printer behind us (ESC = 1)
        if byte in (0x1B, 0x1F) and s.escpos_mode:
            return self._command(buffer, at)
        if byte == 0x0C:
            s.cells = [[" "] * s.width for _ in range(s.rows)]
            s.column = s.row = 0
        elif byte == 0x0B:
            s.column = s.row = 0
        elif byte == 0x18:
            s.cells[s.row] = [" "] * s.width
            s.column = 0
        elif byte == 0x08:
            s.column = max(0, s.column - 1)
        elif byte == 0x09:
            self._advance()
        elif byte == 0x0A:
            self._down()
        elif byte == 0x0D:
            s.column = 0
        elif byte < 0x20 or byte == 0x7F:
            self.unknown.append(bytes([byte]))
        else:
            self._put(self._char(byte))
        return 1

    def _command(self, buffer: bytearray, at: int) -> int:
        s = self.state
        if at + 1 >= len(buffer):
            return 0
        lead, code = buffer[at], buffer[at + 1]
        if lead == 0x1B and code == 0x6C and self.dialect == "bixolon":
            arguments: int | None = 2  # CD5220 "ESC l x y", Bixolon spec item 11
        elif lead == 0x1F:
            arguments = _US_ARGS.get(code)
        else:
            arguments = _ESC_ARGS.get(code)
        if arguments is None:
            self.unknown.append(bytes(buffer[at : at + 2]))
            return 2
        end = at + 2 + arguments
        if end > len(buffer):
            return 0
        args = buffer[at + 2 : end]
        if self.selected_printer and not (lead == 0x1B and code == 0x3D):
            return end - at
        if lead == 0x1F:
            self._us(code, args)
        elif code == 0x6C:
            self._goto(args[0], args[1])
        elif code == 0x40:
            self.reset()
        elif code == 0x74:
            if args[0] in CODE_TABLES:
                s.code_table = args[0]
            else:
                self.unknown.append(bytes(buffer[at:end]))
        elif code == 0x52:
            s.international = args[0]
        elif code == 0x3D:
            self.selected_printer = args[0] == 1
        return end - at

    def _us(self, code: int, args: bytearray) -> None:
        s = self.state
        if code == 0x24:
            self._goto(args[0], args[1])
        elif code == 0x43:
            s.cursor_visible = bool(args[0] & 1)
        elif code == 0x58:
            s.brightness = args[0]
        elif code in (0x01, 0x02, 0x03):
            s.scroll = code == 0x02
        elif code == 0x0A:
            s.row = max(0, s.row - 1)
        elif code == 0x0D:
            s.column = s.width - 1
        elif code == 0x42:
            s.row = s.rows - 1

    def _aures(self, buffer: bytearray, at: int) -> int:
        if at + 5 > len(buffer):
            return 0
        frame = bytes(buffer[at : at + 5])
        if frame[1] != 0x05 or frame[4] != 0x03:
            self.unknown.append(frame[:1])
            return 1
        command, argument = frame[2], frame[3]
        if command == 0x43:
            self.state.escpos_mode = argument == 0x31
        elif command == 0x54:
            self.state.international = argument
        elif command == 0x55 and argument in CODE_TABLES:
            self.state.code_table = argument
        else:
            self.unknown.append(frame)
        return 5

    # ---- the screen ----------------------------------------------------------------------------

    def _char(self, byte: int) -> str:
        s = self.state
        if s.international == 1 and byte in FRANCE:
            return FRANCE[byte]
        return bytes([byte]).decode(CODE_TABLES.get(s.code_table, "cp437"), errors="replace")

    def _goto(self, column: int, row: int) -> None:
        s = self.state
        if 1 <= column <= s.width and 1 <= row <= s.rows:
            s.column, s.row = column - 1, row - 1
        else:
            self.unknown.append(bytes((column, row)))

    def _put(self, char: str) -> None:
        s = self.state
        s.cells[s.row][s.column] = char
        self._advance()

    def _advance(self) -> None:
        s = self.state
        s.column += 1
        if s.column >= s.width:
            s.column = 0
            self._down(wrap=True)

    def _down(self, wrap: bool = False) -> None:
        s = self.state
        if s.row + 1 < s.rows:
            s.row += 1
        elif s.scroll:
            s.cells = [*s.cells[1:], [" "] * s.width]
        elif wrap:
            s.row = 0  # overwrite mode: the cursor goes back to the top left
