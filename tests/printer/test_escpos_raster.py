"""Images through GS v 0, GS ( L and ESC *: pixel-identical round trips and band limits."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageChops, ImageDraw

from posboxless.printer.escpos import decode
from posboxless.printer.escpos.raster import (
    Bitmap,
    bitmap_from_mono,
    column_bands,
    encode_bitmap,
    fit_width,
    flatten,
    graphics_bands,
    graphics_rows_limit,
    raster_bands,
    to_bitmap,
)


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("1", (width, height), rng.randbytes((width + 7) // 8 * height))


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def headers(data: bytes, prefix: bytes) -> list[int]:
    found, start = [], 0
    while (i := data.find(prefix, start)) >= 0:
        found.append(i)
        start = i + 1
    return found


def test_bitmap_polarity_and_packing() -> None:
    image = Image.new("1", (16, 2), 1)
    image.putpixel((0, 0), 0)  # black, top left -> MSB of the first byte
    image.putpixel((15, 1), 0)
    bitmap = bitmap_from_mono(image)
    assert bitmap.data == b"\x80\x00\x00\x01"
    assert same_pixels(bitmap.to_image(), image)


def test_padding_bits_print_white() -> None:
    bitmap = to_bitmap(Image.new("L", (10, 3), 255))
    assert bitmap.width_dots == 10 and bitmap.width_bytes == 2
    assert bitmap.data == bytes(6)
    black = to_bitmap(Image.new("L", (10, 1), 0))
    assert black.data == b"\xff\xc0"


def test_gs_v_0_exact_bytes() -> None:
    bitmap = Bitmap(16, 2, b"\x80\x01\xff\x00")
    assert raster_bands(bitmap) == b"\x1d\x76\x30\x00\x02\x00\x02\x00\x80\x01\xff\x00"


def test_gs_paren_l_exact_bytes() -> None:
    bitmap = Bitmap(8, 1, b"\xaa")
    assert graphics_bands(bitmap) == (
        b"\x1d\x28\x4c\x0b\x00\x30\x70\x30\x01\x01\x31\x08\x00\x01\x00\xaa"
        + b"\x1d\x28\x4c\x02\x00\x30\x32"
    )


def test_esc_star_exact_bytes() -> None:
    image = Image.new("1", (2, 24), 1)
    image.putpixel((0, 0), 0)
    image.putpixel((1, 23), 0)
    assert column_bands(bitmap_from_mono(image)) == (
        b"\x1b\x33\x18"
        + b"\x1b\x2a\x21\x02\x00"
        + b"\x80\x00\x00"
        + b"\x00\x00\x01"
        + b"\n"
        + b"\x1b\x32"
    )


@pytest.mark.parametrize("method", ["raster", "graphics", "column"])
@pytest.mark.parametrize(("width", "height"), [(576, 1000), (384, 255), (120, 1), (64, 49)])
def test_pixel_identical_round_trip(method: str, width: int, height: int) -> None:
    original = noise(width, height)
    data = encode_bitmap(bitmap_from_mono(original), method)
    doc = decode(data)
    assert len(doc.images) == 1, "bands must be stitched back into one image"
    decoded = doc.images[0]
    assert doc.image_methods == [method]
    assert same_pixels(decoded.crop((0, 0, width, height)), original)
    if method == "column":  # ESC * pads the last strip to 24 dots with white
        assert decoded.height == -(-height // 24) * 24
        assert decoded.crop((0, height, width, decoded.height)).getextrema() == (255, 255)


def test_raster_bands_never_exceed_255_rows() -> None:
    data = raster_bands(bitmap_from_mono(noise(576, 2000)))
    starts = headers(data, b"\x1d\x76\x30\x00")
    # Check each header by walking the stream (pattern matches inside data are skipped).
    pos, heights = 0, []
    while pos < len(data):
        assert data[pos : pos + 4] == b"\x1d\x76\x30\x00"
        width_bytes = int.from_bytes(data[pos + 4 : pos + 6], "little")
        rows = int.from_bytes(data[pos + 6 : pos + 8], "little")
        assert width_bytes == 72 and 1 <= rows <= 255
        heights.append(rows)
        pos += 8 + width_bytes * rows
    assert sum(heights) == 2000 and len(heights) == 8
    assert len(starts) >= 8


def test_graphics_bands_keep_the_two_byte_length() -> None:
    bitmap = bitmap_from_mono(noise(2400, 300))  # 300-byte rows: 218 rows fit in 65525 bytes
    assert graphics_rows_limit(bitmap) == 218
    data = graphics_bands(bitmap)
    pos, total = 0, 0
    while pos < len(data):
        assert data[pos : pos + 3] == b"\x1d\x28\x4c"
        length = int.from_bytes(data[pos + 3 : pos + 5], "little")
        payload = data[pos + 5 : pos + 5 + length]
        if payload == b"02":
            pos += 7
            continue
        rows = int.from_bytes(payload[8:10], "little")
        assert length == 10 + 300 * rows <= 65535
        total += rows
        pos += 5 + length
    assert total == 300
    assert same_pixels(decode(data).images[0], noise(2400, 300))


def test_graphics_band_cap_for_normal_widths() -> None:
    bitmap = bitmap_from_mono(noise(576, 3000))
    assert graphics_rows_limit(bitmap) == 910
    assert graphics_rows_limit(bitmap_from_mono(noise(384, 10))) == 1024
    assert (65535 - 10) // 72 == 910


def test_python_escpos_overflow_case_is_banded_correctly() -> None:
    # peers.md #16: 576 dots x 960 rows overflowed python-escpos' GS ( L length field.
    data = graphics_bands(bitmap_from_mono(noise(576, 960)))
    first_length = int.from_bytes(data[3:5], "little")
    assert first_length == 10 + 72 * 910


def test_empty_or_unknown_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        raster_bands(Bitmap(0, 0, b""))
    with pytest.raises(ValueError, match="unknown image method"):
        encode_bitmap(Bitmap(8, 1, b"\x00"), "sixel")
    with pytest.raises(ValueError, match="mode '1'"):
        bitmap_from_mono(Image.new("L", (8, 8)))


def test_flatten_composites_alpha_on_white() -> None:
    rgba = Image.new("RGBA", (4, 1), (0, 0, 0, 0))
    rgba.putpixel((0, 0), (0, 0, 0, 255))
    grey = flatten(rgba)
    assert grey.mode == "L"
    assert grey.getpixel((0, 0)) == 0 and grey.getpixel((1, 0)) == 255


def test_fit_width() -> None:
    image = Image.new("L", (512, 1000))
    assert fit_width(image, 576, upscale=True).size == (576, 1125)
    assert fit_width(image, 576, upscale=False).size == (512, 1000)
    assert fit_width(image, 384, upscale=False).size == (384, 750)
    assert fit_width(image, 512, upscale=True) is image


def test_dithering_keeps_grey_levels() -> None:
    grey = Image.new("L", (64, 64), 128)
    bitmap = to_bitmap(grey)
    black_bits = sum(bin(b).count("1") for b in bitmap.data)
    assert 0.4 < black_bits / (64 * 64) < 0.6
    threshold = to_bitmap(grey, dither=False)
    assert threshold.data in (bytes(len(threshold.data)), b"\xff" * len(threshold.data))


def test_drawn_shapes_survive() -> None:
    image = Image.new("L", (200, 300), 255)
    ImageDraw.Draw(image).rectangle((10, 10, 100, 280), fill=0)
    doc = decode(encode_bitmap(to_bitmap(image), "raster"))
    out = doc.images[0]
    assert out.getpixel((50, 100)) == 0 and out.getpixel((150, 100)) == 255
