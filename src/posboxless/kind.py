"""What a device kind declares to the registry (``posboxless/kinds.py``).

A kind is one package beside ``printer/``, ``scale/``...; its ``kind.py`` defines ``KIND``, a
``DeviceKind``. The layers above find the kind's other parts by module name in that package:
``hw_proxy.py`` (web layer: ``WEB``, a ``posboxless.web.hw_calls.KindWeb``: its ``/hw_proxy``
calls, ``status_json`` entries and page section) and ``checks.py`` (ops layer: ``OPS``, a
``posboxless.ops.kinds.KindOps``: its doctor checks and metrics). The device layer never imports
them; ``tests/test_architecture.py`` checks their layers.
"""

from __future__ import annotations

from dataclasses import dataclass

WEB_PART = "hw_proxy"
"""The module of a kind's package holding its web part (web layer)."""
OPS_PART = "checks"
"""The module of a kind's package holding its operations part (ops layer)."""


@dataclass(frozen=True)
class DeviceKind:
    key: str
    """The ``status_json`` key, the TOML table's name and ``DeviceService.kind``."""
    package: str
    """Where its parts are (``posboxless.scale``)."""
