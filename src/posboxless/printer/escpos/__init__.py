"""Sans-I/O ESC/POS: receipts (XML, image, text), drawer kicks, status decoding, and a decoder.

Nothing here touches a device, a socket, a thread or a clock: bytes and objects in, bytes and
objects out. The printer service and the simulators are built on top of it.
"""

from __future__ import annotations

from posboxless.printer.escpos.decoder import (
    DecodedDocument,
    EscPosDecodeError,
    EscPosDecoder,
    decode,
)
from posboxless.printer.escpos.image_receipt import render_image_bytes, render_image_receipt
from posboxless.printer.escpos.job import RenderedJob
from posboxless.printer.escpos.receipt_xml import render_xml_receipt
from posboxless.printer.escpos.status import (
    STATUS_QUERIES,
    PrinterState,
    StatusDecodeError,
    decode_asb,
    decode_status,
    is_asb_header,
    is_status_answer,
)
from posboxless.printer.escpos.tickets import render_drawer_kick, render_text_ticket

__all__ = [
    "STATUS_QUERIES",
    "DecodedDocument",
    "EscPosDecodeError",
    "EscPosDecoder",
    "PrinterState",
    "RenderedJob",
    "StatusDecodeError",
    "decode",
    "decode_asb",
    "decode_status",
    "is_asb_header",
    "is_status_answer",
    "render_drawer_kick",
    "render_image_bytes",
    "render_image_receipt",
    "render_text_ticket",
    "render_xml_receipt",
]
