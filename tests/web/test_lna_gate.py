"""The Local Network Access listener serves only the POS API, under its own address, to the
allowed origins (``posboxless.web.lna``); ``lna_address`` is checked when read."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig, parse_server
from posboxless.services import Services
from posboxless.settings import ConfigError, Table
from posboxless.web.lna import LnaGate

ORIGIN = "https://shop.example.com"


def gate_client(tmp_path: Path, services: Services) -> httpx.AsyncClient:
    config = Config(
        server=ServerConfig(data_dir=tmp_path, allowed_origins=(ORIGIN,), lna_address="127.0.0.2")
    )
    gate = LnaGate(create_app(config, services), "127.0.0.2", 8069, (ORIGIN,))
    transport = httpx.ASGITransport(app=gate, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.2:8069")


async def test_the_pos_api_is_served_to_the_allowed_origin(
    tmp_path: Path, services: Services
) -> None:
    async with gate_client(tmp_path, services) as http:
        hello = await http.get("/hw_proxy/hello", headers={"Origin": ORIGIN})
        assert hello.text == "ping"
        assert hello.headers["access-control-allow-origin"] == ORIGIN
        preflight = await http.options(
            "/hw_proxy/status_json",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        status = await http.post(
            "/hw_proxy/status_json", json={"params": {}}, headers={"Origin": ORIGIN}
        )
        assert status.json()["result"]["printer"]["status"] == "connected"


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/hw_proxy/hello", {}, 403),  # no Origin: not the POS page
        ("/hw_proxy/hello", {"Origin": "https://evil.example"}, 403),
        ("/hw_proxy/hello", {"Origin": ORIGIN, "Host": "rebound.example:8069"}, 421),
        ("/", {"Origin": ORIGIN}, 404),  # the status page stays on localhost
        ("/metrics", {"Origin": ORIGIN}, 404),
    ],
)
async def test_everything_else_is_refused_with_json(
    tmp_path: Path, services: Services, path: str, headers: dict[str, str], status: int
) -> None:
    async with gate_client(tmp_path, services) as http:
        for method in ("GET", "POST", "OPTIONS"):
            extra = {"Access-Control-Request-Method": "POST"} if method == "OPTIONS" else {}
            response = await http.request(method, path, headers={**headers, **extra})
            assert response.status_code == status
            assert response.json()["error"]["data"]["name"] == "posboxless.LnaRefused"
    assert services.default_printer.jobs == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("localhost", "an IP address"),
        ("0.0.0.0", "not a wildcard"),
        ("8.8.8.8", "loopback or private"),
        ("127.0.0.1", "second address"),
        ("::1", "second address"),
    ],
)
def test_lna_address_is_checked(address: str, expected: str) -> None:
    table = Table({"lna_address": address, "allowed_origins": [ORIGIN]}, "server")
    with pytest.raises(ConfigError, match=expected):
        parse_server(table)


async def test_without_allowed_origins_nothing_is_served(
    tmp_path: Path, services: Services
) -> None:
    config = Config(server=ServerConfig(data_dir=tmp_path, lna_address="127.0.0.2"))
    gate = LnaGate(create_app(config, services), "127.0.0.2", 8069, ())
    transport = httpx.ASGITransport(app=gate, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.2:8069") as http:
        response = await http.get("/hw_proxy/hello", headers={"Origin": ORIGIN})
        assert response.status_code == 403


def test_a_private_lna_address_is_accepted() -> None:
    server = parse_server(
        Table({"lna_address": "192.168.1.20", "allowed_origins": [ORIGIN]}, "server")
    )
    assert server.lna_address == "192.168.1.20"
