"""Odoo 8-12 XML receipts (odoo-protocol.md §5) -> ESC/POS bytes.

Layout follows Odoo's ``Escpos.receipt()`` so that existing receipts look the same (block/inline
spacing, ``<line>`` columns, ``<value>`` formatting), with these deliberate differences:
the job starts with ``ESC @`` and ONE code table; drawer kicks are complete ``ESC p`` commands;
images of any height are dithered and banded; ``h6``, ``qr`` and unknown tags print their content;
a non-numeric ``<value>`` or a bad barcode prints as text with a warning instead of aborting.
The XML is parsed with defusedxml: DTDs, entities and external references are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from posboxless.printer.escpos import encoder
from posboxless.printer.escpos.codepages import TextEncoder, describe_replacements
from posboxless.printer.escpos.errors import UnprintableInput
from posboxless.printer.escpos.image_loading import DEFAULT_MAX_PIXELS, decode_base64, open_image
from posboxless.printer.escpos.job import RenderedJob, job_prologue
from posboxless.printer.escpos.raster import encode_bitmap, receipt_bitmap
from posboxless.printer.escpos.xml_styles import StyleStack, format_value

if TYPE_CHECKING:
    from posboxless.printer.profiles import PrinterProfile


MAX_XML_CHARS = 8 * 1024 * 1024
MAX_DEPTH = 100

BLOCK_TAGS = frozenset(
    {
        "receipt",
        "div",
        "p",
        "section",
        "article",
        "header",
        "footer",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)
INLINE_TAGS = frozenset({"span", "em", "b", "left", "right"})
_WHITESPACE = re.compile(r"\s+")


class _Sink:
    """Collects the job bytes, encoding text with the profile's single code table."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.data = bytearray()
        self.encoder = TextEncoder(profile.encoding)
        self.replaced: list[str] = []

    def raw(self, data: bytes) -> None:
        self.data += data

    def text(self, text: str) -> None:
        encoded = self.encoder.encode(text)
        self.replaced += encoded.replaced
        self.data += encoded.data


class _Writer(Protocol):
    def start_inline(self, style: bytes | None = None) -> None: ...
    def start_block(self, style: bytes | None = None) -> None: ...
    def end_entity(self) -> None: ...
    def pre(self, text: str | None) -> None: ...
    def text(self, text: str | None) -> None: ...
    def linebreak(self) -> None: ...
    def raw(self, data: bytes) -> None: ...


def _collapse(text: str | None) -> str:
    return _WHITESPACE.sub(" ", text.strip()) if text else ""


class _FlowWriter:
    """Blocks start on a fresh line and end with one; inline pieces are joined by one space."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.stack = ["block"]
        self.dirty = False
        self.separate = False

    def start_inline(self, style: bytes | None = None) -> None:
        # Odoo writes the separating space at once, which doubles spaces between adjacent
        # inlines and leaves one at the end of lines; it is written only if text follows here.
        self.stack.append("inline")
        self.separate = self.dirty
        if style:
            self.sink.raw(style)

    def _separator(self) -> None:
        if self.separate:
            self.sink.raw(b" ")
            self.separate = False

    def start_block(self, style: bytes | None = None) -> None:
        self.separate = False
        if self.dirty:
            self.sink.raw(encoder.LF)
            self.dirty = False
        self.stack.append("block")
        if style:
            self.sink.raw(style)

    def end_entity(self) -> None:
        if self.stack[-1] == "block" and self.dirty:
            self.sink.raw(encoder.LF)
            self.dirty = False
        if len(self.stack) > 1:
            self.stack.pop()

    def pre(self, text: str | None) -> None:
        if text:
            self._separator()
            self.sink.text(text)
            self.dirty = not text.endswith("\n")

    def text(self, text: str | None) -> None:
        collapsed = _collapse(text)
        if collapsed:
            self._separator()
            self.dirty = True
            self.sink.text(collapsed)

    def linebreak(self) -> None:
        self.dirty = False
        self.separate = False
        self.sink.raw(encoder.LF)

    def raw(self, data: bytes) -> None:
        self.sink.raw(data)


class _LineWriter:
    """Builds one ``<line>``: left part truncated to its share, right part right-aligned."""

    def __init__(self, indent: int, tabwidth: int, width: int, ratio: float) -> None:
        self.prefix = " " * (indent * tabwidth)
        usable = max(0, width - indent * tabwidth)
        self.left_width = int(usable * ratio)
        self.right_width = max(0, usable - self.left_width)
        self.left_text = ""
        self.right_text = ""
        self.in_left = True
        self.separate = False

    def _add(self, text: str) -> None:
        if self.separate:
            self.separate = False
            text = " " + text
        if self.in_left:
            room = self.left_width - len(self.left_text)
            self.left_text += text[: max(0, room)]
        else:
            room = self.right_width - len(self.right_text)
            self.right_text += text[: max(0, room)]

    def start_inline(self, style: bytes | None = None) -> None:
        # The separating space is added only if more text follows: Odoo adds it at once, which
        # leaves a stray space after a right-aligned <value> and shifts the amounts.
        self.separate = bool(self.left_text if self.in_left else self.right_text)

    def start_block(self, style: bytes | None = None) -> None:
        self.start_inline(style)

    def end_entity(self) -> None:
        pass

    def pre(self, text: str | None) -> None:
        if text:
            self._add(text.replace("\n", " "))

    def text(self, text: str | None) -> None:
        collapsed = _collapse(text)
        if collapsed:
            self._add(collapsed)

    def linebreak(self) -> None:
        pass

    def raw(self, data: bytes) -> None:
        pass

    def start_right(self) -> None:
        self.in_left = False
        self.separate = False

    def line(self) -> str:
        return (
            self.prefix
            + self.left_text.ljust(self.left_width)
            + self.right_text.rjust(self.right_width)
        )


class _Renderer:
    def __init__(self, profile: PrinterProfile, max_pixels: int) -> None:
        self.profile = profile
        self.max_pixels = max_pixels
        self.sink = _Sink(profile)
        self.warnings: list[str] = []
        self.styles = StyleStack(profile.columns, profile.columns_font_b, self.warn)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    # -- document -------------------------------------------------------------------------------

    def render(self, root: Element) -> RenderedJob:
        self.sink.raw(job_prologue(self.profile))
        self.sink.raw(self.styles.commands())
        writer = _FlowWriter(self.sink)
        self.element(root, writer, 0, 0)
        # py-xml-escpos' sheet="slip" is ignored: receipt printers only have the roll.
        if _flag(
            root.get("open-cashdrawer"), default=False, warn=self.warn, name="open-cashdrawer"
        ):
            self.sink.raw(self.drawer_kick())
        if _flag(root.get("cut"), default=True, warn=self.warn, name="cut"):
            self.sink.raw(self.cut("profile"))
        warnings = list(self.warnings)
        if self.sink.replaced:
            message = describe_replacements(tuple(self.sink.replaced), self.profile.encoding)
            warnings.append(message)
        return RenderedJob(data=bytes(self.sink.data), warnings=tuple(warnings), kind="receipt")

    def drawer_kick(self) -> bytes:
        p = self.profile
        return b"".join(
            encoder.drawer_pulse(pin, p.drawer_on_ms, p.drawer_off_ms) for pin in p.drawer_pins
        )

    def cut(self, kind: str) -> bytes:
        """``<cut>`` is a full cut and ``<partialcut>`` a partial one in the profile's style
        (with or without feed); the final cut of a receipt is the profile's own choice."""
        mode = self.profile.cut
        if mode == "none":
            self.warn("cut ignored: this printer has no cutter (profile cut = 'none')")
            return encoder.feed_lines(encoder.CUT_FEED_LINES)
        if kind == "partial":
            return encoder.cut(encoder.partial_variant(mode))
        if kind == "full":
            return encoder.cut(encoder.full_variant(mode))
        return encoder.cut(mode)

    # -- elements -------------------------------------------------------------------------------

    def element(self, elem: Element, writer: _Writer, indent: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _reject(f"The receipt XML is nested more than {MAX_DEPTH} levels deep.")
        tag = elem.tag if isinstance(elem.tag, str) else ""
        self.styles.push(tag, elem.attrib)
        try:
            self._dispatch(tag, elem, writer, indent, depth)
        finally:
            self.styles.pop()

    def _dispatch(self, tag: str, elem: Element, writer: _Writer, indent: int, depth: int) -> None:
        styles = self.styles
        if tag in BLOCK_TAGS:
            writer.start_block(styles.commands())
            self.content(elem, writer, indent, depth)
            writer.end_entity()
        elif tag in INLINE_TAGS:
            writer.start_inline(styles.commands())
            self.content(elem, writer, indent, depth)
            writer.end_entity()
        elif tag == "value":
            writer.start_inline(styles.commands())
            text = "".join(elem.itertext())
            formatted = format_value(text, styles)
            if formatted is None:
                self.warn(f"<value> {text.strip()!r} is not a number: printed as is")
                formatted = _collapse(text)
            writer.pre(formatted)
            writer.end_entity()
        elif tag == "line":
            self.line(elem, writer, indent, depth)
        elif tag in ("ul", "ol"):
            self.listing(tag, elem, writer, indent, depth)
        elif tag == "pre":
            writer.start_block(styles.commands())
            writer.pre("".join(elem.itertext()))
            writer.end_entity()
        elif tag == "hr":
            writer.start_block(styles.commands())
            writer.text("-" * styles.width())
            writer.end_entity()
        elif tag == "br":
            writer.linebreak()
        elif tag == "img":
            self.image(elem, writer)
        elif tag == "barcode":
            self.barcode(elem, writer)
        elif tag == "qr":
            self.qr(elem, writer)
        elif tag == "cut":
            self.flush(writer)
            writer.raw(self.cut("full"))
        elif tag == "partialcut":
            self.flush(writer)
            writer.raw(self.cut("partial"))
        elif tag == "cashdraw":
            writer.raw(self.drawer_kick())
        else:
            self.warn(f"unknown tag <{tag}>: its content is printed as a plain block")
            writer.start_block(styles.commands())
            self.content(elem, writer, indent, depth)
            writer.end_entity()

    def content(self, elem: Element, writer: _Writer, indent: int, depth: int) -> None:
        writer.text(elem.text)
        for child in elem:
            self.element(child, writer, indent, depth + 1)
            writer.start_inline(self.styles.commands())
            writer.text(child.tail)
            writer.end_entity()

    def flush(self, writer: _Writer) -> None:
        """End a dirty line so that a cut or an image starts on a fresh line."""
        if isinstance(writer, _FlowWriter) and writer.dirty:
            writer.linebreak()

    def line(self, elem: Element, writer: _Writer, indent: int, depth: int) -> None:
        styles = self.styles
        line = _LineWriter(
            indent=styles.get("indent") + indent,
            tabwidth=styles.get("tabwidth"),
            width=styles.width(),
            ratio=styles.get("line-ratio"),
        )
        writer.start_block(styles.commands())
        for child in elem:
            if child.tag == "left":
                self.element(child, line, indent, depth + 1)
            elif child.tag == "right":
                line.start_right()
                self.element(child, line, indent, depth + 1)
            else:
                self.warn(f"<{child.tag}> inside <line> ignored: only <left> and <right> print")
        if _collapse(elem.text):
            self.warn("text directly inside <line> ignored: put it in <left> or <right>")
        writer.pre(line.line())
        writer.end_entity()

    def listing(self, tag: str, elem: Element, writer: _Writer, indent: int, depth: int) -> None:
        styles = self.styles
        writer.start_block(styles.commands())
        number_width = len(str(len(elem))) + 2
        number = 1
        for child in elem:
            if child.tag == "li":
                margin = " " * (indent * styles.get("tabwidth"))
                if tag == "ul":
                    marker = styles.get("bullet")
                else:
                    marker = " " + f"{number})".ljust(number_width)
                    number += 1
                writer.raw(styles.commands())
                if isinstance(writer, _FlowWriter):
                    writer.sink.text(margin + marker)
            self.element(child, writer, indent + 1, depth + 1)
        writer.end_entity()

    def image(self, elem: Element, writer: _Writer) -> None:
        src = (elem.get("src") or "").strip()
        if not src.startswith("data:"):
            self.warn("<img> without a data: URI ignored (only embedded images can be printed)")
            return
        header, comma, payload = src.partition(",")
        if not comma or ";base64" not in header:
            self.warn("<img> data URI that is not base64 ignored")
            return
        picture = open_image(
            decode_base64(payload, what="image in the receipt"),
            max_pixels=self.max_pixels,
            what="image in the receipt",
        )
        # Logos keep their own size (Odoo's box never enlarges them); only wider ones shrink.
        bitmap = receipt_bitmap(picture, self.profile.width_dots, "native")
        self.flush(writer)
        writer.raw(self.styles.commands())
        writer.raw(encode_bitmap(bitmap, self.profile.image_method))

    def barcode(self, elem: Element, writer: _Writer) -> None:
        data = _collapse("".join(elem.itertext()))
        kind = elem.get("encoding")
        writer.start_block(self.styles.commands())
        try:
            if not kind:
                raise ValueError("<barcode> has no encoding attribute")
            command = encoder.barcode(kind, data)
        except ValueError as exc:
            self.warn(f"barcode printed as text: {exc}")
            writer.text(data)
        else:
            # The printer is back at the start of a line after a symbol: no LF needed.
            writer.raw(encoder.align("center") + command)
        writer.end_entity()

    def qr(self, elem: Element, writer: _Writer) -> None:
        data = "".join(elem.itertext()).strip()
        writer.start_block(self.styles.commands())
        try:
            command = encoder.qr_code(
                data,
                module_size=_int_attr(elem.get("module-size"), 6),
                error_correction=elem.get("error-correction", "M"),
            )
        except ValueError as exc:
            self.warn(f"QR code printed as text: {exc}")
            writer.text(data)
        else:
            # The printer is back at the start of a line after a symbol: no LF needed.
            writer.raw(encoder.align("center") + command)
        writer.end_entity()


def _int_attr(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return -1  # rejected with a warning by the encoder's range check


def _flag(value: str | None, *, default: bool, warn: Callable[[str], None], name: str) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    warn(f"root attribute {name}={value!r} is not 'true' or 'false': using {default}")
    return default


def parse_receipt(xml: str) -> Element:
    """Parse untrusted receipt XML safely; raise ``UnprintableInput`` with a plain message."""
    if not isinstance(xml, str):
        raise _reject("The receipt must be XML text.")
    if len(xml) > MAX_XML_CHARS:
        raise _reject(f"The receipt XML is too large ({len(xml)} characters).")
    if not xml.strip():
        raise _reject("The receipt XML is empty.")
    try:
        return SafeET.fromstring(xml, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise _reject(
            "The receipt XML contains a DOCTYPE declaration; DTDs and entities are not allowed "
            "in receipts."
        ) from None
    except defusedxml.EntitiesForbidden:
        raise _reject(
            "The receipt XML declares entities; they are not allowed in receipts."
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise _reject(
            "The receipt XML refers to an external resource; this is not allowed."
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise _reject(f"The receipt XML was refused: {exc}") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise _reject(
            f"The receipt XML is malformed at line {line}, column {column + 1}: "
            f"{str(exc).split(':')[0]}."
        ) from None


def _reject(message: str) -> UnprintableInput:
    return UnprintableInput(message)


def render_xml_receipt(
    xml: str, profile: PrinterProfile, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> RenderedJob:
    """Render an Odoo XML receipt for ``profile``; raises ``UnprintableInput``."""
    root = parse_receipt(xml)
    try:
        return _Renderer(profile, max_pixels).render(root)
    except RecursionError:
        raise _reject("The receipt XML is nested too deeply.") from None
