"""Printer profiles: what the ESC/POS renderer must know about one printer model.

A profile is chosen by name in the configuration and can be adjusted field by field
(``[printer.profile_overrides]``), because the same model is sold with 58 mm and 80 mm paper,
with or without a cutter, and with different code tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posboxless.printer.escpos.codepages import CODE_TABLES, canonical_codec, is_single_byte
from posboxless.printer.escpos.errors import ProfileError
from posboxless.printer.escpos.raster import IMAGE_SCALINGS

IMAGE_METHODS = ("raster", "graphics", "column")
CUT_MODES = ("full", "partial", "feed-full", "feed-partial", "none")

# ESC p takes t1, t2 in units of 2 ms, one byte each.
PULSE_MS_MIN = 2
PULSE_MS_MAX = 510


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    width_dots: int
    """Printable width in dots (576 on 80 mm/203 dpi, 512 on 180 dpi, 420/384 on 58 mm)."""
    columns: int
    """Characters per line in font A; the default ``width`` of XML receipts."""
    columns_font_b: int
    code_table: int
    """``ESC t n`` number, sent once per job."""
    encoding: str
    """Python codec matching ``code_table``."""
    image_method: str
    """``raster`` (GS v 0), ``graphics`` (GS ( L) or ``column`` (ESC *)."""
    cut: str
    """``full``/``partial`` (feed 6 lines, GS V 0/1), ``feed-full``/``feed-partial`` (GS V 65/66 0:
    feed to the cutter, then cut) or ``none`` (no cutter)."""
    drawer_pins: tuple[int, ...]
    drawer_on_ms: int
    drawer_off_ms: int
    scale_images: str = "native"
    """Images narrower than ``width_dots`` (Odoo renders receipts 512 px wide): ``native`` prints
    them dot for dot, centred; ``integer`` enlarges them by the largest whole factor that fits,
    without smoothing; ``fit`` stretches them smoothly to the full width. Wider images are always
    shrunk to fit."""
    realtime_switch: bool = False
    """The printer takes ``GS ( D`` (enable/disable real-time commands, Epson fn 20): a job whose
    bytes hold a real-time drawer-pulse or power-off pattern (image data can) is sent with those
    commands switched off and back on after it. False where unknown: an unknown command may print
    as garbage; such jobs are then only logged and counted (``realtime_unguarded``)."""


def _profile(name: str, width: int, columns: int, columns_b: int, **kw: Any) -> PrinterProfile:
    fields: dict[str, Any] = {
        "code_table": 16,
        "encoding": "cp1252",
        "image_method": "raster",
        "cut": "feed-partial",
        "drawer_pins": (2, 5),
        # 100 ms on / 400 ms off keeps the 20 % duty cycle drawer manuals ask for.
        "drawer_on_ms": 100,
        "drawer_off_ms": 400,
    }
    fields.update(kw)
    return PrinterProfile(
        name=name, width_dots=width, columns=columns, columns_font_b=columns_b, **fields
    )


BUILTIN_PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        # GS ( D is in Epson's ESC/POS reference for all five models.
        _profile("TM-T20", 576, 48, 64, realtime_switch=True),
        _profile("TM-T20II", 576, 48, 64, realtime_switch=True),
        _profile("TM-T20III", 576, 48, 64, realtime_switch=True),
        _profile("TM-T88V", 512, 42, 56, realtime_switch=True),
        _profile("TM-m30", 576, 48, 64, realtime_switch=True),
        _profile("generic-80", 576, 48, 64, cut="full"),
        _profile("generic-58", 384, 32, 42, cut="full"),
    )
}

_INT_RANGES: dict[str, tuple[int, int]] = {
    "width_dots": (8, 2400),
    "columns": (8, 255),
    "columns_font_b": (8, 255),
    "code_table": (0, 255),
    "drawer_on_ms": (PULSE_MS_MIN, PULSE_MS_MAX),
    "drawer_off_ms": (PULSE_MS_MIN, PULSE_MS_MAX),
}


def get_profile(
    name: str, overrides: Mapping[str, Any] | None = None, *, key: str = "profile"
) -> PrinterProfile:
    """The built-in profile ``name`` with ``overrides`` applied and validated.

    Override keys are field names (``width_dots`` or ``width-dots``). Overriding ``code_table``
    alone picks the matching codec. Raises ``ProfileError`` naming ``key`` (or ``key.field``).
    """
    base = BUILTIN_PROFILES.get(name)
    if base is None:
        raise ProfileError(key, "one of " + ", ".join(map(repr, BUILTIN_PROFILES)), name)
    if not overrides:
        return base
    field_names = {f.name for f in dataclasses.fields(PrinterProfile)} - {"name"}
    changes: dict[str, Any] = {}
    for raw_field, value in overrides.items():
        field = str(raw_field).replace("-", "_")
        field_key = f"{key}.{raw_field}"
        if field not in field_names:
            raise ProfileError(
                field_key, "a profile field (" + ", ".join(sorted(field_names)) + ")", "unknown key"
            )
        changes[field] = _check_field(field, value, field_key)
    if "code_table" in changes and "encoding" not in changes:
        codec = CODE_TABLES.get(changes["code_table"])
        if codec is None:
            raise ProfileError(
                f"{key}.code_table",
                "a known table number ("
                + ", ".join(str(n) for n in CODE_TABLES)
                + ") or an explicit 'encoding' as well",
                changes["code_table"],
            )
        changes["encoding"] = canonical_codec(codec)
    return dataclasses.replace(base, name=f"{name}*", **changes)


def _check_field(field: str, value: Any, field_key: str) -> Any:
    if field in _INT_RANGES:
        low, high = _INT_RANGES[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProfileError(field_key, f"an integer from {low} to {high}", value)
        if field == "width_dots" and value % 8:
            raise ProfileError(field_key, "a multiple of 8 dots", value)
        if field.startswith("drawer_") and value % 2:
            raise ProfileError(field_key, "an even number of milliseconds (2 ms steps)", value)
        return value
    if field == "encoding":
        try:
            codec = canonical_codec(value) if isinstance(value, str) else None
        except LookupError:
            codec = None
        if codec is None or not is_single_byte(codec):
            raise ProfileError(field_key, "a single-byte Python codec such as 'cp1252'", value)
        return codec
    if field == "image_method":
        if value not in IMAGE_METHODS:
            raise ProfileError(field_key, "one of " + ", ".join(map(repr, IMAGE_METHODS)), value)
        return value
    if field == "cut":
        if value not in CUT_MODES:
            raise ProfileError(field_key, "one of " + ", ".join(map(repr, CUT_MODES)), value)
        return value
    if field == "drawer_pins":
        pins = value if isinstance(value, (list, tuple)) else None
        if not pins or len(set(pins)) != len(pins) or any(p not in (2, 5) for p in pins):
            raise ProfileError(field_key, "a list of drawer pins: [2], [5] or [2, 5]", value)
        return tuple(pins)
    if field == "scale_images":
        if isinstance(value, bool):  # the setting was a switch before: true meant "fit"
            return "fit" if value else "native"
        if value not in IMAGE_SCALINGS:
            raise ProfileError(field_key, "one of " + ", ".join(map(repr, IMAGE_SCALINGS)), value)
        return value
    if field == "realtime_switch":
        if not isinstance(value, bool):
            raise ProfileError(field_key, "true or false", value)
        return value
    raise ProfileError(field_key, "a known profile field", field)  # pragma: no cover
