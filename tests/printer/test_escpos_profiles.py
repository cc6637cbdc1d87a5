"""Built-in printer profiles and field-by-field overrides."""

from __future__ import annotations

from typing import Any

import pytest

from posboxless.printer.escpos.errors import ProfileError
from posboxless.printer.profiles import BUILTIN_PROFILES, PrinterProfile, get_profile


def test_builtin_profiles_exist_with_expected_widths() -> None:
    widths = {name: p.width_dots for name, p in BUILTIN_PROFILES.items()}
    assert widths == {
        "TM-T20": 576,
        "TM-T20II": 576,
        "TM-T20III": 576,
        "TM-T88V": 512,
        "TM-m30": 576,
        "generic-80": 576,
        "generic-58": 384,
    }


@pytest.mark.parametrize("profile", BUILTIN_PROFILES.values(), ids=lambda p: p.name)
def test_builtin_profiles_are_sane(profile: PrinterProfile) -> None:
    assert profile.code_table == 16 and profile.encoding == "cp1252"
    assert profile.image_method == "raster"
    assert profile.drawer_pins == (2, 5)
    assert profile.drawer_on_ms * 4 <= profile.drawer_off_ms  # duty cycle <= 20 %
    assert profile.width_dots % 8 == 0
    assert profile.columns_font_b > profile.columns


def test_get_profile_without_overrides_is_the_builtin() -> None:
    assert get_profile("TM-T20III") is BUILTIN_PROFILES["TM-T20III"]


def test_overrides_apply_field_by_field() -> None:
    profile = get_profile(
        "TM-T20III",
        {
            "width-dots": 512,
            "columns": 42,
            "image_method": "column",
            "cut": "partial",
            "drawer_pins": [2],
            "drawer_on_ms": 50,
            "drawer_off_ms": 250,
            "scale_images": "integer",
        },
    )
    assert profile.width_dots == 512
    assert profile.columns == 42
    assert profile.image_method == "column"
    assert profile.cut == "partial"
    assert profile.drawer_pins == (2,)
    assert (profile.drawer_on_ms, profile.drawer_off_ms) == (50, 250)
    assert profile.scale_images == "integer"
    assert profile.columns_font_b == 64  # untouched
    assert profile.name == "TM-T20III*"


def test_code_table_override_picks_the_codec() -> None:
    profile = get_profile("generic-80", {"code_table": 40})
    assert (profile.code_table, profile.encoding) == (40, "iso8859-15")


def test_explicit_encoding_is_normalised() -> None:
    profile = get_profile("generic-80", {"code_table": 19, "encoding": "CP858"})
    assert profile.encoding == "cp858"


@pytest.mark.parametrize(
    ("name", "overrides", "key", "message"),
    [
        ("TM-T2O", None, "printer[0].profile", "expected one of 'TM-T20'"),
        ("TM-T20", {"width": 576}, "printer[0].profile.width", "a profile field"),
        ("TM-T20", {"width_dots": 577}, "printer[0].profile.width_dots", "multiple of 8"),
        ("TM-T20", {"width_dots": "576"}, "printer[0].profile.width_dots", "an integer"),
        ("TM-T20", {"columns": True}, "printer[0].profile.columns", "an integer"),
        ("TM-T20", {"code_table": 99}, "printer[0].profile.code_table", "known table"),
        ("TM-T20", {"encoding": "utf-8"}, "printer[0].profile.encoding", "single-byte"),
        ("TM-T20", {"encoding": "klingon"}, "printer[0].profile.encoding", "single-byte"),
        ("TM-T20", {"image_method": "sixel"}, "printer[0].profile.image_method", "'raster'"),
        ("TM-T20", {"cut": "guillotine"}, "printer[0].profile.cut", "'feed-partial'"),
        ("TM-T20", {"drawer_pins": [3]}, "printer[0].profile.drawer_pins", "[2, 5]"),
        ("TM-T20", {"drawer_pins": [2, 2]}, "printer[0].profile.drawer_pins", "[2, 5]"),
        ("TM-T20", {"drawer_on_ms": 1000}, "printer[0].profile.drawer_on_ms", "2 to 510"),
        ("TM-T20", {"drawer_off_ms": 101}, "printer[0].profile.drawer_off_ms", "even number"),
        ("TM-T20", {"scale_images": "yes"}, "printer[0].profile.scale_images", "'native'"),
    ],
)
def test_bad_profiles_raise_config_errors_naming_the_key(
    name: str, overrides: dict[str, Any] | None, key: str, message: str
) -> None:
    with pytest.raises(ProfileError) as info:
        get_profile(name, overrides, key="printer[0].profile")
    assert info.value.key == key
    assert message in str(info.value)
