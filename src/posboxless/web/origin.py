"""Who may use the devices: CORS, preflights and the origin allow-list.

The cashier's browser may have other tabs open. Any web page can send a "simple" cross-site POST
(no preflight) or be served from a rebound DNS name that resolves to 127.0.0.1, so CORS headers
alone protect nothing: the proxy itself refuses requests whose ``Origin`` is not allowed, before
any handler runs.

* No ``Origin`` header: not a cross-site browser request (curl, monitoring, same-origin page
  navigation). Allowed.
* ``Origin`` equal to the proxy's own origin, reached through a local name (localhost, the host
  name, one of the machine's addresses, a configured ``allowed_hosts`` entry): the diagnostics
  page. Allowed. A same-origin request through an unknown name is a DNS-rebinding attempt.
* Otherwise the origin must be in ``allowed_origins``; with no list configured every origin is
  allowed (and the status page and ``serve`` warn about it).

Preflights are answered on every path (odoo-protocol.md §1.3), including Chrome's Private Network
Access (``Access-Control-Request-Private-Network``) and Local Network Access requests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posboxless.web.clients import ClientTracker

log = logging.getLogger(__name__)

ALLOWED_HEADERS = "Content-Type, X-Debug-Mode, Authorization, Accept, Origin, X-Requested-With"
ALLOWED_METHODS = "GET, POST, OPTIONS"
PREFLIGHT_MAX_AGE = "86400"


def host_name(host_header: str) -> str:
    """``"[::1]:8069"`` -> ``"::1"``; ``"Localhost:8069"`` -> ``"localhost"``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class OriginPolicy:
    def __init__(self, allowed_origins: Iterable[str], local_hosts: Iterable[str]) -> None:
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self.local_hosts = frozenset(h.lower() for h in local_hosts) | {
            "localhost",
            "127.0.0.1",
            "::1",
        }

    @property
    def is_open(self) -> bool:
        return not self.allowed_origins

    def is_local_host(self, host: str) -> bool:
        name = host_name(host)
        return name in self.local_hosts or name.endswith(".localhost")

    def allows(self, origin: str | None, scheme: str, host: str | None) -> bool:
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if host and origin == f"{scheme}://{host.lower()}" and self.is_local_host(host):
            return True
        if self.is_open:
            return True
        return origin in self.allowed_origins


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
        allowed = self.policy.allows(origin, scope.get("scheme", "http"), headers.get("host"))
        client = scope.get("client")
        address = client[0] if client else "?"
        method = scope["method"]

        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(headers, origin, allowed, address, scope["path"], send)
            return
        if not allowed:
            log.warning(
                "refused %s %s from origin %s (%s): not in server.allowed_origins",
                method,
                scope["path"],
                origin,
                address,
            )
            await _send_json(send, 403, _refusal(origin))
            return
        if origin is not None and scope["path"].startswith("/hw_proxy/"):
            self.clients.seen(origin, address, scope["path"])

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
        headers: dict[str, str],
        origin: str | None,
        allowed: bool,
        address: str,
        path: str,
        send: Send,
    ) -> None:
        if not allowed or origin is None:
            log.warning("refused preflight for %s from origin %s (%s)", path, origin, address)
            await _send_json(send, 403, _refusal(origin))
            return
        response_headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
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


def _refusal(origin: str | None) -> dict[str, Any]:
    message = (
        f"Origin {origin} is not allowed to use this posboxless; "
        "add it to server.allowed_origins in the configuration"
    )
    return {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": 403,
            "message": message,
            "data": {
                "name": "posboxless.OriginNotAllowed",
                "message": message,
                "arguments": [message, origin],
                "debug": "",
                "exception_type": "access_denied",
                "context": {},
            },
        },
    }


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
