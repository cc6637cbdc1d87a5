"""The Local Network Access listener: the POS API on a second address, for Odoo 19.

With the system parameter ``point_of_sale.use_lna``, the Odoo 19.0 release probes the proxy with
``fetch(..., {targetAddressSpace: "local"})`` whatever its address (odoo-19-20.md §2.2). Chrome
refuses that for a proxy on 127.0.0.1, which is in the ``loopback`` space. This listener serves
the same API on another address that Chrome treats as ``local``: either a loopback address such
as 127.0.0.2 that a managed browser policy (``LocalNetworkAccessIpAddressSpaceOverrides``, see
``posboxless.ops.browser_policies``) declares local, or a private address of the machine.

Because that address may be reachable by more than the till's own browser, the gate in front of
the application is stricter than the main listener's policy:

* only ``/hw_proxy/...`` and the ePOS service ``/cgi-bin/epos/...`` (no status page, no
  diagnostics, no metrics);
* only requests whose ``Host`` is this address (a rebound DNS name is refused);
* only requests whose ``Origin`` is in ``server.allowed_origins``, preflights included; a
  request without ``Origin`` (not from a browser page) is refused too.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

API_PREFIXES = ("/hw_proxy/", "/cgi-bin/epos/")


def host_values(address: str, port: int) -> frozenset[str]:
    """The ``Host`` headers a browser sends for ``http://<address>:<port>``."""
    shown = f"[{address}]" if ":" in address else address
    values = {f"{shown}:{port}".lower()}
    if port == 80:
        values.add(shown.lower())
    return frozenset(values)


class LnaGate:
    def __init__(
        self, app: ASGIApp, address: str, port: int, allowed_origins: tuple[str, ...]
    ) -> None:
        self.app = app
        self.hosts = host_values(address, port)
        self.origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        path = scope.get("path", "")
        if not path.startswith(API_PREFIXES):
            return 404, "Only the POS API (/hw_proxy/..., /cgi-bin/epos/...) is served here"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").strip().lower()
        if host not in self.hosts:
            return 421, f"Host {host or '(none)'} is not served on this address"
        origin = headers.get("origin", "").rstrip("/").lower()
        if origin not in self.origins:
            return 403, (
                f"Origin {origin or '(none)'} may not use this address; "
                "only server.allowed_origins may"
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, message = refused
        client = scope.get("client")
        log.warning(
            "LNA listener refused %s %s from %s: %s",
            scope.get("method"),
            scope.get("path"),
            client[0] if client else "?",
            message,
        )
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": status,
                    "message": message,
                    "data": {
                        "name": "posboxless.LnaRefused",
                        "message": message,
                        "arguments": [message],
                        "debug": "",
                        "exception_type": "access_denied",
                        "context": {},
                    },
                },
            }
        ).encode()
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
