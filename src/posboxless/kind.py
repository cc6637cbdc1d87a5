"""What a device kind declares to the registry (``posboxless/kinds.py``).

A kind is one package beside ``printer/``, ``scale/``...; its ``kind.py`` defines ``KIND``, a
``DeviceKind``: its configuration table, how the table is read, which serial ports it claims and
how its services are built. The layers above find the kind's other parts by module name in that
package: ``hw_proxy.py`` (web layer: ``WEB``, a ``posboxless.web.hw_calls.KindWeb``: its
``/hw_proxy`` calls, ``status_json`` entries and page section) and ``checks.py`` (ops layer:
``OPS``, a ``posboxless.ops.kinds.KindOps``: its doctor checks and metrics). The device layer
never imports them; ``tests/test_architecture.py`` checks their layers.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from posboxless.device import DeviceService, ServiceContext
from posboxless.settings import Table

WEB_PART = "hw_proxy"
"""The module of a kind's package holding its web part (web layer)."""
OPS_PART = "checks"
"""The module of a kind's package holding its operations part (ops layer)."""


def _no_ports(config: Any) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class DeviceKind:
    key: str
    """The TOML table's name, the ``status_json`` key and ``DeviceService.kind``."""
    package: str
    """Where its parts are (``posboxless.scale``)."""
    parse: Callable[[Sequence[Table]], tuple[Any, ...]] | None = None
    """Its tables (none, one, or several when ``many``) to its configurations; raises
    ``ConfigError`` naming the key. None: the kind has no table."""
    many: bool = False
    """An array of tables (``[[printer]]``) rather than one table (``[scale]``)."""
    ports: Callable[[Any], Iterable[str]] = _no_ports
    """The serial ports one configuration names: no other device probes them."""
    create: Callable[[tuple[Any, ...], ServiceContext], Sequence[DeviceService]] | None = None
    """Its services from its configurations (the real services on simulators when
    ``ctx.simulate``); started, stopped, listed on the page and in ``/metrics`` with the others.
    None for the kinds older than the registry, which ``services.py`` builds into typed fields."""
    config_field: str | None = None
    """The ``Config`` field holding its configurations, for the kinds older than the registry
    (``config.scale``...); a new kind's are in ``Config.devices[key]``."""


P = TypeVar("P")


def find_part(kind: DeviceKind, module: str, attribute: str, expected: type[P]) -> P | None:
    """``<kind.package>.<module>.<attribute>`` (a kind's web or ops part), or None when the
    kind has no such module; a module holding anything but an ``expected`` is a TypeError.

    Called by the layer that owns the part (``web/kinds.py``, ``ops/kinds.py``): the registry
    cannot import layers above it, and a kind needs no line in their lists; the import graph of
    ``tests/test_architecture.py`` counts these look-ups as the callers' edges."""
    name = f"{kind.package}.{module}"
    if importlib.util.find_spec(name) is None:
        return None
    part = getattr(importlib.import_module(name), attribute, None)
    if not isinstance(part, expected):
        raise TypeError(
            f"{name}.{attribute} must be a {expected.__name__}, not {type(part).__name__}"
        )
    return part
