"""The errors of the ESC/POS core (renderers, image loading, profiles).

The core knows nothing of the device services above it: the printer service turns
``UnprintableInput`` into the ``InvalidInput`` the POS is told about, and the configuration reader
turns ``ProfileError`` into a ``ConfigError`` naming the key.
"""

from __future__ import annotations

from typing import Any

_MISSING: Any = object()


class UnprintableInput(ValueError):
    """The input cannot be rendered (bad XML, base64 or image); the message is for the cashier."""


class ProfileError(ValueError):
    """A printer profile or one of its overrides is invalid; ``key`` names the setting."""

    def __init__(self, key: str, expected: str, got: Any = _MISSING) -> None:
        self.key = key
        self.expected = expected
        self.got = got
        text = f"{key}: expected {expected}"
        if got is not _MISSING:
            text += f"; got {got!r}"
        super().__init__(text)

    @property
    def has_value(self) -> bool:
        return self.got is not _MISSING
