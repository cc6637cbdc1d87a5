"""The ePOS-Print core: Odoo's bodies parsed, rendered for a profile, and the answers."""

from __future__ import annotations

import base64

import pytest
from PIL import Image

from posboxless.epos.protocol import (
    CutOp,
    EposSchemaError,
    EposTooLarge,
    FeedOp,
    ImageOp,
    PrinterCondition,
    PulseOp,
    TextOp,
    answer_for,
    parse_request,
    render_request,
)
from posboxless.printer.escpos import decode
from posboxless.printer.escpos.decoder import DecodedImage
from posboxless.printer.profiles import get_profile
from tests.epos.odoo_bodies import (
    drawer_body,
    envelope,
    judge,
    odoo19_test_page_body,
    odoo_raster,
    odoo_receipt,
    receipt_body,
)

T20 = get_profile("TM-T20III")


def mono(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda v: 0 if v < 128 else 255).convert("1")


@pytest.mark.parametrize("version", [15, 16, 17, 18, 19])
def test_odoo_receipt_prints_dot_for_dot_centred(version: int) -> None:
    source = mono(odoo_receipt(lines=4))  # already black and white: Odoo's dithering is exact
    request = parse_request(receipt_body(source, version).encode())
    assert [type(op) for op in request.operations] == [ImageOp, CutOp]
    assert request.kind == "image"
    rendered = render_request(request, T20)
    doc = decode(rendered.data)
    (printed,) = [i for i in doc.items if isinstance(i, DecodedImage)]
    assert printed.align == "center" and printed.image.size == source.size
    expected = Image.new("1", (576, source.height), 1)
    expected.paste(source, (32, 0))
    assert printed.on_paper(576).tobytes() == expected.tobytes()
    assert doc.cuts == ["partial"]  # TM-T20III: feed, then partial cut


def test_wider_than_the_paper_is_shrunk_for_58mm() -> None:
    source = mono(odoo_receipt(lines=2))
    rendered = render_request(
        parse_request(receipt_body(source, 17).encode()), get_profile("generic-58")
    )
    assert decode(rendered.data).images[0].width == 384


def test_width_not_a_multiple_of_8_continuous_bitstream() -> None:
    source = Image.new("1", (13, 5), 1)
    for x, y in ((0, 0), (12, 0), (5, 2), (12, 4), (0, 4)):
        source.putpixel((x, y), 0)
    width, height, data = odoo_raster(source)
    assert len(base64.b64decode(data)) == (13 * 5 + 7) // 8  # rows run together
    body = envelope(f'<image width="{width}" height="{height}">{data}</image>', 17)
    (op,) = parse_request(body.encode()).operations
    assert isinstance(op, ImageOp)
    assert op.bitmap.to_image().tobytes() == source.tobytes()


@pytest.mark.parametrize("version", [15, 17, 19])
def test_drawer_pulse_uses_the_profile_pins_and_time(version: int) -> None:
    request = parse_request(drawer_body(version).encode())
    assert request.operations == (PulseOp(None, None),) and request.kind == "drawer"
    doc = decode(render_request(request, T20).data)
    assert doc.pulses == [(2, 100, 400), (5, 100, 400)]
    assert doc.cuts == [] and doc.images == []


def test_explicit_drawer_and_time() -> None:
    body = envelope('<pulse drawer="drawer_2" time="pulse_300"/>', 15)
    doc = decode(render_request(parse_request(body.encode()), T20).data)
    assert doc.pulses == [(5, 300, 400)]


def test_odoo19_test_page() -> None:
    request = parse_request(odoo19_test_page_body().encode())
    assert [type(op) for op in request.operations] == [FeedOp, TextOp, FeedOp, CutOp]
    doc = decode(render_request(request, T20).data)
    lines = [line for line in doc.lines if line.text]
    assert [(line.text, line.align) for line in lines] == [("This is a test receipt", "center")]
    assert doc.cuts == ["partial"]


def test_text_in_the_printers_code_page_french() -> None:
    body = envelope(
        '<text lang="fr" em="true">Crème brûlée à l\'œuf, 12,50 €&#10;</text>'
        '<text dw="true" dh="true">TOTAL&#10;</text><cut type="no_feed"/>',
        19,
    )
    rendered = render_request(parse_request(body.encode()), T20)
    assert rendered.warnings == ()
    doc = decode(rendered.data)
    assert doc.text().splitlines() == ["Crème brûlée à l'œuf, 12,50 €", "TOTAL"]
    assert doc.lines[0].bold and doc.lines[1].style.width == 2 and doc.lines[1].style.height == 2
    assert rendered.data.endswith(b"\x1dV\x01")


@pytest.mark.parametrize(
    "children",
    [
        "<barcode type='ean13'>123</barcode>",
        "<logo key1='32' key2='32'/>",
        "<image width='8' height='1' mode='gray16'>AA==</image>",
        "<pulse drawer='drawer_3'/>",
        "<cut type='guillotine'/>",
        "<image width='8'>AA==</image>",
        "<image width='16' height='2'>AA==</image>",
        "<image width='8' height='1'>not base64!</image>",
        "<feed line='300'/>",
    ],
)
def test_unknown_elements_and_bad_values_are_schema_errors(children: str) -> None:
    with pytest.raises(EposSchemaError):
        parse_request(envelope("<text>before</text>" + children, 17).encode())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<html><body>hello</body></html>",
        b'<s:Envelope xmlns:s="x"><s:Body><other/></s:Body></s:Envelope>',
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><epos-print>&a;</epos-print>',
        b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><epos-print/>',
        b"<epos-print>" + b"<text>" * 100 + b"</text>" * 100 + b"</epos-print>",
    ],
)
def test_hostile_or_foreign_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(EposSchemaError):
        parse_request(body)


def test_limits() -> None:
    with pytest.raises(EposTooLarge):
        parse_request(b"<epos-print/>" + b" " * 100, max_bytes=50)
    with pytest.raises(EposTooLarge):
        parse_request(envelope("<image width='60000' height='60000'>AA==</image>", 17).encode())


def test_bare_epos_print_and_empty_document() -> None:
    assert (
        parse_request(
            b'<epos-print xmlns="' + b'http://www.epson-pos.com/schemas/2011/03/epos-print"/>'
        ).operations
        == ()
    )


GIVEN = "The following error code was given by the printer: "
STOPPED = PrinterCondition(online=False)
CUTTER = PrinterCondition(online=False, cutter_error=True)


@pytest.mark.parametrize(
    ("state", "reason", "condition", "success", "code", "message"),
    [
        ("printed", None, PrinterCondition(), True, "", "printed"),
        ("failed", "paper_out", STOPPED, False, "EPTR_REC_EMPTY", "out of paper"),
        ("failed", "cover_open", STOPPED, False, "EPTR_COVER_OPEN", "cover open"),
        ("failed", "offline", PrinterCondition(), False, "EX_BADPORT", GIVEN + "EX_BADPORT"),
        ("failed", "offline", CUTTER, False, "EPTR_CUTTER", GIVEN + "EPTR_CUTTER"),
        ("failed", "not_answering", STOPPED, False, "EX_TIMEOUT", GIVEN + "EX_TIMEOUT"),
        ("failed", "queue_full", STOPPED, False, "TooManyRequests", GIVEN + "TooManyRequests"),
        ("printing", None, PrinterCondition(), True, "Printing", "printed"),
        ("queued", None, PrinterCondition(), True, "JobSpooling", "printed"),
    ],
)
def test_answers_read_as_odoo19_reads_them(
    state: str,
    reason: str | None,
    condition: PrinterCondition,
    success: bool,
    code: str,
    message: str,
) -> None:
    answer = answer_for(state, reason, condition)
    assert (answer.success, answer.code) == (success, code)
    assert judge(19, answer.to_xml().decode()).message == message
    if code.startswith("EX_"):  # the printer (or its link) does not answer
        assert answer.status & 0x1


def test_near_end_is_a_warning_on_success() -> None:
    answer = answer_for("printed", None, PrinterCondition(paper_near_end=True))
    verdict = judge(19, answer.to_xml().decode())
    assert verdict.success and verdict.warning == "ROLL_PAPER_HAS_ALMOST_RUN_OUT"
    assert answer.status & 0x2 and not answer.status & 0x80000
    assert judge(19, answer.to_xml().decode(), test_button=True).success
    assert judge(16, answer.to_xml().decode()).success
