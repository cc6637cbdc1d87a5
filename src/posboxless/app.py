"""The ASGI application and the servers that carry it (HTTP and HTTPS, one event loop).

Device services run their I/O in their own threads; the event loop only ever waits on them, so a
slow scale or a stalled printer cannot delay a ``hello`` or a ``status_json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from posboxless import netinfo, tls
from posboxless.config import Config, ServerConfig
from posboxless.device import PrintsAddresses
from posboxless.ops.metrics import Metrics
from posboxless.services import Services
from posboxless.web import connections, display_pages, epos, hw_proxy, status_page
from posboxless.web.clients import ClientTracker
from posboxless.web.connections import ConnectionGuard
from posboxless.web.hw_proxy import HwProxyApi
from posboxless.web.last_resort import LastResortMiddleware
from posboxless.web.lna import LnaGate
from posboxless.web.metrics import MetricsMiddleware, metrics_route
from posboxless.web.origin import OriginPolicy, OriginPolicyMiddleware
from posboxless.web.state import AppState

log = logging.getLogger(__name__)


def local_host_names(config: Config) -> list[str]:
    lna = [config.server.lna_address] if config.server.lna_address else []
    return [*netinfo.host_names(), *netinfo.machine_addresses(), *config.server.allowed_hosts, *lna]


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"No such page: {request.url.path}"}, status_code=404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"{request.method} is not allowed here"}, status_code=405)


def create_app(
    config: Config,
    services: Services,
    *,
    listen_urls: list[str] | None = None,
    warnings: list[str] | None = None,
) -> Starlette:
    """Build the application. Services are started and stopped by the caller (``serve``)."""
    clients = ClientTracker()
    policy = OriginPolicy(
        config.server.allowed_origins,
        local_host_names(config),
        refresh_local_hosts=lambda: local_host_names(config),
    )
    state = AppState(config, services, clients, policy, listen_urls or [], warnings or [])
    api = HwProxyApi(services, config.server.max_body_bytes, policy.is_local_host)
    # Each front-end says which headers its clients send cross-origin and how it refuses.
    policy.add_front_end(
        "/hw_proxy/", allowed_headers=hw_proxy.ALLOWED_HEADERS, refuse=hw_proxy.refusal_response
    )
    policy.add_front_end("/point_of_sale/", refuse=hw_proxy.refusal_response)
    epos_api = epos.EposApi(services, config.server.max_body_bytes, policy.is_local_host)
    policy.add_front_end(
        "/cgi-bin/epos/", allowed_headers=epos.PREFLIGHT_HEADERS, refuse=epos.refusal_response
    )
    metrics = Metrics(services, clients)
    routes = [
        Route("/", status_page.page, methods=["GET"]),
        Route("/hw_proxy/status", status_page.page, methods=["GET"]),
        Route("/hw_proxy/status/", status_page.page, methods=["GET"]),
        Route("/hw_proxy/{name:path}", api.endpoint, methods=["GET", "POST"]),
        Route(epos.SERVICE_PATH, epos_api.endpoint, methods=["POST", "OPTIONS"]),
        *status_page.routes(),
        metrics_route(metrics),
        *display_pages.routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost, so that refused requests are counted too.
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(LastResortMiddleware),
            Middleware(OriginPolicyMiddleware, policy=policy, clients=clients),
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.posboxless = state
    app.state.max_body_bytes = config.server.max_body_bytes
    app.state.metrics = metrics
    return app


# Serving -------------------------------------------------------------------------------------
class StartupError(RuntimeError):
    """The server cannot start; the message says why and what to do."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = connections.Listener(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, a response written as headers then body
        # waits ~40 ms for the client's delayed ACK on every kept-alive request (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _explain_bind_error(exc: OSError, host: str, port: int) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use on {host} (is Odoo or another proxy running?)"
    if exc.errno == errno.EACCES:
        return (
            f"no permission to listen on {where}: ports below 1024 need the "
            "CAP_NET_BIND_SERVICE capability (the installed service has it), "
            "or choose another port (--https-port 8443)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Bind ``host:port``; the loopback default also takes ``[::1]`` when the machine has IPv6,
    so that a browser resolving ``localhost`` to ::1 connects at once."""
    sockets = [_bind(host, port)]
    if host == "127.0.0.1" and socket.has_ipv6:
        with contextlib.suppress(OSError):
            sockets.append(_bind("::1", port))
    return sockets


GRACEFUL_SHUTDOWN = 5
"""Seconds the servers give open requests (a scanner long-poll, an answer waiting for the
printer) after the first Ctrl-C or SIGTERM before cutting them."""
SERVICES_STOP_TIMEOUT = 15.0
"""Seconds the device services get to stop (a printer finishing the job it is writing)."""


class Shutdown:
    """The first SIGINT/SIGTERM stops gracefully: no new connection, open requests get
    ``GRACEFUL_SHUTDOWN`` seconds, devices ``SERVICES_STOP_TIMEOUT``. A second one stops at once."""

    def __init__(self, servers: Sequence[uvicorn.Server]) -> None:
        self.servers = servers
        self.requests = 0
        self.forced = asyncio.Event()

    def __call__(self) -> None:
        self.requests += 1
        if self.requests == 1:
            log.info("stopping (press Ctrl-C again to stop at once)")
            for server in self.servers:
                server.should_exit = True
            return
        if not self.forced.is_set():
            log.warning("stopping at once: open requests are cut, devices not waited for")
        for server in self.servers:
            server.should_exit = server.force_exit = True
        self.forced.set()

    async def stop_services(self, services: Services) -> None:
        """``services.stop()``, bounded by ``SERVICES_STOP_TIMEOUT`` and by a forced stop."""
        stopping = asyncio.ensure_future(services.stop())
        forced = asyncio.ensure_future(self.forced.wait())
        try:
            done, _ = await asyncio.wait(
                {stopping, forced},
                timeout=SERVICES_STOP_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            forced.cancel()
        if stopping not in done:
            stopping.cancel()
            log.error("devices not stopped after %g s: exiting without them", SERVICES_STOP_TIMEOUT)


class _Server(uvicorn.Server):
    """uvicorn server that leaves signal handling to ``serve`` (two servers share one loop)."""

    def __init__(self, config: uvicorn.Config) -> None:
        config.timeout_graceful_shutdown = GRACEFUL_SHUTDOWN
        super().__init__(config)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _url(scheme: str, host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    if ":" in shown:
        shown = f"[{shown}]"
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return f"{scheme}://{shown}" + ("" if default else f":{port}")


def ticket_urls(host: str, listen_urls: list[str]) -> list[str]:
    """The URLs other machines can use: every address of the machine when listening on all of
    them, else the listen URLs themselves."""
    if host not in ("0.0.0.0", "::", ""):
        return listen_urls
    urls = []
    for url in listen_urls:
        scheme, _, rest = url.partition("://")
        port = rest.rpartition(":")[2] if rest.count(":") and not rest.endswith("]") else ""
        for address in netinfo.machine_addresses():
            if address in ("127.0.0.1", "::1"):
                continue
            shown = f"[{address}]" if ":" in address else address
            urls.append(f"{scheme}://{shown}" + (f":{port}" if port.isdigit() else ""))
    return urls or listen_urls


def _uvicorn_config(app: Any, protocol: type[asyncio.Protocol], **ssl: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=75,
        http=protocol,
        **ssl,
    )


def connection_guard(server: ServerConfig) -> ConnectionGuard:
    """One connection budget for every listener, kept under the descriptor limit."""
    fd_limit = connections.raise_fd_limit()
    budget = connections.fd_budget(fd_limit)
    if budget < server.max_connections:
        log.warning(
            "the file descriptor limit (%d) leaves room for %d connections, not %d "
            "(server.max_connections): raise LimitNOFILE",
            fd_limit,
            budget,
            server.max_connections,
        )
    return ConnectionGuard(
        min(server.max_connections, budget), server.header_timeout, server.body_timeout
    )


async def serve(config: Config, services: Services) -> None:
    """Run until SIGINT/SIGTERM. Raises ``StartupError`` when the HTTP port cannot be used."""
    server_config = config.server
    warnings: list[str] = []
    try:
        http_sockets = bind_sockets(server_config.host, server_config.http_port)
    except OSError as exc:
        raise StartupError(
            _explain_bind_error(exc, server_config.host, server_config.http_port)
        ) from exc
    listen_urls = [_url("http", server_config.host, server_config.http_port)]

    https_sockets: list[socket.socket] = []
    tls_files: tls.TlsFiles | None = None
    if server_config.https_port:
        try:
            if server_config.tls_cert and server_config.tls_key:
                tls_files = tls.TlsFiles(server_config.tls_cert, server_config.tls_key, None)
            else:
                tls_files = await asyncio.to_thread(tls.ensure_for_config, config)
            https_sockets = bind_sockets(server_config.host, server_config.https_port)
            listen_urls.append(_url("https", server_config.host, server_config.https_port))
        except OSError as exc:
            reason = _explain_bind_error(exc, server_config.host, server_config.https_port)
            warnings.append(f"HTTPS is off: {reason}")
            log.error("HTTPS is off: %s", reason)

    lna_sockets = _bind_lna(server_config, listen_urls, warnings)
    app = create_app(config, services, listen_urls=listen_urls, warnings=warnings)
    if https_sockets and tls_files is not None:
        app.state.metrics.watch_certificate(tls_files.cert)
    guard = connection_guard(server_config)
    protocol = connections.protocol_class(guard)
    for sock in [*http_sockets, *https_sockets, *lna_sockets]:
        if isinstance(sock, connections.Listener):
            sock.guard = guard
    servers = [_Server(_uvicorn_config(app, protocol))]
    if https_sockets and tls_files is not None:
        servers.append(
            _Server(
                _uvicorn_config(
                    app,
                    protocol,
                    ssl_certfile=str(tls_files.cert),
                    ssl_keyfile=str(tls_files.key),
                )
            )
        )
    for warning in app.state.posboxless.warnings():
        log.warning("%s", warning)
    log.info("posboxless listening on %s", ", ".join(listen_urls))

    loop = asyncio.get_running_loop()
    # asyncio reports each failed accept (EMFILE) to this handler: counted, not logged each time.
    previous = loop.get_exception_handler()
    loop.set_exception_handler(
        guard.exception_handler(
            (lambda context: previous(loop, context))
            if previous is not None
            else loop.default_exception_handler
        )
    )

    stop = Shutdown(servers)  # the LNA listener, appended below, is stopped too
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)

    # A printer's start-up ticket says where the POS can reach this proxy.
    for printer in services.printers.values():
        if isinstance(printer, PrintsAddresses):
            printer.addresses = tuple(ticket_urls(server_config.host, listen_urls))

    await services.start()
    try:
        runs = [servers[0].serve(sockets=http_sockets)]
        if len(servers) > 1:
            runs.append(servers[1].serve(sockets=https_sockets))
        if lna_sockets:
            gate = LnaGate(
                app,
                server_config.lna_address,
                server_config.http_port,
                server_config.allowed_origins,
            )
            servers.append(_Server(_uvicorn_config(gate, protocol)))
            runs.append(servers[-1].serve(sockets=lna_sockets))
        await asyncio.gather(*runs)
    finally:
        await stop.stop_services(services)
        for sock in http_sockets + https_sockets + lna_sockets:
            sock.close()


def _bind_lna(
    server: ServerConfig, listen_urls: list[str], warnings: list[str]
) -> list[socket.socket]:
    """The Local Network Access listener (``posboxless.web.lna``), when configured. Failing to
    bind it is reported, not fatal: the POS on localhost still works."""
    if not server.lna_address:
        return []
    if not server.allowed_origins:
        warnings.append(
            f"lna_address {server.lna_address} serves only server.allowed_origins, and none is "
            "set: nothing is served there."
        )
    try:
        sockets = [_bind(server.lna_address, server.http_port)]
    except OSError as exc:
        reason = _explain_bind_error(exc, server.lna_address, server.http_port)
        warnings.append(f"The Local Network Access address is off: {reason}")
        log.error("Local Network Access address is off: %s", reason)
        return []
    shown = f"[{server.lna_address}]" if ":" in server.lna_address else server.lna_address
    listen_urls.append(f"http://{shown}:{server.http_port} (POS API only)")
    return sockets
