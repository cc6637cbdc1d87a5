"""Byte-exact checks of every ESC/POS command the encoder emits."""

from __future__ import annotations

import logging

import pytest

from posboxless.printer.escpos import encoder as e
from posboxless.printer.escpos.codepages import CODE_TABLES, TextEncoder, describe_replacements


@pytest.mark.parametrize(
    ("produced", "expected"),
    [
        (e.initialise(), b"\x1b\x40"),
        (e.select_code_table(16), b"\x1b\x74\x10"),
        (e.select_code_table(40), b"\x1b\x74\x28"),
        (e.international_set(0), b"\x1b\x52\x00"),
        (e.align("left"), b"\x1b\x61\x00"),
        (e.align("center"), b"\x1b\x61\x01"),
        (e.align("right"), b"\x1b\x61\x02"),
        (e.size_mode("normal"), b"\x1b\x21\x00"),
        (e.size_mode("double-height"), b"\x1b\x21\x10"),
        (e.size_mode("double-width"), b"\x1b\x21\x20"),
        (e.size_mode("double"), b"\x1b\x21\x30"),
        (e.print_mode(), b"\x1b\x21\x00"),
        (e.print_mode(font_b=True, bold=True, underline=True), b"\x1b\x21\x89"),
        (e.print_mode(double_width=True, double_height=True), b"\x1b\x21\x30"),
        (e.bold(True), b"\x1b\x45\x01"),
        (e.bold(False), b"\x1b\x45\x00"),
        (e.underline("off"), b"\x1b\x2d\x00"),
        (e.underline("on"), b"\x1b\x2d\x01"),
        (e.underline("double"), b"\x1b\x2d\x02"),
        (e.font("a"), b"\x1b\x4d\x00"),
        (e.font("b"), b"\x1b\x4d\x01"),
        (e.color("black"), b"\x1b\x72\x00"),
        (e.color("red"), b"\x1b\x72\x01"),
        (e.character_size(1, 1), b"\x1d\x21\x00"),
        (e.character_size(2, 2), b"\x1d\x21\x11"),
        (e.character_size(8, 3), b"\x1d\x21\x72"),
        (e.reverse(True), b"\x1d\x42\x01"),
        (e.feed_lines(6), b"\x1b\x64\x06"),
        (e.feed_dots(30), b"\x1b\x4a\x1e"),
        (e.line_spacing(24), b"\x1b\x33\x18"),
        (e.line_spacing(None), b"\x1b\x32"),
        (e.select_peripheral(1), b"\x1b\x3d\x01"),
        (e.cut("full"), b"\x1b\x64\x06\x1d\x56\x00"),
        (e.cut("partial"), b"\x1b\x64\x06\x1d\x56\x01"),
        (e.cut("feed-full"), b"\x1d\x56\x41\x00"),
        (e.cut("feed-partial"), b"\x1d\x56\x42\x00"),
        (e.cut("none"), b""),
        (e.drawer_pulse(2, 100, 400), b"\x1b\x70\x00\x32\xc8"),
        (e.drawer_pulse(5, 50, 50), b"\x1b\x70\x01\x19\x19"),
        (e.drawer_pulse_realtime(2, 200), b"\x10\x14\x01\x00\x02"),
        (e.drawer_pulse_realtime(5, 800), b"\x10\x14\x01\x01\x08"),
        (e.status_query(1), b"\x10\x04\x01"),
        (e.status_query(4), b"\x10\x04\x04"),
    ],
)
def test_command_bytes(produced: bytes, expected: bytes) -> None:
    assert produced == expected


def test_style_commands_follow_odoo_order() -> None:
    style = e.TextStyle(
        align="center", size="double", color="red", underline="on", bold=True, font="b"
    )
    assert e.style_commands(style) == (
        b"\x1b\x61\x01\x1b\x21\x30\x1b\x72\x01\x1b\x2d\x01\x1b\x45\x01\x1b\x4d\x01"
    )


def test_cut_variants() -> None:
    assert e.partial_variant("full") == "partial"
    assert e.partial_variant("feed-full") == "feed-partial"
    assert e.full_variant("feed-partial") == "feed-full"
    assert e.full_variant("none") == "none"
    with pytest.raises(ValueError, match="unknown cut mode"):
        e.cut("sideways")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: e.select_code_table(256), "code table"),
        (lambda: e.drawer_pulse(3, 100, 100), "pin must be 2 or 5"),
        (lambda: e.drawer_pulse(2, 0, 100), "on time"),
        (lambda: e.drawer_pulse(2, 100, 600), "off time"),
        (lambda: e.drawer_pulse_realtime(2, 900), "real-time"),
        (lambda: e.character_size(9, 1), "width multiplier"),
        (lambda: e.feed_lines(256), "line feed"),
        (lambda: e.status_query(5), "status query"),
        (lambda: e.u16(65536, "length"), "does not fit in a 2-byte"),
        (lambda: e.u16(-1, "length"), "does not fit"),
    ],
)
def test_out_of_range_values_raise(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_u16_boundaries() -> None:
    assert e.u16(0, "x") == b"\x00\x00"
    assert e.u16(65535, "x") == b"\xff\xff"
    assert e.u16(258, "x") == b"\x02\x01"


# --- barcodes -------------------------------------------------------------------------------

SETUP = b"\x1d\x68\x64\x1d\x77\x03\x1d\x66\x00\x1d\x48\x02"


@pytest.mark.parametrize(
    ("kind", "data", "m"),
    [
        ("ean13", "3017620422003", 2),
        ("EAN13", "301762042200", 2),
        ("ean8", "96385074", 3),
        ("UPC-A", "03600029145", 0),
        ("upc-e", "0123456", 1),
        ("code39", "ABC-123", 4),
        ("ITF", "12345678", 5),
        ("NW7", "A1234B", 6),
        ("codabar", "A1234B", 6),
    ],
)
def test_barcode_function_a(kind: str, data: str, m: int) -> None:
    assert e.barcode(kind, data) == SETUP + b"\x1d\x6b" + bytes([m]) + data.encode() + b"\x00"


def test_barcode_matches_python_escpos_reference() -> None:
    # devices.md §1.2: python-escpos' EAN-13 output except its height of 64 dots.
    expected = (
        b"\x1d\x68\x40\x1d\x77\x03\x1d\x66\x00\x1d\x48\x02\x1d\x6b\x02" + b"3017620422003\x00"
    )
    assert e.barcode("EAN13", "3017620422003", height=64) == expected


def test_barcode_function_b() -> None:
    assert e.barcode("CODE128", "Ab1") == SETUP + b"\x1d\x6b\x49\x05{BAb1"
    assert e.barcode("code128", "{C1234") == SETUP + b"\x1d\x6b\x49\x06{C1234"
    assert e.barcode("CODE93", "AB") == SETUP + b"\x1d\x6b\x48\x02AB"


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("EAN13", "12345", "12 or 13 digits"),
        ("EAN13", "30176204220AB", "12 or 13 digits"),
        ("EAN8", "123", "7 or 8 digits"),
        ("ITF", "123", "even number"),
        ("CODE39", "abc", "capitals"),
        ("QRCODE", "x", "unknown barcode type"),
        ("CODE128", "é", "ASCII"),
        ("CODE128", "x" * 300, "ASCII"),
    ],
)
def test_barcode_rejects_bad_data(kind: str, data: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        e.barcode(kind, data)


# --- QR -------------------------------------------------------------------------------------


def test_qr_code_bytes() -> None:
    assert e.qr_code("hi", module_size=4, error_correction="L") == (
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"
        + b"\x1d\x28\x6b\x03\x00\x31\x43\x04"
        + b"\x1d\x28\x6b\x03\x00\x31\x45\x30"
        + b"\x1d\x28\x6b\x05\x00\x31\x50\x30hi"
        + b"\x1d\x28\x6b\x03\x00\x31\x51\x30"
    )


def test_qr_store_length_is_two_bytes_little_endian() -> None:
    data = "x" * 1000
    out = e.qr_code(data)
    store = b"\x1d\x28\x6b" + (1003).to_bytes(2, "little") + b"\x31\x50\x30" + data.encode()
    assert store in out


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ("", {}, "empty"),
        ("x" * 8000, {}, "too long"),
        ("x", {"module_size": 17}, "module size"),
        ("x", {"error_correction": "Z"}, "L, M, Q or H"),
    ],
)
def test_qr_rejects(data: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        e.qr_code(data, **kwargs)  # type: ignore[arg-type]


# --- text encoding --------------------------------------------------------------------------

FRENCH = "àâäçéèêëîïôöùûüÿæœ€ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ«»°"


@pytest.mark.parametrize("codec", ["cp1252", "iso8859_15"])
def test_french_text_encodes_without_replacement(codec: str) -> None:
    encoded = TextEncoder(codec).encode(FRENCH)
    assert encoded.replaced == ()
    assert encoded.data.decode(codec) == FRENCH


def test_euro_and_oe_bytes() -> None:
    assert TextEncoder("cp1252").encode("€œŒŸ").data == b"\x80\x9c\x8c\x9f"
    assert TextEncoder("iso8859_15").encode("€œŒŸ").data == b"\xa4\xbd\xbc\xbe"


def test_unencodable_characters_are_replaced_and_reported() -> None:
    encoded = TextEncoder("cp1252").encode("Łódź 日")
    assert encoded.data == b"L\xf3dz ?"
    assert encoded.replaced == ("Ł", "ź", "日")
    # Cached characters are still reported each time they occur.
    assert TextEncoder("cp1252").encode("日日").replaced == ("日", "日")
    message = describe_replacements(encoded.replaced, "cp1252")
    assert "3 character(s)" in message and "U+65E5" in message


def test_control_characters_never_reach_the_printer() -> None:
    encoded = TextEncoder("cp1252").encode("a\x1b@b\x1dV\x00c\td\re\x10")
    assert encoded.data == b"a?@b?V?c de?"
    assert set(encoded.replaced) == {"\x1b", "\x1d", "\x00", "\x10"}
    assert TextEncoder("cp1252").encode("x\ny").data == b"x\ny"


def test_code_tables_match_their_codecs() -> None:
    assert CODE_TABLES[16] == "cp1252"
    assert CODE_TABLES[40] == "iso8859_15"
    assert CODE_TABLES[19] == "cp858"
    assert CODE_TABLES[0] == "cp437"
    for codec in CODE_TABLES.values():
        assert len(bytes(range(256)).decode(codec, errors="replace")) == 256


def test_replacement_logging_is_the_renderers_job(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    TextEncoder("cp1252").encode("日")
    assert caplog.records == []
