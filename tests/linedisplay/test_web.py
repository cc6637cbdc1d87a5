"""``/hw_proxy/send_text_customer_display`` and ``display_show``: input forms, every bad input as
a JSON-RPC error, the status key, and a flood of messages answered at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.linedisplay.service import PoleDisplayService
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.services import Services

from ..live import live_server
from .conftest import eventually, make_service


def row(text: str) -> str:
    return text.ljust(20)


@pytest.fixture
async def epson(tmp_path: Path) -> AsyncIterator[tuple[PoleDisplaySimulator, PoleDisplayService]]:
    sim = PoleDisplaySimulator().start()
    service = make_service(sim.port)
    await service.start()
    await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
    yield sim, service
    await service.stop()
    sim.close()


def client_for(services: Services, tmp_path: Path) -> httpx.AsyncClient:
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), services)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:8069")


async def call(http: httpx.AsyncClient, name: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        f"/hw_proxy/{name}", json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}
    )
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def test_text_as_json_text_or_list(
    epson: tuple[PoleDisplaySimulator, PoleDisplayService], tmp_path: Path
) -> None:
    sim, service = epson
    async with client_for(Services(customer_display=service), tmp_path) as http:
        answer = await call(http, "send_text_customer_display", {"text_to_display": '["a","b"]'})
        assert answer["result"] is True
        assert await asyncio.to_thread(sim.wait_for, [row("a"), row("b")])
        answer = await call(http, "send_text_customer_display", {"text_to_display": ["c"]})
        assert answer["result"] is True
        assert await asyncio.to_thread(sim.wait_for, [row("c"), row("")])
        status = (await call(http, "status_json", {}))["result"]
        assert status["customer_display"]["status"] == "connected"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({}, "needs 'text_to_display'"),
        ({"text_to_display": "Hello"}, "not JSON"),
        ({"text_to_display": '{"a": 1}'}, "list of lines"),
        ({"text_to_display": "[1, 2]"}, "list of lines"),
        ({"text_to_display": [None]}, "list of lines"),
        ({"text_to_display": 42}, "list of lines"),
        ({"text_to_display": '["1","2","3"]'}, "shows 2"),
        ({"text_to_display": ["x" * 100_000]}, "longer than"),
        ({"text_to_display": '["' + "x" * 100_000 + '"]'}, "longer than"),
    ],
)
async def test_bad_text_is_a_jsonrpc_error(
    epson: tuple[PoleDisplaySimulator, PoleDisplayService],
    tmp_path: Path,
    params: dict[str, Any],
    words: str,
) -> None:
    _, service = epson
    async with client_for(Services(customer_display=service), tmp_path) as http:
        answer = await call(http, "send_text_customer_display", params)
    data = answer["error"]["data"]
    assert data["name"] == "posboxless.InvalidInput"
    assert words in data["message"]
    assert data["arguments"]
    assert service.details()["counters"].get("messages", 0) == 0


async def test_without_a_display_the_call_says_so(tmp_path: Path) -> None:
    async with client_for(Services(), tmp_path) as http:
        answer = await call(http, "send_text_customer_display", {"text_to_display": '["a","b"]'})
        assert answer["error"]["data"]["name"] == "posboxless.DeviceUnavailable"
        assert "No customer display" in answer["error"]["data"]["message"]
        assert "customer_display" not in (await call(http, "status_json", {}))["result"]


async def test_unplugged_display_keeps_the_text_and_says_so(tmp_path: Path) -> None:
    service = make_service(str(tmp_path / "ttyUSB0"))
    await service.start()
    try:
        await asyncio.to_thread(eventually, lambda: service.status().status == "disconnected")
        async with client_for(Services(customer_display=service), tmp_path) as http:
            answer = await call(http, "send_text_customer_display", {"text_to_display": ["x"]})
        assert answer["error"]["data"]["name"] == "posboxless.DeviceUnavailable"
        assert "shown when it is back" in answer["error"]["data"]["message"]
        assert service.details()["wanted"][0] == row("x")
    finally:
        await service.stop()


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        ({"action": "display_lines", "text_lines": ["Hello", "World"]}, ["Hello", "World"]),
        ({"action": "display_lines", "text_lines": "Hello\nWorld"}, ["Hello", "World"]),
        (
            json.dumps(
                {
                    "action": "add_line",
                    "product_name": "Pâté en croûte à l'ancienne",
                    "discount": 10,
                    "quantity": 2,
                    "unit_price": 4.5,
                    "total": 8.1,
                }
            ),
            ["Pâté en croûte  -10%", "2×4,50€        8,10€"],
        ),
        (
            {
                "action": "update_quantity",
                "product_name": "Pommes",
                "quantity": 0.455,
                "unit_price": "2.99",
                "total": 1.36,
            },
            ["Pommes", "0,455×2,99€    1,36€"],
        ),
        ({"action": "remove_line", "product_name": "Pommes"}, ["Deleting Line ...", "Pommes"]),
        (
            {"action": "payment_balance", "total": 25.11, "total_paid": 20, "total_due": 5.11},
            ["Total:        25,11€", "To Pay:        5,11€"],
        ),
        (
            {"action": "payment_balance", "total": 25.11, "total_paid": 30, "total_due": -4.89},
            ["Total:        25,11€", "Change:        4,89€"],
        ),
    ],
)
async def test_odoo_driver_display_show(
    epson: tuple[PoleDisplaySimulator, PoleDisplayService],
    tmp_path: Path,
    data: Any,
    lines: list[str],
) -> None:
    sim, service = epson
    async with client_for(Services(customer_display=service), tmp_path) as http:
        answer = await call(http, "display_show", {"data": data})
    assert answer["result"] is True, answer
    assert await asyncio.to_thread(sim.wait_for, [row(line) for line in lines])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (None, "needs 'data'"),
        ("{", "not JSON"),
        ({"action": "dance"}, "Unknown display action"),
        ({"action": "add_line", "product_name": "x", "total": "a lot"}, "must be a number"),
        ({"action": "add_line", "product_name": "x", "total": "1e999"}, "must be a number"),
        ({"action": "remove_line", "product_name": ["x"]}, "must be a text"),
        ({"action": "display_lines", "text_lines": 5}, "list of lines"),
    ],
)
async def test_bad_display_show_is_a_jsonrpc_error(
    epson: tuple[PoleDisplaySimulator, PoleDisplayService], tmp_path: Path, data: Any, words: str
) -> None:
    _, service = epson
    async with client_for(Services(customer_display=service), tmp_path) as http:
        response = await http.post(
            "/hw_proxy/display_show",
            content=json.dumps({"params": {"data": data}}, allow_nan=True),
            headers={"Content-Type": "application/json"},
        )
    error = response.json()["error"]["data"]
    assert error["name"] == "posboxless.InvalidInput", error
    assert words in error["message"]


async def test_flood_answers_every_call_and_ends_on_the_last(tmp_path: Path) -> None:
    """1000 messages as fast as the POS can send them, through the real server."""
    sim = PoleDisplaySimulator().start()
    service = make_service(sim.port)
    services = Services(customer_display=service)
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), services)
    try:
        with live_server(app, services=services) as url:
            limits = httpx.Limits(max_connections=20)
            # no pool time-out: on a loaded machine the 1000 calls queue for a connection
            timeout = httpx.Timeout(60.0, pool=None)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:

                async def send(n: int) -> Any:
                    params = {"text_to_display": json.dumps([f"Qty {n}", f"{n} x 1.00"])}
                    answer = await call(http, "send_text_customer_display", params)
                    return answer.get("result")

                results = await asyncio.gather(*(send(n) for n in range(999)))
                assert results == [True] * 999
                assert await send(999) is True
                hello = await http.get("/hw_proxy/hello")
                assert hello.text == "ping"
            assert await asyncio.to_thread(sim.wait_for, [row("Qty 999"), row("999 x 1.00")])
            counters = service.details()["counters"]
            assert counters["messages"] == 1000
            # every message was either written or replaced by a newer one before its turn
            await asyncio.to_thread(
                eventually,
                lambda: (
                    service.details()["counters"]["shown"]
                    + service.details()["counters"].get("collapsed", 0)
                    >= 1001
                ),
            )
    finally:
        sim.close()
