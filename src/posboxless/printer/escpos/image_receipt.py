"""Odoo 13+ image receipts: base64 JPEG/PNG -> printer width -> 1-bit -> image bands + cut.

The image is centred with ``ESC a 1``, which Epson-compatible printers apply to raster images, so
an image narrower than the paper is sent at its own width (fewer bytes, no resampling)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from posboxless.printer.escpos import encoder
from posboxless.printer.escpos.image_loading import (
    DEFAULT_MAX_PIXELS,
    decode_base64,
    open_image,
    release_freed_memory,
)
from posboxless.printer.escpos.job import RenderedJob, job_prologue
from posboxless.printer.escpos.raster import encode_bitmap, receipt_bitmap

_TRIM_AFTER_PIXELS = 4_000_000

if TYPE_CHECKING:
    from posboxless.printer.profiles import PrinterProfile


def render_image_receipt(
    image_base64: str, profile: PrinterProfile, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> RenderedJob:
    """Render the base64 image Odoo 13+ sends (without the ``data:`` prefix; one is tolerated)."""
    text = image_base64
    if text.startswith("data:"):
        text = text.partition(",")[2]
    return render_image_bytes(
        decode_base64(text, what="receipt image"), profile, max_pixels=max_pixels
    )


def render_image_bytes(
    image: bytes, profile: PrinterProfile, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> RenderedJob:
    """Render an encoded image (JPEG, PNG...) as a receipt for ``profile``."""
    picture = open_image(
        image, max_pixels=max_pixels, what="receipt image", draft_width=profile.width_dots
    )
    pixels = picture.width * picture.height
    bitmap = receipt_bitmap(picture, profile.width_dots, profile.scale_images)
    del picture
    data = (
        job_prologue(profile)
        + encoder.align("center")
        + encode_bitmap(bitmap, profile.image_method)
        + encoder.cut(profile.cut)
    )
    del bitmap
    if pixels >= _TRIM_AFTER_PIXELS:
        release_freed_memory()  # the intermediate planes of a long receipt
    return RenderedJob(data=data, kind="receipt")
