"""What a ``/hw_proxy`` handler gets: the call, the context, and a helper for calls that wait.

The dispatcher (``web/hw_proxy.py``) owns the JSON-RPC envelope and the error shaping; each device
kind's handlers live in its package (``<kind>/hw_proxy.py``, web layer) and only translate a call
into service calls. A kind's module defines ``WEB = KindWeb(...)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from posboxless.device import PrinterService
from posboxless.printer.selection import PrinterSelection
from posboxless.services import Services
from posboxless.web.origin import host_name
from posboxless.web.state import AppState


@dataclass(frozen=True)
class Call:
    params: dict[str, Any]
    client_ip: str
    origin: str | None
    request: Request

    @property
    def host(self) -> str:
        """The ``Host`` the POS used (lower-case, no port)."""
        return host_name(self.request.headers.get("host", ""))


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class HwProxyContext:
    """What the handlers of every kind share: the services and this machine's names."""

    services: Services
    is_local_host: Callable[[str], bool]

    def printers(self) -> PrinterSelection[PrinterService]:
        return self.services.printer_selection(self.is_local_host)


def _no_handlers(context: HwProxyContext) -> Mapping[str, Handler]:
    return {}


def _no_status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class KindWeb:
    """The web part of a device kind, found by the kind registry in ``<kind package>.hw_proxy``."""

    handlers: Callable[[HwProxyContext], Mapping[str, Handler]] = _no_handlers
    """Its ``/hw_proxy/<method>`` calls."""
    status: Callable[[HwProxyContext, str | None], Mapping[str, Any]] = _no_status
    """Its ``status_json`` entries for a request to ``host`` (None: as for ``localhost``)."""
    page: Callable[[AppState], str] | None = None
    """Its section of the page at ``/`` (HTML, rendered on the server)."""


async def disconnected(request: Request) -> None:
    """Returns when the HTTP client has gone away."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
