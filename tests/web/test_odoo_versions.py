"""Replays the connect sequence and device calls of each Odoo POS version (odoo-protocol.md §2),
preflights included, and checks the answers each version's client code relies on."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from posboxless.services import Services

ORIGIN = "https://coop.example.com"


@dataclass
class OdooClient:
    """What one POS version sends: envelope, query string, preflight headers."""

    http: httpx.AsyncClient
    version: str
    origin: str = ORIGIN
    debug: bool = False

    def __post_init__(self) -> None:
        self.ids = itertools.count(1)

    @property
    def envelope(self) -> str:
        return {"8": "8-16", "10": "8-16", "12": "8-16", "13": "8-16", "16": "8-16"}.get(
            self.version, "17-18"
        )

    @property
    def query(self) -> str:
        # 8/10 append the POS session cookie, 12 an empty one, 13+ nothing.
        return {"8": "?session_id=abc123", "10": "?session_id=abc123", "12": "?session_id="}.get(
            self.version, ""
        )

    async def hello(self) -> httpx.Response:
        # A simple cross-origin GET: no preflight, the answer must carry ACAO.
        response = await self.http.get("/hw_proxy/hello", headers={"Origin": self.origin})
        assert response.status_code == 200
        assert response.text == "ping"
        assert response.headers["access-control-allow-origin"] == self.origin
        return response

    async def preflight(self, path: str, private_network: bool = False) -> httpx.Response:
        requested = "content-type" + (",x-debug-mode" if self.debug else "")
        headers = {
            "Origin": self.origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": requested,
        }
        if private_network:
            headers["Access-Control-Request-Private-Network"] = "true"
        response = await self.http.options(path, headers=headers)
        assert response.status_code in (200, 204), response.text
        assert response.headers["access-control-allow-origin"] == self.origin
        allowed = response.headers["access-control-allow-headers"].lower()
        for header in requested.split(","):
            assert header in allowed
        assert "POST" in response.headers["access-control-allow-methods"]
        assert int(response.headers["access-control-max-age"]) > 0
        return response

    async def rpc(self, name: str, params: dict[str, Any] | None = None) -> Any:
        path = f"/hw_proxy/{name}"
        await self.preflight(path)
        request_id = next(self.ids) * 7919
        if self.envelope == "8-16":
            body = {"jsonrpc": "2.0", "method": "call", "params": params or {}, "id": request_id}
        else:
            body = {"id": request_id, "jsonrpc": "2.0", "method": "call", "params": params or {}}
        headers = {"Origin": self.origin, "Content-Type": "application/json"}
        if self.debug:
            headers["X-Debug-Mode"] = "1"
        response = await self.http.post(
            path + self.query, content=json.dumps(body), headers=headers
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == self.origin
        payload = response.json()
        assert payload["jsonrpc"] == "2.0"
        assert payload["id"] == request_id
        assert "error" not in payload, payload
        return payload["result"]

    async def connect(self) -> dict[str, Any]:
        for _ in range(1):
            await self.hello()
        assert await self.rpc("handshake") is True
        status = await self.rpc("status_json")
        assert isinstance(status, dict)
        return status


def assert_connected(status: dict[str, Any], key: str) -> None:
    assert status[key]["status"] == "connected"
    assert isinstance(status[key]["messages"], list)


@pytest.mark.parametrize("version", ["8", "10", "12"])
async def test_odoo_8_to_12_xml_printing_scale_scanner(
    client: httpx.AsyncClient, services: Services, version: str
) -> None:
    pos = OdooClient(client, version, debug=version in ("10", "12"))
    status = await pos.connect()
    for key in ("escpos", "scale", "scanner"):  # the keys the 8-12 status widget reads
        assert_connected(status, key)

    assert await pos.rpc("print_xml_receipt", {"receipt": "<receipt>Merci</receipt>"}) is None
    assert await pos.rpc("open_cashbox") is None
    printer = services.default_printer
    assert printer is not None
    assert [kind for kind, _ in printer.jobs] == ["xml", "drawer"]  # type: ignore[attr-defined]

    # 8-12 declare the scale route with a trailing slash and call it without: both work.
    for name in ("scale_read", "scale_read/"):
        reading = await pos.rpc(name)
        assert reading == {"weight": 1.234, "unit": "kg", "info": "ok"}
    for name in ("scale_zero", "scale_tare/", "scale_clear_tare"):
        assert await pos.rpc(name) is True

    services.scanner.queue.put_nowait("3017620422003")  # type: ignore[union-attr]
    assert await pos.rpc("scanner") == "3017620422003"
    if version == "8":  # 8.0 logs every pushed order
        assert await pos.rpc("log", {"arguments": ["push_order", {"name": "Order 1"}]}) is None


async def test_odoo_12_customer_display(client: httpx.AsyncClient) -> None:
    pos = OdooClient(client, "12")
    await pos.connect()
    answer = await pos.rpc("take_control", {"html": "<div>Total 3,20 €</div>"})
    assert answer["status"] == "success"
    assert (await pos.rpc("test_ownership"))["status"] == "OWNER"
    assert (await pos.rpc("customer_facing_display", {"html": "<div>4 €</div>"}))["status"] == (
        "updated"
    )


@pytest.mark.parametrize("version", ["13", "16", "17"])
async def test_odoo_13_to_17_image_printing(
    client: httpx.AsyncClient, services: Services, version: str
) -> None:
    pos = OdooClient(client, version)
    status = await pos.connect()
    for key in ("printer", "scale", "scanner"):  # the keys the 13-18 status widget reads
        assert_connected(status, key)
    action = {"data": {"action": "print_receipt", "receipt": "/9j/4AAQSkZJRg=="}}
    assert await pos.rpc("default_printer_action", action) is True
    assert await pos.rpc("default_printer_action", {"data": {"action": "cashbox"}}) is True
    reading = await pos.rpc("scale_read")
    assert reading["weight"] == 1.234
    # 17 destructures {status} from test_ownership: it must be an object.
    assert await pos.rpc("test_ownership") == {"status": "OWNER"}


async def test_odoo_13_to_18_printer_refusal_answers_false(
    client: httpx.AsyncClient, services: Services
) -> None:
    """`false` makes the POS say "Connection to the printer failed" (and keep its receipt)."""
    pos = OdooClient(client, "17")
    services.default_printer.refuse = True  # type: ignore[union-attr]
    action = {"data": {"action": "print_receipt", "receipt": "/9j/4AAQSkZJRg=="}}
    assert await pos.rpc("default_printer_action", action) is False
    assert await pos.rpc("default_printer_action", {"data": {"action": "cashbox"}}) is False


async def test_odoo_8_to_12_printer_refusal_is_an_error_the_pos_shows(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.default_printer.refuse = True  # type: ignore[union-attr]
    response = await client.post(
        "/hw_proxy/print_xml_receipt?session_id=x",
        json={"jsonrpc": "2.0", "method": "call", "params": {"receipt": "<receipt/>"}, "id": 3},
    )
    error = response.json()["error"]
    assert error["data"]["message"] == "Printer offline: Paper out"  # the 8/10 popup text
    assert error["data"]["arguments"][0] == "Printer offline: Paper out"  # 10 reads this


async def test_odoo_18(client: httpx.AsyncClient, services: Services) -> None:
    pos = OdooClient(client, "18")
    await pos.preflight("/hw_proxy/status_json", private_network=True)
    status = await pos.connect()
    assert status["scale"]["status"] == "connected"  # 18 reads the scale only then
    assert (await pos.rpc("scale_read"))["weight"] == 1.234
    services.scanner.queue.put_nowait("2100001015003")  # type: ignore[union-attr]
    assert await pos.rpc("scanner") == "2100001015003"

    # The customer display: bare {params} bodies, posted by the cashier's POS and read back by
    # Odoo's display page from http://localhost:8069.
    data = {"lines": [{"productName": "Pommes", "qty": "1,5 kg"}], "amount": "4,20 €"}
    for body in (
        {"params": {"action": "open", "pos_id": 1, "access_token": "t"}},
        {"params": {"action": "set", "data": data}},
    ):
        response = await client.post(
            "/hw_proxy/customer_facing_display",
            json=body,
            headers={"Origin": ORIGIN},
        )
        assert "result" in response.json()
    response = await client.post(
        "/hw_proxy/customer_facing_display", json={"params": {"action": "get"}}
    )
    assert response.json()["result"] == {"status": "retrieved", "data": data}
    # One 18 code path posts the action unwrapped.
    response = await client.post(
        "/hw_proxy/customer_facing_display", json={"action": "close", "id": 1}
    )
    assert response.json()["result"] == {"status": "closed"}


async def test_preflight_status_is_2xx_on_every_route(client: httpx.AsyncClient) -> None:
    for path in ("/hw_proxy/hello", "/hw_proxy/anything", "/", "/nowhere"):
        response = await client.options(
            path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        )
        assert response.status_code == 204


async def test_scanner_without_scanner_holds_instead_of_failing_fast(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posboxless.scanner import hw_proxy

    monkeypatch.setattr(hw_proxy, "SCANNER_HOLD_SECONDS", 0.05)
    async with make_client(services_=Services()) as http:
        response = await http.post("/hw_proxy/scanner", json={"params": {}})
        assert response.json()["result"] == ""
        status = (await http.post("/hw_proxy/status_json", json={"params": {}})).json()["result"]
        assert status["scanner"]["status"] == "disconnected"
        assert status["printer"]["messages"] == ["No receipt printer configured"]
        reading = (await http.post("/hw_proxy/scale_read", json={"params": {}})).json()["result"]
        assert reading["weight"] == 0.0


async def test_no_printer_configured(make_client: Any) -> None:
    async with make_client(services_=Services()) as http:
        action = {"params": {"data": {"action": "cashbox"}}}
        response = await http.post("/hw_proxy/default_printer_action", json=action)
        assert response.json()["result"] is False
        response = await http.post("/hw_proxy/open_cashbox", json={"params": {}})
        assert "No receipt printer" in response.json()["error"]["data"]["message"]
