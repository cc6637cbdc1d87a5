"""The style stack of Odoo's XML receipt language (odoo-protocol.md §5.1).

Style attributes may sit on any element and are inherited by its descendants. A bad value is
ignored with a warning (Odoo's behaviour for the six ESC/POS styles; Odoo crashes on the others,
we do not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from posboxless.printer.escpos.encoder import TextStyle, style_commands

CHOICES: dict[str, tuple[str, ...]] = {
    "align": ("left", "center", "right"),
    "size": ("normal", "double-height", "double-width", "double"),
    "color": ("black", "red"),
    "underline": ("off", "on", "double"),
    "bold": ("off", "on"),
    "font": ("a", "b"),
}
INTS: dict[str, tuple[int, int]] = {
    "width": (1, 1000),
    "indent": (0, 100),
    "tabwidth": (0, 40),
    "value-decimals": (0, 20),
    "value-width": (0, 200),
}
FLOATS: dict[str, tuple[float, float]] = {"line-ratio": (0.0, 1.0)}

DEFAULTS: dict[str, Any] = {
    "align": "left",
    "size": "normal",
    "color": "black",
    "underline": "off",
    "bold": "off",
    "font": "a",
    "indent": 0,
    "tabwidth": 2,
    "bullet": " - ",
    "line-ratio": 0.5,
    "value-decimals": 2,
    "value-symbol": "",
    "value-symbol-position": "after",
    "value-autoint": "off",
    "value-decimals-separator": ".",
    "value-thousands-separator": ",",
    "value-width": 0,
}

PRESETS: dict[str, dict[str, str]] = {
    "h1": {"bold": "on", "size": "double"},
    "h2": {"size": "double"},
    "h3": {"bold": "on", "size": "double-height"},
    "h4": {"size": "double-height"},
    "h5": {"bold": "on"},
    "h6": {"bold": "on"},
    "em": {"font": "b"},
    "b": {"bold": "on"},
}

DOUBLE_WIDTH_SIZES = ("double", "double-width")


class StyleStack:
    def __init__(self, columns: int, columns_font_b: int, warn: Callable[[str], None]) -> None:
        self._frames: list[dict[str, Any]] = [dict(DEFAULTS)]
        self._columns = columns
        self._columns_font_b = columns_font_b
        self._warn = warn

    def push(self, tag: str, attributes: Mapping[str, str]) -> None:
        frame: dict[str, Any] = dict(PRESETS.get(tag, {}))
        for name, raw in attributes.items():
            value = self._parse(tag, name, raw)
            if value is not None:
                frame[name] = value
        self._frames.append(frame)

    def pop(self) -> None:
        self._frames.pop()

    def get(self, name: str) -> Any:
        for frame in reversed(self._frames):
            if name in frame:
                return frame[name]
        return None

    def width(self) -> int:
        """Characters per line for ``line``/``hr``: the receipt's ``width``, capped to the
        profile's columns for the current font (Odoo 8-12 receipts say ``width='40'`` even on
        32-column 58 mm paper, which would wrap every line), halved for double-width sizes."""
        columns = self._columns_font_b if self.get("font") == "b" else self._columns
        width = min(self.get("width") or columns, columns)
        if self.get("size") in DOUBLE_WIDTH_SIZES:
            width //= 2
        return int(width)

    def text_style(self) -> TextStyle:
        return TextStyle(
            align=self.get("align"),
            size=self.get("size"),
            color=self.get("color"),
            underline=self.get("underline"),
            bold=self.get("bold") == "on",
            font=self.get("font"),
        )

    def commands(self) -> bytes:
        return style_commands(self.text_style())

    def _parse(self, tag: str, name: str, raw: str) -> Any:
        if name in CHOICES:
            value = raw.strip().lower()
            if value in CHOICES[name]:
                return value
            self._invalid(tag, name, raw, "one of " + ", ".join(CHOICES[name]))
            return None
        if name in INTS:
            low, high = INTS[name]
            try:
                number = int(raw.strip())
            except ValueError:
                number = None
            if number is None or not low <= number <= high:
                self._invalid(tag, name, raw, f"a whole number from {low} to {high}")
                return None
            return number
        if name in FLOATS:
            flow, fhigh = FLOATS[name]
            try:
                ratio = float(raw.strip())
            except ValueError:
                ratio = math.nan
            if not flow <= ratio <= fhigh:
                self._invalid(tag, name, raw, f"a number from {flow} to {fhigh}")
                return None
            return ratio
        return raw

    def _invalid(self, tag: str, name: str, raw: str, expected: str) -> None:
        self._warn(f"<{tag} {name}={raw!r}> ignored: expected {expected}")


def format_value(text: str, styles: StyleStack) -> str | None:
    """Odoo's ``<value>`` formatting; ``None`` when the text is not a finite number."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    decimals: int = styles.get("value-decimals")
    if styles.get("value-autoint") == "on" and value == math.floor(value):
        decimals = 0
    width: int = styles.get("value-width")
    thousands: str = styles.get("value-thousands-separator")
    grouping = "," if thousands else ""
    formatted = f"{value:{width or ''}{grouping}.{decimals}f}"
    # Two-step swap so that e.g. '.' as thousands and ',' as decimals separator do not collide.
    formatted = formatted.replace(",", "\0").replace(".", styles.get("value-decimals-separator"))
    formatted = formatted.replace("\0", thousands)
    symbol: str = styles.get("value-symbol")
    if symbol:
        if styles.get("value-symbol-position") == "after":
            formatted += symbol
        else:
            formatted = symbol + formatted
    return formatted
