"""Odoo 8, 10, 12 and 14 drive each profile's simulated display through the real server.

Every call of the spec's message catalogue (customer-display.md §3) goes over HTTP to
``/hw_proxy/send_text_customer_display`` exactly as the version sends it (JSON text inside the
JSON-RPC call), through the real service and pyserial to the pty simulator, which interprets the
profile's command set. Checked: the answer, the exact bytes of each screen, and the two lines the
customer reads (accents from the code table, plain letters where the display has none, long
product names cut without losing the amount).
"""

from __future__ import annotations

import itertools
import unicodedata
from pathlib import Path

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.services import Services

from ..live import live_server
from .conftest import WELCOME, make_service, wait_bytes
from .odoo_calls import CATALOGUE, query, rpc

OPENING = {
    "epson": b"",
    "bixolon": b"",
    "aures": b"\x02\x05\x43\x31\x03\x02\x05\x54\x01\x03\x02\x05\x55\x13\x03",
}
PREFIX = {
    "epson": b"\x1f\x43\x00\x1b\x74\x13\x0c",
    "bixolon": b"\x1f\x43\x00\x0c",
    "aures": b"\x0c",
}
CODEC = {"epson": "cp858", "bixolon": "ascii", "aures": "cp858"}

# What the customer reads where the line holds a letter the display lacks (œ: not in PC858).
SPECIAL = {
    "Œuf cocotte         ": "OEuf cocotte        ",
    "         Œuf cocotte": "        OEuf cocotte",
}


def expected(line: str, profile: str) -> str:
    """The independent oracle: PC858 shows French accents but no œ; ASCII shows plain letters."""
    line = SPECIAL.get(line, line)
    if CODEC[profile] == "ascii":
        line = "".join(
            c for c in unicodedata.normalize("NFKD", line) if not unicodedata.combining(c)
        )
    assert len(line) == 20
    return line


def frame(lines: list[str], profile: str) -> bytes:
    l1, l2 = (line.encode(CODEC[profile]) for line in lines)
    return PREFIX[profile] + b"\x1f\x24\x01\x01" + l1 + b"\x1f\x24\x01\x02" + l2


@pytest.mark.parametrize("version", ["8", "10", "12", "14"])
async def test_odoo_version_drives_each_profile(version: str, profile: str, tmp_path: Path) -> None:
    sim = PoleDisplaySimulator(dialect=profile).start()
    service = make_service(sim.port, profile)
    services = Services(customer_display=service)
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), services)
    ids = itertools.count(1)
    try:
        with live_server(app, services=services) as url, httpx.Client(base_url=url) as http:
            # the welcome text at start, after the profile's set-up
            welcome = [WELCOME[0].ljust(20), "".ljust(20)]
            wait_bytes(sim, 0, frame(welcome, profile))
            assert bytes(sim.received).startswith(OPENING[profile] + PREFIX[profile])
            assert sim.lines == welcome
            for call in CATALOGUE[version]:
                start = len(sim.received)
                answer = http.post(
                    f"/hw_proxy/send_text_customer_display{query(version)}",
                    json=rpc(call.params(), next(ids)),
                    headers={"Origin": "https://shop.example.com"},
                ).json()
                assert answer.get("result") is True, (call.event, answer)
                shown = [expected(line, profile) for line in call.lines]
                wait_bytes(sim, start, frame(shown, profile))
                assert sim.lines == shown, call.event
            assert sim.emulator.unknown == []
            status = http.post("/hw_proxy/status_json", json=rpc({}, 0)).json()["result"]
            assert status["customer_display"]["status"] == "connected"
    finally:
        sim.close()


async def test_accents_and_long_names_as_read(tmp_path: Path) -> None:
    """Spelled out once, independently of the oracle above."""
    sim = PoleDisplaySimulator(dialect="epson").start()
    service = make_service(sim.port, "epson")
    services = Services(customer_display=service)
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), services)
    try:
        with live_server(app, services=services) as url, httpx.Client(base_url=url) as http:
            lines = ["Pâté en croûte à l'ancienne, façon grand-mère   12.50", "Cœur de bœuf € ç è"]
            text = __import__("json").dumps(lines)
            answer = http.post(
                "/hw_proxy/send_text_customer_display",
                json=rpc({"text_to_display": text}, 1),
            ).json()
            assert answer["result"] is True
            assert sim.wait_for(["Pâté en croûte 12.50", "Coeur de boeuf € ç è"])
    finally:
        sim.close()
