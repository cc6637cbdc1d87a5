"""The address a cashier types in Odoo's ePOS printer field: survives Odoo 19's onchange, reaches
the right printer, and is shown on the page and by doctor."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from posboxless.config import Config, ServerConfig
from posboxless.epos.addresses import epos_address
from posboxless.ops.checks import check_epos
from posboxless.printer.config import PrinterConfig

from .odoo_bodies import drawer_body, judge
from .rig import till


@pytest.mark.parametrize(
    ("name", "default", "ports", "http", "https"),
    [
        ("receipt", True, (8069, 443), "127.0.0.1:8069", "127.0.0.1"),
        ("receipt", True, (80, 8443), "127.0.0.1", "127.0.0.1:8443"),
        ("kitchen", False, (8069, 443), "kitchen.localhost:8069", "kitchen.localhost"),
        ("bar", False, (8069, 0), "bar.localhost:8069", None),
    ],
)
def test_addresses(
    name: str, default: bool, ports: tuple[int, int], http: str, https: str | None
) -> None:
    address = epos_address(name, default=default, http_port=ports[0], https_port=ports[1])
    assert (address.http, address.https) == (http, https)
    for value in (address.http, address.https):
        if value:
            # Odoo 19 rewrites a value without a dot into an Epson cloud name.
            assert "." in value.partition(":")[0]


def test_doctor_lists_each_printers_address() -> None:
    config = Config(
        server=ServerConfig(http_port=8069, https_port=443),
        printers=(
            PrinterConfig(name="receipt", file="/dev/null"),
            PrinterConfig(name="kitchen", file="/dev/null"),
        ),
    )
    results = {r.name: r for r in check_epos(config)}
    assert results["ePOS address of printer 'receipt'"].message == (
        "In Odoo, 'ePos Printer' / 'Use an Epson printer': 127.0.0.1:8069 (http Odoo), "
        "127.0.0.1 (https Odoo)."
    )
    assert "kitchen.localhost:8069" in results["ePOS address of printer 'kitchen'"].message


def test_doctor_shows_the_simulated_printer() -> None:
    (result,) = check_epos(Config(server=ServerConfig(http_port=8069, https_port=0)))
    assert result.name == "ePOS address of printer 'receipt'" and "127.0.0.1:8069" in result.message


def test_page_data_and_the_addresses_reach_their_printers(tmp_path: Path) -> None:
    with till(tmp_path, names=("receipt", "kitchen")) as t:
        data = httpx.get(t.url + "/api/diagnostics").json()
        shown = {p["name"]: p["epos"]["http"] for p in data["printers"]}
        assert shown == {"receipt": "127.0.0.1:8069", "kitchen": "kitchen.localhost:8069"}
        # The same addresses with the test server's port: each reaches its own printer.
        for name, address in shown.items():
            host = address.partition(":")[0]
            assert judge(19, t.post(drawer_body(19), host=host).text).success
            assert len(t.printed(name).pulses) == 2
