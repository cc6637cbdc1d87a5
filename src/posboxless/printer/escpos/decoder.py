"""A sans-I/O ESC/POS decoder: bytes in (in any chunks), a document out.

Used by the printer simulators (to show what a receipt looks like and to answer ``DLE EOT``) and by
tests (to check what the renderers emit). It knows the commands posboxless and Odoo emit and
RAISES ``EscPosDecodeError`` on anything else, so that garbage never goes unnoticed.

Usage::

    decoder = EscPosDecoder()
    decoder.feed(chunk)                       # as often as needed
    for n in decoder.pending_status_queries(): # DLE EOT n seen since the last call
        ...answer one byte...
    doc = decoder.document                    # text(), images, cuts, pulses, barcodes...
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from posboxless.printer.escpos.codepages import CODE_TABLES
from posboxless.printer.escpos.raster import Bitmap
from posboxless.printer.escpos.symbols import Symbol, render_symbol

_TEXT = re.compile(rb"[\x20-\x7e\x80-\xff]+")
_BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}
_BARCODE_B = {
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    73: "CODE128",
}
_ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}
_MAX_BARCODE_A = 255
_POWER_ON_TABLE = 0
_QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


class EscPosDecodeError(ValueError):
    """Bytes that are not a known ESC/POS command (or a malformed one)."""


@dataclass(frozen=True)
class CharStyle:
    bold: bool = False
    underline: int = 0
    font: str = "a"
    width: int = 1
    height: int = 1
    red: bool = False
    reverse: bool = False


@dataclass
class TextLine:
    text: str = ""
    align: str = "left"
    segments: list[tuple[str, CharStyle]] = field(default_factory=list)

    @property
    def bold(self) -> bool:
        """True when any visible character of the line is bold."""
        return any(s.bold for t, s in self.segments if t.strip())

    @property
    def style(self) -> CharStyle:
        """The style of the first visible character (or the default)."""
        for text, style in self.segments:
            if text.strip():
                return style
        return CharStyle()


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image
    method: str
    """``raster`` (GS v 0), ``graphics`` (GS ( L) or ``column`` (ESC *)."""
    align: str = "left"

    def on_paper(self, paper_width: int) -> Image.Image:
        """The image where the printer puts it on a strip of paper ``paper_width`` dots wide
        (``ESC a`` applies to images): white margins, mode '1'."""
        image = self.image.convert("1")
        if image.width >= paper_width:
            return image.crop((0, 0, paper_width, image.height))
        left = {"left": 0, "center": (paper_width - image.width) // 2}.get(
            self.align, paper_width - image.width
        )
        paper = Image.new("1", (paper_width, image.height), 1)
        paper.paste(image, (left, 0))
        return paper


@dataclass(frozen=True)
class Mark:
    """Something else that happened, in document order (cut, pulse, barcode, QR, init...)."""

    kind: str
    detail: str
    value: object = None
    """``cut``: ``full``/``partial``; ``pulse``: ``(pin, on_ms, off_ms)``; ``barcode``/``qr``: the
    ``Symbol``."""


Item = TextLine | DecodedImage | Mark


@dataclass
class DecodedDocument:
    items: list[Item] = field(default_factory=list)
    lines: list[TextLine] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    image_methods: list[str] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)
    pulses: list[tuple[int, int, int]] = field(default_factory=list)
    """``(pin, on_ms, off_ms)``."""
    barcodes: list[tuple[str, str]] = field(default_factory=list)
    """``(symbology, data)``."""
    qr_codes: list[str] = field(default_factory=list)
    code_tables: list[int] = field(default_factory=list)
    """Every ``ESC t n`` seen, in order."""
    status_queries: list[int] = field(default_factory=list)
    initialisations: int = 0
    """Number of ``ESC @``."""
    pending: TextLine | None = None
    """Text received but not yet ended by LF (a printer holds it in its line buffer)."""
    display_data: bytearray = field(default_factory=bytearray)
    """Bytes sent while ``ESC = n`` selected the display wired through the printer (pass-through,
    devices.md §5): the printer passes them on and prints none of them."""

    def all_lines(self) -> list[TextLine]:
        return self.lines + ([self.pending] if self.pending and self.pending.text else [])

    def text(self) -> str:
        """The printed text, one line per line (images, cuts etc. left out); the blank lines
        fed before a cut are not included."""
        return "\n".join(line.text for line in self.all_lines()).rstrip("\n")

    def plain_text(self) -> str:
        """Text preview with placeholders for everything that is not text."""
        out: list[str] = []
        for item in self.items:
            if isinstance(item, TextLine):
                out.append(item.text)
            elif isinstance(item, DecodedImage):
                out.append(f"[image {item.image.width}x{item.image.height} ({item.method})]")
            elif item.kind == "cut":
                out.append(f"-------- {item.detail} cut --------")
            elif item.kind == "pulse":
                out.append(f"[drawer pulse: {item.detail}]")
            elif item.kind != "init":
                out.append(f"[{item.kind} {item.detail}]")
        if self.pending and self.pending.text:
            out.append(self.pending.text)
        return "\n".join(out)

    def has_content(self) -> bool:
        """Something was printed or done besides set-up, blank lines and cuts (an empty slip
        between two cuts has none)."""
        for item in self.all_items():
            if isinstance(item, TextLine):
                if item.text.strip():
                    return True
            elif isinstance(item, DecodedImage) or item.kind not in ("init", "cut"):
                return True
        return False

    def all_items(self) -> list[Item]:
        return self.items + ([self.pending] if self.pending and self.pending.text else [])

    def render(self, width: int = 576) -> Image.Image:
        """A simple picture of the receipt: text, images, barcodes as boxes, cut marks."""
        return _render_preview(self, width)

    def to_png(self, path: str | Path, width: int = 576) -> None:
        self.render(width).save(path, format="PNG")


@dataclass
class _Band:
    method: str
    width: int
    align: str
    parts: list[Image.Image]


class EscPosDecoder:
    """Incremental decoder; ``feed`` raises ``EscPosDecodeError`` on unknown commands (the
    offending byte is dropped first, so a lenient caller can keep feeding)."""

    def __init__(self, code_tables: Mapping[int, str] | None = None) -> None:
        self.document = DecodedDocument()
        self._tables = dict(CODE_TABLES)
        if code_tables:
            self._tables.update(code_tables)
        self._buffer = bytearray()
        self._offset = 0
        self._pending_queries: list[int] = []
        self._band: _Band | None = None
        self._stored_graphics: Image.Image | None = None
        self._qr_data = b""
        self._cut_offsets: list[int] = []
        self._printer_selected = True
        """``ESC = n`` bit 0 (power-on: selected). ``ESC @`` does not change it: while the
        printer is deselected it is ignored like any other data."""
        self._display_selected = False
        """``ESC = n`` bit 1: the bytes also go to the display behind the printer."""
        self._reset()

    # -- public ---------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self._buffer += data
        pos = 0
        try:
            while pos < len(self._buffer):
                end = self._step(self._buffer, pos)
                if end is None:
                    break
                pos = end
        except EscPosDecodeError:
            del self._buffer[: pos + 1]
            self._offset += pos + 1
            raise
        del self._buffer[:pos]
        self._offset += pos

    def pending_status_queries(self) -> list[int]:
        """The ``n`` of each ``DLE EOT n`` received since the last call (answer one byte each)."""
        queries, self._pending_queries = self._pending_queries, []
        return queries

    def finish(self) -> DecodedDocument:
        """The document; raises if the stream ended inside a command."""
        if self._buffer:
            raise EscPosDecodeError(
                f"stream ends inside a command: {bytes(self._buffer[:16]).hex(' ')}"
            )
        return self.document

    def abandon_partial(self) -> bool:
        """Forget a command received only in part (the link dropped); True if there was one."""
        if not self._buffer:
            return False
        self._offset += len(self._buffer)
        self._buffer.clear()
        return True

    @property
    def incomplete(self) -> bool:
        """True while a command has been only partly received."""
        return bool(self._buffer)

    # -- state ----------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._style = CharStyle()
        # GS ( D fn 1 (real-time pulse) at power-on; ESC @ restores it (the strict reading).
        self._realtime_pulse = True
        self._align = "left"
        self._codec = self._tables[_POWER_ON_TABLE]
        # Epson's power-on values for the symbol settings.
        self._bar_height = 162
        self._bar_module = 3
        self._hri = 0
        self._qr_module = 3
        self._qr_level = "L"

    def take_receipts(self) -> list[tuple[DecodedDocument, int]]:
        """The receipts ended by a cut since the last call, each with the stream offset just
        after its cut; the document keeps only what follows the last cut. Lets a long-running
        printer (the demo) save receipts one by one without keeping everything it ever printed."""
        doc = self.document
        receipts: list[tuple[DecodedDocument, int]] = []
        start = 0
        ends = iter(self._cut_offsets)
        for index, item in enumerate(doc.items):
            if isinstance(item, Mark) and item.kind == "cut":
                receipts.append((_document_of(doc.items[start : index + 1]), next(ends)))
                start = index + 1
        if receipts:
            rest = _document_of(doc.items[start:])
            rest.pending = doc.pending
            rest.display_data = doc.display_data
            self.document = rest
            self._cut_offsets = []
        return receipts

    def _error(self, buf: bytearray, pos: int, what: str) -> EscPosDecodeError:
        snippet = bytes(buf[pos : pos + 8]).hex(" ")
        return EscPosDecodeError(f"{what} at byte {self._offset + pos}: {snippet}")

    def _line(self) -> TextLine:
        doc = self.document
        if doc.pending is None:
            doc.pending = TextLine(align=self._align)
        return doc.pending

    def _add_text(self, text: str) -> None:
        self._close_band()
        line = self._line()
        if not line.text:
            line.align = self._align
        line.text += text
        line.segments.append((text, self._style))

    def _end_line(self) -> None:
        doc = self.document
        if self._band is not None and self._band.method == "column" and doc.pending is None:
            return  # the LF that ends an ESC * strip belongs to the image
        self._close_band()
        line = doc.pending or TextLine(align=self._align)
        doc.pending = None
        doc.lines.append(line)
        doc.items.append(line)

    def _mark(self, kind: str, detail: str, value: object = None) -> None:
        self._close_band()
        self._flush_pending()
        self.document.items.append(Mark(kind, detail, value))

    def _flush_pending(self) -> None:
        doc = self.document
        if doc.pending is not None and doc.pending.text:
            self._end_line()

    def _add_band(self, method: str, image: Image.Image) -> None:
        """Bands of one picture (same method and width, nothing in between) are stitched back
        together. The document always holds the picture so far, so it is complete whenever the
        caller looks, without a ``finish()``."""
        doc = self.document
        band = self._band
        if band is None or band.method != method or band.width != image.width:
            self._close_band()
            self._flush_pending()
            band = self._band = _Band(method, image.width, self._align, [])
        else:
            doc.images.pop()
            doc.image_methods.pop()
            doc.items.pop()
        band.parts.append(image)
        stitched = band.parts[0]
        if len(band.parts) > 1:
            stitched = Image.new("1", (band.width, sum(p.height for p in band.parts)), 1)
            top = 0
            for part in band.parts:
                stitched.paste(part, (0, top))
                top += part.height
        doc.images.append(stitched)
        doc.image_methods.append(band.method)
        doc.items.append(DecodedImage(stitched, band.method, band.align))

    def _close_band(self) -> None:
        self._band = None

    def _style_update(self, **changes: object) -> None:
        values = self._style.__dict__ | changes
        self._style = CharStyle(**values)

    # -- parsing --------------------------------------------------------------------------------

    def _step(self, buf: bytearray, pos: int) -> int | None:
        if not self._printer_selected:
            return self._deselected(buf, pos)
        if not self._display_selected:
            return self._printing_step(buf, pos)
        # ESC = 3: printer and display both take the data.
        end = self._printing_step(buf, pos)
        if end is not None and buf[pos] != 0x10 and buf[pos : pos + 2] != b"\x1b=":
            self.document.display_data += buf[pos:end]
        return end

    def _printing_step(self, buf: bytearray, pos: int) -> int | None:
        byte = buf[pos]
        match = _TEXT.match(buf, pos)
        if match:
            self._add_text(bytes(match.group()).decode(self._codec, errors="replace"))
            return match.end()
        if byte == 0x0A:
            self._end_line()
            return pos + 1
        if byte == 0x0D:
            return pos + 1
        if byte == 0x09:
            self._add_text(" ")
            return pos + 1
        if byte == 0x1B:
            return self._esc(buf, pos)
        if byte == 0x1D:
            return self._gs(buf, pos)
        if byte == 0x10:
            return self._dle(buf, pos)
        raise self._error(buf, pos, f"unknown control byte 0x{byte:02X}")

    def _deselected(self, buf: bytearray, pos: int) -> int | None:
        """The printer is deselected (``ESC = n``, bit 0 clear): it prints nothing and takes no
        command but ``ESC =`` and the real-time ones (``DLE EOT``/``ENQ``/``DC4``, which it still
        answers and executes); the rest is the pass-through display's."""
        byte = buf[pos]
        if byte == 0x1B:
            if pos + 2 >= len(buf):
                return None
            if buf[pos + 1] == 0x3D:
                self._select(buf[pos + 2])
                return pos + 3
        elif byte == 0x10:
            if pos + 2 >= len(buf):
                return None
            if buf[pos + 1] in (0x04, 0x05, 0x14):
                return self._dle(buf, pos)
        if self._display_selected:
            self.document.display_data.append(byte)
        return pos + 1

    def _select(self, n: int) -> None:
        self._printer_selected = bool(n & 1)
        self._display_selected = bool(n & 2)
        self.document.display_data += bytes((0x1B, 0x3D, n))

    def _esc(self, buf: bytearray, pos: int) -> int | None:
        if pos + 1 >= len(buf):
            return None
        cmd = buf[pos + 1]
        one_arg = b"!E-aMrtRdJ3GV{ "
        if cmd == ord("="):
            if pos + 2 >= len(buf):
                return None
            self._select(buf[pos + 2])
            return pos + 3
        if cmd == ord("@"):
            self._close_band()
            self._flush_pending()
            self._reset()
            self.document.initialisations += 1
            self.document.items.append(Mark("init", "ESC @"))
            return pos + 2
        if cmd == ord("2"):
            return pos + 2
        if cmd in one_arg:
            if pos + 2 >= len(buf):
                return None
            self._esc_one(buf, pos, chr(cmd), buf[pos + 2])
            return pos + 3
        if cmd == ord("c"):  # ESC c 0..5 n: paper/sensor selection (py-xml-escpos sends ESC c 0 1)
            if pos + 3 >= len(buf):
                return None
            return pos + 4
        if cmd == ord("p"):
            if pos + 4 >= len(buf):
                return None
            m, t1, t2 = buf[pos + 2], buf[pos + 3], buf[pos + 4]
            if m not in (0, 1, 48, 49):
                raise self._error(buf, pos, f"ESC p with invalid pin selector {m}")
            pin = 2 if m in (0, 48) else 5
            self.document.pulses.append((pin, t1 * 2, t2 * 2))
            self._mark("pulse", f"pin {pin} {t1 * 2}/{t2 * 2} ms", (pin, t1 * 2, t2 * 2))
            return pos + 5
        if cmd == ord("*"):
            return self._column_image(buf, pos)
        raise self._error(buf, pos, f"unknown command ESC 0x{cmd:02X}")

    def _esc_one(self, buf: bytearray, pos: int, cmd: str, n: int) -> None:
        if cmd == "!":
            self._style_update(
                font="b" if n & 0x01 else "a",
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif cmd == "E":
            self._style_update(bold=bool(n & 1))
        elif cmd == "-":
            self._style_update(underline=n % 48 if n in (0, 1, 2, 48, 49, 50) else 0)
        elif cmd == "a":
            if n not in _ALIGN:
                raise self._error(buf, pos, f"ESC a with invalid alignment {n}")
            self._align = _ALIGN[n]
        elif cmd == "M":
            self._style_update(font="b" if n in (1, 49) else "a")
        elif cmd == "r":
            self._style_update(red=bool(n & 1))
        elif cmd == "t":
            codec = self._tables.get(n)
            if codec is None:
                raise self._error(buf, pos, f"ESC t selects code table {n}, which is not known")
            self._codec = codec
            self.document.code_tables.append(n)
        elif cmd == "d":
            self._flush_pending()
            for _ in range(n):
                self._end_line()
        elif cmd == "J":
            self._flush_pending()

    def _column_image(self, buf: bytearray, pos: int) -> int | None:
        if pos + 4 >= len(buf):
            return None
        m = buf[pos + 2]
        width = buf[pos + 3] | buf[pos + 4] << 8
        if m in (0, 1):
            rows = 8
        elif m in (32, 33):
            rows = 24
        else:
            raise self._error(buf, pos, f"ESC * with invalid mode {m}")
        size = width * rows // 8
        end = pos + 5 + size
        if end > len(buf):
            return None
        columns = bytes(buf[pos + 5 : end])
        # Each column is rows/8 bytes, top dot first: a transposed mode-'1' image.
        transposed = Bitmap(rows, width, columns).to_image()
        self._add_band("column", transposed.transpose(Image.Transpose.TRANSPOSE))
        return end

    def _gs(self, buf: bytearray, pos: int) -> int | None:
        if pos + 1 >= len(buf):
            return None
        cmd = buf[pos + 1]
        if cmd in b"!BhwHfaLW" and cmd not in b"LW":
            if pos + 2 >= len(buf):
                return None
            n = buf[pos + 2]
            if cmd == ord("!"):
                self._style_update(width=(n >> 4) + 1, height=(n & 0x0F) + 1)
            elif cmd == ord("B"):
                self._style_update(reverse=bool(n & 1))
            elif cmd == ord("h"):
                self._bar_height = n or 1
            elif cmd == ord("w"):
                self._bar_module = n
            elif cmd == ord("H"):
                self._hri = n % 48 if n in (0, 1, 2, 3, 48, 49, 50, 51) else 0
            return pos + 3
        if cmd in b"LW":  # left margin / print area width: 2 bytes
            return pos + 4 if pos + 3 < len(buf) else None
        if cmd == ord("V"):
            return self._cut(buf, pos)
        if cmd == ord("v"):
            return self._raster(buf, pos)
        if cmd == ord("("):
            return self._gs_paren(buf, pos)
        if cmd == ord("k"):
            return self._barcode(buf, pos)
        raise self._error(buf, pos, f"unknown command GS 0x{cmd:02X}")

    def _cut(self, buf: bytearray, pos: int) -> int | None:
        if pos + 2 >= len(buf):
            return None
        m = buf[pos + 2]
        if m in (0, 48, 1, 49):
            self._cut_mark("full" if m in (0, 48) else "partial", pos + 3)
            return pos + 3
        if m in (65, 66, 97, 98, 103, 104):
            if pos + 3 >= len(buf):
                return None
            self._cut_mark("full" if m % 2 else "partial", pos + 4)
            return pos + 4
        raise self._error(buf, pos, f"GS V with invalid cut mode {m}")

    def _cut_mark(self, kind: str, end: int) -> None:
        self.document.cuts.append(kind)
        self._cut_offsets.append(self._offset + end)
        self._mark("cut", kind, kind)

    def _raster(self, buf: bytearray, pos: int) -> int | None:
        if pos + 7 >= len(buf):
            return None
        if buf[pos + 2] != 0x30 or buf[pos + 3] not in (0, 1, 2, 3, 48, 49, 50, 51):
            raise self._error(buf, pos, "malformed GS v 0 header")
        width_bytes = buf[pos + 4] | buf[pos + 5] << 8
        height = buf[pos + 6] | buf[pos + 7] << 8
        if not width_bytes or not height:
            raise self._error(buf, pos, "GS v 0 image with no pixels")
        end = pos + 8 + width_bytes * height
        if end > len(buf):
            return None
        bitmap = Bitmap(width_bytes * 8, height, bytes(buf[pos + 8 : end]))
        self._add_band("raster", bitmap.to_image())
        return end

    def _gs_paren(self, buf: bytearray, pos: int) -> int | None:
        if pos + 4 >= len(buf):
            return None
        kind = buf[pos + 2]
        length = buf[pos + 3] | buf[pos + 4] << 8
        end = pos + 5 + length
        if end > len(buf):
            return None
        payload = bytes(buf[pos + 5 : end])
        if kind == ord("L"):
            self._graphics(buf, pos, payload)
        elif kind == ord("k"):
            self._qr(buf, pos, payload)
        elif kind == ord("D"):  # enable/disable real-time commands: m = 20, then (a, b) pairs
            if payload[:1] == b"\x14":
                for function, setting in zip(payload[1::2], payload[2::2], strict=False):
                    if function == 1:
                        self._realtime_pulse = setting in (1, 49)
        else:
            raise self._error(buf, pos, f"unknown command GS ( 0x{kind:02X}")
        return end

    def _graphics(self, buf: bytearray, pos: int, payload: bytes) -> None:
        if payload == b"02":
            if self._stored_graphics is None:
                raise self._error(buf, pos, "GS ( L print without stored graphics")
            self._add_band("graphics", self._stored_graphics)
            return
        if len(payload) < 10 or payload[:3] != b"0p0" or payload[5] != 0x31:
            raise self._error(buf, pos, "unsupported GS ( L function")
        width = payload[6] | payload[7] << 8
        height = payload[8] | payload[9] << 8
        data = payload[10:]
        if len(data) != (width + 7) // 8 * height or not width or not height:
            raise self._error(
                buf, pos, f"GS ( L data length {len(data)} does not match {width}x{height} dots"
            )
        self._stored_graphics = Bitmap(width, height, data).to_image()

    def _qr(self, buf: bytearray, pos: int, payload: bytes) -> None:
        if len(payload) < 2 or payload[0] != 0x31:
            raise self._error(buf, pos, "unsupported GS ( k symbol (only QR codes are known)")
        fn = payload[1]
        if fn == 0x50 and payload[2:3] == b"0":
            self._qr_data = payload[3:]
        elif fn == 0x51:
            data = self._qr_data.decode("utf-8", errors="replace")
            self.document.qr_codes.append(data)
            symbol = Symbol(
                "qr", "QR", self._qr_data, self._align, module=self._qr_module, error=self._qr_level
            )
            self._mark("qr", data, symbol)
        elif fn == 0x43 and len(payload) > 2:
            self._qr_module = max(1, payload[2])
        elif fn == 0x45 and len(payload) > 2:
            self._qr_level = _QR_LEVELS.get(payload[2], self._qr_level)
        elif fn != 0x41:
            raise self._error(buf, pos, f"unsupported QR function 0x{fn:02X}")

    def _barcode(self, buf: bytearray, pos: int) -> int | None:
        if pos + 2 >= len(buf):
            return None
        m = buf[pos + 2]
        if m in _BARCODE_A:
            nul = buf.find(b"\x00", pos + 3, pos + 4 + _MAX_BARCODE_A)
            if nul < 0:
                if len(buf) - pos > 3 + _MAX_BARCODE_A:
                    raise self._error(buf, pos, "GS k barcode data without NUL terminator")
                return None
            data, end = bytes(buf[pos + 3 : nul]), nul + 1
            name = _BARCODE_A[m]
        elif m in _BARCODE_B:
            if pos + 3 >= len(buf):
                return None
            end = pos + 4 + buf[pos + 3]
            if end > len(buf):
                return None
            data = bytes(buf[pos + 4 : end])
            name = _BARCODE_B[m]
        else:
            raise self._error(buf, pos, f"GS k with unknown barcode type {m}")
        text = data.decode("ascii", errors="replace")
        self.document.barcodes.append((name, text))
        symbol = Symbol(
            "barcode",
            name,
            data,
            self._align,
            height=self._bar_height,
            module=self._bar_module,
            hri=self._hri,
        )
        self._mark("barcode", f"{name} {text}", symbol)
        return end

    def _dle(self, buf: bytearray, pos: int) -> int | None:
        if pos + 1 >= len(buf):
            return None
        fn = buf[pos + 1]
        if fn not in (0x04, 0x05, 0x14):
            raise self._error(buf, pos, f"unknown command DLE 0x{fn:02X}")
        if pos + 2 >= len(buf):
            return None
        if fn == 0x04:
            n = buf[pos + 2]
            if n not in (1, 2, 3, 4):
                raise self._error(buf, pos, f"DLE EOT with unsupported n={n}")
            self.document.status_queries.append(n)
            self._pending_queries.append(n)
            return pos + 3
        if fn == 0x14:
            if pos + 4 >= len(buf):
                return None
            if buf[pos + 2] == 2 and buf[pos + 3 : pos + 5] == b"\x01\x08":
                return pos + 5  # power-off sequence (disabled at power-on): nothing to show
            if buf[pos + 2] != 1 or buf[pos + 3] not in (0, 1) or not 1 <= buf[pos + 4] <= 8:
                raise self._error(buf, pos, "unsupported DLE DC4 real-time command")
            if not self._realtime_pulse:
                return pos + 5  # switched off by GS ( D: the printer ignores it
            pin = 2 if buf[pos + 3] == 0 else 5
            ms = buf[pos + 4] * 100
            self.document.pulses.append((pin, ms, ms))
            self._mark("pulse", f"pin {pin} {ms}/{ms} ms (real-time)", (pin, ms, ms))
            return pos + 5
        if fn == 0x05:  # DLE ENQ n: real-time recovery request
            return pos + 3
        raise self._error(buf, pos, f"unknown command DLE 0x{fn:02X}")


def _document_of(items: list[Item]) -> DecodedDocument:
    """A document holding ``items`` (a slice of another one), its lists rebuilt from them."""
    doc = DecodedDocument(items=list(items))
    for item in items:
        if isinstance(item, TextLine):
            doc.lines.append(item)
        elif isinstance(item, DecodedImage):
            doc.images.append(item.image)
            doc.image_methods.append(item.method)
        elif item.kind == "cut":
            doc.cuts.append(str(item.value))
        elif item.kind == "pulse" and isinstance(item.value, tuple):
            doc.pulses.append(item.value)
        elif item.kind == "barcode" and isinstance(item.value, Symbol):
            doc.barcodes.append((item.value.symbology, item.value.text))
        elif item.kind == "qr" and isinstance(item.value, Symbol):
            doc.qr_codes.append(item.value.text)
        elif item.kind == "init":
            doc.initialisations += 1
    return doc


def decode(data: bytes, code_tables: Mapping[int, str] | None = None) -> DecodedDocument:
    """Decode a complete job (raises on unknown commands or a truncated stream)."""
    decoder = EscPosDecoder(code_tables)
    decoder.feed(data)
    return decoder.finish()


# -- preview ----------------------------------------------------------------------------------


Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@functools.lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> Font:
    # A monospace face keeps the preview's columns where the printer puts them.
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size)


def _render_segment(text: str, style: CharStyle, line_height: int) -> Image.Image:
    # Drawn at the height multiplier, then stretched to the width multiplier, so that
    # double-height text keeps its columns and double-width text takes two.
    cell = 9 if style.font == "b" else 12  # dots per character at width 1 (Font A: 48 on 576)
    base = 15 if style.font == "b" else 20
    font = _font(base * style.height, style.bold)
    drawn_width = max(1, len(text) * cell * style.height)
    canvas = Image.new("L", (drawn_width, line_height), 0 if style.reverse else 255)
    draw = ImageDraw.Draw(canvas)
    ink = 255 if style.reverse else 0
    draw.text((0, line_height - 4), text, fill=ink, font=font, anchor="ls")
    if style.underline:
        draw.line(
            (0, line_height - 2, drawn_width, line_height - 2),
            fill=ink,
            width=style.underline * style.height,
        )
    target = max(1, len(text) * cell * style.width)
    return canvas if target == drawn_width else canvas.resize((target, line_height))


def _cell_width(style: CharStyle) -> int:
    return (9 if style.font == "b" else 12) * style.width


def _wrap(segments: list[tuple[str, CharStyle]], width: int) -> list[list[tuple[str, CharStyle]]]:
    """The printed rows of one line: a printer whose line buffer is full prints it and goes on
    on the next row (character by character, not by word)."""
    rows: list[list[tuple[str, CharStyle]]] = [[]]
    used = 0
    for text, style in segments:
        cell = _cell_width(style)
        start = 0
        while start < len(text):
            room = (width - used) // cell
            if room <= 0 and used:
                rows.append([])
                used = 0
                continue
            piece = text[start : start + max(1, room)]
            rows[-1].append((piece, style))
            used += len(piece) * cell
            start += len(piece)
    return rows


def _render_row(segments: list[tuple[str, CharStyle]], align: str, width: int) -> Image.Image:
    height = 28 * max((s.height for t, s in segments), default=1)
    pieces = [_render_segment(text, seg, height) for text, seg in segments if text]
    total = sum(p.width for p in pieces)
    x = {"left": 0, "center": (width - total) // 2, "right": width - total}[align]
    canvas = Image.new("L", (width, height), 255)
    x = max(0, x)
    for piece in pieces:
        canvas.paste(piece, (x, 0))
        x += piece.width
    return canvas


def _render_line(line: TextLine, width: int) -> Image.Image:
    rows = [_render_row(row, line.align, width) for row in _wrap(line.segments, width)]
    if len(rows) == 1:
        return rows[0]
    canvas = Image.new("L", (width, sum(r.height for r in rows)), 255)
    top = 0
    for row in rows:
        canvas.paste(row, (0, top))
        top += row.height
    return canvas


def _render_preview(doc: DecodedDocument, width: int) -> Image.Image:
    normal = _font(16)
    pieces: list[tuple[Image.Image, str]] = []
    for item in doc.all_items():
        if isinstance(item, TextLine):
            pieces.append((_render_line(item, width), "left"))
        elif isinstance(item, DecodedImage):
            pieces.append((item.image.convert("L"), item.align))
        elif isinstance(item.value, Symbol):
            pieces.append((render_symbol(item.value), item.value.align))
        elif item.kind != "init":
            canvas = Image.new("L", (width, 30), 255)
            draw = ImageDraw.Draw(canvas)
            if item.kind == "cut":
                for dash in range(0, width, 16):
                    draw.line((dash, 15, dash + 8, 15), fill=0, width=2)
                draw.text((4, 0), f"✂ {item.detail} cut", fill=0, font=normal)
            else:
                draw.rectangle((0, 2, width - 1, 27), outline=128)
                draw.text((6, 4), f"[{item.kind} {item.detail}]"[:80], fill=80, font=normal)
            pieces.append((canvas, "left"))
    total = sum(p.height for p, _ in pieces) or 1
    page = Image.new("L", (width, total + 20), 255)
    top = 10
    for piece, align in pieces:
        offset = {"left": 0, "center": (width - piece.width) // 2, "right": width - piece.width}
        page.paste(piece, (max(0, offset.get(align, 0)), top))
        top += piece.height
    return page
