"""XML receipts (odoo-protocol.md §5.1-5.3): every tag and attribute, rendered then decoded."""

from __future__ import annotations

import base64
import io
import logging

import pytest
from PIL import Image, ImageDraw

from posboxless.printer.escpos import RenderedJob, decode, render_xml_receipt
from posboxless.printer.escpos.decoder import DecodedDocument, DecodedImage
from posboxless.printer.profiles import PrinterProfile, get_profile

T20 = get_profile("TM-T20III")  # 48 columns, feed-partial cut
GENERIC = get_profile("generic-80")  # full cut
ISO = get_profile("generic-80", {"code_table": 40})
INITIAL_STYLE = b"\x1ba\x00\x1b!\x00\x1br\x00\x1b-\x00\x1bE\x00\x1bM\x00"


def render(xml: str, profile: PrinterProfile = T20) -> tuple[RenderedJob, DecodedDocument]:
    job = render_xml_receipt(xml, profile)
    return job, decode(job.data)


def lines(xml: str, profile: PrinterProfile = T20) -> list[str]:
    return render(xml, profile)[1].text().split("\n")


def png_data_uri(width: int, height: int, mode: str = "L") -> str:
    image = Image.new(mode, (width, height), 255 if mode == "L" else (255, 255, 255, 0))
    ImageDraw.Draw(image).rectangle(
        (0, 0, width // 2, height - 1), fill=0 if mode == "L" else (0, 0, 0, 255)
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- job framing ----------------------------------------------------------------------------


def test_job_starts_with_init_code_table_and_style_once() -> None:
    job, doc = render("<receipt><div>x</div></receipt>")
    assert job.data.startswith(b"\x1b@\x1bt\x10\x1bR\x00" + INITIAL_STYLE)
    assert job.data.count(b"\x1bt") == 1
    assert doc.code_tables == [16] and doc.initialisations == 1
    assert job.kind == "receipt" and job.warnings == ()


def test_iso_profile_uses_table_40() -> None:
    job, doc = render("<receipt>€</receipt>", ISO)
    assert job.data.startswith(b"\x1b@\x1bt\x28\x1bR\x00")
    assert b"\xa4" in job.data and doc.text() == "€"


FRENCH = "àâäçéèêëîïôöùûüÿæœ€ ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ «»° œuvre Œil Ÿ"


@pytest.mark.parametrize("profile", [T20, ISO], ids=["wpc1252", "iso8859-15"])
def test_french_round_trip(profile: PrinterProfile, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    job, doc = render(f"<receipt><div>{FRENCH}</div></receipt>", profile)
    assert doc.text() == FRENCH
    assert len(doc.code_tables) == 1
    assert job.warnings == () and caplog.records == []


def test_unencodable_characters_are_replaced_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    job, doc = render("<receipt><div>Zürich – Kraków 日本</div></receipt>")
    assert doc.text() == "Zürich – Kraków ??"
    assert len(job.warnings) == 1 and "U+65E5" in job.warnings[0]
    assert any("U+65E5" in w for w in job.warnings)
    job, doc = render("<receipt><div>Zürich – Kraków</div></receipt>", ISO)
    assert doc.text() == "Zürich - Kraków"  # ISO-8859-15 has no en dash
    assert "U+2013" in job.warnings[0]


def test_control_characters_in_text_are_neutralised() -> None:
    job, doc = render("<receipt><div>a&#127;b&#155;c</div></receipt>")
    assert doc.text() == "a?b?c"
    assert job.warnings


# --- blocks, inlines, whitespace ------------------------------------------------------------


def test_blocks_and_inline_spacing() -> None:
    assert lines("<receipt><div>a <span>b</span> c</div><p>  x \n  y </p></receipt>") == [
        "a b c",
        "x y",
    ]
    assert lines(
        "<receipt><section>1</section><article>2</article><header>3</header>"
        "<footer>4</footer><span>5</span><span>6</span></receipt>"
    ) == ["1", "2", "3", "4", "5 6"]


def test_br_breaks_lines() -> None:
    assert lines("<receipt><div>a<br/>b</div><br/><div>c</div></receipt>") == ["a", "b", "", "c"]


def test_pre_keeps_whitespace() -> None:
    assert lines("<receipt><pre>  a   b\n c</pre></receipt>") == ["  a   b", " c"]


@pytest.mark.parametrize(
    ("tag", "bold", "width", "height"),
    [
        ("h1", True, 2, 2),
        ("h2", False, 2, 2),
        ("h3", True, 1, 2),
        ("h4", False, 1, 2),
        ("h5", True, 1, 1),
        ("h6", True, 1, 1),
    ],
)
def test_heading_presets(tag: str, bold: bool, width: int, height: int) -> None:
    _, doc = render(f"<receipt><{tag}>Title</{tag}><div>after</div></receipt>")
    title, after = doc.lines
    assert title.text == "Title"
    assert (title.bold, title.style.width, title.style.height) == (bold, width, height)
    assert (after.bold, after.style.width) == (False, 1)


def test_em_and_b() -> None:
    _, doc = render("<receipt><div><em>small</em></div><div><b>strong</b></div></receipt>")
    assert doc.lines[0].style.font == "b"
    assert doc.lines[1].bold


# --- style attributes -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["left", "center", "right"])
def test_align(value: str) -> None:
    _, doc = render(f"<receipt><div align='{value}'>x</div></receipt>")
    assert doc.lines[0].align == value


@pytest.mark.parametrize(
    ("value", "width", "height"),
    [("normal", 1, 1), ("double-height", 1, 2), ("double-width", 2, 1), ("double", 2, 2)],
)
def test_size(value: str, width: int, height: int) -> None:
    _, doc = render(f"<receipt><div size='{value}'>x</div></receipt>")
    assert (doc.lines[0].style.width, doc.lines[0].style.height) == (width, height)


def test_color_underline_bold_font() -> None:
    _, doc = render(
        "<receipt><div color='red'>r</div><div underline='on'>u</div>"
        "<div underline='double'>d</div><div bold='on'>b</div><div font='b'>f</div></receipt>"
    )
    styles = [line.style for line in doc.lines]
    assert styles[0].red and not styles[1].red
    assert (styles[1].underline, styles[2].underline) == (1, 2)
    assert styles[3].bold and not styles[4].bold
    assert styles[4].font == "b"


def test_styles_are_inherited_and_restored() -> None:
    _, doc = render(
        "<receipt bold='on' align='right'><div><span>in</span></div>"
        "<div bold='off' align='left'>out</div><div>back</div></receipt>"
    )
    assert [(line.bold, line.align) for line in doc.lines] == [
        (True, "right"),
        (False, "left"),
        (True, "right"),
    ]


def test_style_emission_order_matches_odoo() -> None:
    job, _ = render("<receipt><div align='center' size='double' bold='on'>x</div></receipt>")
    assert b"\x1ba\x01\x1b!\x30\x1br\x00\x1b-\x00\x1bE\x01\x1bM\x00x" in job.data


def test_invalid_style_values_are_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    job, doc = render(
        "<receipt bold='on'><div bold='maybe' size='huge' width='wide' line-ratio='2'>x</div>"
        "</receipt>"
    )
    assert doc.lines[0].bold  # inherited, the bad value ignored
    assert len(job.warnings) == 4
    assert any("bold='maybe'" in w for w in job.warnings)
    assert any("size='huge'" in w for w in job.warnings)


# --- width, hr, line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<receipt><hr/></receipt>", 48),  # profile columns
        ("<receipt width='40'><hr/></receipt>", 40),
        ("<receipt width='40' size='double'><hr/></receipt>", 20),
        ("<receipt width='40'><hr size='double-width'/></receipt>", 20),
        ("<receipt width='40'><hr size='double-height'/></receipt>", 40),
        ("<receipt width='41' size='double'><hr/></receipt>", 20),
        ("<receipt font='b'><hr/></receipt>", 64),  # font B columns when width is not set
        ("<receipt font='b' width='40'><hr/></receipt>", 40),
    ],
)
def test_hr_width(xml: str, expected: int) -> None:
    assert lines(xml) == ["-" * expected]


def test_hr_width_from_58mm_profile() -> None:
    assert lines("<receipt><hr/></receipt>", get_profile("generic-58")) == ["-" * 32]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<receipt width='40'><hr/></receipt>", 32),  # Odoo 8-12 default on 32-column paper
        ("<receipt width='40' size='double'><hr/></receipt>", 16),
        ("<receipt width='20'><hr/></receipt>", 20),  # narrower than the paper: kept
        ("<receipt width='60' font='b'><hr/></receipt>", 42),  # font B columns of 58 mm
    ],
)
def test_receipt_width_is_capped_to_the_paper(xml: str, expected: int) -> None:
    assert lines(xml, get_profile("generic-58")) == ["-" * expected]


def test_odoo8_amount_lines_do_not_wrap_on_58mm() -> None:
    xml = "<receipt align='center' width='40' value-thousands-separator=''>" + "".join(
        f"<line><left>Product {n} with a name</left><right><value>{n * 1234.5}</value></right>"
        "</line>"
        for n in range(1, 14)
    )
    xml += "<line size='double-height'><left><pre>TOTAL</pre></left>"
    xml += "<right><value>99.5</value></right></line></receipt>"
    out = lines(xml, get_profile("generic-58"))
    assert len(out) == 14  # one printed line per <line>
    assert all(len(line) == 32 for line in out)
    assert out[-1].startswith("TOTAL") and out[-1].endswith("99.50")


def test_line_left_right_ratio() -> None:
    out = lines(
        "<receipt width='40'>"
        "<line><left>Left</left><right>Right</right></line>"
        "<line line-ratio='0.25'><left>2</left><right>Burger</right></line>"
        "<line><left>A very long product name that is cut</left><right>1.00</right></line>"
        "<line><left>x</left><right>a right part that is far too long</right></line>"
        "<line><right>only right</right></line>"
        "</receipt>"
    )
    assert out == [
        "Left" + " " * 31 + "Right",
        "2" + " " * 33 + "Burger",
        "A very long product " + " " * 16 + "1.00",
        "x" + " " * 19 + "a right part that is",
        " " * 30 + "only right",
    ]
    assert all(len(line) == 40 for line in out)


def test_line_indent_tabwidth_and_double_size() -> None:
    out = lines(
        "<receipt width='40'>"
        "<line indent='1'><left>a</left><right>b</right></line>"
        "<line indent='2' tabwidth='4'><left>a</left><right>b</right></line>"
        "<line size='double'><left>TOTAL</left><right>9.99</right></line>"
        "</receipt>"
    )
    assert out[0] == "  " + "a" + " " * 18 + " " * 18 + "b"
    assert out[1] == " " * 8 + "a" + " " * 15 + " " * 15 + "b"
    assert out[2] == "TOTAL" + " " * 11 + "9.99"
    assert [len(x) for x in out] == [40, 40, 20]


def test_line_inline_pieces_are_joined_by_one_space() -> None:
    out = lines(
        "<receipt width='40'><line><left><value>2</value><span>Unit(s)</span> x "
        "<value>1.5</value></left><right><value>3</value> €</right></line></receipt>"
    )
    assert out == ["2.00 Unit(s) x 1.50" + " " * 15 + "3.00 €"]


def test_line_ignores_other_children_with_a_warning() -> None:
    job, doc = render("<receipt width='10'><line><left>a</left><div>zz</div></line></receipt>")
    assert doc.text() == "a" + " " * 9
    assert any("<div> inside <line>" in w for w in job.warnings)


# --- value ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "text", "expected"),
    [
        ("", "3.5", "3.50"),
        ("", "1234567.891", "1,234,567.89"),
        ("", "-1234.5", "-1,234.50"),
        ("value-decimals='3'", "2", "2.000"),
        ("value-decimals='0'", "2.6", "3"),
        ("value-autoint='on'", "2", "2"),
        ("value-autoint='on'", "2.5", "2.50"),
        ("value-autoint='off' value-decimals='3'", "2", "2.000"),
        ("value-thousands-separator=''", "1234.5", "1234.50"),
        ("value-thousands-separator='.' value-decimals-separator=','", "1234.5", "1.234,50"),
        ("value-thousands-separator=' ' value-decimals-separator=','", "1234567", "1 234 567,00"),
        ("value-symbol='€'", "3", "3.00€"),
        ("value-symbol='$' value-symbol-position='before'", "3", "$3.00"),
        ("value-width='8'", "3", "    3.00"),
        ("", " 42 ", "42.00"),
    ],
)
def test_value_formatting(attributes: str, text: str, expected: str) -> None:
    assert lines(f"<receipt><div><value {attributes}>{text}</value></div></receipt>") == [expected]


def test_value_styles_are_inherited() -> None:
    xml = (
        "<receipt value-decimals='3' value-thousands-separator=''><div value-autoint='on'>"
        "<value>2</value> <value>1000.5</value></div></receipt>"
    )
    assert lines(xml) == ["2 1000.500"]


@pytest.mark.parametrize("text", ["abc", "12,5", "nan", "inf", ""])
def test_non_numeric_value_prints_as_is_with_warning(
    text: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    job, doc = render(f"<receipt><div>Total <value>{text}</value> end</div></receipt>")
    assert doc.text() == " ".join(x for x in ("Total", text, "end") if x)
    assert any("not a number" in w for w in job.warnings)
    assert any("not a number" in w for w in job.warnings)


# --- lists ----------------------------------------------------------------------------------


def test_unordered_list_with_bullets() -> None:
    assert lines("<receipt><ul><li>a</li><li>b</li></ul></receipt>") == [" - a", " - b"]
    assert lines("<receipt><ul bullet='* '><li>a</li></ul></receipt>") == ["* a"]


def test_ordered_list_numbers_are_padded() -> None:
    items = "".join(f"<li>i{n}</li>" for n in range(1, 11))
    out = lines(f"<receipt><ol>{items}</ol></receipt>")
    assert out[0] == " 1)  i1"
    assert out[9] == " 10) i10"
    assert lines("<receipt><ol><li>a</li><li>b</li></ol></receipt>") == [" 1) a", " 2) b"]


def test_nested_lists_indent() -> None:
    out = lines("<receipt><ul><li>top<ul><li>inner</li></ul></li><li>next</li></ul></receipt>")
    assert out == [" - top", "   - inner", " - next"]


def test_line_inside_list_is_indented() -> None:
    out = lines(
        "<receipt width='20'><ul><li><line><left>a</left><right>b</right></line>"
        "</li></ul></receipt>"
    )
    # As in Odoo, the bullet and the <li> content share the physical line.
    assert out == [" - " + "  " + "a".ljust(9) + "b".rjust(9)]


# --- images ---------------------------------------------------------------------------------


def test_image_taller_than_255_rows_is_banded_and_dithered() -> None:
    job, doc = render(f"<receipt align='center'><img src='{png_data_uri(200, 600)}'/></receipt>")
    assert doc.image_methods == ["raster"]
    (image,) = doc.images
    assert image.size == (200, 600)
    assert image.getpixel((10, 300)) == 0 and image.getpixel((150, 300)) == 255
    assert job.data.count(b"\x1dv0\x00") == 3
    (item,) = [i for i in doc.items if isinstance(i, DecodedImage)]
    assert item.align == "center"


def test_wide_image_is_scaled_to_the_printer_and_alpha_is_white() -> None:
    _, doc = render(f"<receipt><img src='{png_data_uri(1000, 100, 'RGBA')}'/></receipt>")
    image = doc.images[0]
    assert image.width == 576 and image.height in (57, 58)
    assert image.getpixel((500, 20)) == 255 and image.getpixel((10, 20)) == 0


@pytest.mark.parametrize("method", ["graphics", "column"])
def test_image_method_from_profile(method: str) -> None:
    profile = get_profile("TM-T20III", {"image_method": method})
    _, doc = render(f"<receipt><img src='{png_data_uri(64, 300)}'/></receipt>", profile)
    assert doc.image_methods == [method]


def test_image_starts_on_a_fresh_line() -> None:
    _, doc = render(f"<receipt>text<img src='{png_data_uri(8, 8)}'/>more</receipt>")
    assert doc.plain_text().split("\n")[:3] == ["text", "[image 8x8 (raster)]", "more"]


def test_non_data_image_is_skipped_with_a_warning() -> None:
    job, doc = render("<receipt><img src='http://example.com/logo.png'/><div>x</div></receipt>")
    assert doc.images == [] and doc.text() == "x"
    assert any("data: URI" in w for w in job.warnings)


# --- barcodes and QR ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "data", "expected"),
    [
        ("ean13", "3017620422003", "EAN13"),
        ("EAN13", "301762042200", "EAN13"),
        ("ean8", "96385074", "EAN8"),
        ("upc-a", "03600029145", "UPC-A"),
        ("UPC-E", "0123456", "UPC-E"),
        ("code39", "POS-42", "CODE39"),
        ("itf", "12345678", "ITF"),
        ("nw7", "A123B", "CODABAR"),
        ("codabar", "A123B", "CODABAR"),
    ],
)
def test_barcodes(encoding: str, data: str, expected: str) -> None:
    job, doc = render(
        f"<receipt><div>before</div><barcode encoding='{encoding}'> {data} </barcode>"
        "<div>after</div></receipt>"
    )
    assert doc.barcodes == [(expected, data)]
    assert doc.text() == "before\nafter"
    assert b"\x1ba\x01\x1dh\x64\x1dw\x03\x1df\x00\x1dH\x02\x1dk" in job.data


def test_code128_barcode() -> None:
    _, doc = render("<receipt><barcode encoding='code128'>Order-42</barcode></receipt>")
    assert doc.barcodes == [("CODE128", "{BOrder-42")]


@pytest.mark.parametrize(
    ("xml", "warning"),
    [
        ("<barcode encoding='ean13'>12AB</barcode>", "12 or 13 digits"),
        ("<barcode encoding='pdf417'>12</barcode>", "unknown barcode type"),
        ("<barcode>12345</barcode>", "no encoding"),
    ],
)
def test_bad_barcode_prints_text_with_warning(xml: str, warning: str) -> None:
    job, doc = render(f"<receipt>{xml}</receipt>")
    assert doc.barcodes == []
    assert doc.text() in ("12AB", "12", "12345")
    assert any(warning in w for w in job.warnings)


def test_qr_code() -> None:
    job, doc = render(
        "<receipt><qr>https://odoo.example/pos/ticket?id=42&amp;x=é</qr>"
        "<qr module-size='8' error-correction='H'>two</qr></receipt>"
    )
    assert doc.qr_codes == ["https://odoo.example/pos/ticket?id=42&x=é", "two"]
    assert b"\x1d(k\x03\x001C\x08\x1d(k\x03\x001E\x33" in job.data


def test_bad_qr_prints_text() -> None:
    job, doc = render("<receipt><qr module-size='99'>data</qr></receipt>")
    assert doc.qr_codes == [] and doc.text() == "data"
    assert job.warnings


# --- cut, partialcut, cashdraw, root attributes ---------------------------------------------


def test_cut_tags_and_final_cut() -> None:
    _, doc = render(
        "<receipt><div>a</div><cut/><div>b</div><partialcut/><div>c</div></receipt>", GENERIC
    )
    assert doc.cuts == ["full", "partial", "full"]
    assert doc.plain_text().split("\n")[-1] == "-------- full cut --------"


def test_cut_follows_the_profile_style() -> None:
    job, doc = render("<receipt>a<partialcut/>b</receipt>", T20)
    assert b"\x1dVB\x00" in job.data and job.data.endswith(b"\x1dVB\x00")
    assert doc.cuts == ["partial", "partial"]  # the final cut is the profile's (partial)
    job, doc = render("<receipt>a<cut/>b</receipt>", T20)
    assert b"\x1dVA\x00" in job.data and doc.cuts == ["full", "partial"]


def test_cut_on_text_line_ends_the_line_first() -> None:
    _, doc = render("<receipt>a<cut/></receipt>", GENERIC)
    assert doc.plain_text().split("\n")[0] == "a"


def test_root_cut_false_and_invalid() -> None:
    assert render("<receipt cut='false'>a</receipt>")[1].cuts == []
    assert render("<receipt cut='true'>a</receipt>", GENERIC)[1].cuts == ["full"]
    job, doc = render("<receipt cut='maybe'>a</receipt>", GENERIC)
    assert doc.cuts == ["full"] and any("cut='maybe'" in w for w in job.warnings)


def test_profile_without_cutter_feeds_and_warns() -> None:
    profile = get_profile("generic-80", {"cut": "none"})
    job, doc = render("<receipt>a<cut/></receipt>", profile)
    assert doc.cuts == [] and any("no cutter" in w for w in job.warnings)


def test_cashdraw_emits_complete_pulses() -> None:
    job, doc = render("<receipt><div>a</div><cashdraw/><div>b</div></receipt>")
    assert b"\x1bp\x00\x32\xc8\x1bp\x01\x32\xc8" in job.data
    assert doc.pulses == [(2, 100, 400), (5, 100, 400)]
    assert doc.text() == "a\nb"


def test_cashdraw_uses_profile_pins_and_times() -> None:
    profile = get_profile(
        "TM-T20III", {"drawer_pins": [5], "drawer_on_ms": 50, "drawer_off_ms": 250}
    )
    _, doc = render("<receipt><cashdraw/></receipt>", profile)
    assert doc.pulses == [(5, 50, 250)]


def test_root_open_cashdrawer_kicks_before_the_final_cut() -> None:
    _, doc = render("<receipt open-cashdrawer='true'>a</receipt>", GENERIC)
    assert doc.pulses == [(2, 100, 400), (5, 100, 400)]
    tail = doc.plain_text().split("\n")
    assert tail[1:3] == [
        "[drawer pulse: pin 2 100/400 ms]",
        "[drawer pulse: pin 5 100/400 ms]",
    ]
    assert tail[-1].endswith("full cut --------")
    assert render("<receipt open-cashdrawer='false'>a</receipt>")[1].pulses == []
    assert render("<receipt>a</receipt>")[1].pulses == []


def test_root_sheet_is_accepted() -> None:
    job, doc = render("<receipt sheet='slip'>a</receipt>")
    assert doc.text() == "a" and job.warnings == ()


def test_any_root_tag_and_unknown_tags_print_their_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    job, doc = render("<ticket><table><tr><td>cell</td></tr></table><div>x</div></ticket>")
    assert doc.text() == "cell\nx"
    assert any("<ticket>" in w for w in job.warnings)
    assert any("<td>" in w for w in job.warnings)


def test_xml_declaration_and_comments() -> None:
    xml = "<?xml version='1.0' encoding='utf-8'?>\n<receipt><!-- note --><div>é</div></receipt>"
    assert lines(xml) == ["é"]


def test_tails_after_children_are_printed() -> None:
    assert lines("<receipt><div><b>Total</b>: 3 <em>items</em> done</div></receipt>") == [
        "Total : 3 items done"
    ]
