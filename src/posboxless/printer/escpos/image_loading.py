"""Opening untrusted images (base64 from the POS, data URIs in XML receipts) safely.

The pixel count is checked from the header BEFORE decoding, so a small file that claims to be
100 000 x 100 000 pixels (a decompression bomb) is refused without allocating anything; Pillow's
own bomb check is turned into an error too (by default it only warns).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
import warnings

from PIL import Image, UnidentifiedImageError

from posboxless.device import InvalidInput

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 40_000_000
MAX_BASE64_CHARS = 64 * 1024 * 1024
_WHITESPACE = re.compile(rb"\s+")


def _reject(message: str) -> InvalidInput:
    log.warning("%s", message)
    return InvalidInput(message)


def decode_base64(text: str | bytes, *, what: str = "image") -> bytes:
    """Strict base64 (whitespace tolerated, missing padding tolerated)."""
    raw = text.encode("ascii", errors="replace") if isinstance(text, str) else text
    if len(raw) > MAX_BASE64_CHARS:
        raise _reject(f"The {what} is too large ({len(raw)} base64 characters).")
    compact = _WHITESPACE.sub(b"", raw)
    if not compact:
        raise _reject(f"The {what} is empty.")
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise _reject(f"The {what} is not valid base64 data.") from None


def open_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    what: str = "image",
    draft_width: int | None = None,
) -> Image.Image:
    """Decode ``data`` (JPEG, PNG, GIF, BMP...) into a loaded Pillow image.

    ``draft_width`` lets JPEG decode straight to greyscale and, when the image is at least twice
    as wide as needed, at a reduced DCT scale (much less work than decoding then shrinking).
    """
    if not data:
        raise _reject(f"The {what} is empty.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _reject(
                f"The {what} is too large (decompression bomb check); refusing to decode it."
            ) from None
        except UnidentifiedImageError:
            raise _reject(
                f"The {what} is not an image Pillow can read (expected JPEG or PNG)."
            ) from None
        except Exception as exc:  # any decoder failure on untrusted data
            raise _reject(f"The {what} could not be read: {exc}") from None
        width, height = image.size
        if width <= 0 or height <= 0:
            raise _reject(f"The {what} has no pixels ({width}x{height}).")
        if width * height > max_pixels:
            raise _reject(
                f"The {what} is too large: {width}x{height} pixels "
                f"(limit {max_pixels} pixels); refusing to decode it."
            )
        if image.format == "JPEG" and draft_width is not None:
            scale_height = max(1, height * draft_width // width)
            image.draft("L", (draft_width, scale_height))
        try:
            image.load()
        except Exception as exc:  # truncated or corrupt data, bombs found while decoding
            raise _reject(f"The {what} is damaged and could not be decoded ({exc}).") from None
    return image
