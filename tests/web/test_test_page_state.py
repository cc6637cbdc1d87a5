"""The printed test page says what the POS sees (Odoo 18/19 no longer show it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services, build_services
from posboxless.web.proxy_state import proxy_state_lines

from .fakes import FakePrinter, FakeScale, FakeScanner


def test_state_lines(tmp_path: Path) -> None:
    services = Services(
        printers={"receipt": FakePrinter(status="disconnected")},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )
    config = Config(server=ServerConfig(data_dir=tmp_path))
    app = create_app(config, services, listen_urls=["http://localhost:8069", "https://localhost"])
    state = app.state.posboxless
    lines = proxy_state_lines(state, now=1000.0)
    assert "Printer: disconnected - Fake printer receipt" in lines
    assert "Scale: connected" in lines and "Scanner: connected" in lines
    assert "Proxy at: http://localhost:8069, https://localhost" in lines
    assert "Last POS call: none since start" in lines
    assert any(line.startswith("Warning: Any web page") for line in lines)

    state.clients.seen("https://shop.example.com", "127.0.0.1", "/hw_proxy/status_json")
    last_seen = state.clients.recent()[0]["last_seen"]
    lines = proxy_state_lines(state, now=last_seen + 300)
    assert "Last POS call: https://shop.example.com 5 min ago" in lines


async def test_the_printed_test_page_carries_the_state(tmp_path: Path) -> None:
    config = Config(server=ServerConfig(data_dir=tmp_path, simulate=True))
    services = build_services(config)
    await services.start()
    try:
        app = create_app(config, services)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            answer = await http.post("/api/test_print", json={})
            assert answer.status_code == 200, answer.text
        printed = tmp_path / "simulated-printer"
        for _ in range(500):
            texts = [p.read_text() for p in printed.glob("*.txt")] if printed.is_dir() else []
            if any("Test page" in t for t in texts):
                break
            await asyncio.sleep(0.01)
        [text] = [t for t in texts if "Test page" in t]
        assert "What the POS sees:" in text
        assert "Scale: " in text and "Scanner: " in text and "Last POS call:" in text
        # The demo's other devices a POS uses are on the page too.
        assert "Pole display: " in text and "Payment terminal terminal: " in text
    finally:
        await services.stop()


async def test_an_odoo_printing_through_epos_is_a_pos_client(tmp_path: Path) -> None:
    # Odoo 15-20 with only the 'ePos Printer' setting never calls /hw_proxy/: the page and the
    # test page must still show that a POS reaches this proxy.
    services = Services(
        printers={"receipt": FakePrinter()},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )
    origin = "https://shop.example.com"
    config = Config(server=ServerConfig(data_dir=tmp_path, allowed_origins=(origin,)))
    app = create_app(config, services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8069") as http:
        await http.post(
            "/cgi-bin/epos/service.cgi?devid=local_printer",
            content=b"<not-epos/>",
            headers={"Origin": origin, "Content-Type": "text/plain"},
        )
        await http.get("/point_of_sale/display", headers={"Origin": origin})
    (seen,) = app.state.posboxless.clients.recent()
    assert seen["origin"] == origin and seen["last_path"] == "/cgi-bin/epos/service.cgi"
    assert seen["calls"] == 1
    assert f"Last POS call: {origin} 0 s ago" in proxy_state_lines(
        app.state.posboxless, now=seen["last_seen"]
    )
