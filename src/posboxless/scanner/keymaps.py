"""Key codes to characters, for the keyboard layout a scanner is programmed for.

evdev reports physical keys, not characters: a scanner programmed for AZERTY types ``3`` as Shift +
the key that is ``#`` on a US keyboard. Each layout is a table ``key code -> characters per
modifier state``. The built-in tables (us, fr, be, de) were generated from xkeyboard-config through
libxkbcommon, so they match what a desktop would type; when the optional ``xkbcommon`` binding is
installed, any XKB layout name can be used and its table is built at start-up the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_Table = dict[int, tuple[str, str, str, str, str]]
"""key code -> (plain, Shift, CapsLock, CapsLock+Shift, AltGr); ``''`` where the key types nothing
(dead keys, undefined levels)."""

_KeypadTable = dict[int, tuple[str, str]]
"""key code -> (NumLock off, NumLock on)."""

BUILTIN_LAYOUTS = ("us", "fr", "be", "de")

KEY_CODES = (
    *range(2, 14),  # digit row
    *range(16, 28),  # top letter row
    *range(30, 42),  # home row
    *range(43, 54),  # bottom row
    57,  # space
    86,  # the extra key left of Z on 105-key keyboards
)
KEYPAD_CODES = (55, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 98)

_SHIFT_CODE, _CAPSLOCK_CODE, _ALTGR_CODE, _NUMLOCK_CODE = 42, 58, 100, 69
_XKB_OFFSET = 8  # XKB key code = evdev key code + 8


@dataclass(frozen=True)
class Modifiers:
    shift: bool = False
    caps_lock: bool = False
    num_lock: bool = True
    altgr: bool = False


@dataclass(frozen=True)
class Keymap:
    """One layout: answers which character a key types under given modifiers."""

    name: str
    keys: _Table
    keypad: _KeypadTable

    def character(self, code: int, mods: Modifiers) -> str:
        """The text the key types, or ``''`` when it types nothing in this state."""
        pad = self.keypad.get(code)
        if pad is not None:
            return pad[1] if mods.num_lock else pad[0]
        row = self.keys.get(code)
        if row is None:
            return ""
        if mods.altgr:
            # Shift+AltGr (level 4) is never needed for barcode characters; refuse, not guess.
            return "" if mods.shift else row[4]
        if mods.caps_lock:
            return row[3] if mods.shift else row[2]
        return row[1] if mods.shift else row[0]

    def typing(self, char: str) -> tuple[int, Modifiers] | None:
        """How a scanner programmed with this layout types ``char`` (the key and modifiers);
        used by the simulators to produce key events."""
        for mods, column in (
            (Modifiers(), 0),
            (Modifiers(shift=True), 1),
            (Modifiers(altgr=True), 4),
        ):
            for code, row in self.keys.items():
                if row[column] == char:
                    return code, mods
        return None


class UnknownLayout(ValueError):
    """The layout is neither built in nor known to libxkbcommon."""


def xkb_available() -> bool:
    try:
        import xkbcommon.xkb  # noqa: F401
    except Exception:  # the binding raises OSError too when libxkbcommon itself is missing
        return False
    return True


def load_keymap(layout: str, *, use_xkb: bool = True) -> Keymap:
    """The keymap for ``layout``; from libxkbcommon when available (any XKB layout, written
    ``fr`` or ``fr(azerty)``), else from the built-in tables."""
    if use_xkb and xkb_available():
        return keymap_from_xkb(layout)
    table = _BUILTIN.get(layout)
    if table is None:
        raise UnknownLayout(
            f"keyboard layout {layout!r} is not built in (built in: {', '.join(BUILTIN_LAYOUTS)});"
            " install the 'xkbcommon' Python package for other layouts"
        )
    keys, keypad = table
    return Keymap(layout, keys, keypad)


def builtin_keymap(layout: str) -> Keymap:
    return load_keymap(layout, use_xkb=False)


def keymap_from_xkb(layout: str) -> Keymap:
    """Builds the table of ``layout`` by asking libxkbcommon what each key types."""
    from xkbcommon import xkb

    name, _, variant = layout.partition("(")
    try:
        keymap = xkb.Context().keymap_new_from_names(layout=name, variant=variant.rstrip(")"))
    except Exception as exc:
        raise UnknownLayout(f"keyboard layout {layout!r} is unknown to libxkbcommon") from exc

    def text(code: int, presses: tuple[int, ...] = (), toggles: tuple[int, ...] = ()) -> str:
        state: Any = keymap.state_new()
        for toggle in toggles:
            state.update_key(toggle + _XKB_OFFSET, xkb.KeyDirection.XKB_KEY_DOWN)
            state.update_key(toggle + _XKB_OFFSET, xkb.KeyDirection.XKB_KEY_UP)
        for press in presses:
            state.update_key(press + _XKB_OFFSET, xkb.KeyDirection.XKB_KEY_DOWN)
        return str(state.key_get_string(code + _XKB_OFFSET))

    keys: _Table = {}
    for code in KEY_CODES:
        row = (
            text(code),
            text(code, presses=(_SHIFT_CODE,)),
            text(code, toggles=(_CAPSLOCK_CODE,)),
            text(code, presses=(_SHIFT_CODE,), toggles=(_CAPSLOCK_CODE,)),
            text(code, presses=(_ALTGR_CODE,)),
        )
        if any(row):
            keys[code] = row
    keypad: _KeypadTable = {
        code: (text(code), text(code, toggles=(_NUMLOCK_CODE,))) for code in KEYPAD_CODES
    }
    return Keymap(layout, keys, keypad)


# --- Built-in tables: generated from xkb-data 2.35.1 through libxkbcommon 1.5 ---

_US: _Table = {
    2: ("1", "!", "1", "!", "1"),
    3: ("2", "@", "2", "@", "2"),
    4: ("3", "#", "3", "#", "3"),
    5: ("4", "$", "4", "$", "4"),
    6: ("5", "%", "5", "%", "5"),
    7: ("6", "^", "6", "^", "6"),
    8: ("7", "&", "7", "&", "7"),
    9: ("8", "*", "8", "*", "8"),
    10: ("9", "(", "9", "(", "9"),
    11: ("0", ")", "0", ")", "0"),
    12: ("-", "_", "-", "_", "-"),
    13: ("=", "+", "=", "+", "="),
    16: ("q", "Q", "Q", "q", "q"),
    17: ("w", "W", "W", "w", "w"),
    18: ("e", "E", "E", "e", "e"),
    19: ("r", "R", "R", "r", "r"),
    20: ("t", "T", "T", "t", "t"),
    21: ("y", "Y", "Y", "y", "y"),
    22: ("u", "U", "U", "u", "u"),
    23: ("i", "I", "I", "i", "i"),
    24: ("o", "O", "O", "o", "o"),
    25: ("p", "P", "P", "p", "p"),
    26: ("[", "{", "[", "{", "["),
    27: ("]", "}", "]", "}", "]"),
    30: ("a", "A", "A", "a", "a"),
    31: ("s", "S", "S", "s", "s"),
    32: ("d", "D", "D", "d", "d"),
    33: ("f", "F", "F", "f", "f"),
    34: ("g", "G", "G", "g", "g"),
    35: ("h", "H", "H", "h", "h"),
    36: ("j", "J", "J", "j", "j"),
    37: ("k", "K", "K", "k", "k"),
    38: ("l", "L", "L", "l", "l"),
    39: (";", ":", ";", ":", ";"),
    40: ("'", '"', "'", '"', "'"),
    41: ("`", "~", "`", "~", "`"),
    43: ("\\", "|", "\\", "|", "\\"),
    44: ("z", "Z", "Z", "z", "z"),
    45: ("x", "X", "X", "x", "x"),
    46: ("c", "C", "C", "c", "c"),
    47: ("v", "V", "V", "v", "v"),
    48: ("b", "B", "B", "b", "b"),
    49: ("n", "N", "N", "n", "n"),
    50: ("m", "M", "M", "m", "m"),
    51: (",", "<", ",", "<", ","),
    52: (".", ">", ".", ">", "."),
    53: ("/", "?", "/", "?", "/"),
    57: (" ", " ", " ", " ", " "),
    86: ("<", ">", "<", ">", "<"),
}
_US_KEYPAD: _KeypadTable = {
    55: ("*", "*"),
    71: ("", "7"),
    72: ("", "8"),
    73: ("", "9"),
    74: ("-", "-"),
    75: ("", "4"),
    76: ("", "5"),
    77: ("", "6"),
    78: ("+", "+"),
    79: ("", "1"),
    80: ("", "2"),
    81: ("", "3"),
    82: ("", "0"),
    83: ("", "."),
    98: ("/", "/"),
}
_FR: _Table = {
    2: ("&", "1", "&", "1", "¹"),
    3: ("é", "2", "É", "2", "~"),
    4: ('"', "3", '"', "3", "#"),
    5: ("'", "4", "'", "4", "{"),
    6: ("(", "5", "(", "5", "["),
    7: ("-", "6", "-", "6", "|"),
    8: ("è", "7", "È", "7", "`"),
    9: ("_", "8", "_", "8", "\\"),
    10: ("ç", "9", "Ç", "9", "^"),
    11: ("à", "0", "À", "0", "@"),
    12: (")", "°", ")", "°", "]"),
    13: ("=", "+", "=", "+", "}"),
    16: ("a", "A", "A", "a", "æ"),
    17: ("z", "Z", "Z", "z", "«"),
    18: ("e", "E", "E", "e", "€"),
    19: ("r", "R", "R", "r", "¶"),
    20: ("t", "T", "T", "t", "ŧ"),
    21: ("y", "Y", "Y", "y", "←"),
    22: ("u", "U", "U", "u", "↓"),
    23: ("i", "I", "I", "i", "→"),
    24: ("o", "O", "O", "o", "ø"),
    25: ("p", "P", "P", "p", "þ"),
    27: ("$", "£", "$", "£", "¤"),
    30: ("q", "Q", "Q", "q", "@"),
    31: ("s", "S", "S", "s", "ß"),
    32: ("d", "D", "D", "d", "ð"),
    33: ("f", "F", "F", "f", "đ"),
    34: ("g", "G", "G", "g", "ŋ"),
    35: ("h", "H", "H", "h", "ħ"),
    36: ("j", "J", "J", "j", ""),
    37: ("k", "K", "K", "k", "ĸ"),
    38: ("l", "L", "L", "l", "ł"),
    39: ("m", "M", "M", "m", "µ"),
    40: ("ù", "%", "Ù", "%", ""),
    41: ("²", "~", "²", "~", "¬"),
    43: ("*", "µ", "*", "", ""),
    44: ("w", "W", "W", "w", "ł"),
    45: ("x", "X", "X", "x", "»"),
    46: ("c", "C", "C", "c", "¢"),
    47: ("v", "V", "V", "v", "„"),
    48: ("b", "B", "B", "b", "“"),
    49: ("n", "N", "N", "n", "”"),
    50: (",", "?", ",", "?", ""),
    51: (";", ".", ";", ".", "•"),
    52: (":", "/", ":", "/", "·"),
    53: ("!", "§", "!", "§", ""),
    57: (" ", " ", " ", " ", " "),
    86: ("<", ">", "<", ">", "|"),
}
_FR_KEYPAD: _KeypadTable = {
    55: ("*", "*"),
    71: ("", "7"),
    72: ("", "8"),
    73: ("", "9"),
    74: ("-", "-"),
    75: ("", "4"),
    76: ("", "5"),
    77: ("", "6"),
    78: ("+", "+"),
    79: ("", "1"),
    80: ("", "2"),
    81: ("", "3"),
    82: ("", "0"),
    83: ("", "."),
    98: ("/", "/"),
}
_BE: _Table = {
    2: ("&", "1", "&", "1", "|"),
    3: ("é", "2", "É", "2", "@"),
    4: ('"', "3", '"', "3", "#"),
    5: ("'", "4", "'", "4", "¼"),
    6: ("(", "5", "(", "5", "½"),
    7: ("§", "6", "§", "6", "^"),
    8: ("è", "7", "È", "7", "{"),
    9: ("!", "8", "!", "8", "["),
    10: ("ç", "9", "Ç", "9", "{"),
    11: ("à", "0", "À", "0", "}"),
    12: (")", "°", ")", "°", "\\"),
    13: ("-", "_", "-", "_", ""),
    16: ("a", "A", "A", "a", "@"),
    17: ("z", "Z", "Z", "z", "ſ"),
    18: ("e", "E", "E", "e", "€"),
    19: ("r", "R", "R", "r", "¶"),
    20: ("t", "T", "T", "t", "ŧ"),
    21: ("y", "Y", "Y", "y", "←"),
    22: ("u", "U", "U", "u", "↓"),
    23: ("i", "I", "I", "i", "→"),
    24: ("o", "O", "O", "o", "œ"),
    25: ("p", "P", "P", "p", "þ"),
    26: ("", "", "", "", "["),
    27: ("$", "*", "$", "*", "]"),
    30: ("q", "Q", "Q", "q", "æ"),
    31: ("s", "S", "S", "s", "ß"),
    32: ("d", "D", "D", "d", "ð"),
    33: ("f", "F", "F", "f", "đ"),
    34: ("g", "G", "G", "g", "ŋ"),
    35: ("h", "H", "H", "h", "ħ"),
    36: ("j", "J", "J", "j", ""),
    37: ("k", "K", "K", "k", "ĸ"),
    38: ("l", "L", "L", "l", "ł"),
    39: ("m", "M", "M", "m", ""),
    40: ("ù", "%", "Ù", "%", ""),
    41: ("²", "³", "²", "³", "¬"),
    43: ("µ", "£", "", "£", ""),
    44: ("w", "W", "W", "w", "«"),
    45: ("x", "X", "X", "x", "»"),
    46: ("c", "C", "C", "c", "¢"),
    47: ("v", "V", "V", "v", "„"),
    48: ("b", "B", "B", "b", "“"),
    49: ("n", "N", "N", "n", "”"),
    50: (",", "?", ",", "?", ""),
    51: (";", ".", ";", ".", "•"),
    52: (":", "/", ":", "/", "·"),
    53: ("=", "+", "=", "+", ""),
    57: (" ", " ", " ", " ", " "),
    86: ("<", ">", "<", ">", "\\"),
}
_BE_KEYPAD: _KeypadTable = {
    55: ("*", "*"),
    71: ("", "7"),
    72: ("", "8"),
    73: ("", "9"),
    74: ("-", "-"),
    75: ("", "4"),
    76: ("", "5"),
    77: ("", "6"),
    78: ("+", "+"),
    79: ("", "1"),
    80: ("", "2"),
    81: ("", "3"),
    82: ("", "0"),
    83: ("", "."),
    98: ("/", "/"),
}
_DE: _Table = {
    2: ("1", "!", "1", "!", "¹"),
    3: ("2", '"', "2", '"', "²"),
    4: ("3", "§", "3", "§", "³"),
    5: ("4", "$", "4", "$", "¼"),
    6: ("5", "%", "5", "%", "½"),
    7: ("6", "&", "6", "&", "¬"),
    8: ("7", "/", "7", "/", "{"),
    9: ("8", "(", "8", "(", "["),
    10: ("9", ")", "9", ")", "]"),
    11: ("0", "=", "0", "=", "}"),
    12: ("ß", "?", "ẞ", "?", "\\"),
    16: ("q", "Q", "Q", "q", "@"),
    17: ("w", "W", "W", "w", "ſ"),
    18: ("e", "E", "E", "e", "€"),
    19: ("r", "R", "R", "r", "¶"),
    20: ("t", "T", "T", "t", "ŧ"),
    21: ("z", "Z", "Z", "z", "←"),
    22: ("u", "U", "U", "u", "↓"),
    23: ("i", "I", "I", "i", "→"),
    24: ("o", "O", "O", "o", "ø"),
    25: ("p", "P", "P", "p", "þ"),
    26: ("ü", "Ü", "Ü", "ü", ""),
    27: ("+", "*", "+", "*", "~"),
    30: ("a", "A", "A", "a", "æ"),
    31: ("s", "S", "S", "s", "ſ"),
    32: ("d", "D", "D", "d", "ð"),
    33: ("f", "F", "F", "f", "đ"),
    34: ("g", "G", "G", "g", "ŋ"),
    35: ("h", "H", "H", "h", "ħ"),
    36: ("j", "J", "J", "j", ""),
    37: ("k", "K", "K", "k", "ĸ"),
    38: ("l", "L", "L", "l", "ł"),
    39: ("ö", "Ö", "Ö", "ö", ""),
    40: ("ä", "Ä", "Ä", "ä", ""),
    41: ("", "°", "", "°", "′"),
    43: ("#", "'", "#", "'", "’"),
    44: ("y", "Y", "Y", "y", "»"),
    45: ("x", "X", "X", "x", "«"),
    46: ("c", "C", "C", "c", "¢"),
    47: ("v", "V", "V", "v", "„"),
    48: ("b", "B", "B", "b", "“"),
    49: ("n", "N", "N", "n", "”"),
    50: ("m", "M", "M", "m", "µ"),
    51: (",", ";", ",", ";", "·"),
    52: (".", ":", ".", ":", "…"),
    53: ("-", "_", "-", "_", "–"),
    57: (" ", " ", " ", " ", " "),
    86: ("<", ">", "<", ">", "|"),
}
_DE_KEYPAD: _KeypadTable = {
    55: ("*", "*"),
    71: ("", "7"),
    72: ("", "8"),
    73: ("", "9"),
    74: ("-", "-"),
    75: ("", "4"),
    76: ("", "5"),
    77: ("", "6"),
    78: ("+", "+"),
    79: ("", "1"),
    80: ("", "2"),
    81: ("", "3"),
    82: ("", "0"),
    83: ("", ","),
    98: ("/", "/"),
}

_BUILTIN: dict[str, tuple[_Table, _KeypadTable]] = {
    "us": (_US, _US_KEYPAD),
    "fr": (_FR, _FR_KEYPAD),
    "be": (_BE, _BE_KEYPAD),
    "de": (_DE, _DE_KEYPAD),
}
