"""Barcodes and QR codes drawn as the printer draws them, for previews (simulated printer, tests).

The printer builds the symbol itself from ``GS k`` / ``GS ( k``; the preview rebuilds it with
maintained encoders (python-barcode for the bar patterns, segno for QR codes) at the module size,
bar height and error correction the commands selected, so what the demo shows can be scanned.
Symbologies those libraries do not know (UPC-E, CODE93) are drawn as a labelled box.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

# ESC/POS symbology -> python-barcode name, and how many leading characters it takes (the
# library appends the check digit itself).
_LINEAR = {
    "UPC-A": ("upca", 11),
    "EAN13": ("ean13", 12),
    "EAN8": ("ean8", 7),
    "CODE39": ("code39", None),
    "ITF": ("itf", None),
    "CODABAR": ("codabar", None),
    "CODE128": ("code128", None),
}
_HRI_HEIGHT = 24


@dataclass(frozen=True)
class Symbol:
    """A barcode or QR code as the printer was told to print it."""

    kind: str
    """``barcode`` or ``qr``."""
    symbology: str
    """``EAN13``, ``CODE128``... or ``QR``."""
    data: bytes
    align: str = "left"
    height: int = 162
    """Bar height in dots (``GS h``; the printer's default is 162)."""
    module: int = 3
    """Module width (``GS w``) or QR module size (``GS ( k`` function 167), in dots."""
    hri: int = 0
    """``GS H``: 0 none, 1 above, 2 below, 3 both."""
    error: str = "M"
    """QR error correction level."""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8" if self.kind == "qr" else "ascii", errors="replace")


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype("DejaVuSansMono.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def render_symbol(symbol: Symbol) -> Image.Image:
    """The symbol as a greyscale image (black on white), at printer dots."""
    try:
        if symbol.kind == "qr":
            return _qr(symbol)
        return _linear(symbol)
    except Exception as exc:  # bad data for the symbology: show it rather than fail the preview
        return _placeholder(symbol, f"cannot draw: {exc}")


def _qr(symbol: Symbol) -> Image.Image:
    import segno

    code = segno.make(symbol.data, error=symbol.error.lower(), micro=False, boost_error=False)
    size = symbol.module
    modules = int(code.symbol_size(border=0)[0])
    image = Image.new("L", (modules * size, modules * size), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(code.matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((x * size, y * size, (x + 1) * size - 1, (y + 1) * size - 1), fill=0)
    return image


def _linear(symbol: Symbol) -> Image.Image:
    entry = _LINEAR.get(symbol.symbology)
    if entry is None:
        return _placeholder(symbol, "preview not available for this symbology")
    import barcode

    name, digits = entry
    text = symbol.text
    if symbol.symbology == "CODE128" and text[:2] in ("{A", "{B", "{C"):
        text = text[2:]
    if digits is not None:
        text = text[:digits]
    options = {"add_checksum": False} if name == "code39" else {}
    code = barcode.get_barcode_class(name)(text, **options)
    pattern = "".join(code.build())
    module = max(1, symbol.module)
    bars = Image.new("L", (len(pattern) * module, symbol.height), 255)
    draw = ImageDraw.Draw(bars)
    for index, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle((index * module, 0, (index + 1) * module - 1, symbol.height - 1), fill=0)
    if not symbol.hri:
        return bars
    label = _label(symbol.text, bars.width)
    above = symbol.hri in (1, 3)
    below = symbol.hri in (2, 3)
    out = Image.new("L", (bars.width, bars.height + _HRI_HEIGHT * (above + below)), 255)
    out.paste(bars, (0, _HRI_HEIGHT if above else 0))
    if above:
        out.paste(label, (0, 0))
    if below:
        out.paste(label, (0, out.height - _HRI_HEIGHT))
    return out


def _label(text: str, width: int) -> Image.Image:
    label = Image.new("L", (width, _HRI_HEIGHT), 255)
    ImageDraw.Draw(label).text((width // 2, 2), text, fill=0, font=_font(18), anchor="mt")
    return label


def _placeholder(symbol: Symbol, why: str) -> Image.Image:
    image = Image.new("L", (384, 60), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 383, 59), outline=0)
    draw.text((6, 6), f"{symbol.symbology} {symbol.text}"[:40], fill=0, font=_font(16))
    draw.text((6, 32), why[:44], fill=96, font=_font(14))
    return image
