"""Who may use the devices: CORS, preflights and the origin allow-list.

The cashier's browser may have other tabs open. Any web page can send a "simple" cross-site POST
(no preflight) or be served from a rebound DNS name that resolves to 127.0.0.1, so CORS headers
alone protect nothing: the proxy itself refuses requests whose ``Origin`` is not allowed, before
any handler runs.

* ``Host`` must be a name of this machine (localhost, ``*.localhost``, its host names and
  addresses, loopback addresses, ``allowed_hosts``): every request, whatever its method or
  ``Origin``, is otherwise refused with 421 before any route runs. This is what stops DNS
  rebinding from *reading* (the diagnostics, /metrics), not only from acting.
* No ``Origin`` header: not a cross-site browser request (curl, monitoring, same-origin page
  navigation). Allowed.
* ``Origin`` equal to the proxy's own origin, reached through a local name (localhost, the host
  name, one of the machine's addresses, a configured ``allowed_hosts`` entry): the diagnostics
  page. Allowed. A same-origin request through an unknown name is a DNS-rebinding attempt.
* Otherwise the origin must be in ``allowed_origins``; with no list configured every origin is
  allowed (and the status page and ``serve`` warn about it).

Preflights are answered on every path (odoo-protocol.md §1.3), including Chrome's Private Network
Access (``Access-Control-Request-Private-Network``) and Local Network Access requests.

This module knows nothing of payload formats: each front-end registers its path prefix with
``OriginPolicy.add_front_end``, naming the request headers its clients send (the preflight allows
the union) and the function that writes its refusals (``/hw_proxy`` answers JSON-RPC errors).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posboxless.web.clients import ClientTracker

log = logging.getLogger(__name__)

POS_CALL_PREFIXES = ("/hw_proxy/", "/cgi-bin/epos/")
"""Calls a POS makes (the IoT Box API, the ePOS printer service): counted as POS clients seen."""

BASE_ALLOWED_HEADERS = (
    "Content-Type",
    "X-Debug-Mode",
    "Authorization",
    "Accept",
    "Origin",
    "X-Requested-With",
)
ALLOWED_METHODS = "GET, POST, OPTIONS"
PREFLIGHT_MAX_AGE = "86400"
ADDRESS_REFRESH_SECONDS = 5.0
"""An IP address given as Host that is not (yet) known re-reads the machine's addresses at most
this often: a DHCP lease that changed must not lock the POS out until a restart."""


def host_name(host_header: str) -> str:
    """``"[::1]:8069"`` -> ``"::1"``; ``"Localhost.:8069"`` -> ``"localhost"``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".") if host.count(":") == 0 else host


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused before any front-end sees it; the front-end that owns the path
    decides how the refusal is written (see ``OriginPolicy.add_front_end``)."""

    status: int
    """403 (origin not allowed) or 421 (Host is not a name of this machine)."""
    name: str
    message: str
    arguments: tuple[Any, ...]


Renderer = Callable[[Refusal], Response]


def plain_refusal(refusal: Refusal) -> Response:
    """The refusal of paths no front-end claimed: a small JSON object."""
    body = {"error": refusal.message, "name": refusal.name, "arguments": list(refusal.arguments)}
    return Response(json.dumps(body), status_code=refusal.status, media_type="application/json")


@dataclass(frozen=True)
class FrontEnd:
    prefix: str
    allowed_headers: tuple[str, ...]
    refuse: Renderer


class OriginPolicy:
    def __init__(
        self,
        allowed_origins: Iterable[str],
        local_hosts: Iterable[str],
        refresh_local_hosts: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self._set_local_hosts(local_hosts)
        self._refresh = refresh_local_hosts
        self._refreshed = time.monotonic()
        self.front_ends: list[FrontEnd] = []

    def _set_local_hosts(self, hosts: Iterable[str]) -> None:
        self.local_hosts = frozenset(h.lower().rstrip(".") for h in hosts) | {
            "localhost",
            "127.0.0.1",
            "::1",
        }

    # Front-ends -------------------------------------------------------------------------------
    def add_front_end(
        self,
        prefix: str,
        *,
        allowed_headers: Iterable[str] = (),
        refuse: Renderer = plain_refusal,
    ) -> None:
        """A front-end (``/hw_proxy/``, the ePOS service...) declares the request headers its
        clients send cross-origin, which preflights then allow, and how its refusals look."""
        self.front_ends.append(FrontEnd(prefix, tuple(allowed_headers), refuse))
        self.front_ends.sort(key=lambda f: len(f.prefix), reverse=True)

    @property
    def allowed_headers(self) -> str:
        names: dict[str, None] = dict.fromkeys(BASE_ALLOWED_HEADERS)
        for front_end in self.front_ends:
            names.update(dict.fromkeys(front_end.allowed_headers))
        return ", ".join(names)

    def renderer(self, path: str) -> Renderer:
        for front_end in self.front_ends:
            if path.startswith(front_end.prefix):
                return front_end.refuse
        return plain_refusal

    # Decisions --------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return not self.allowed_origins

    def is_local_host(self, host: str) -> bool:
        name = host_name(host)
        if name in self.local_hosts or name.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        if address.is_loopback:
            return True
        now = time.monotonic()
        if self._refresh is not None and now - self._refreshed >= ADDRESS_REFRESH_SECONDS:
            self._refreshed = now
            self._set_local_hosts(self._refresh())
            return name in self.local_hosts
        return False

    def host_refusal(self, host: str | None) -> Refusal | None:
        """A browser always sends Host; a name that is not this machine's is DNS rebinding (a
        page of evil.example whose name now resolves to this machine) or a misconfiguration."""
        if not host or self.is_local_host(host):
            return None
        message = (
            f"{host_name(host)} is not a name of this posboxless; "
            "add it to server.allowed_hosts in the configuration if it is"
        )
        return Refusal(421, "posboxless.HostNotAllowed", message, (message, host_name(host)))

    def allows(self, origin: str | None, scheme: str, host: str | None) -> bool:
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if host and origin == f"{scheme}://{host.lower()}" and self.is_local_host(host):
            return True
        if self.is_open:
            return True
        return origin in self.allowed_origins


def origin_refusal(origin: str | None) -> Refusal:
    message = (
        f"Origin {origin} is not allowed to use this posboxless; "
        "add it to server.allowed_origins in the configuration"
    )
    return Refusal(403, "posboxless.OriginNotAllowed", message, (message, origin))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class OriginPolicyMiddleware:
    def __init__(self, app: ASGIApp, policy: OriginPolicy, clients: ClientTracker) -> None:
        self.app = app
        self.policy = policy
        self.clients = clients

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        origin = headers.get("origin")
        client = scope.get("client")
        address = client[0] if client else "?"
        method = scope["method"]
        path = scope["path"]

        refused = self.policy.host_refusal(headers.get("host"))
        if refused is not None:
            log.warning(
                "refused %s %s from %s: Host %r is not a name of this machine "
                "(server.allowed_hosts)",
                method,
                path,
                address,
                headers.get("host"),
            )
            await self.policy.renderer(path)(refused)(scope, receive, send)
            return
        allowed = self.policy.allows(origin, scope.get("scheme", "http"), headers.get("host"))
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, receive, headers, origin, allowed, address, send)
            return
        if not allowed:
            log.warning(
                "refused %s %s from origin %s (%s): not in server.allowed_origins",
                method,
                path,
                origin,
                address,
            )
            await self.policy.renderer(path)(origin_refusal(origin))(scope, receive, send)
            return
        if origin is not None and path.startswith(POS_CALL_PREFIXES):
            self.clients.seen(origin, address, path)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and origin is not None:
                extra = [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"vary", b"Origin"),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        origin: str | None,
        allowed: bool,
        address: str,
        send: Send,
    ) -> None:
        path = scope["path"]
        if not allowed or origin is None:
            log.warning("refused preflight for %s from origin %s (%s)", path, origin, address)
            await self.policy.renderer(path)(origin_refusal(origin))(scope, receive, send)
            return
        response_headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-allow-headers", self.policy.allowed_headers.encode("latin-1")),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        if headers.get("access-control-request-private-network", "").lower() == "true":
            response_headers.append((b"access-control-allow-private-network", b"true"))
        if headers.get("access-control-request-local-network", "").lower() == "true":
            response_headers.append((b"access-control-allow-local-network", b"true"))
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})
