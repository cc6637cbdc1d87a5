"""The commented configuration file written by ``posboxless install``."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence

from posboxless.config import Config, parse_config
from posboxless.ops.resources import template

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _toml_string(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _set(text: str, key: str, value: str) -> str:
    """Replace the value of the first uncommented ``key = ...`` line."""
    line = re.compile(rf"^{re.escape(key)} = .*$", re.MULTILINE)
    new, count = line.subn(lambda _m: f"{key} = {value}", text, count=1)
    if count != 1:
        raise ValueError(f"the configuration template has no '{key} = ' line")
    return new


def render_config(host: str = "127.0.0.1", allowed_origins: Sequence[str] = ()) -> str:
    # The template is itself a valid configuration (check-config reads it as shipped); install
    # fills in the two values it asks for.
    origins = "[" + ", ".join(_toml_string(o) for o in allowed_origins) + "]"
    text = _set(template("config.toml"), "host", _toml_string(host))
    return _set(text, "allowed_origins", origins)


def check_config_text(text: str) -> Config:
    """Parse a configuration text as the server will; raises ``ConfigError`` or
    ``tomllib.TOMLDecodeError``."""
    return parse_config(tomllib.loads(text))
