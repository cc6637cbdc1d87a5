"""The commented configuration file written by ``posboxless install``."""

from __future__ import annotations

import json
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


def render_config(host: str = "127.0.0.1", allowed_origins: Sequence[str] = ()) -> str:
    origins = "[" + ", ".join(_toml_string(o) for o in allowed_origins) + "]"
    return (
        template("config.toml")
        .replace("@HOST@", _toml_string(host))
        .replace("@ALLOWED_ORIGINS@", origins)
    )


def check_config_text(text: str) -> Config:
    """Parse a configuration text as the server will; raises ``ConfigError`` or
    ``tomllib.TOMLDecodeError``."""
    return parse_config(tomllib.loads(text))
