"""An Odoo served over https calls ``https://<ePOS address>/cgi-bin/epos/service.cgi``: the same
service answers on HTTPS with the local CA's certificate for 127.0.0.1 and ``<name>.localhost``."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from posboxless import tls
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.printer.config import PrinterConfig
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.services import Services
from posboxless.transports.tcp import TcpTransport

from ..live import live_server
from .odoo_bodies import CONTENT_TYPES, SERVICE_PATH, drawer_body, judge
from .rig import FAST, POS_ORIGIN


def test_epos_over_https_with_the_local_ca(tmp_path: Path) -> None:
    files = tls.ensure_certificates(tmp_path, ["kitchen.localhost"], ["127.0.0.1"])
    assert files.ca is not None
    sim = TcpPrinterSimulator().start()
    config = PrinterConfig(name="receipt", host=(sim.host, sim.port), profile="TM-T20III")
    service = EscPosPrinterService(
        config, TcpTransport(sim.host, sim.port), tmp_path, settings=FAST
    )
    services = Services(printers={"receipt": service}, default_printer_name="receipt")  # type: ignore[dict-item]
    app = create_app(
        Config(server=ServerConfig(data_dir=tmp_path, allowed_origins=(POS_ORIGIN,))), services
    )
    context = ssl.create_default_context(cafile=str(files.ca))
    try:
        with live_server(
            app, services=services, ssl_certfile=str(files.cert), ssl_keyfile=str(files.key)
        ) as url:
            assert url.startswith("https://127.0.0.1:")
            answer = httpx.post(
                url + SERVICE_PATH,
                content=drawer_body(16),
                headers={"Origin": POS_ORIGIN, "Content-Type": CONTENT_TYPES[16]},
                verify=context,
                timeout=30,
            )
            assert judge(16, answer.text).success
            assert answer.headers["access-control-allow-origin"] == POS_ORIGIN
        assert [pin for pin, _, _ in sim.printer.document().pulses] == [2, 5]
    finally:
        sim.stop()
