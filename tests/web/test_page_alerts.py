"""The page alerts: a banner for each device down, for jobs waiting or expired, for the origin
policy and the certificate, each with its fix; "no scale" instead of a weight; the demo says where
receipts are saved and shows the last one. Screenshots go to test-artifacts/."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from posboxless import logs
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig, parse_config
from posboxless.printer.queue import JobQueue
from posboxless.services import Services, build_services
from tests.helpers import wait_until

from ..chromium import CHROMIUM, launched
from ..live import live_server
from ..ops.certs import write_certificate

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="the distribution's chromium is not installed"),
]


@dataclass
class Proxy:
    url: str
    services: Services
    data_dir: Path


@pytest.fixture
def ring() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs.recent)
    root.setLevel(logging.INFO)
    yield
    root.removeHandler(logs.recent)
    root.setLevel(level)


@pytest.fixture
def devices_down(tmp_path: Path, ring: None) -> Iterator[Proxy]:
    """A till whose printer, scale and scanner are all unplugged, with five receipts waiting and
    a drawer kick expired, no origin policy and an expired certificate."""
    data_dir = tmp_path / "data"
    config = parse_config(
        {
            "server": {"data_dir": str(data_dir), "https_port": 8443},
            "printer": [{"name": "receipt", "serial": "/dev/ttyUSB7"}],
            "scale": {"port": "/dev/ttyUSB8"},
            "scanner": [{"name": "counter", "device": "/dev/input/event99"}],
        }
    )
    queue = JobQueue(data_dir / "printers" / "receipt.sqlite3")
    for n in range(5):
        queue.enqueue("text", f"receipt {n}\n".encode())
    drawer = queue.enqueue("drawer", b"\x1bp\x00\x19\x19")
    queue.mark_expired(drawer, "older than the 10 s limit")
    told = queue.enqueue("xml", b"<receipt/>")
    assert queue.withdraw(told, "the printer did not take it within 10 s")
    queue.close()
    now = datetime.now(timezone.utc)
    write_certificate(
        data_dir / "tls",
        ["localhost", "127.0.0.1"],
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=1),
    )
    services = build_services(config)
    with live_server(create_app(config, services), services=services) as url:
        assert wait_until(
            lambda: all(d.status().status != "connecting" for d in services.all()), 10
        )
        yield Proxy(url, services, data_dir)


def titles(proxy: Proxy) -> list[dict[str, str]]:
    alerts: list[dict[str, str]] = httpx.get(f"{proxy.url}/api/diagnostics").json()["alerts"]
    return alerts


def test_every_problem_has_a_banner_with_its_fix(devices_down: Proxy) -> None:
    alerts = titles(devices_down)
    text = "\n".join(f"{a['level']}: {a['title']} -> {a['fix']}" for a in alerts)
    bad = [a for a in alerts if a["level"] == "bad"]
    for expected in (
        "Printer 'receipt' is ",
        "Scale 'scale' is ",
        "Scanner 'scanner' is ",
        "5 job(s) waiting on printer 'receipt'.",
        "Job 6 (drawer) on printer 'receipt' expired: older than the 10 s limit",
        "certificate",
    ):
        assert any(expected in a["title"] for a in bad), f"{expected!r} not among\n{text}"
    assert any("allowed_origins" in a["title"] for a in alerts)
    (withdrawn,) = [a for a in alerts if "was not printed" in a["title"]]
    assert withdrawn["level"] == "warn" and withdrawn["title"] == (
        "Job 7 (xml) on printer 'receipt' was not printed: the printer could not take it in "
        "time, and the POS was told (the printer did not take it within 10 s)."
    )
    assert all(a["fix"] for a in bad), text
    assert "/dev/ttyUSB7" in next(a["title"] for a in bad if "Printer" in a["title"])
    assert [a["level"] for a in alerts] == sorted(
        (a["level"] for a in alerts), key=["bad", "warn", "info"].index
    )


def test_the_page_without_javascript_already_shows_the_banners(devices_down: Proxy) -> None:
    page = httpx.get(devices_down.url + "/").text
    assert "5 job(s) waiting on printer &#x27;receipt&#x27;." in page
    assert "class='alert bad'" in page


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched() as browser:
        yield browser


@pytest.mark.browser
def test_screenshot_of_the_page_with_devices_down(devices_down: Proxy, chromium: Any) -> None:
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1200, "height": 1000})
    page.goto(devices_down.url + "/")
    page.wait_for_selector("body[data-rendered]")
    banners = page.locator("#warnings .alert.bad")
    expect(banners.filter(has_text="Printer 'receipt' is")).to_have_count(1)
    expect(banners.filter(has_text="Scale 'scale' is")).to_have_count(1)
    expect(banners.filter(has_text="Scanner 'scanner' is")).to_have_count(1)
    expect(banners.filter(has_text="5 job(s) waiting")).to_have_count(1)
    expect(banners.filter(has_text="(drawer) on printer 'receipt' expired")).to_have_count(1)
    expect(banners.filter(has_text="The certificate expired")).to_have_count(1)
    expect(page.locator("#warnings .alert", has_text="allowed_origins")).to_have_count(1)
    expect(page.locator("#scale #weight")).to_have_text("no scale")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diagnostics-devices-down.png"), full_page=True)
    page.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Proxy]:
    config = Config(server=ServerConfig(data_dir=tmp_path, simulate=True, https_port=0))
    services = build_services(config)
    with live_server(create_app(config, services), services=services) as url:
        yield Proxy(url.replace("127.0.0.1", "localhost"), services, tmp_path)


def test_demo_says_where_receipts_are_and_serves_the_last_one(demo: Proxy) -> None:
    before = httpx.get(demo.url + "/api/last_receipt.png")
    assert before.status_code == 404
    data = httpx.get(demo.url + "/api/diagnostics").json()
    folder = str(demo.data_dir / "simulated-printer")
    assert data["simulated_receipts"]["folder"] == folder
    assert any(folder in a["title"] and a["level"] == "info" for a in data["alerts"])
    printer = demo.services.printers["receipt"]
    httpx.post(demo.url + "/api/test_print", json={})
    assert wait_until(lambda: any((demo.data_dir / "simulated-printer").glob("*.png")), 10)
    image = httpx.get(demo.url + "/api/last_receipt.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert printer.status().status == "connected"


@pytest.mark.browser
def test_demo_page_shows_the_last_receipt(demo: Proxy, chromium: Any) -> None:
    from playwright.sync_api import expect

    port = urlsplit(demo.url).port
    page = chromium.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(f"http://localhost:{port}/")
    expect(page.locator("#receipt-box")).to_contain_text("simulated-printer")
    page.locator('[data-printer="receipt"] button', has_text="Test print").click()
    image = page.locator("#last-receipt")
    expect(image).to_be_visible(timeout=15_000)
    deadline = time.monotonic() + 10
    while not page.evaluate("document.getElementById('last-receipt').naturalWidth > 0"):
        assert time.monotonic() < deadline, "the receipt image did not load"
        page.wait_for_timeout(50)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "diagnostics-demo-receipt.png"), full_page=True)
    page.close()
