"""The files shipped in ``posboxless/ops/templates``."""

from __future__ import annotations

from importlib import resources


def template(name: str) -> str:
    return resources.files("posboxless.ops").joinpath("templates").joinpath(name).read_text("utf-8")
