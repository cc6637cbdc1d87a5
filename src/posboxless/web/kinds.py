"""The web parts of the registered device kinds (``<kind package>.hw_proxy``, each ``WEB``)."""

from __future__ import annotations

from posboxless import kinds
from posboxless.kind import WEB_PART, DeviceKind, find_part
from posboxless.web.hw_calls import KindWeb


def web_part(kind: DeviceKind) -> KindWeb | None:
    """The kind's ``WEB`` from ``<package>.hw_proxy``, or None when it has no such module."""
    return find_part(kind, WEB_PART, "WEB", KindWeb)


def web_parts() -> list[KindWeb]:
    """The web parts of the registered kinds, in the registry's order."""
    return [part for kind in kinds.installed() if (part := web_part(kind)) is not None]
