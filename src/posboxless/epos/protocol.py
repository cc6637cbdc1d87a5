"""Epson ePOS-Print XML (epos.md §3-§5, §11), sans I/O: a request body in, print operations and
ESC/POS bytes for one printer profile out; an outcome in, the response body out.

What Odoo 15-20 send: a SOAP envelope whose ``<epos-print>`` holds ``image`` + ``cut`` (receipts),
``pulse`` (cash drawer) or ``feed``/``text``/``cut`` (19's test page). 15/16 keep the ePOS namespace
on every child; 17+ strip ``xmlns=""`` and serialise HTML-style (``<cut type="feed"></cut>``): both
parse the same here. Anything else is a ``SchemaError`` and nothing is printed, as Epson's printers
answer. The body is untrusted: defusedxml (no DTD, no entities), a size cap before parsing, a depth
and an element-count cap, and pixel and byte limits on images checked before anything is decoded.

Nothing here logs, sleeps or touches a device; errors are ``EposError`` subclasses carrying the
ePOS ``code`` to answer.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from posboxless.printer.escpos import encoder
from posboxless.printer.escpos.codepages import TextEncoder, describe_replacements
from posboxless.printer.escpos.job import job_prologue
from posboxless.printer.escpos.raster import Bitmap, encode_bitmap, fit_bitmap

if TYPE_CHECKING:
    from posboxless.printer.profiles import PrinterProfile

EPOS_NS = "http://www.epson-pos.com/schemas/2011/03/epos-print"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
DEVICE_ID = "local_printer"
"""The only device id Odoo sends (``?devid=local_printer``)."""

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 16
MAX_ELEMENTS = 10_000
MAX_IMAGE_PIXELS = 4096 * 20_000
MAX_IMAGE_WIDTH = 65_535
MAX_TEXT_CHARS = 64 * 1024

_WHITESPACE = re.compile(rb"\s+")

# Status bits of the ``status`` attribute (epos.md §5, EPX).
ASB_NO_RESPONSE = 0x00000001
ASB_PRINT_SUCCESS = 0x00000002
ASB_DRAWER_KICK = 0x00000004
ASB_OFF_LINE = 0x00000008
ASB_COVER_OPEN = 0x00000020
ASB_MECHANICAL_ERR = 0x00000400
ASB_AUTOCUTTER_ERR = 0x00000800
ASB_UNRECOVER_ERR = 0x00002000
ASB_AUTORECOVER_ERR = 0x00004000
ASB_RECEIPT_NEAR_END = 0x00020000
ASB_RECEIPT_END = 0x00080000


class EposError(Exception):
    """A request that cannot be printed; ``code`` is the ePOS error code to answer."""

    code = "PrintSystemError"


class EposSchemaError(EposError):
    """Not an ePOS-Print document, an element or attribute value Odoo's printers would refuse."""

    code = "SchemaError"


class EposTooLarge(EposError):
    """The body or an image is over the limits."""

    code = "RequestEntityTooLarge"


class EposDeviceNotFound(EposError):
    """``devid`` names no printer."""

    code = "DeviceNotFound"


# -- operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageOp:
    bitmap: Bitmap
    align: str = "left"


@dataclass(frozen=True)
class CutOp:
    type: str = "feed"


@dataclass(frozen=True)
class PulseOp:
    pin: int | None = None
    """2 (``drawer_1``), 5 (``drawer_2``) or None: no ``drawer`` attribute, the profile's pins."""
    on_ms: int | None = None
    """From ``pulse_100``..``pulse_500``; None: the profile's pulse length."""


@dataclass(frozen=True)
class TextStyle:
    align: str = "left"
    font: str = "a"
    width: int = 1
    height: int = 1
    bold: bool = False
    underline: bool = False
    reverse: bool = False


@dataclass(frozen=True)
class TextOp:
    text: str
    style: TextStyle


@dataclass(frozen=True)
class FeedOp:
    lines: int | None = None
    dots: int | None = None


Operation = ImageOp | CutOp | PulseOp | TextOp | FeedOp


@dataclass(frozen=True)
class EposRequest:
    operations: tuple[Operation, ...]

    @property
    def kind(self) -> str:
        """``drawer`` for a drawer kick alone, ``image`` when it holds an image, else ``text``."""
        if self.operations and all(isinstance(op, PulseOp) for op in self.operations):
            return "drawer"
        if any(isinstance(op, ImageOp) for op in self.operations):
            return "image"
        return "text"

    @property
    def prints(self) -> bool:
        """Something reaches the paper or the drawer (an empty ``<epos-print/>`` does not)."""
        return bool(self.operations)


@dataclass(frozen=True)
class RenderedRequest:
    data: bytes
    kind: str
    warnings: tuple[str, ...] = ()


# -- parsing ------------------------------------------------------------------------------------


def _local(tag: object) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str | None:
    return tag[1:].partition("}")[0] if tag.startswith("{") else None


def parse_request(
    body: bytes,
    *,
    max_bytes: int = MAX_BODY_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> EposRequest:
    """The operations of an ePOS-Print request body (SOAP envelope, or a bare ``<epos-print>``)."""
    if len(body) > max_bytes:
        raise EposTooLarge(f"request body of {len(body)} bytes is over the {max_bytes}-byte limit")
    if not body.strip():
        raise EposSchemaError("empty request body (an ePOS-Print XML document was expected)")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise EposSchemaError(f"refused XML construct: {exc}") from None
    except ParseError as exc:
        raise EposSchemaError(f"not well-formed XML: {exc}") from None
    _check_shape(root)
    document = _find_epos_print(root)
    operations: list[Operation] = []
    style = TextStyle()
    for child in document:
        name = _local(child.tag)
        if not name:
            continue
        namespace = _namespace(child.tag)
        if namespace not in (None, EPOS_NS):
            raise EposSchemaError(f"element <{name}> in unknown namespace {namespace}")
        if name == "image":
            operations.append(_image(child, max_pixels))
        elif name == "cut":
            operations.append(_cut(child))
        elif name == "pulse":
            operations.append(_pulse(child))
        elif name == "feed":
            operations.append(_feed(child))
        elif name == "text":
            style = _text_style(child, style)
            text = "".join(child.itertext())
            if len(text) > MAX_TEXT_CHARS:
                raise EposTooLarge(f"<text> of {len(text)} characters is over the limit")
            if text:
                operations.append(TextOp(text, style))
        else:
            raise EposSchemaError(f"element <{name}> is not supported by this printer")
    return EposRequest(tuple(operations))


def _check_shape(root: Element) -> None:
    """Depth and element count, without recursion (a deep document must not blow the stack)."""
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise EposSchemaError(f"document nested deeper than {MAX_DEPTH} levels")
        if count > MAX_ELEMENTS:
            raise EposTooLarge(f"document has more than {MAX_ELEMENTS} elements")
        stack.extend((child, depth + 1) for child in element)


def _find_epos_print(root: Element) -> Element:
    if _local(root.tag) == "epos-print":
        return root
    if _local(root.tag) != "Envelope":
        raise EposSchemaError(f"root element <{_local(root.tag)}> is not a SOAP Envelope")
    for body in root:
        if _local(body.tag) == "Body":
            for child in body:
                if _local(child.tag) == "epos-print":
                    return child
    raise EposSchemaError("no <epos-print> element in the SOAP Body")


def _choice(element: Element, name: str, choices: dict[str, int], default: str) -> int:
    raw = element.get(name)
    value = default if raw is None else raw.strip()
    if value not in choices:
        allowed = ", ".join(choices)
        raise EposSchemaError(f"<{_local(element.tag)} {name}={raw!r}>: expected one of {allowed}")
    return choices[value]


def _integer(element: Element, name: str, low: int, high: int, default: int | None) -> int | None:
    raw = element.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise EposSchemaError(
            f"<{_local(element.tag)} {name}={raw!r}>: expected a whole number {low}..{high}"
        )
    return int(text)


def _boolean(element: Element, name: str, default: bool) -> bool:
    raw = element.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise EposSchemaError(f"<{_local(element.tag)} {name}={raw!r}>: expected true or false")


_ALIGN = {"left": 0, "center": 1, "right": 2}
_ALIGN_NAMES = {0: "left", 1: "center", 2: "right"}


def _image(element: Element, max_pixels: int) -> ImageOp:
    width = _integer(element, "width", 1, MAX_IMAGE_WIDTH, None)
    height = _integer(element, "height", 1, MAX_IMAGE_WIDTH, None)
    if width is None or height is None:
        raise EposSchemaError("<image> needs width and height")
    if width * height > max_pixels:
        raise EposTooLarge(f"<image> of {width}x{height} dots is over the {max_pixels}-dot limit")
    align = _ALIGN_NAMES[_choice(element, "align", _ALIGN, "left")]
    _choice(element, "color", {"none": 0, "color_1": 1}, "color_1")
    _choice(element, "mode", {"mono": 0}, "mono")
    text = (element.text or "").encode("ascii", errors="replace")
    expected = (width * height + 7) // 8
    if len(text) > 2 * (expected * 4 // 3 + 4) + 1024:  # generous: whitespace, line breaks
        raise EposTooLarge("<image> data is far longer than its width and height need")
    compact = _WHITESPACE.sub(b"", text)
    try:
        raw = base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EposSchemaError("<image> data is not valid base64") from None
    return ImageOp(_raster(raw, width, height), align)


def _raster(raw: bytes, width: int, height: int) -> Bitmap:
    """Rows padded to whole bytes (Epson), or Odoo's continuous bit stream when the width is not
    a multiple of 8 (epos.md §4: bits run on across rows, the last short group right-aligned)."""
    row_bytes = (width + 7) // 8
    if len(raw) == row_bytes * height:
        return Bitmap(width, height, raw)
    bits = width * height
    if len(raw) != (bits + 7) // 8:
        raise EposSchemaError(
            f"<image> data is {len(raw)} bytes; {width}x{height} dots need {row_bytes * height}"
        )
    tail = bits % 8
    number = int.from_bytes(raw, "big")
    if tail:
        # The last group was fewer than 8 bits, read as a small number: put them back on top.
        number = (number >> 8 << 8 | (raw[-1] << (8 - tail)) & 0xFF) if raw else number
    total = len(raw) * 8
    pad = row_bytes * 8 - width
    mask = (1 << width) - 1
    rows = bytearray()
    for row in range(height):
        shift = total - (row + 1) * width
        rows += (((number >> shift) & mask) << pad).to_bytes(row_bytes, "big")
    return Bitmap(width, height, bytes(rows))


_CUTS = {
    "feed": 0,
    "no_feed": 1,
    "reserve": 2,
    "full_cut_feed": 3,
    "full_cut_no_feed": 4,
    "full_cut_reserve": 5,
}


def _cut(element: Element) -> CutOp:
    _choice(element, "type", _CUTS, "feed")
    return CutOp((element.get("type") or "feed").strip())


_DRAWERS = {"drawer_1": 2, "drawer_2": 5}
_PULSES = {f"pulse_{ms}": ms for ms in (100, 200, 300, 400, 500)}


def _pulse(element: Element) -> PulseOp:
    pin = _choice(element, "drawer", _DRAWERS, "drawer_1") if element.get("drawer") else None
    on_ms = _choice(element, "time", _PULSES, "pulse_100") if element.get("time") else None
    return PulseOp(pin, on_ms)


def _feed(element: Element) -> FeedOp:
    lines = _integer(element, "line", 0, 255, None)
    dots = _integer(element, "unit", 0, 65_535, None)
    return FeedOp(lines, dots)


_FONTS = {"font_a": 0, "font_b": 1, "font_c": 1, "font_d": 1, "font_e": 1, "special_a": 0}


def _text_style(element: Element, style: TextStyle) -> TextStyle:
    """ePOS text settings persist: an attribute changes them for this and later ``<text>``."""
    changes: dict[str, object] = {}
    if element.get("align") is not None:
        changes["align"] = _ALIGN_NAMES[_choice(element, "align", _ALIGN, "left")]
    if element.get("font") is not None:
        changes["font"] = "b" if _choice(element, "font", _FONTS, "font_a") else "a"
    for attribute, key in (("width", "width"), ("height", "height")):
        value = _integer(element, attribute, 1, 8, None)
        if value is not None:
            changes[key] = value
    if element.get("dw") is not None:
        changes["width"] = 2 if _boolean(element, "dw", False) else 1
    if element.get("dh") is not None:
        changes["height"] = 2 if _boolean(element, "dh", False) else 1
    for attribute, key in (("em", "bold"), ("ul", "underline"), ("reverse", "reverse")):
        if element.get(attribute) is not None:
            changes[key] = _boolean(element, attribute, False)
    # lang, smooth, color, x, y, linespc, rotate: accepted; the profile's code table and the
    # printer's defaults decide.
    if not changes:
        return style
    values = {**style.__dict__, **changes}
    return TextStyle(**values)


# -- rendering ----------------------------------------------------------------------------------


def render_request(request: EposRequest, profile: PrinterProfile) -> RenderedRequest:
    """ESC/POS bytes for ``profile``: images centred or shrunk per the profile, the profile's
    code table and cutter, the drawer pins and pulse times the profile or the request give."""
    kind = request.kind
    if kind == "drawer":
        out = bytearray(encoder.select_peripheral(1))
    else:
        out = bytearray(job_prologue(profile))
    text = TextEncoder(profile.encoding)
    replaced: list[str] = []
    mid_line = False
    for op in request.operations:
        if isinstance(op, TextOp):
            out += _style_commands(op.style)
            pieces = op.text.split("\n")
            for index, piece in enumerate(pieces):
                if index:
                    out += encoder.LF
                encoded = text.encode(piece)
                replaced += encoded.replaced
                out += encoded.data
            mid_line = not op.text.endswith("\n")
            continue
        if mid_line and not isinstance(op, PulseOp):
            out += encoder.LF  # an image or a cut starts on a fresh line
            mid_line = False
        if isinstance(op, ImageOp):
            bitmap = fit_bitmap(op.bitmap, profile.width_dots, profile.scale_images)
            out += encoder.align(op.align)  # type: ignore[arg-type]
            out += encode_bitmap(bitmap, profile.image_method)
            out += encoder.align("left")
        elif isinstance(op, CutOp):
            out += _cut_bytes(op.type, profile.cut)
        elif isinstance(op, PulseOp):
            pins = (op.pin,) if op.pin is not None else profile.drawer_pins
            on_ms = op.on_ms if op.on_ms is not None else profile.drawer_on_ms
            off_ms = max(on_ms, profile.drawer_off_ms)
            for pin in pins:
                out += encoder.drawer_pulse(pin, min(on_ms, 510), min(off_ms, 510))
        elif isinstance(op, FeedOp):
            out += _feed_bytes(op)
    if mid_line:
        out += encoder.LF
    warnings: tuple[str, ...] = ()
    if replaced:
        warnings = (describe_replacements(tuple(replaced), profile.encoding),)
    return RenderedRequest(bytes(out), kind, warnings)


def _style_commands(style: TextStyle) -> bytes:
    return (
        encoder.align(style.align)  # type: ignore[arg-type]
        + encoder.font("b" if style.font == "b" else "a")
        + encoder.character_size(style.width, style.height)
        + encoder.bold(style.bold)
        + encoder.underline("on" if style.underline else "off")
        + encoder.reverse(style.reverse)
    )


def _cut_bytes(kind: str, profile_cut: str) -> bytes:
    if profile_cut == "none":
        return encoder.feed_lines(encoder.CUT_FEED_LINES)  # no cutter: room to tear it off
    full = kind.startswith("full_cut") or profile_cut in ("full", "feed-full")
    if kind.endswith("no_feed"):
        return encoder.GS + (b"V\x00" if full else b"V\x01")
    mode = encoder.full_variant(profile_cut) if full else encoder.partial_variant(profile_cut)
    return encoder.cut(mode)


def _feed_bytes(op: FeedOp) -> bytes:
    if op.lines is not None:
        return encoder.feed_lines(op.lines) if op.lines else b""
    if op.dots is not None:
        out = bytearray()
        remaining = op.dots
        while remaining > 0:
            step = min(255, remaining)
            out += encoder.feed_dots(step)
            remaining -= step
        return bytes(out)
    return encoder.LF


# -- response -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrinterCondition:
    """What is known of the printer when answering (from its last status)."""

    answering: bool = True
    """False when the printer (or its link) does not answer."""
    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    drawer_high: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    mechanical_error: bool = False
    autorecover_error: bool = False

    def status(self, *, printed: bool) -> int:
        bits = ASB_PRINT_SUCCESS if printed else 0
        if not self.answering:
            return bits | ASB_NO_RESPONSE
        for flag, bit in (
            (not self.online, ASB_OFF_LINE),
            (self.cover_open, ASB_COVER_OPEN),
            (self.paper_out, ASB_RECEIPT_END),
            (self.paper_near_end and not self.paper_out, ASB_RECEIPT_NEAR_END),
            (self.drawer_high, ASB_DRAWER_KICK),
            (self.cutter_error, ASB_AUTOCUTTER_ERR),
            (self.unrecoverable_error, ASB_UNRECOVER_ERR),
            (self.mechanical_error, ASB_MECHANICAL_ERR),
            (self.autorecover_error, ASB_AUTORECOVER_ERR),
        ):
            if flag:
                bits |= bit
        return bits

    def error_code(self) -> str | None:
        """The Epson code for the condition that stops printing, most specific first."""
        if not self.answering:
            return "EX_TIMEOUT"
        if self.cover_open:
            return "EPTR_COVER_OPEN"
        if self.paper_out:
            return "EPTR_REC_EMPTY"
        if self.cutter_error:
            return "EPTR_CUTTER"
        if self.unrecoverable_error:
            return "EPTR_UNRECOVERABLE"
        if self.autorecover_error:
            return "EPTR_AUTOMATICAL"
        if self.mechanical_error:
            return "EPTR_MECHANICAL"
        return None


@dataclass(frozen=True)
class EposAnswer:
    success: bool
    code: str = ""
    status: int = 0

    def to_xml(self) -> bytes:
        return response_xml(self.success, self.code, self.status)


def response_xml(success: bool, code: str, status: int) -> bytes:
    """The SOAP response Odoo reads: ``success`` is exactly ``true`` or ``false``, ``code`` is
    always present (``""`` on success: 19's test button requires it), ``status`` decimal."""
    from xml.sax.saxutils import quoteattr

    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body>'
        f'<response success="{"true" if success else "false"}" code={quoteattr(code)} '
        f'status="{status & 0xFFFFFFFF}" battery="0" xmlns="{EPOS_NS}"/>'
        "</s:Body></s:Envelope>"
    ).encode()


# -- outcome -> answer --------------------------------------------------------------------------

_REASON_CODES = {
    "paper_out": "EPTR_REC_EMPTY",
    "cover_open": "EPTR_COVER_OPEN",
    "not_answering": "EX_TIMEOUT",
    "offline": "EX_BADPORT",
    "queue_full": "TooManyRequests",
    "invalid": "SchemaError",
    "expired": "EX_TIMEOUT",
    "withdrawn": "EX_TIMEOUT",
}


def answer_for(state: str, reason: str | None, condition: PrinterCondition) -> EposAnswer:
    """The truthful answer for a job (epos.md §5, §11.3).

    ``state``: ``printed``; ``printing`` (partly sent, not confirmed yet: it will be finished) or
    ``queued`` (a keep-and-print-later printer kept it), both answered ``success="true"`` so that
    no retry prints it twice, with the Epson codes ``Printing`` / ``JobSpooling`` that 19's test
    button shows; anything else failed and never prints (``reason`` says why).
    """
    if state == "printed":
        return EposAnswer(True, "", condition.status(printed=True))
    if state in ("printing", "queued"):
        code = "Printing" if state == "printing" else "JobSpooling"
        return EposAnswer(True, code, condition.status(printed=False))
    if reason == "not_answering" or (reason == "offline" and _link_down(condition)):
        condition = PrinterCondition(answering=False)
    found = condition.error_code() if reason not in ("queue_full", "invalid") else None
    if found is None or (reason == "offline" and found == "EX_TIMEOUT"):
        found = _REASON_CODES.get(reason or "", "PrintSystemError")
    code = found
    status = condition.status(printed=False)
    if reason == "paper_out":
        status |= ASB_RECEIPT_END
    elif reason == "cover_open":
        status |= ASB_COVER_OPEN
    return EposAnswer(False, code, status)


def _link_down(condition: PrinterCondition) -> bool:
    """ "offline" covers both a printer that is gone and one stopped by an error it reports
    (cutter jam...): only the first is answered as a dead port."""
    return not condition.answering or condition.error_code() is None


def error_answer(error: EposError, condition: PrinterCondition | None = None) -> EposAnswer:
    """The answer to a request refused before printing (nothing was printed)."""
    status = condition.status(printed=False) if condition is not None else 0
    return EposAnswer(False, error.code, status)
