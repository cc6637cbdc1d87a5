"""Replays the calls of the Odoo 19 community POS (odoo-19-20.md §2) and of what is known of 20
(§6): the 18 client plus Local Network Access, minus the cashier's customer display pushes.

19 sends the 17/18 envelope (``{"id", "jsonrpc", "method", "params"}``); its hello is a plain
``fetch`` GET (``targetAddressSpace`` only changes what the browser checks, not what is sent);
handshake must be truthy even though Odoo's own 19 box dropped that route; the display page polls
``{"params": {"action": "get"}}`` with ``Accept`` and ``Content-Type`` JSON headers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from posboxless.display.hw_proxy import NO_ORDER_MESSAGE
from posboxless.services import Services

from .test_odoo_versions import ORIGIN, OdooClient, assert_connected

RECEIPT = "/9j/4AAQSkZJRg=="  # what 19 sends: a base64 JPEG without the data: prefix


async def lna_preflight(client: httpx.AsyncClient, path: str, header: str) -> httpx.Response:
    """A preflight carrying one of Chrome's private/local network request headers."""
    response = await client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            header: "true",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    return response


@pytest.mark.parametrize("version", ["19", "20"])
async def test_odoo_19_20_connect_print_drawer_scanner(
    client: httpx.AsyncClient, services: Services, version: str
) -> None:
    pos = OdooClient(client, version)
    assert pos.envelope == "17-18"
    # hello: fetch GET, 4 attempts of 1 s; only response.ok is read.
    for _ in range(4):
        await pos.hello()
    # handshake: rpc() with no params serialises "params": {} and must answer truthy.
    assert await pos.rpc("handshake") is True
    status = await pos.rpc("status_json")
    # The 19 navbar and scale service read printer, scanner and scale; 19 has no escpos key
    # but an extra one does no harm.
    for key in ("printer", "scanner", "scale"):
        assert_connected(status, key)

    action = {"data": {"action": "print_receipt", "receipt": RECEIPT}}
    assert await pos.rpc("default_printer_action", action) is True
    # The drawer, also sent from "Cash in / out": the answer is not read, but must be valid.
    assert await pos.rpc("default_printer_action", {"data": {"action": "cashbox"}}) is True
    printer = services.default_printer
    assert printer is not None
    assert [kind for kind, _ in printer.jobs] == ["image", "drawer"]  # type: ignore[attr-defined]

    services.scanner.queue.put_nowait("5449000000996")  # type: ignore[union-attr]
    assert await pos.rpc("scanner") == "5449000000996"


async def test_odoo_19_scale_read_needs_connected_scale(
    client: httpx.AsyncClient, services: Services
) -> None:
    """19 reads {weight} every 500 ms, only while drivers.scale.status is "connected"."""
    pos = OdooClient(client, "19")
    status = await pos.connect()
    assert status["scale"]["status"] == "connected"
    for _ in range(3):
        reading = await pos.rpc("scale_read")
        assert reading["weight"] == 1.234


async def test_odoo_19_printer_refusal_answers_false(
    client: httpx.AsyncClient, services: Services
) -> None:
    """``false`` gives "Connection to the printer failed"; a transport failure would give 19's
    misleading "No Internet Connection" popup instead, so a refusal must stay an answer."""
    pos = OdooClient(client, "19")
    services.default_printer.refuse = True  # type: ignore[union-attr]
    action = {"data": {"action": "print_receipt", "receipt": RECEIPT}}
    assert await pos.rpc("default_printer_action", action) is False


@pytest.mark.parametrize(
    "header",
    ["Access-Control-Request-Private-Network", "Access-Control-Request-Local-Network"],
)
async def test_odoo_19_lna_preflights(client: httpx.AsyncClient, header: str) -> None:
    """Chrome 142+ LNA is a permission, not a preflight header; older Chromium builds (PNA
    trials, LNA warning mode) still ask. Both are answered for an allowed origin."""
    for path in (
        "/hw_proxy/hello",
        "/hw_proxy/handshake",
        "/hw_proxy/status_json",
        "/hw_proxy/customer_facing_display",
    ):
        response = await lna_preflight(client, path, header)
        allow = header.replace("Request", "Allow")
        assert response.headers[allow.lower()] == "true"


async def test_lna_preflight_from_a_foreign_origin_is_refused(make_client: Any) -> None:
    async with make_client(allowed_origins=(ORIGIN,)) as http:
        response = await http.options(
            "/hw_proxy/status_json",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Private-Network": "true",
            },
        )
        assert response.status_code == 403
        assert "access-control-allow-private-network" not in response.headers


async def display_poll(client: httpx.AsyncClient) -> Any:
    """Odoo 19's display page: fetch POST every second, result merged with Object.assign."""
    response = await client.post(
        "/hw_proxy/customer_facing_display",
        content=json.dumps({"params": {"action": "get"}}),
        headers={
            "Origin": ORIGIN,
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    payload = response.json()
    # The page evaluates payload.result?.data || payload.result.
    return payload["result"].get("data") or payload["result"]


async def test_odoo_19_display_poll_shows_a_message_instead_of_welcome(
    client: httpx.AsyncClient,
) -> None:
    pos = OdooClient(client, "19")
    await pos.preflight("/hw_proxy/customer_facing_display")
    data = await display_poll(client)
    # The page shows its order list only when lines is non-empty and finalized is false.
    assert data["finalized"] is False
    assert [line["productName"] for line in data["lines"]] == [NO_ORDER_MESSAGE]
    assert all(isinstance(v, str) for k, v in data["lines"][0].items() if k.endswith("Note"))
    assert json.loads(data["lines"][0]["internalNote"]) == []  # the page JSON-parses it
    # Polling again changes nothing (the page merges every answer).
    assert await display_poll(client) == data


async def test_display_poll_serves_what_a_pos_pushed(client: httpx.AsyncClient) -> None:
    """A POS that does push (18, or 19 with a custom module) is shown, never the message."""
    order = {"lines": [{"productName": "Pain", "qty": "2"}], "amount": "3,00 €"}
    response = await client.post(
        "/hw_proxy/customer_facing_display",
        json={"params": {"action": "set", "data": order}},
        headers={"Origin": ORIGIN},
    )
    assert response.json()["result"] == {"status": "updated"}
    assert await display_poll(client) == order
    await client.post("/hw_proxy/customer_facing_display", json={"params": {"action": "close"}})
    # After a close the order is gone and the page falls back to its own "Welcome.".
    response = await client.post(
        "/hw_proxy/customer_facing_display", json={"params": {"action": "get"}}
    )
    assert response.json()["result"] == {"status": "retrieved", "data": None}


async def test_odoo_19_unknown_route_answers_json(client: httpx.AsyncClient) -> None:
    """19's iot_drivers routes (enterprise) are not served: a JSON-RPC error, never HTML."""
    pos = OdooClient(client, "19")
    await pos.preflight("/hw_proxy/l10n_ke_cu_send")
    response = await client.post(
        "/hw_proxy/l10n_ke_cu_send",
        content=json.dumps({"id": 1, "jsonrpc": "2.0", "method": "call", "params": {}}),
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    error = response.json()["error"]
    assert error["data"]["name"] == "posboxless.UnknownMethod"
    assert error["data"]["arguments"]
