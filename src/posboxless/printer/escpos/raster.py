"""Image -> printer bitmap -> ESC/POS image commands, in bands that respect every length field.

The heavy lifting stays in Pillow's C code: dithering is ``convert('1')`` (Floyd-Steinberg), bit
packing is ``tobytes()`` of a mode-'1' image (rows already MSB-first, padded to whole bytes) in
raw mode ``1;I``, which also inverts to ESC/POS polarity (1 = black), and the column format of
``ESC *`` is a transposed image, so no Python loop ever touches a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from posboxless.printer.escpos.encoder import ESC, GS, LF, MAX_U16, line_spacing, u16

RASTER_MAX_ROWS = 255
"""GS v 0 band height: Odoo's box uses 255; some printers mis-handle taller single commands."""
GRAPHICS_MAX_ROWS = 1024
"""GS ( L band height cap (graphics buffers are limited; the 2-byte length also caps it)."""
COLUMN_BAND_ROWS = 24
COLUMN_MODE = 33
"""ESC * m: 24-dot double density (the mode Odoo's box and python-escpos use)."""
COLUMN_LINE_SPACING = 24
"""ESC 3 n between ESC * strips, so that the 24-dot strips touch."""

_INVERTED_RAW = "1;I"
"""Pillow's raw mode for 1-bit rows with 1 = black: packs and inverts in one C pass."""


@dataclass(frozen=True)
class Bitmap:
    """A 1-bit image in ESC/POS polarity: rows of ``width_bytes`` bytes, MSB = leftmost dot,
    1 = black. ``width_dots`` is the image width (the last byte of a row may be padding)."""

    width_dots: int
    height: int
    data: bytes

    @property
    def width_bytes(self) -> int:
        return (self.width_dots + 7) // 8

    def rows(self, start: int, stop: int) -> bytes:
        return self.data[start * self.width_bytes : stop * self.width_bytes]

    def to_image(self) -> Image.Image:
        """Back to a Pillow mode-'1' image (for previews and tests)."""
        padded = Image.frombytes(
            "1", (self.width_bytes * 8, self.height), self.data, "raw", _INVERTED_RAW
        )
        return padded.crop((0, 0, self.width_dots, self.height)) if self.width_dots % 8 else padded


def flatten(image: Image.Image) -> Image.Image:
    """Greyscale ('L'), with any transparency composited on white paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode not in ("L",):
        return image.convert("L")
    return image


def fit_width(image: Image.Image, width: int, *, upscale: bool) -> Image.Image:
    """Scale to ``width`` keeping the aspect ratio; never upscale unless asked."""
    if image.width == width or (image.width < width and not upscale):
        return image
    height = max(1, round(image.height * width / image.width))
    # BILINEAR keeps small receipt text legible and costs a fraction of LANCZOS.
    return image.resize((width, height), Image.Resampling.BILINEAR)


IMAGE_SCALINGS = ("native", "integer", "fit")
"""How an image narrower than the paper is printed: at its own width (centred), enlarged by the
largest whole factor that fits (each dot becomes a k x k block, no smoothing), or smoothly
stretched to the full width. Wider images are always shrunk to fit."""


def place_on_paper(image: Image.Image, paper_width: int, scaling: str = "native") -> Image.Image:
    """The image at the size it will be printed (see ``IMAGE_SCALINGS``).

    Odoo renders receipts 512 px wide; on a 576-dot head a 9/8 resampling turns 1-px rules into
    dotted lines and text ragged, so by default narrower images keep their dots one for one.
    """
    if scaling not in IMAGE_SCALINGS:
        raise ValueError(f"unknown image scaling {scaling!r}")
    if image.width > paper_width:
        return fit_width(image, paper_width, upscale=False)
    if scaling == "integer":
        factor = paper_width // image.width
        if factor > 1:
            size = (image.width * factor, image.height * factor)
            return image.resize(size, Image.Resampling.NEAREST)
        return image
    if scaling == "fit":
        return fit_width(image, paper_width, upscale=True)
    return image


BILEVEL_SHARE = 0.97
"""Share of near-black/near-white pixels above which an image is a rendered document."""
_NEAR = 64


def is_bilevel(grey: Image.Image) -> bool:
    """True when the greyscale image is essentially black ink on white paper (a rendered
    receipt: text, rules, its anti-aliased edges and JPEG noise), not a photo or a logo in
    grey tones."""
    histogram = grey.histogram()
    extremes = sum(histogram[:_NEAR]) + sum(histogram[256 - _NEAR : 256])
    return extremes >= BILEVEL_SHARE * grey.width * grey.height


def receipt_bitmap(image: Image.Image, paper_width: int, scaling: str = "native") -> Bitmap:
    """Image -> what the printer gets: placed per ``place_on_paper``, then thresholded when it is
    a document printed dot for dot (dithering would sprinkle dots around every anti-aliased or
    JPEG-blurred edge) and Floyd-Steinberg dithered when it has grey tones or was resampled."""
    grey = flatten(image)
    placed = place_on_paper(grey, paper_width, scaling)
    one_for_one = placed.width >= grey.width and placed.width % grey.width == 0
    return to_bitmap(placed, dither=not (one_for_one and is_bilevel(grey)))


def to_bitmap(image: Image.Image, *, dither: bool = True) -> Bitmap:
    """Greyscale image -> 1-bit Floyd-Steinberg (or threshold) bitmap."""
    grey = flatten(image)
    width = grey.width
    if width % 8:
        # tobytes() pads rows with 0 bits, which would print as a black stripe once inverted.
        padded = Image.new("L", (width + 8 - width % 8, grey.height), 255)
        padded.paste(grey, (0, 0))
        grey = padded
    mono = grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE)
    return Bitmap(width, mono.height, mono.tobytes("raw", _INVERTED_RAW))


def bitmap_from_mono(image: Image.Image) -> Bitmap:
    """A mode-'1' image taken as is (no dithering)."""
    if image.mode != "1":
        raise ValueError("bitmap_from_mono needs a mode '1' image")
    width = image.width
    if width % 8:
        padded = Image.new("1", (width + 8 - width % 8, image.height), 1)
        padded.paste(image, (0, 0))
        image = padded
    return Bitmap(width, image.height, image.tobytes("raw", _INVERTED_RAW))


def _check(bitmap: Bitmap) -> None:
    if bitmap.width_dots <= 0 or bitmap.height <= 0:
        raise ValueError("image is empty")


def raster_bands(bitmap: Bitmap, max_rows: int = RASTER_MAX_ROWS) -> bytes:
    """``GS v 0 0 xL xH yL yH data`` per band of at most ``max_rows`` rows."""
    _check(bitmap)
    if not 1 <= max_rows <= MAX_U16:
        raise ValueError(f"band height must be 1..65535, got {max_rows}")
    width_field = u16(bitmap.width_bytes, "raster image width in bytes")
    out = bytearray()
    for top in range(0, bitmap.height, max_rows):
        rows = min(max_rows, bitmap.height - top)
        out += GS + b"v0\x00" + width_field + u16(rows, "raster band height")
        out += bitmap.rows(top, top + rows)
    return bytes(out)


def graphics_rows_limit(bitmap: Bitmap, max_rows: int = GRAPHICS_MAX_ROWS) -> int:
    """Rows per GS ( L band so that the 2-byte parameter length (k + 10) never overflows."""
    by_length = (MAX_U16 - 10) // bitmap.width_bytes
    if by_length < 1:
        raise ValueError(f"image too wide for GS ( L: {bitmap.width_dots} dots")
    return min(max_rows, by_length)


def graphics_bands(bitmap: Bitmap, max_rows: int = GRAPHICS_MAX_ROWS) -> bytes:
    """Per band: store (``GS ( L`` fn 112, raster, 1x1, colour 1) then print (fn 50)."""
    _check(bitmap)
    rows_per_band = graphics_rows_limit(bitmap, max_rows)
    out = bytearray()
    for top in range(0, bitmap.height, rows_per_band):
        rows = min(rows_per_band, bitmap.height - top)
        data = bitmap.rows(top, top + rows)
        header = (
            b"0p0\x01\x011"
            + u16(bitmap.width_dots, "graphics width")
            + u16(rows, "graphics height")
        )
        out += GS + b"(L" + u16(len(header) + len(data), "GS ( L parameter length")
        out += header + data
        out += GS + b"(L\x02\x0002"
    return bytes(out)


def column_bands(bitmap: Bitmap) -> bytes:
    """``ESC * 33 nL nH`` + 3 bytes per column, one 24-dot strip per line, with tight line
    spacing, then the default spacing back."""
    _check(bitmap)
    image = bitmap.to_image()
    width = image.width
    n_field = u16(width, "column image width")
    strips = -(-image.height // COLUMN_BAND_ROWS)
    if image.height % COLUMN_BAND_ROWS:
        padded = Image.new("1", (width, strips * COLUMN_BAND_ROWS), 1)
        padded.paste(image, (0, 0))
        image = padded
    # Transposed once, each original column is a row; a 24-pixel slice of that row is the
    # strip's 3 column bytes, top dot first (MSB).
    columns = image.transpose(Image.Transpose.TRANSPOSE)
    out = bytearray(line_spacing(COLUMN_LINE_SPACING))
    for strip in range(strips):
        left = strip * COLUMN_BAND_ROWS
        data = columns.crop((left, 0, left + COLUMN_BAND_ROWS, width)).tobytes("raw", _INVERTED_RAW)
        out += ESC + b"*" + bytes([COLUMN_MODE]) + n_field + data + LF
    out += line_spacing(None)
    return bytes(out)


def encode_bitmap(bitmap: Bitmap, method: str) -> bytes:
    """The image commands for a profile's ``image_method``."""
    if method == "raster":
        return raster_bands(bitmap)
    if method == "graphics":
        return graphics_bands(bitmap)
    if method == "column":
        return column_bands(bitmap)
    raise ValueError(f"unknown image method {method!r}")


def fit_bitmap(bitmap: Bitmap, paper_width: int, scaling: str = "native") -> Bitmap:
    """A 1-bit image made elsewhere (an ePOS raster, already dithered by the POS) for this paper:
    as is when it fits (``native``), dots repeated for ``integer``, and resampled then dithered
    when it must shrink (58 mm paper) or be stretched smoothly (``fit``)."""
    if bitmap.width_dots <= paper_width and scaling == "native":
        return bitmap
    grey = bitmap.to_image().convert("L")
    placed = place_on_paper(grey, paper_width, scaling)
    if placed is grey:
        return bitmap
    # Whole-factor enlargements repeat dots (exact); anything else has grey levels to dither.
    exact = placed.width >= grey.width and placed.width % grey.width == 0
    return to_bitmap(placed, dither=not exact)
