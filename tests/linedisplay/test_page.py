"""The diagnostics page shows the live 2×20 text of the (simulated) customer display."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services, build_services

from ..chromium import CHROMIUM, CHROMIUM_ARGS
from ..live import live_server


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    config = Config(server=ServerConfig(data_dir=tmp_path, simulate=True))
    services = build_services(config)
    with live_server(create_app(config, services), services=services) as url:
        yield url, services


def send(url: str, lines: list[str]) -> None:
    body = {"jsonrpc": "2.0", "method": "call", "id": 1}
    body["params"] = {"text_to_display": json.dumps(lines)}
    answer = httpx.post(f"{url}/hw_proxy/send_text_customer_display", json=body).json()
    assert answer["result"] is True, answer


def test_simulate_mode_has_a_display_and_the_page_renders_it(
    demo: tuple[str, Services],
) -> None:
    url, services = demo
    display = services.customer_display
    assert display is not None and display.simulator is not None
    send(url, ["Crème brûlée", "1 x 3.50        3.50"])
    assert display.simulator.wait_for(["Crème brûlée".ljust(20), "1 x 3.50        3.50"])
    page = httpx.get(f"{url}/").text
    assert "id='pole-display'" in page
    assert "Crème brûlée" in page
    state = httpx.get(f"{url}/api/diagnostics").json()
    (device,) = [d for d in state["devices"] if d["kind"] == "customer_display"]
    assert device["details"]["display_shows"] == ["Crème brûlée".ljust(20), "1 x 3.50        3.50"]


def test_a_page_without_a_display_has_no_card(tmp_path: Path) -> None:
    config = Config(server=ServerConfig(data_dir=tmp_path))
    with live_server(create_app(config, Services())) as url:
        # The card itself, not the name: the page also embeds the process-wide log ring, where
        # an earlier test's display (default name "pole-display") may have left a line.
        assert "<div id='pole-display'" not in httpx.get(f"{url}/").text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="the distribution's chromium is not installed")
def test_page_shows_the_live_text(demo: tuple[str, Services]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = demo
    with sync_playwright() as p:
        browser: Any = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url.replace("127.0.0.1", "localhost") + "/")
            rows = page.locator("#pole-display .pole-row")
            send(url, ["Pâté en croûte", "Total         12.50"])
            expect(rows.nth(0)).to_have_text("Pâté en croûte".ljust(20), timeout=10_000)
            expect(rows.nth(1)).to_have_text("Total         12.50".ljust(20))
            send(url, ["Your Change:", "4.89"])
            expect(rows.nth(0)).to_have_text("Your Change:".ljust(20), timeout=10_000)
            expect(page.locator("#pole-display .pole-status")).to_have_text("connected")
        finally:
            browser.close()
