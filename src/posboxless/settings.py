"""Typed reading of TOML tables with error messages that name the key.

Every configuration section (server, printers, scale, scanners...) is read through ``Table`` so
that a wrong value stops start-up with ``printer[0].profile: expected one of ...; got 'TM-T2O'``
instead of a traceback, and a misspelt key is reported instead of silently ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING: Any = object()

# The getters of Table are named after the types they read (`table.str(...)`), which shadows the
# builtins inside the class body.
_Str = str
_Int = int
_Float = float


class ConfigError(ValueError):
    """Invalid configuration; the message names the key and what is expected."""

    def __init__(self, key: str, expected: str, got: Any = _MISSING) -> None:
        self.key = key
        self.expected = expected
        text = f"{key}: expected {expected}"
        if got is not _MISSING:
            text += f"; got {got!r}"
        super().__init__(text)


class Table:
    """A TOML table being read. Each getter records the key as known; ``finish()`` rejects the
    keys nobody asked for (typos)."""

    def __init__(self, data: Any, path: _Str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, "a table", data)
        self.data: dict[_Str, Any] = data
        self.path = path
        self._known: set[_Str] = set()

    def key(self, name: _Str) -> _Str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: _Str) -> bool:
        self._known.add(name)
        return name in self.data

    def _get(self, name: _Str, default: Any) -> Any:
        self._known.add(name)
        return self.data.get(name, default)

    def str(self, name: _Str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "a string (this key is required)")
        if value is not default and not isinstance(value, _Str):
            raise ConfigError(self.key(name), "a string", value)
        return value

    def int(
        self,
        name: _Str,
        default: Any = _MISSING,
        *,
        minimum: _Int | None = None,
        maximum: _Int | None = None,
    ) -> Any:
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "an integer (this key is required)")
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.key(name), "an integer", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(self.key(name), f"an integer from {minimum} to {maximum}", value)
        return value

    def float(
        self,
        name: _Str,
        default: Any = _MISSING,
        *,
        minimum: _Float | None = None,
        maximum: _Float | None = None,
    ) -> Any:
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "a number (this key is required)")
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(self.key(name), "a number", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(self.key(name), f"a number from {minimum} to {maximum}", value)
        return float(value)

    def bool(self, name: _Str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "true or false (this key is required)")
        if value is not default and not isinstance(value, bool):
            raise ConfigError(self.key(name), "true or false", value)
        return value

    def choice(self, name: _Str, choices: Iterable[_Str], default: Any = _MISSING) -> Any:
        options = list(choices)
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "one of " + ", ".join(map(repr, options)))
        if value is not default and value not in options:
            raise ConfigError(self.key(name), "one of " + ", ".join(map(repr, options)), value)
        return value

    def str_list(self, name: _Str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is _MISSING:
            raise ConfigError(self.key(name), "a list of strings (this key is required)")
        if value is default:
            return value
        if not isinstance(value, list) or not all(isinstance(v, _Str) for v in value):
            raise ConfigError(self.key(name), "a list of strings", value)
        return list(value)

    def table(self, name: _Str) -> Table | None:
        value = self._get(name, None)
        return None if value is None else Table(value, self.key(name))

    def tables(self, name: _Str) -> list[Table]:
        """An array of tables (``[[printer]]``); a single table is accepted as a list of one."""
        value = self._get(name, None)
        if value is None:
            return []
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(self.key(name), "an array of tables", value)
        return [Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._known)
        if unknown:
            known = ", ".join(sorted(self._known)) or "(none)"
            close = difflib.get_close_matches(unknown[0], sorted(self._known), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                self.key(unknown[0]), f"a known key ({hint}known keys: {known})", "unknown key"
            )


def parse_usb_id(table: Table, name: str) -> tuple[int, int] | None:
    """``"04b8:0202"`` -> ``(0x04B8, 0x0202)``."""
    value = table.str(name, None)
    if value is None:
        return None
    try:
        vendor, product = value.split(":")
        ids = int(vendor, 16), int(product, 16)
    except ValueError:
        raise ConfigError(table.key(name), "a USB id 'vvvv:pppp' in hexadecimal", value) from None
    if not all(0 <= i <= 0xFFFF for i in ids):
        raise ConfigError(table.key(name), "a USB id 'vvvv:pppp' in hexadecimal", value)
    return ids


def parse_host_port(table: Table, name: str, default_port: int) -> tuple[str, int] | None:
    """``"192.168.1.50:9100"`` or ``"printer.lan"`` -> ``(host, port)``."""
    value = table.str(name, None)
    if value is None:
        return None
    host, sep, port_text = value.rpartition(":")
    if not sep or "]" in port_text:
        host, port_text = value, str(default_port)
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(table.key(name), "'host' or 'host:port'", value) from None
    if not host or not 0 < port < 65536:
        raise ConfigError(table.key(name), "'host' or 'host:port'", value)
    return host, port


def serial_settings_format(example: str) -> str:
    """What a ``serial_settings`` value looks like, for error messages: the format, not only a
    default that may be the very thing the user tried to change."""
    return (
        f"serial settings '<speed> <data bits><parity><stop bits>' such as '{example}' "
        "(data bits 5 to 8; parity N, E or O; stop bits 1 or 2)"
    )
