"""A real posboxless (uvicorn on loopback) with real printer services on simulated printers reached
over loopback TCP: what an Odoo POS talks to when it is set to an "ePos Printer"."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos import DecodedDocument, decode
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.services import Services
from posboxless.transports.tcp import TcpTransport

from ..live import live_server
from .odoo_bodies import CONTENT_TYPES, SERVICE_PATH

POS_ORIGIN = "https://shop.example.com"
FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=3, retry_min=0.02, retry_max=0.1
)


@dataclass
class Till:
    url: str
    services: Services
    sims: dict[str, TcpPrinterSimulator]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def printer(self, name: str = "receipt") -> EscPosPrinterService:
        service = self.services.printers[name]
        assert isinstance(service, EscPosPrinterService)
        return service

    def post(
        self,
        body: str | bytes,
        *,
        version: int = 19,
        origin: str | None = POS_ORIGIN,
        host: str | None = None,
        path: str = SERVICE_PATH,
    ) -> httpx.Response:
        """POST as Odoo's client does: no custom header, the version's Content-Type."""
        headers = {"Content-Type": CONTENT_TYPES[version]}
        if origin is not None:
            headers["Origin"] = origin
        if host is not None:
            headers["Host"] = f"{host}:{self.port}"
        content = body.encode() if isinstance(body, str) else body
        return httpx.post(self.url + path, content=content, headers=headers, timeout=30)

    def printed(self, name: str = "receipt") -> DecodedDocument:
        return decode(bytes(self.sims[name].printer.received))

    def received(self, name: str = "receipt") -> bytes:
        return bytes(self.sims[name].printer.received)

    def wait(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(0.01)

    def journal(self, name: str = "receipt") -> list[dict[str, object]]:
        return self.printer(name).journal(100)


@contextlib.contextmanager
def till(
    tmp_path: Path,
    *,
    names: tuple[str, ...] = ("receipt",),
    allowed_origins: tuple[str, ...] = (POS_ORIGIN,),
    answer_timeout: float = 2.0,
    profile: str = "TM-T20III",
    **printer_config: object,
) -> Iterator[Till]:
    sims = {name: TcpPrinterSimulator().start() for name in names}
    printers = {}
    for name, sim in sims.items():
        config = PrinterConfig(
            name=name,
            host=(sim.host, sim.port),
            profile=profile,
            answer_timeout=answer_timeout,
        )
        config = replace(config, **printer_config)  # type: ignore[arg-type]
        printers[name] = EscPosPrinterService(
            config, TcpTransport(sim.host, sim.port), tmp_path, settings=FAST
        )
    services = Services(printers=dict(printers), default_printer_name=names[0])  # type: ignore[arg-type]
    config = Config(
        server=ServerConfig(data_dir=tmp_path, allowed_origins=allowed_origins, https_port=0)
    )
    try:
        with live_server(create_app(config, services), services=services) as url:
            result = Till(url, services, sims)
            for name in names:
                result.wait(lambda n=name: result.printer(n).status().status == "connected")  # type: ignore[misc]
            yield result
    finally:
        for sim in sims.values():
            sim.stop()
