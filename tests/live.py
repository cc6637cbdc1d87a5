"""Run an ASGI app on a real loopback socket in a background thread (browser tests, end-to-end)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from posboxless.services import Services


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def live_server(
    app: Any, host: str = "127.0.0.1", services: Services | None = None, **config: Any
) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:<port>``) while the app is served. ``services``
    are started and stopped on the server's own event loop, as ``posboxless serve`` does."""
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = _QuietServer(
        uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, **config)
    )

    async def run() -> None:
        if services is not None:
            await services.start()
        try:
            await server.serve(sockets=[sock])
        finally:
            if services is not None:
                await services.stop()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.01)
    scheme = "https" if config.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
