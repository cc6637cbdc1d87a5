"""Request timing (an ASGI middleware) and the ``/metrics`` route.

Wiring in ``create_app``::

    metrics = Metrics(services)
    routes.append(metrics_route(metrics))
    app = Starlette(..., middleware=[Middleware(MetricsMiddleware, metrics=metrics), ...])
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from posboxless.ops.metrics import Metrics

Scope = dict[str, Any]
Message = dict[str, Any]

_KNOWN_PREFIX = re.compile(r"^/(hw_proxy|hw_drivers|api)/([A-Za-z0-9_.-]{1,64})/?$")
_KNOWN_EXACT = {"/", "/metrics", "/status", "/favicon.ico"}
_METHODS = {"GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"}


def route_label(path: str, code: int) -> str:
    """A bounded label: known route shapes that exist (not 404); everything else is "other"."""
    if code == 404:
        return "other"
    if path in _KNOWN_EXACT:
        return path
    if path.startswith("/static/"):
        return "/static"
    match = _KNOWN_PREFIX.match(path)
    if match:
        return f"/{match.group(1)}/{match.group(2)}"
    return "other"


class MetricsMiddleware:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def send_with_status(message: Message) -> None:
            nonlocal code
            if message.get("type") == "http.response.start":
                code = int(message.get("status", 500))
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            method = scope.get("method", "GET")
            self.metrics.observe_request(
                method if method in _METHODS else "other",
                route_label(scope.get("path", ""), code),
                code,
                time.perf_counter() - start,
            )


def metrics_route(metrics: Metrics) -> Route:
    """``GET /metrics`` for Prometheus (read-only; scraped from the monitoring server)."""

    async def endpoint(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    return Route("/metrics", endpoint, methods=["GET"])
