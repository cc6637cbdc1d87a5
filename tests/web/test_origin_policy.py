"""Only allowed origins may act; the check does not depend on the browser's CORS enforcement."""

from __future__ import annotations

from typing import Any

from posboxless.services import Services
from posboxless.web.origin import OriginPolicy, host_name

ODOO = "https://coop.example.com"
EVIL = "https://evil.example.net"


async def test_allowed_origin_can_print(make_client: Any, services: Services) -> None:
    async with make_client(allowed_origins=(ODOO,)) as http:
        response = await http.post(
            "/hw_proxy/default_printer_action",
            json={"params": {"data": {"action": "cashbox"}}},
            headers={"Origin": ODOO},
        )
        assert response.json()["result"] is True
        assert response.headers["access-control-allow-origin"] == ODOO
    assert len(services.default_printer.jobs) == 1  # type: ignore[union-attr]


async def test_other_origin_cannot_print_even_without_preflight(
    make_client: Any, services: Services
) -> None:
    async with make_client(allowed_origins=(ODOO,)) as http:
        preflight = await http.options(
            "/hw_proxy/open_cashbox",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
        # A "simple" cross-site POST (form-like content type) needs no preflight.
        for content_type in ("text/plain", "application/json"):
            response = await http.post(
                "/hw_proxy/open_cashbox",
                content=b'{"params":{}}',
                headers={"Origin": EVIL, "Content-Type": content_type},
            )
            assert response.status_code == 403
            assert "access-control-allow-origin" not in response.headers
            assert response.json()["error"]["data"]["name"] == "posboxless.OriginNotAllowed"
        response = await http.post(
            "/hw_proxy/default_printer_action",
            json={"params": {"data": {"action": "print_receipt", "receipt": "AAAA"}}},
            headers={"Origin": "null"},
        )
        assert response.status_code == 403
    assert services.default_printer.jobs == []  # type: ignore[union-attr]


async def test_dns_rebinding_is_refused(make_client: Any, services: Services) -> None:
    """evil.example resolved to 127.0.0.1: same-origin by the browser's rules, not a local name."""
    async with make_client(allowed_origins=(ODOO,), base_url="http://evil.example:8069") as http:
        response = await http.post(
            "/hw_proxy/open_cashbox",
            json={"params": {}},
            headers={"Origin": "http://evil.example:8069"},
        )
        assert response.status_code == 421
        assert response.json()["error"]["data"]["name"] == "posboxless.HostNotAllowed"
    assert services.default_printer.jobs == []  # type: ignore[union-attr]


async def test_own_pages_and_non_browser_clients_allowed(make_client: Any) -> None:
    async with make_client(allowed_origins=(ODOO,)) as http:
        same_origin = await http.post(
            "/hw_proxy/handshake", json={}, headers={"Origin": "http://localhost:8069"}
        )
        assert same_origin.json()["result"] is True
        no_origin = await http.post("/hw_proxy/handshake", json={})  # curl, monitoring
        assert no_origin.json()["result"] is True


async def test_open_policy_allows_all_and_warns(make_client: Any) -> None:
    async with make_client() as http:
        response = await http.post("/hw_proxy/handshake", json={}, headers={"Origin": EVIL})
        assert response.json()["result"] is True
        page = await http.get("/")
        assert "Any web page open on this computer may print" in page.text


async def test_private_network_preflight(make_client: Any) -> None:
    async with make_client(allowed_origins=(ODOO,)) as http:
        response = await http.options(
            "/hw_proxy/status_json",
            headers={
                "Origin": ODOO,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
                "Access-Control-Request-Private-Network": "true",
            },
        )
        assert response.status_code == 204
        assert response.headers["access-control-allow-private-network"] == "true"
        plain = await http.options(
            "/hw_proxy/status_json",
            headers={"Origin": ODOO, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-private-network" not in plain.headers


async def test_clients_seen_are_tracked(make_client: Any) -> None:
    async with make_client(allowed_origins=(ODOO,)) as http:
        await http.post("/hw_proxy/status_json", json={}, headers={"Origin": ODOO})
        clients = http._transport.app.state.posboxless.clients.recent()  # type: ignore[attr-defined]
    assert clients[0]["origin"] == ODOO
    assert clients[0]["address"] == "127.0.0.1"
    assert clients[0]["last_path"] == "/hw_proxy/status_json"


def test_policy_rules() -> None:
    policy = OriginPolicy([ODOO + "/"], ["till1", "192.168.1.20"])
    assert policy.allows(None, "http", "localhost:8069")
    assert policy.allows(ODOO, "http", "localhost:8069")
    assert policy.allows("HTTPS://COOP.EXAMPLE.COM", "http", "localhost:8069")
    assert not policy.allows(EVIL, "http", "localhost:8069")
    assert policy.allows("http://till1:8069", "http", "till1:8069")
    assert policy.allows("https://192.168.1.20", "https", "192.168.1.20")
    assert policy.allows("http://[::1]:8069", "http", "[::1]:8069")
    assert not policy.allows("http://rebind.example:8069", "http", "rebind.example:8069")
    assert not policy.allows("http://localhost:9999", "http", "localhost:8069")
    assert host_name("[::1]:8069") == "::1"
    assert host_name("Till1:8069") == "till1"
