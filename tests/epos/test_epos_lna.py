"""Odoo 19.0 with ``use_lna`` tags the ePOS request ``local``, which Chrome refuses for 127.0.0.1:
the ``lna_address`` listener (127.0.0.2) serves the ePOS service too, under the same gate."""

from __future__ import annotations

from pathlib import Path

import httpx

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services
from posboxless.web.lna import LnaGate

from ..web.fakes import FakePrinter
from .odoo_bodies import SERVICE_PATH, drawer_body, judge

ORIGIN = "https://shop.example.com"


async def test_epos_on_the_lna_address(tmp_path: Path) -> None:
    printer = FakePrinter()
    services = Services(printers={"receipt": printer}, default_printer_name="receipt")
    config = Config(
        server=ServerConfig(data_dir=tmp_path, allowed_origins=(ORIGIN,), lna_address="127.0.0.2")
    )
    gate = LnaGate(create_app(config, services), "127.0.0.2", 8069, (ORIGIN,))
    transport = httpx.ASGITransport(app=gate, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.2:8069") as http:
        body = drawer_body(19)
        answer = await http.post(SERVICE_PATH, content=body, headers={"Origin": ORIGIN})
        assert judge(19, answer.text).success
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        refused = await http.post(
            SERVICE_PATH, content=body, headers={"Origin": "https://x.example"}
        )
        assert refused.status_code == 403
    assert [kind for kind, _ in printer.jobs] == ["drawer"]
