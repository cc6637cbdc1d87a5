"""Keyboard-wedge decoding: key events in, barcodes out (sans-I/O).

The decoder keeps the modifier state a keyboard would (Shift, CapsLock, NumLock, AltGr), turns key
presses into characters with the scanner's keymap and ends a barcode on the configured suffix key.
Time comes only from the events' own timestamps (and from ``expire(now)``), never from a clock, so
the same input always gives the same output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from posboxless.scanner.keymaps import Keymap, Modifiers

Suffix = Literal["enter", "tab", "none"]

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2

KEY_TAB = 15
KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
KEY_LEFTCTRL, KEY_RIGHTCTRL = 29, 97
KEY_LEFTALT, KEY_RIGHTALT = 56, 100
KEY_LEFTMETA, KEY_RIGHTMETA = 125, 126
KEY_CAPSLOCK = 58
KEY_NUMLOCK = 69

_SUFFIX_KEYS: dict[str, frozenset[int]] = {
    "enter": frozenset({KEY_ENTER, KEY_KPENTER}),
    "tab": frozenset({KEY_TAB}),
    # Without a configured suffix a code ends on silence, but a stray Enter/Tab still ends it.
    "none": frozenset({KEY_ENTER, KEY_KPENTER, KEY_TAB}),
}
_COMMAND_MODIFIERS = frozenset(
    {KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_LEFTMETA, KEY_RIGHTMETA}
)

DEFAULT_GAP_TIMEOUT = 0.5
"""Seconds between two keys of one barcode after which the partial code is dropped. Scanners type
a whole code within a few milliseconds per key; half a second only ever happens when something
went wrong (a half-read code, a cable pulled)."""


class KeyInput(Protocol):
    """What the decoder needs from an event; ``evdev.InputEvent`` fits."""

    type: int
    code: int
    value: int

    def timestamp(self) -> float: ...


@dataclass
class DecoderStats:
    barcodes: int = 0
    dropped_partials: int = 0
    """Partial codes dropped after a gap or for being too long."""
    unmapped_keys: int = 0
    """Key presses the layout types nothing for (wrong layout configured?)."""
    last_problem: str | None = None


class BarcodeDecoder:
    def __init__(
        self,
        keymap: Keymap,
        *,
        suffix: Suffix = "enter",
        gap_timeout: float = DEFAULT_GAP_TIMEOUT,
        num_lock: bool = True,
        max_length: int = 512,
    ) -> None:
        self.keymap = keymap
        self.suffix = suffix
        self.gap_timeout = gap_timeout
        self.max_length = max_length
        self.stats = DecoderStats()
        self._suffix_keys = _SUFFIX_KEYS[suffix]
        self._shifts: set[int] = set()
        self._commands: set[int] = set()
        self._altgr = False
        self._caps_lock = False
        self._num_lock = num_lock
        self._chars: list[str] = []
        self._last_key_time: float | None = None

    @property
    def pending(self) -> str:
        return "".join(self._chars)

    def feed(self, event: KeyInput) -> str | None:
        """Takes one event; returns a barcode when this event completed one."""
        if event.type != EV_KEY or event.value == KEY_REPEAT:
            return None
        code, down = event.code, event.value == KEY_DOWN
        if self._track_modifier(code, down) or not down:
            return None
        finished = self._close_after_gap(event.timestamp())
        self._last_key_time = event.timestamp()
        if code in self._suffix_keys:
            return self._finish() or finished
        if self._commands:
            # Ctrl/Alt/Meta shortcuts are commands, not barcode text.
            return finished
        char = self.keymap.character(code, self._modifiers())
        if not char:
            self.stats.unmapped_keys += 1
            self.stats.last_problem = (
                f"key code {code} types nothing with layout {self.keymap.name!r}"
                " (is the scanner programmed for another layout?)"
            )
            return finished
        self._chars.append(char)
        if len(self._chars) > self.max_length:
            self._drop(f"more than {self.max_length} characters without a suffix key")
        return finished

    def expire(self, now: float) -> str | None:
        """Call when no event came for a while: ends (suffix ``none``) or drops a partial code
        older than the gap timeout. ``now`` is on the events' clock."""
        return self._close_after_gap(now)

    def reset(self) -> None:
        """Forget everything (the device was reopened)."""
        self._chars.clear()
        self._shifts.clear()
        self._commands.clear()
        self._altgr = False
        self._last_key_time = None

    def _close_after_gap(self, now: float) -> str | None:
        if not self._chars or self._last_key_time is None:
            return None
        if now - self._last_key_time <= self.gap_timeout:
            return None
        if self.suffix == "none":
            return self._finish()
        self._drop(f"no suffix key within {self.gap_timeout:g} s")
        return None

    def _finish(self) -> str | None:
        code = "".join(self._chars)
        self._chars.clear()
        if not code:
            return None
        self.stats.barcodes += 1
        return code

    def _drop(self, why: str) -> None:
        self.stats.dropped_partials += 1
        self.stats.last_problem = f"dropped partial code {''.join(self._chars)!r}: {why}"
        self._chars.clear()

    def _track_modifier(self, code: int, down: bool) -> bool:
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            (self._shifts.add if down else self._shifts.discard)(code)
        elif code == KEY_RIGHTALT:
            self._altgr = down
        elif code in _COMMAND_MODIFIERS:
            (self._commands.add if down else self._commands.discard)(code)
        elif code == KEY_CAPSLOCK:
            if down:
                self._caps_lock = not self._caps_lock
        elif code == KEY_NUMLOCK:
            if down:
                self._num_lock = not self._num_lock
        else:
            return False
        return True

    def _modifiers(self) -> Modifiers:
        return Modifiers(
            shift=bool(self._shifts),
            caps_lock=self._caps_lock,
            num_lock=self._num_lock,
            altgr=self._altgr,
        )
