"""The keyboard-wedge decoder, fed with synthetic evdev events through the real keymaps."""

from __future__ import annotations

import pytest
from evdev import InputEvent, ecodes

from posboxless.scanner.keyboard import BarcodeDecoder
from posboxless.scanner.keymaps import (
    BUILTIN_LAYOUTS,
    UnknownLayout,
    builtin_keymap,
    keymap_from_xkb,
    load_keymap,
    xkb_available,
)
from posboxless.scanner.simulator import events_for_text, key_events

EAN = "3017620422003"
DIGIT_KEYS = [ecodes.KEY_3, ecodes.KEY_0, ecodes.KEY_1, ecodes.KEY_7, ecodes.KEY_6, ecodes.KEY_2,
              ecodes.KEY_0, ecodes.KEY_4, ecodes.KEY_2, ecodes.KEY_2, ecodes.KEY_0, ecodes.KEY_0,
              ecodes.KEY_3]  # fmt: skip


def ev(t: float, code: int, value: int) -> InputEvent:
    sec = int(t)
    return InputEvent(sec, int((t - sec) * 1e6), ecodes.EV_KEY, code, value)


def press(t: float, code: int) -> list[InputEvent]:
    return [ev(t, code, 1), ev(t, code, 0)]


def decode(events: list[InputEvent], layout: str, **kwargs: object) -> list[str]:
    decoder = BarcodeDecoder(builtin_keymap(layout), **kwargs)  # type: ignore[arg-type]
    return [code for e in events if (code := decoder.feed(e))]


def us_scanner_events() -> list[InputEvent]:
    """A scanner programmed for US: plain digit-row keys, then Enter (hand-written)."""
    events: list[InputEvent] = []
    for i, key in enumerate(DIGIT_KEYS):
        events += press(10 + i * 0.001, key)
    return events + press(10.02, ecodes.KEY_ENTER)


def fr_scanner_events() -> list[InputEvent]:
    """A scanner programmed for AZERTY: Shift + digit-row key for each digit."""
    events: list[InputEvent] = []
    for i, key in enumerate(DIGIT_KEYS):
        t = 10 + i * 0.001
        events += [ev(t, ecodes.KEY_LEFTSHIFT, 1), *press(t, key), ev(t, ecodes.KEY_LEFTSHIFT, 0)]
    return events + press(10.02, ecodes.KEY_ENTER)


# devices.md §4.2, both directions
@pytest.mark.parametrize(
    ("events", "layout", "expected"),
    [
        (us_scanner_events, "us", EAN),
        (us_scanner_events, "fr", '"à&è-éà\'ééàà"'),
        (us_scanner_events, "be", '"à&è§éà\'ééàà"'),
        (fr_scanner_events, "us", "#)!&^@)$@@))#"),
        (fr_scanner_events, "fr", EAN),
        (fr_scanner_events, "be", EAN),
    ],
)
def test_layout_table_of_the_spec(events, layout: str, expected: str) -> None:
    assert decode(events(), layout) == [expected]


def test_key_q_is_a_with_fr() -> None:
    assert decode(press(1, ecodes.KEY_Q) + press(1, ecodes.KEY_ENTER), "fr") == ["a"]


@pytest.mark.parametrize("layout", BUILTIN_LAYOUTS)
@pytest.mark.parametrize("text", [EAN, "ABC-123", "hello world", "Ab12/x.y"])
def test_every_layout_round_trips_what_its_scanner_types(layout: str, text: str) -> None:
    keymap = builtin_keymap(layout)
    if not all(keymap.typing(c) for c in text):
        pytest.skip(f"{layout} cannot type {text!r}")
    assert decode(events_for_text(text, keymap), layout) == [text]


def test_letters_and_shift() -> None:
    events = [*press(1, ecodes.KEY_A), ev(1, ecodes.KEY_RIGHTSHIFT, 1)]
    events += [*press(1, ecodes.KEY_B), ev(1, ecodes.KEY_RIGHTSHIFT, 0)]
    events += press(1, ecodes.KEY_C) + press(1, ecodes.KEY_ENTER)
    assert decode(events, "us") == ["aBc"]
    assert decode(events, "de") == ["aBc"]


def test_german_y_and_z_are_swapped() -> None:
    events = press(1, ecodes.KEY_Y) + press(1, ecodes.KEY_Z) + press(1, ecodes.KEY_ENTER)
    assert decode(events, "de") == ["zy"]
    assert decode(events, "us") == ["yz"]


def test_caps_lock_uppercases_letters_and_shift_reverses_it() -> None:
    events = press(1, ecodes.KEY_CAPSLOCK) + press(1, ecodes.KEY_A)
    events += [
        ev(1, ecodes.KEY_LEFTSHIFT, 1),
        *press(1, ecodes.KEY_B),
        ev(1, ecodes.KEY_LEFTSHIFT, 0),
    ]
    events += press(1, ecodes.KEY_1) + press(1, ecodes.KEY_CAPSLOCK) + press(1, ecodes.KEY_C)
    events += press(1, ecodes.KEY_ENTER)
    assert decode(events, "us") == ["Ab1c"]


def test_caps_lock_on_azerty_digit_row_does_not_give_digits() -> None:
    # XKB: CapsLock on the French digit row capitalises é/è/ç/à, it does not type digits.
    events = press(1, ecodes.KEY_CAPSLOCK) + press(1, ecodes.KEY_2) + press(1, ecodes.KEY_0)
    events += press(1, ecodes.KEY_ENTER)
    assert decode(events, "fr") == ["ÉÀ"]


def test_keypad_digits_follow_numlock() -> None:
    keypad = [ecodes.KEY_KP3, ecodes.KEY_KP0, ecodes.KEY_KP1, ecodes.KEY_KPDOT]
    events = [e for k in keypad for e in press(1, k)] + press(1, ecodes.KEY_KPENTER)
    assert decode(events, "us") == ["301."]  # NumLock assumed on, as on a booted till
    assert decode(events, "de") == ["301,"]
    off = press(1, ecodes.KEY_NUMLOCK) + events
    assert decode(off, "us") == []  # navigation keys type nothing
    assert decode(events, "us", num_lock=False) == []


def test_autorepeat_is_ignored() -> None:
    events = [ev(1, ecodes.KEY_4, 1), ev(1.3, ecodes.KEY_4, 2), ev(1.33, ecodes.KEY_4, 2)]
    events += [
        ev(1.34, ecodes.KEY_4, 0),
        *press(1.35, ecodes.KEY_2),
        *press(1.36, ecodes.KEY_ENTER),
    ]
    assert decode(events, "us") == ["42"]


def test_interleaved_noise_is_ignored() -> None:
    events = events_for_text("12", builtin_keymap("us"))  # MSC_SCAN and SYN_REPORT around keys
    noise = [
        InputEvent(1000, 0, ecodes.EV_LED, ecodes.LED_NUML, 1),
        InputEvent(1000, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
        InputEvent(1000, 0, ecodes.EV_KEY, ecodes.KEY_5, 0),  # a release without press
    ]
    mixed = events[:3] + noise + events[3:]
    assert decode(mixed, "us") == ["12"]


def test_ctrl_and_alt_shortcuts_are_not_text() -> None:
    events = [ev(1, ecodes.KEY_LEFTCTRL, 1), *press(1, ecodes.KEY_C), ev(1, ecodes.KEY_LEFTCTRL, 0)]
    events += press(1, ecodes.KEY_7) + press(1, ecodes.KEY_ENTER)
    assert decode(events, "us") == ["7"]


def test_altgr_types_third_level() -> None:
    # be: AltGr + é-key is '@'
    events = [ev(1, ecodes.KEY_RIGHTALT, 1), *press(1, ecodes.KEY_2), ev(1, ecodes.KEY_RIGHTALT, 0)]
    events += press(1, ecodes.KEY_ENTER)
    assert decode(events, "be") == ["@"]


def test_gap_drops_a_partial_code() -> None:
    decoder = BarcodeDecoder(builtin_keymap("us"), gap_timeout=0.5)
    partial = press(1.0, ecodes.KEY_9) + press(1.01, ecodes.KEY_9)
    later = press(2.0, ecodes.KEY_1) + press(2.01, ecodes.KEY_ENTER)
    assert [c for e in partial + later if (c := decoder.feed(e))] == ["1"]
    assert decoder.stats.dropped_partials == 1
    assert "99" in (decoder.stats.last_problem or "")


def test_expire_drops_a_partial_code_without_new_events() -> None:
    decoder = BarcodeDecoder(builtin_keymap("us"), gap_timeout=0.5)
    for e in press(1.0, ecodes.KEY_9):
        decoder.feed(e)
    assert decoder.expire(1.2) is None and decoder.pending == "9"
    assert decoder.expire(1.6) is None and decoder.pending == ""
    assert decoder.stats.dropped_partials == 1


def test_suffix_none_ends_on_silence() -> None:
    decoder = BarcodeDecoder(builtin_keymap("us"), suffix="none", gap_timeout=0.1)
    for e in press(1.0, ecodes.KEY_4) + press(1.01, ecodes.KEY_2):
        assert decoder.feed(e) is None
    assert decoder.expire(1.05) is None
    assert decoder.expire(1.2) == "42"
    # and a new code after a gap closes the previous one
    out = [c for e in press(3.0, ecodes.KEY_1) + press(5.0, ecodes.KEY_2) if (c := decoder.feed(e))]
    assert out == ["1"]


def test_suffix_tab() -> None:
    events = press(1, ecodes.KEY_5) + press(1, ecodes.KEY_ENTER) + press(1, ecodes.KEY_TAB)
    assert decode(events, "us", suffix="tab") == ["5"]
    assert decode(events, "us", suffix="enter") == ["5"]


def test_wrong_layout_keys_are_counted() -> None:
    decoder = BarcodeDecoder(builtin_keymap("fr"))
    for e in press(1, ecodes.KEY_LEFTBRACE):  # dead circumflex on AZERTY
        decoder.feed(e)
    assert decoder.stats.unmapped_keys == 1
    assert "layout 'fr'" in (decoder.stats.last_problem or "")


def test_unknown_layout_without_xkb() -> None:
    with pytest.raises(UnknownLayout, match="xkbcommon"):
        load_keymap("ch", use_xkb=False)


@pytest.mark.skipif(not xkb_available(), reason="the xkbcommon binding is not installed")
@pytest.mark.parametrize("layout", BUILTIN_LAYOUTS)
def test_builtin_tables_equal_libxkbcommon(layout: str) -> None:
    built_in, xkb = builtin_keymap(layout), keymap_from_xkb(layout)
    assert built_in.keys == xkb.keys
    assert built_in.keypad == xkb.keypad


@pytest.mark.skipif(not xkb_available(), reason="the xkbcommon binding is not installed")
def test_xkb_layout_beyond_the_builtin_ones() -> None:
    swiss = keymap_from_xkb("ch")
    events = press(1, ecodes.KEY_Y) + press(1, ecodes.KEY_ENTER)
    decoder = BarcodeDecoder(swiss)
    assert [c for e in events if (c := decoder.feed(e))] == ["z"]


def test_key_events_helper_frames_like_the_kernel() -> None:
    types = [e.type for e in key_events(ecodes.KEY_1, 1.0)]
    assert types == [ecodes.EV_MSC, ecodes.EV_KEY, ecodes.EV_SYN] * 2
