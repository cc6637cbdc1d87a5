"""The request bodies Odoo's POS sends to an ePOS printer, built from epos.md §3-§4 (not copied
from Odoo): the envelope per version, the raster encoding, and what each version's JS makes of
the answer."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

EPOS_NS = "http://www.epson-pos.com/schemas/2011/03/epos-print"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_PATH = "/cgi-bin/epos/service.cgi?devid=local_printer"

# What each version's client sends as Content-Type (epos.md §2).
CONTENT_TYPES = {
    15: "application/x-www-form-urlencoded; charset=UTF-8",  # jQuery default
    16: "application/x-www-form-urlencoded; charset=UTF-8",
    17: "text/plain;charset=UTF-8",  # fetch with a string body
    18: "text/plain;charset=UTF-8",
    19: "text/plain;charset=UTF-8",
}


def odoo_raster(image: Image.Image) -> tuple[int, int, str]:
    """Odoo's canvas -> ePOS raster: luma 0.299/0.587/0.114 with Floyd-Steinberg error diffusion,
    < 128 is black (bit 1), bits row-major over the whole image, in groups of 8 read MSB first,
    the last short group as a small number, base64."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    pixels = rgb.load()
    grey = [
        [
            0.299 * pixels[x, y][0] + 0.587 * pixels[x, y][1] + 0.114 * pixels[x, y][2]
            for x in range(width)
        ]
        for y in range(height)
    ]
    bits: list[str] = []
    for y in range(height):
        row = grey[y]
        for x in range(width):
            old = min(255.0, max(0.0, row[x]))
            new = 0.0 if old < 128 else 255.0
            bits.append("1" if new == 0 else "0")
            error = old - new
            if x + 1 < width:
                row[x + 1] += error * 7 / 16
            if y + 1 < height:
                below = grey[y + 1]
                if x > 0:
                    below[x - 1] += error * 3 / 16
                below[x] += error * 5 / 16
                if x + 1 < width:
                    below[x + 1] += error * 1 / 16
    stream = "".join(bits)
    data = bytes(int(stream[i : i + 8], 2) for i in range(0, len(stream), 8))
    return width, height, base64.b64encode(data).decode()


def envelope(children: str, version: int) -> str:
    """The ePOSLayout template around ``children`` (indented like the QWeb template)."""
    return (
        f'<s:Envelope xmlns:s="{SOAP_NS}">\n'
        "    <s:Body>\n"
        f'        <epos-print xmlns="{EPOS_NS}">\n'
        f"            {children}\n"
        "        </epos-print>\n"
        "    </s:Body>\n"
        "</s:Envelope>"
    )


def dom_serialised(children: str) -> str:
    """17+: children made with createElement and serialised by innerHTML (empty elements as
    open/close pairs, ``xmlns=""`` on each), then every ``xmlns=""`` stripped."""
    with_ns = re.sub(r"<([a-z-]+)([^>]*?)\s*/>", r'<\1 xmlns=""\2></\1>', children)
    return with_ns.replace(' xmlns=""', "")


def receipt_body(image: Image.Image, version: int) -> str:
    width, height, data = odoo_raster(image)
    children = (
        f'<image width="{width}" height="{height}" align="center">{data}</image><cut type="feed"/>'
    )
    if version >= 17:
        children = dom_serialised(children)
    return envelope(children, version)


def drawer_body(version: int) -> str:
    return envelope(dom_serialised("<pulse/>") if version >= 17 else "<pulse/>", version)


def odoo19_test_page_body() -> str:
    """19's settings "Test" button."""
    children = dom_serialised(
        '<feed line="1"/><text align="center">This is a test receipt&#10;</text>'
        '<feed line="3"/><cut type="feed"/>'
    )
    return envelope(children, 19)


@dataclass(frozen=True)
class OdooVerdict:
    """What the POS makes of the answer."""

    success: bool
    message: str
    warning: str | None = None


def judge(version: int, body: str, *, test_button: bool = False) -> OdooVerdict:
    """Read the answer as each version's JS does (epos.md §5)."""
    import xml.dom.minidom

    try:
        document = xml.dom.minidom.parseString(body)
        responses = document.getElementsByTagName("response")
        response = responses[0] if responses else None
    except Exception:
        response = None
    if response is None:
        return OdooVerdict(False, "The printer is not reachable.")
    success = response.getAttribute("success") == "true"
    code = response.getAttribute("code") if response.hasAttribute("code") else None
    status = int(response.getAttribute("status") or 0) if version >= 19 else 0
    if test_button:
        if success and code == "":
            return OdooVerdict(True, "Test receipt printed")
        return OdooVerdict(False, f"Test failed: {code}")
    if success:
        warning = None
        if version >= 19 and status & 0x00020000:
            warning = "ROLL_PAPER_HAS_ALMOST_RUN_OUT"
        return OdooVerdict(True, "printed", warning)
    if version >= 19:
        if code == "EPTR_COVER_OPEN":
            return OdooVerdict(False, "cover open")
        if code == "EPTR_REC_EMPTY" or status & 0x00080000:
            return OdooVerdict(False, "out of paper")
        if code == "DeviceNotFound":
            return OdooVerdict(False, "set the Device ID to local_printer")
        return OdooVerdict(False, f"The following error code was given by the printer: {code}")
    if code == "EPTR_REC_EMPTY":
        return OdooVerdict(False, "out of paper")
    if code == "DeviceNotFound":
        return OdooVerdict(False, "set the Device ID to local_printer")
    if not code:
        return OdooVerdict(False, "Please check if the printer has enough paper and is ready")
    return OdooVerdict(False, f"error code {code}")


def odoo_receipt(width: int = 512, lines: int = 10) -> Image.Image:
    """An Odoo-like receipt canvas: text, 1-px rules, a bar."""
    image = Image.new("RGB", (width, 60 + 22 * lines), "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 14)
    except OSError:
        font = ImageFont.load_default()
    draw.text((width // 2, 8), "Café du Marché", fill="black", font=font, anchor="mt")
    for n in range(lines):
        y = 32 + 22 * n
        draw.text((6, y), f"Croissant x{n + 1}", fill="black", font=font)
        draw.text((width - 6, y), f"{n + 1},20 €", fill="black", font=font, anchor="ra")
    y = 34 + 22 * lines
    draw.line((0, y, width - 1, y), fill="black")
    draw.rectangle((0, y + 6, width // 3, y + 12), fill="black")
    return image
