"""The diagnostics page in headless Chromium, against the real app and simulated devices."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from posboxless import logs
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services, build_services

from ..chromium import CHROMIUM, CHROMIUM_ARGS
from ..live import live_server

TOKEN = "counter-token-42"
OTHER_NAME = "till1.shop.test"
"""The till's name on the shop network (server.allowed_hosts), as another computer reaches it."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="the distribution's chromium is not installed"),
]


@dataclass
class RunningProxy:
    """The real application and simulated devices, served by uvicorn on a loopback port."""

    services: Services
    port: int


def _from_afar(app: Any) -> Any:
    """Requests made through OTHER_NAME come, as they would on a shop network, from another
    computer's address (tests may only ever connect to loopback)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        host = dict(scope.get("headers", [])).get(b"host", b"")
        if scope["type"] == "http" and host.startswith(OTHER_NAME.encode()):
            scope = {**scope, "client": ("192.168.1.77", 50000)}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[RunningProxy]:
    # As `posboxless serve` does (logs.setup): the page shows the in-process ring of lines.
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs.recent)
    root.setLevel(logging.INFO)
    try:
        config = Config(
            server=ServerConfig(
                data_dir=tmp_path,
                simulate=True,
                admin_token=TOKEN,
                allowed_hosts=(OTHER_NAME,),
            )
        )
        services = build_services(config)
        with live_server(_from_afar(create_app(config, services)), services=services) as url:
            yield RunningProxy(services, int(urlsplit(url).port or 0))
    finally:
        root.removeHandler(logs.recent)
        root.setLevel(level)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def test_page_shows_devices_and_reprint_and_test_print_work(
    proxy: RunningProxy, chromium: Any
) -> None:
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1200, "height": 1400})
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(f"http://localhost:{proxy.port}/") else external.append(r.url)
        ),
    )
    page.goto(f"http://localhost:{proxy.port}/")

    for device in ("printer:receipt", "scale:scale", "scanner:scanner"):
        expect(page.locator(f'[data-device="{device}"] td.connected')).to_have_text("connected")
    expect(page.locator("#weight")).to_have_text(re.compile(r"^\d+\.\d{3} kg$"))

    printer = page.locator('[data-printer="receipt"]')
    printer.locator("button", has_text="Test print").click()
    expect(page.locator("#notice")).to_contain_text("Test page queued")
    first = printer.locator("tr[data-job]").first
    expect(first.locator(".state")).to_have_text("done", timeout=10_000)
    job_id = first.get_attribute("data-job")

    first.locator("button.reprint").click()
    expect(page.locator("#notice")).to_contain_text(f"Job {job_id} queued again")
    reprint = printer.locator("tr[data-job]").first
    expect(reprint).to_contain_text(f"reprint of {job_id}", timeout=10_000)
    expect(reprint.locator(".state")).to_have_text("done", timeout=10_000)

    printer.locator("button", has_text="Open cash drawer").click()
    expect(page.locator("#notice")).to_contain_text("Cash drawer pulse sent")

    jobs = proxy.services.printers["receipt"].journal(10)  # type: ignore[attr-defined]
    assert [j["kind"] for j in jobs][:3] == ["drawer", "text", "text"]
    assert jobs[1]["reprint_of"] == int(job_id or 0) and jobs[1]["state"] == "done"

    # Demo controls: the simulated scale's weight, and a barcode typed as if scanned.
    page.fill("#weight-input", "2.5")
    page.click("#weight-form button")
    expect(page.locator("#notice")).to_contain_text("Simulated scale set to 2.500 kg")
    expect(page.locator("#weight")).to_have_text("2.500 kg", timeout=10_000)
    page.fill("#barcode-input", "3017620422003")
    page.click("#barcode-form button")
    expect(page.locator("#barcodes")).to_contain_text("3017620422003", timeout=10_000)

    expect(page.locator("#logs")).to_contain_text("diagnostics action test_print")
    assert external == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diagnostics-page.png"), full_page=True)
    page.close()


def test_another_computer_needs_the_admin_token(proxy: RunningProxy, playwright: Any) -> None:
    """Reached by a name that is not the till's own, actions wait for the admin token."""
    from playwright.sync_api import expect

    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {OTHER_NAME} 127.0.0.1"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    try:
        page = browser.new_page()
        page.goto(f"http://{OTHER_NAME}:{proxy.port}/")
        test_print = page.locator('[data-printer="receipt"] button', has_text="Test print")
        expect(test_print).to_be_disabled()
        expect(page.locator("#token-reason")).to_contain_text("admin token")

        page.fill("#token", "wrong")
        page.click("#token-form button")
        expect(test_print).to_be_disabled()

        page.fill("#token", TOKEN)
        page.click("#token-form button")
        expect(test_print).to_be_enabled()
        test_print.click()
        expect(page.locator("#notice")).to_contain_text("Test page queued")
    finally:
        browser.close()
