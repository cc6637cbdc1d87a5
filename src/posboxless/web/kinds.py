"""The web parts of the registered device kinds (``<kind package>.hw_proxy``, each ``WEB``)."""

from __future__ import annotations

import importlib
import importlib.util

from posboxless import kinds
from posboxless.kind import WEB_PART, DeviceKind
from posboxless.web.hw_calls import KindWeb


def web_part(kind: DeviceKind) -> KindWeb | None:
    """The kind's ``WEB`` from ``<package>.hw_proxy``, or None when it has no such module.

    Found by name: the registry (device layer) cannot import the web layer, and a kind needs no
    line in a web-layer list. ``tests/test_architecture.py`` counts these imports as edges."""
    name = f"{kind.package}.{WEB_PART}"
    if importlib.util.find_spec(name) is None:
        return None
    part = getattr(importlib.import_module(name), "WEB", None)
    if not isinstance(part, KindWeb):
        raise TypeError(f"{name}.WEB must be a KindWeb, not {type(part).__name__}")
    return part


def web_parts() -> list[KindWeb]:
    """The web parts of the registered kinds, in the registry's order."""
    return [part for kind in kinds.installed() if (part := web_part(kind)) is not None]
