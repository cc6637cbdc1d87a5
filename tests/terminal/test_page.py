"""The diagnostics page's payment-terminal box in headless Chromium, on the demo's simulated
terminal: the next outcome chosen from the page, the last transactions with amounts and
outcomes (never a full card number), and an unknown outcome settled from the terminal's ticket."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services, build_services
from posboxless.terminal.simulator import TEST_CARD

from ..chromium import CHROMIUM, CHROMIUM_ARGS
from ..live import live_server
from .conftest import FAST

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="the distribution's chromium is not installed"),
]


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[Services, str]]:
    config = Config(server=ServerConfig(data_dir=tmp_path, simulate=True))
    services = build_services(config)
    terminal = services.terminals.get(None)
    terminal.config = replace(terminal.config, timing=FAST)
    terminal.simulator.card_delay = 0.2
    with live_server(create_app(config, services), services=services) as url:
        yield services, url


def pay(url: str, amount: float) -> dict[str, Any]:
    info = json.dumps({"amount": amount, "currency_iso": "EUR", "order_id": "Order 1"})
    request = urllib.request.Request(
        f"{url}/hw_proxy/payment_terminal_transaction_start",
        data=json.dumps({"params": {"payment_info": info}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())["result"]
    return result


def test_terminal_box_outcomes_and_settling_an_unknown_payment(
    proxy: tuple[Services, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    services, url = proxy
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.goto(url + "/")
            box = page.locator("[data-terminal=terminal]")
            expect(box).to_contain_text("No payment yet.")
            expect(box.locator("button.chosen")).to_have_attribute("data-outcome", "accept")

            box.locator("button[data-outcome=refuse]").click()
            expect(page.locator("#notice")).to_contain_text("will refuse next")
            expect(box.locator("button.chosen")).to_have_attribute("data-outcome", "refuse")
            pay(url, 12.5)
            row = box.locator("tr[data-transaction]").first
            expect(row).to_contain_text("12.50 EUR", timeout=15000)
            expect(row.locator(".state")).to_have_text("refused", timeout=15000)

            box.locator("button[data-outcome=lose_line]").click()
            expect(box.locator("button.chosen")).to_have_attribute("data-outcome", "lose_line")
            tx = pay(url, 30)
            row = box.locator(f"tr[data-transaction='{tx['transaction_id']}']")
            expect(row.locator(".state")).to_have_text("unknown", timeout=20000)
            expect(page.locator("#warnings")).to_contain_text("check the terminal")
            row.locator("button.settle-paid").click()
            expect(row.locator(".state")).to_have_text("accepted", timeout=10000)
            page.screenshot(path=str(tmp_path / "terminal.png"))
            assert TEST_CARD not in page.content()
            assert "4455" in page.content()  # the masked card's last digits are shown
        finally:
            browser.close()
    terminal = services.terminals.get(None)
    (settled, refused) = terminal.transactions()
    assert settled.resolved_by == "diagnostics page" and settled.success is True
    assert refused.outcome == "refused"
