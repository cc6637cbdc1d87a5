"""The ESC/POS decoder: incremental parsing, styles, code tables, images, strictness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.escpos import EscPosDecodeError, EscPosDecoder, decode
from posboxless.printer.escpos import encoder as e


def test_text_lines_and_pending_line() -> None:
    decoder = EscPosDecoder()
    decoder.feed(b"hello\nworld")
    assert decoder.document.text() == "hello\nworld"
    assert [line.text for line in decoder.document.lines] == ["hello"]
    decoder.feed(b"!\n")
    assert [line.text for line in decoder.document.lines] == ["hello", "world!"]


def test_code_table_decides_the_characters() -> None:
    assert decode(e.select_code_table(16) + b"\x80 \x9c\n").text() == "€ œ"
    assert decode(e.select_code_table(40) + b"\xa4 \xbd\n").text() == "€ œ"
    assert decode(e.select_code_table(19) + b"\xd5\n").text() == "€"
    # Power-on / ESC @ table is PC437.
    assert decode(b"\x82\n").text() == "é"
    doc = decode(e.select_code_table(16) + e.initialise() + b"\x82\n")
    assert doc.text() == "é"
    assert doc.code_tables == [16]
    assert doc.initialisations == 1


def test_styles_are_tracked() -> None:
    data = (
        e.align("center")
        + e.bold(True)
        + b"Bold\n"
        + e.bold(False)
        + e.align("right")
        + e.size_mode("double")
        + b"Big\n"
        + e.size_mode("normal")
        + e.underline("double")
        + e.font("b")
        + e.color("red")
        + b"U\n"
        + e.print_mode(bold=True, underline=True)
        + e.character_size(3, 2)
        + e.reverse(True)
        + b"M\n"
    )
    lines = decode(data).lines
    assert (lines[0].align, lines[0].bold) == ("center", True)
    assert (lines[1].align, lines[1].bold, lines[1].style.width, lines[1].style.height) == (
        "right",
        False,
        2,
        2,
    )
    third = lines[2].style
    assert (third.underline, third.font, third.red, third.bold) == (2, "b", True, False)
    fourth = lines[3].style
    assert (fourth.bold, fourth.underline, fourth.font) == (True, 1, "a")
    assert (fourth.width, fourth.height, fourth.reverse) == (3, 2, True)


def test_incremental_feeding_byte_by_byte_gives_the_same_document() -> None:
    data = (
        e.initialise()
        + e.select_code_table(16)
        + b"Caf\xe9 \x80\n"
        + e.drawer_pulse(2, 100, 400)
        + e.barcode("EAN13", "3017620422003")
        + e.qr_code("https://odoo.com")
        + e.status_query(1)
        + e.cut("feed-partial")
        + b"\x1d\x76\x30\x00\x01\x00\x02\x00\xf0\x0f"
    )
    whole = decode(data)
    decoder = EscPosDecoder()
    for i in range(len(data)):
        decoder.feed(data[i : i + 1])
    pieces = decoder.finish()
    assert pieces.plain_text() == whole.plain_text()
    assert pieces.barcodes == whole.barcodes == [("EAN13", "3017620422003")]
    assert pieces.qr_codes == ["https://odoo.com"]
    assert pieces.pulses == [(2, 100, 400)]
    assert pieces.cuts == ["partial"]
    assert pieces.images[0].size == (8, 2)


def test_incomplete_command_is_held_until_the_rest_arrives() -> None:
    decoder = EscPosDecoder()
    decoder.feed(b"\x1b")
    assert decoder.incomplete
    decoder.feed(b"p\x00\x32")
    assert decoder.document.pulses == []
    decoder.feed(b"\xc8")
    assert decoder.document.pulses == [(2, 100, 400)]
    assert not decoder.incomplete


def test_finish_raises_on_truncated_stream() -> None:
    decoder = EscPosDecoder()
    decoder.feed(b"\x1d\x76\x30\x00\x01\x00\x05\x00\x00")
    with pytest.raises(EscPosDecodeError, match="ends inside a command"):
        decoder.finish()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x07", "unknown control byte 0x07"),
        (b"\x1bZ", "unknown command ESC 0x5A"),
        (b"\x1dZ", "unknown command GS 0x5A"),
        (b"\x10\x07", "unknown command DLE"),
        (b"\x1bt\x63", "code table 99"),
        (b"\x1d\x56\x07", "invalid cut mode"),
        (b"\x1b\x70\x05\x01\x01", "invalid pin"),
        (b"\x1d\x6b\x20", "unknown barcode type"),
        (b"\x10\x04\x09", "DLE EOT"),
        (b"\x1b\x61\x07", "invalid alignment"),
        (b"\x1d\x28\x4c\x02\x00\x30\x32", "without stored graphics"),
        (b"\x1d\x28\x4c\x0b\x00\x30\x70\x30\x01\x01\x31\x10\x00\x01\x00\xaa", "does not match"),
        (b"\x1d\x28\x6b\x03\x00\x32\x41\x00", "only QR"),
        (b"\x1d\x28\x5a\x00\x00", "GS ( 0x5A"),
    ],
)
def test_unknown_or_malformed_commands_raise(data: bytes, message: str) -> None:
    with pytest.raises(EscPosDecodeError, match=re.escape(message)):
        decode(data)


def test_odoo_defective_drawer_kick_is_caught() -> None:
    # ESC p 0 ESC p 1 without pulse times: the printer reads t1=ESC, t2='p' and a stray 01.
    with pytest.raises(EscPosDecodeError, match="0x01"):
        decode(b"\x1bp\x00\x1bp\x01")


def test_decoder_continues_after_an_error_when_asked() -> None:
    decoder = EscPosDecoder()
    with pytest.raises(EscPosDecodeError):
        decoder.feed(b"ok\n\x07more\n")
    assert decoder.document.text() == "ok"
    decoder.feed(b"again\n")  # the bad byte was dropped; the rest of the chunk is kept
    assert decoder.document.text() == "ok\nmore\nagain"


def test_status_queries_are_reported_once() -> None:
    decoder = EscPosDecoder()
    decoder.feed(b"\x10\x04\x01\x10\x04\x04")
    assert decoder.pending_status_queries() == [1, 4]
    assert decoder.pending_status_queries() == []
    decoder.feed(b"\x10\x04\x02")
    assert decoder.pending_status_queries() == [2]
    assert decoder.document.status_queries == [1, 4, 2]


def test_realtime_pulse_and_other_tolerated_commands() -> None:
    doc = decode(
        e.drawer_pulse_realtime(5, 200)
        + e.select_peripheral(1)
        + b"\x1bc01"
        + b"\x10\x05\x01"
        + b"\x1d\x4c\x00\x00"
        + e.feed_dots(10)
        + e.line_spacing(30)
        + e.line_spacing(None)
    )
    assert doc.pulses == [(5, 200, 200)]


def test_cut_kinds() -> None:
    doc = decode(
        e.cut("full")
        + e.cut("partial")
        + e.cut("feed-full")
        + e.cut("feed-partial")
        + b"\x1dV0\x1dV1\x1dVA\n"
    )
    assert doc.cuts == ["full", "partial", "full", "partial", "full", "partial", "full"]


def test_function_b_barcode_and_esc_d_lines() -> None:
    doc = decode(e.barcode("CODE128", "ABC") + b"x" + e.feed_lines(2) + b"y\n")
    assert doc.barcodes == [("CODE128", "{BABC")]
    assert doc.text() == "x\n\n\ny"


def test_separate_images_stay_separate() -> None:
    band = b"\x1d\x76\x30\x00\x01\x00\x01\x00\xff"
    wide = b"\x1d\x76\x30\x00\x02\x00\x01\x00\xff\xff"
    doc = decode(band + band + b"text\n" + band + wide)
    assert [img.size for img in doc.images] == [(8, 2), (8, 1), (16, 1)]


def test_preview_png_and_plain_text(tmp_path: Path) -> None:
    data = (
        e.initialise()
        + e.select_code_table(16)
        + e.align("center")
        + e.size_mode("double")
        + b"Caf\xe9\n"
        + e.size_mode("normal")
        + e.align("left")
        + b"Total  \x80 4.50\n"
        + b"\x1d\x76\x30\x00\x02\x00\x10\x00"
        + b"\xff\x00" * 16
        + e.barcode("EAN8", "96385074")
        + e.drawer_pulse(5, 50, 50)
        + e.cut("full")
    )
    doc = decode(data)
    path = tmp_path / "receipt.png"
    doc.to_png(path)
    preview = Image.open(path)
    assert preview.width == 576 and preview.height > 100
    assert preview.convert("L").getextrema()[0] == 0  # something black was drawn
    text = doc.plain_text()
    assert text.splitlines() == [
        "Café",
        "Total  € 4.50",
        "[image 16x16 (raster)]",
        "[barcode EAN8 96385074]",
        "[drawer pulse: pin 5 50/50 ms]",
        "",
        "",
        "",
        "",
        "",
        "",
        "-------- full cut --------",
    ]


def test_document_is_complete_without_finish_while_bands_arrive() -> None:
    band = b"\x1d\x76\x30\x00\x01\x00\x02\x00\xff\x00"
    decoder = EscPosDecoder()
    decoder.feed(band)
    assert [img.size for img in decoder.document.images] == [(8, 2)]
    decoder.feed(band[:5])
    decoder.feed(band[5:])
    assert [img.size for img in decoder.document.images] == [(8, 4)]
    assert len(decoder.document.items) == 1
    image = decoder.document.images[0]
    assert [image.getpixel((0, y)) for y in range(4)] == [0, 255, 0, 255]


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("EAN13", "5901234123457", "5901234123457"),
        ("EAN8", "96385074", "96385074"),
        ("CODE39", "ODOO-42", "ODOO-42"),
        ("CODE128", "Order 0042-17", "Order 0042-17"),
    ],
)
def test_preview_draws_barcodes_that_scan(kind: str, data: str, expected: str) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    doc = decode(e.initialise() + e.align("center") + e.barcode(kind, data) + e.cut("full"))
    results = zxingcpp.read_barcodes(doc.render())
    assert [r.text for r in results] == [expected]


def test_preview_draws_qr_codes_that_scan() -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    url = "https://shop.example/pos/ticket/validate?access_token=3f9a&id=42"
    doc = decode(e.initialise() + e.qr_code(url, module_size=4, error_correction="Q"))
    (result,) = zxingcpp.read_barcodes(doc.render())
    assert result.text == url and result.format == zxingcpp.BarcodeFormat.QRCode
    (mark,) = [i for i in doc.items if getattr(i, "kind", None) == "qr"]
    assert mark.value.module == 4 and mark.value.error == "Q"  # type: ignore[union-attr]


def test_take_receipts_splits_at_cuts_and_keeps_the_rest() -> None:
    decoder = EscPosDecoder()
    first = e.initialise() + b"one\n" + e.cut("full")
    second = e.initialise() + b"two\n" + e.cut("feed-partial")
    decoder.feed(first + second + b"thr")
    receipts = decoder.take_receipts()
    assert [(r.text(), end) for r, end in receipts] == [
        ("one", len(first)),
        ("two", len(first) + len(second)),
    ]
    assert decoder.take_receipts() == []
    decoder.feed(b"ee\n" + e.cut("full"))
    ((third, end),) = decoder.take_receipts()
    assert third.text() == "three" and end == len(first + second + b"three\n" + e.cut("full"))
