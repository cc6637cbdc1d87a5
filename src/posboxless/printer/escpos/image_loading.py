"""Opening untrusted images (base64 from the POS, data URIs in XML receipts) safely.

* Only JPEG and PNG are opened: Odoo sends nothing else, and Pillow's other formats include EPS
  (which runs Ghostscript) and decoders nobody needs to expose to a shop network.
* Size is checked from the header BEFORE decoding, twice: a pixel budget, and the memory the
  decoded picture takes (``width x height x`` bytes per pixel of the mode Pillow decodes into,
  after JPEG's reduce-on-decode). A small file that claims to be enormous is refused without
  allocating anything; Pillow's own bomb check is turned into an error too (by default it only
  warns).
* Decoding is where the memory goes, so at most ``MAX_CONCURRENT_DECODES`` run at once (whatever
  thread asks); the result is turned into greyscale at once, and the freed memory is handed back
  to the system (``malloc_trim`` on glibc) rather than kept by the allocator for ever.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import io
import re
import threading
import warnings

from PIL import Image, UnidentifiedImageError

from posboxless.printer.escpos.errors import UnprintableInput

DEFAULT_MAX_PIXELS = 40_000_000
MAX_BASE64_CHARS = 64 * 1024 * 1024
ACCEPTED_FORMATS = ("JPEG", "PNG")
DEFAULT_MAX_DECODED_BYTES = 48 * 1024 * 1024
"""A 576 x 20 000 colour PNG (a very long receipt) takes 46 MB decoded; a JPEG is decoded
straight to greyscale (1 byte per pixel), so it may have four times as many pixels."""
MAX_CONCURRENT_DECODES = 1
"""One decode at a time bounds the peak (about 1.25 x ``DEFAULT_MAX_DECODED_BYTES``); a
receipt-sized image decodes in a few tens of milliseconds, so the queue behind it stays short."""
_WHITESPACE = re.compile(rb"\s+")
_DECODES = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
_TRIM_AFTER_BYTES = 4 * 1024 * 1024
_BAND_BYTES = 1024 * 1024

# Names for the refusal message: what the bytes look like, when they are not JPEG or PNG.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"\x00\x00\x00\x0cjP", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"8BPS", "PSD"),
    (b"<?xml", "XML/SVG"),
    (b"<svg", "SVG"),
)


def _reject(message: str) -> UnprintableInput:
    return UnprintableInput(message)


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow allocates per pixel for ``mode`` (RGB is stored as 4 bytes, like RGBA)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (not musl, not macOS)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_libc = _load_libc()
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 1024 * 1024
if _libc is not None:
    # glibc raises its mmap threshold (up to 32 MB) each time a big block is freed; from then
    # on image planes and job buffers come from the heap and are kept after they are freed. A
    # fixed threshold keeps every allocation of 1 MB or more in its own mapping, returned to the
    # system on free (this also fixes the trim threshold at its default).
    _libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


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
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    what: str = "image",
    draft_width: int | None = None,
) -> Image.Image:
    """Decode ``data`` (JPEG or PNG only) into a loaded greyscale (``L``) Pillow image,
    transparency composited on white paper.

    ``draft_width`` lets JPEG decode, when the image is at least twice as wide as needed, at a
    reduced DCT scale (much less work and memory than decoding then shrinking).
    """
    if not data:
        raise _reject(f"The {what} is empty.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _reject(
                f"The {what} is too large (decompression bomb check); refusing to decode it."
            ) from None
        except UnidentifiedImageError:
            found = _sniff(data)
            kind = f"a {found} file" if found else "not an image in a format read here"
            raise _reject(f"The {what} is {kind}; only JPEG and PNG images are accepted.") from None
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
        if image.format == "JPEG":
            # Greyscale straight out of the decoder, and reduced on decode when much too wide.
            target = (width, height)
            if draft_width is not None and draft_width < width:
                target = (draft_width, max(1, height * draft_width // width))
            image.draft("L", target)
        decoded = image.width * image.height * _bytes_per_pixel(image.mode)
        if decoded > max_decoded_bytes:
            raise _reject(
                f"The {what} is too large to decode: {width}x{height} {image.mode} pixels take "
                f"{decoded // 2**20} MB (limit {max_decoded_bytes // 2**20} MB); receipts are "
                "about 512 pixels wide."
            )
        grey: Image.Image | None = None
        with _DECODES:
            try:
                try:
                    image.load()
                except Exception as exc:  # truncated or corrupt data, bombs found while decoding
                    raise _reject(
                        f"The {what} is damaged and could not be decoded ({exc})."
                    ) from None
                grey = _greyscale(image)
            finally:
                if grey is not image:
                    image.close()  # the full-colour planes go now, not when the GC gets to them
                del image
                if decoded >= _TRIM_AFTER_BYTES:
                    release_freed_memory()
    return grey


def release_freed_memory() -> None:
    """Hand memory freed by big images back to the system. glibc keeps freed blocks in its
    per-thread arenas otherwise, and the proxy's RSS would stay at its highest for ever."""
    if _libc is not None:
        _libc.malloc_trim(0)


def _greyscale(image: Image.Image) -> Image.Image:
    """``L`` with any transparency composited on white paper, with single-byte planes only
    (an RGBA composite on RGBA paper would take three 4-byte ones)."""
    if image.mode == "P":
        grey = image.convert("L")
        transparency = image.info.get("transparency")
        if transparency is None:
            return grey
        # The palette's alpha as a greyscale palette: the mask costs one byte per pixel.
        alphas = [255] * 256
        if isinstance(transparency, bytes):
            alphas[: len(transparency)] = transparency
        elif isinstance(transparency, int) and 0 <= transparency < 256:
            alphas[transparency] = 0
        mask = image.copy()
        mask.putpalette(bytes(a for a in alphas for _ in range(3)), "RGB")
        return _on_paper(grey, mask.convert("L"))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Band by band: full-size grey and alpha planes next to the colour one would add half
        # of its size again to the peak.
        paper = Image.new("L", image.size, 255)
        width, height = image.size
        rows = max(1, _BAND_BYTES // (4 * width))
        for top in range(0, height, rows):
            band = image.crop((0, top, width, min(height, top + rows)))
            paper.paste(band.convert("L"), (0, top), mask=band.getchannel("A"))
        return paper
    if image.mode.startswith("I"):
        # 16-bit (and 32-bit) grey: scale to 8 bits; convert("L") would clip everything to white.
        return image.point(lambda v: v / 256).convert("L")
    if image.mode == "L":
        return image
    return image.convert("L")


def _on_paper(grey: Image.Image, alpha: Image.Image) -> Image.Image:
    paper = Image.new("L", grey.size, 255)
    paper.paste(grey, mask=alpha)
    return paper
