"""Odoo 13+ image receipts and the safety checks on untrusted images."""

from __future__ import annotations

import base64
import io
import logging
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from posboxless.device import InvalidInput
from posboxless.printer.escpos import decode, render_image_bytes, render_image_receipt
from posboxless.printer.profiles import get_profile

T20 = get_profile("TM-T20III")


def encoded(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def receipt(width: int = 512, height: int = 600) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2 - 1, height - 1), fill="black")
    return image


def test_job_layout_and_scaling_to_profile_width() -> None:
    job = render_image_receipt(base64.b64encode(encoded(receipt())).decode(), T20)
    assert job.kind == "receipt" and job.warnings == ()
    assert job.data.startswith(b"\x1b@\x1bt\x10\x1bR\x00\x1ba\x01")
    assert job.data.endswith(b"\x1dVB\x00")  # TM-T20III: feed + partial cut
    doc = decode(job.data)
    assert doc.code_tables == [16]
    assert doc.cuts == ["partial"]
    (image,) = doc.images
    assert image.size == (576, 675)  # 512x600 scaled to 576 keeping the aspect ratio
    assert image.getpixel((100, 300)) == 0 and image.getpixel((500, 300)) == 255


@pytest.mark.parametrize(
    ("profile", "expected_width"),
    [
        (get_profile("generic-58"), 384),
        (get_profile("TM-T88V"), 512),
        (get_profile("generic-80", {"scale_images": False}), 512),
        (get_profile("generic-58", {"scale_images": False}), 384),  # never wider than the head
    ],
)
def test_width_per_profile(profile, expected_width: int) -> None:  # type: ignore[no-untyped-def]
    doc = decode(render_image_bytes(encoded(receipt()), profile).data)
    assert doc.images[0].width == expected_width


@pytest.mark.parametrize("method", ["raster", "graphics", "column"])
def test_image_methods(method: str) -> None:
    profile = get_profile("generic-80", {"image_method": method})
    doc = decode(render_image_bytes(encoded(receipt(height=1000), "PNG"), profile).data)
    assert doc.image_methods == [method]
    assert doc.images[0].height >= 1125


def test_png_with_alpha_and_data_uri_prefix() -> None:
    image = Image.new("RGBA", (512, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=(0, 0, 0, 255))
    text = "data:image/png;base64," + base64.b64encode(encoded(image, "PNG")).decode()
    doc = decode(render_image_receipt(text, get_profile("TM-T88V")).data)
    img = doc.images[0]
    assert img.getpixel((50, 50)) == 0 and img.getpixel((300, 50)) == 255


def test_tall_receipt_is_banded() -> None:
    profile = get_profile("TM-T88V")
    data = render_image_bytes(encoded(receipt(height=3000)), profile).data
    assert data.count(b"\x1d\x76\x30\x00\x40\x00\xff\x00") >= 11  # full 255-row bands
    assert decode(data).images[0].height == 3000


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "empty"),
        ("not base64 at all!!", "not valid base64"),
        ("QUJD$$", "not valid base64"),
        (base64.b64encode(b"hello, I am text").decode(), "not an image"),
        (base64.b64encode(png_header_only(100_000, 100_000)).decode(), "too large"),
        (base64.b64encode(png_header_only(7000, 7000)).decode(), "too large"),
        (base64.b64encode(encoded(receipt())[:2000]).decode(), "damaged"),
    ],
)
def test_bad_images_raise_invalid_input(
    payload: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(InvalidInput, match=message) as info:
        render_image_receipt(payload, T20)
    assert any(str(info.value) in r.getMessage() for r in caplog.records), "must be logged"


def test_pixel_limit_is_configurable_and_checked_before_decoding() -> None:
    small = encoded(receipt(512, 600))
    with pytest.raises(InvalidInput, match="512x600 pixels"):
        render_image_bytes(small, T20, max_pixels=100_000)
    assert render_image_bytes(small, T20, max_pixels=512 * 600).data


def test_missing_padding_and_whitespace_are_tolerated() -> None:
    text = base64.b64encode(encoded(receipt(64, 64), "PNG")).decode().rstrip("=")
    spaced = "\n".join(text[i : i + 60] for i in range(0, len(text), 60))
    assert decode(render_image_receipt(spaced, T20).data).images
