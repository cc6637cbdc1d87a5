"""Kitchen printers: Odoo gives each its own proxy address; ``<name>.localhost`` reaches the
printer of that name, any other name the default (receipt) printer."""

from __future__ import annotations

from typing import Any

from posboxless.services import Services

from .fakes import FakePrinter


def two_printers() -> tuple[Services, FakePrinter, FakePrinter]:
    receipt, kitchen = FakePrinter("receipt"), FakePrinter("kitchen", status="error")
    services = Services(
        printers={"receipt": receipt, "kitchen": kitchen}, default_printer_name="receipt"
    )
    return services, receipt, kitchen


async def test_name_dot_localhost_reaches_the_named_printer(make_client: Any) -> None:
    services, receipt, kitchen = two_printers()
    action = {"params": {"data": {"action": "print_receipt", "receipt": "/9j/"}}}
    async with make_client(services_=services, base_url="http://kitchen.localhost:8069") as http:
        assert (await http.post("/hw_proxy/default_printer_action", json=action)).json()[
            "result"
        ] is True
        xml = {"params": {"receipt": "<receipt>2 x soupe</receipt>"}}
        await http.post("/hw_proxy/print_xml_receipt", json=xml)
        status = (await http.post("/hw_proxy/status_json", json={})).json()["result"]
    assert [kind for kind, _ in kitchen.jobs] == ["image", "xml"]
    assert receipt.jobs == []
    # The kitchen POS sees the kitchen printer's state under the keys it reads.
    assert status["printer"]["status"] == status["escpos"]["status"] == "error"


async def test_other_names_reach_the_default_printer(make_client: Any) -> None:
    services, receipt, kitchen = two_printers()
    for base in ("http://localhost:8069", "http://bar.localhost:8069", "http://127.0.0.1:8069"):
        async with make_client(services_=services, base_url=base) as http:
            await http.post("/hw_proxy/open_cashbox", json={})
            status = (await http.post("/hw_proxy/status_json", json={})).json()["result"]
            assert status["printer"]["status"] == "connected"
            assert status["printer_kitchen"]["status"] == "error"  # others listed by name
    assert len(receipt.jobs) == 3
    assert kitchen.jobs == []


async def test_a_printer_name_is_not_matched_on_foreign_hosts(make_client: Any) -> None:
    services, receipt, kitchen = two_printers()
    async with make_client(
        services_=services,
        base_url="http://kitchen.example.com:8069",
        allowed_hosts=("kitchen.example.com",),
    ) as http:
        await http.post("/hw_proxy/open_cashbox", json={})
    assert kitchen.jobs == []
    assert len(receipt.jobs) == 1
