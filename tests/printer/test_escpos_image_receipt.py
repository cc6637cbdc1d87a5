"""Odoo 13+ image receipts and the safety checks on untrusted images."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from posboxless.printer.escpos import decode, render_image_bytes, render_image_receipt
from posboxless.printer.escpos.decoder import DecodedImage
from posboxless.printer.escpos.errors import UnprintableInput
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


def test_job_layout_and_native_width_centred() -> None:
    job = render_image_receipt(base64.b64encode(encoded(receipt())).decode(), T20)
    assert job.kind == "receipt" and job.warnings == ()
    assert job.data.startswith(b"\x1b@\x1bt\x10\x1bR\x00\x1ba\x01")
    assert job.data.endswith(b"\x1dVB\x00")  # TM-T20III: feed + partial cut
    doc = decode(job.data)
    assert doc.code_tables == [16]
    assert doc.cuts == ["partial"]
    (image,) = doc.images
    assert image.size == (512, 600)  # dot for dot: no 9/8 resampling on a 576-dot head
    assert [i.align for i in doc.items if isinstance(i, DecodedImage)] == ["center"]
    assert image.getpixel((100, 300)) == 0 and image.getpixel((500, 300)) == 255


@pytest.mark.parametrize(
    ("profile", "expected_width"),
    [
        (get_profile("generic-58"), 384),  # wider than the head: shrunk to fit
        (get_profile("TM-T88V"), 512),
        (get_profile("generic-80"), 512),
        (get_profile("generic-80", {"scale_images": "fit"}), 576),
        (get_profile("generic-80", {"scale_images": True}), 576),  # the former switch
        (get_profile("generic-80", {"scale_images": "integer"}), 512),
        (get_profile("generic-58", {"scale_images": "integer"}), 384),  # never wider than the head
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
    assert doc.images[0].width == 512 and doc.images[0].height >= 1000  # ESC * pads to 24 rows


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


def png_header_only(width: int, height: int, depth: int = 1, colour: int = 0) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
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
def test_bad_images_raise_invalid_input(payload: str, message: str) -> None:
    with pytest.raises(UnprintableInput, match=message):
        render_image_receipt(payload, T20)


def test_pixel_limit_is_configurable_and_checked_before_decoding() -> None:
    small = encoded(receipt(512, 600))
    with pytest.raises(UnprintableInput, match="512x600 pixels"):
        render_image_bytes(small, T20, max_pixels=100_000)
    assert render_image_bytes(small, T20, max_pixels=512 * 600).data


def test_missing_padding_and_whitespace_are_tolerated() -> None:
    text = base64.b64encode(encoded(receipt(64, 64), "PNG")).decode().rstrip("=")
    spaced = "\n".join(text[i : i + 60] for i in range(0, len(text), 60))
    assert decode(render_image_receipt(spaced, T20).data).images


def odoo_like_receipt(width: int = 512) -> Image.Image:
    """What Odoo 13-20 render: anti-aliased text, 1-px rules, a 1-px dotted rule, a solid bar."""
    from PIL import ImageFont

    image = Image.new("RGB", (width, 420), "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 13)
    except OSError:
        font = ImageFont.load_default()
    draw.text((width // 2, 10), "My Shop — Café du Marché", fill="black", font=font, anchor="mt")
    y = 40
    for n in range(8):
        draw.text((8, y), f"Product {n}   2 x 1.50", fill="black", font=font)
        draw.text((width - 8, y), f"{3 * n}.00 €", fill="black", font=font, anchor="ra")
        y += 22
    draw.line((0, y, width - 1, y), fill="black", width=1)
    for x in range(0, width, 2):
        draw.point((x, y + 4), fill="black")
    draw.rectangle((100, y + 10, 101, y + 60), fill="black")  # 2-px vertical rule
    draw.rectangle((0, y + 70, width - 1, y + 80), fill=(40, 40, 40))
    draw.text((8, y + 90), "TOTAL 84.00 €", fill="black", font=font)
    return image


def thresholded(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_odoo_512_receipt_is_printed_dot_for_dot_centred_on_576(mode: str) -> None:
    source = odoo_like_receipt().convert(mode)
    fmt = "PNG" if mode == "RGB" else "JPEG"  # Odoo 13-18 send JPEG
    data = encoded(source, fmt)
    doc = decode(render_image_bytes(data, T20).data)
    (printed,) = [i for i in doc.items if isinstance(i, DecodedImage)]
    assert printed.image.size == (512, 420) and printed.align == "center"
    expected = Image.new("1", (576, 420), 1)
    expected.paste(thresholded(Image.open(io.BytesIO(data))), (32, 0))
    assert printed.on_paper(576).tobytes() == expected.tobytes()


def test_rules_stay_solid() -> None:
    doc = decode(render_image_bytes(encoded(odoo_like_receipt(), "PNG"), T20).data)
    image = doc.images[0]
    rule_y = 40 + 8 * 22
    assert all(image.getpixel((x, rule_y)) == 0 for x in range(512))
    assert [image.getpixel((x, rule_y + 4)) for x in range(6)] == [0, 255, 0, 255, 0, 255]


def test_integer_scaling_doubles_each_dot_without_smoothing() -> None:
    source = odoo_like_receipt(256)
    profile = get_profile("TM-T20III", {"scale_images": "integer"})
    doc = decode(render_image_bytes(encoded(source, "PNG"), profile).data)
    image = doc.images[0]
    assert image.size == (512, 840)
    expected = thresholded(source).resize((512, 840), Image.Resampling.NEAREST)
    assert image.convert("1").tobytes() == expected.tobytes()


def test_photos_are_still_dithered() -> None:
    gradient = Image.linear_gradient("L").resize((256, 256))
    image = decode(render_image_bytes(encoded(gradient, "PNG"), T20).data).images[0]
    middle = image.crop((0, 120, 256, 136))
    black = middle.convert("L").histogram()[0]
    assert 0.3 < black / (256 * 16) < 0.7  # grey printed as a mix of dots, not a hard edge


def test_wider_images_are_shrunk_to_58mm() -> None:
    data = encoded(odoo_like_receipt(), "PNG")
    doc = decode(render_image_bytes(data, get_profile("generic-58")).data)
    assert doc.images[0].size == (384, 315)


# -- formats: only what Odoo sends, nothing that starts another program ----------------------------

EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    b"{ } loop\nshowpage\n%%EOF\n"  # would spin Ghostscript for ever
)


def hostile_formats() -> list[tuple[str, bytes]]:
    picture = receipt(64, 64)
    payloads = [
        ("PostScript/EPS", EPS),
        ("PostScript/EPS", b"%!PS-Adobe-3.0\n{ } loop\n"),
        ("EPS", b"\xc5\xd0\xd3\xc6" + b"\x00" * 28 + EPS),  # DOS EPS binary header
        ("TIFF", encoded(picture, "TIFF")),
        ("WebP", encoded(picture, "WEBP")),
        ("ICO", encoded(picture, "ICO")),
        ("GIF", encoded(picture, "GIF")),
        ("BMP", encoded(picture, "BMP")),
        ("PDF", encoded(picture, "PDF")),
    ]
    return payloads


@pytest.mark.parametrize(("kind", "payload"), hostile_formats(), ids=lambda v: str(v)[:12])
def test_only_jpeg_and_png_are_opened(
    kind: str, payload: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    def no_programs(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"an external program was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_programs)
    with pytest.raises(UnprintableInput) as info:
        render_image_bytes(payload, T20)
    assert str(info.value) == (
        f"The receipt image is a {kind} file; only JPEG and PNG images are accepted."
    )


def test_decoded_memory_is_checked_before_decoding() -> None:
    # 6300 x 6300 16-bit RGBA: under the pixel limit, but 151 MB once decoded. The IDAT is
    # garbage: a decode would fail as "damaged"; the budget refuses it first.
    hostile = png_header_only(6300, 6300, depth=16, colour=6)
    with pytest.raises(UnprintableInput, match=r"too large to decode: 6300x6300 RGBA .* 151 MB"):
        render_image_bytes(hostile, T20)
    # The same pixels as greyscale fit: the budget counts decoded bytes, not pixels alone.
    with pytest.raises(UnprintableInput, match="damaged"):
        render_image_bytes(png_header_only(6300, 6300, depth=8, colour=0), T20)


def test_wide_jpeg_is_reduced_on_decode_to_fit_the_budget() -> None:
    # 8000 x 1600 colour: 51 MB as RGB, but decoded straight to greyscale at 1/8 scale.
    wide = receipt(8000, 1600)
    data = render_image_bytes(encoded(wide), T20).data
    image = decode(data).images[0]
    assert image.width == T20.width_dots and image.getpixel((10, 10)) == 0


def test_sixteen_bit_grey_png_keeps_its_shades() -> None:
    image = Image.new("I;16", (512, 64), 65535)
    image.paste(0, (0, 0, 256, 64))  # left half black
    doc = decode(render_image_bytes(encoded(image, "PNG"), get_profile("TM-T88V")).data)
    assert doc.images[0].getpixel((100, 30)) == 0 and doc.images[0].getpixel((400, 30)) == 255


def test_palette_png_transparency_is_white_paper() -> None:
    image = Image.new("P", (512, 64), 0)
    image.putpalette([0, 0, 0, 0, 0, 0])
    image.paste(1, (0, 0, 256, 64))
    image.info["transparency"] = 0  # colour 0 (right half) is transparent
    doc = decode(render_image_bytes(encoded(image, "PNG"), get_profile("TM-T88V")).data)
    assert doc.images[0].getpixel((100, 30)) == 0 and doc.images[0].getpixel((400, 30)) == 255
