"""The diagnostics API against the real simulated devices (loopback pty/TCP simulators)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services, build_services
from tests.helpers import until

TOKEN = "till-admin-token"
LOCAL = ("127.0.0.1", 50000)
REMOTE = ("192.168.1.77", 50000)


@pytest.fixture
async def simulated(tmp_path: Path) -> AsyncIterator[tuple[Config, Services]]:
    config = Config(
        server=ServerConfig(
            data_dir=tmp_path,
            simulate=True,
            admin_token=TOKEN,
            allowed_hosts=("till1.shop.lan",),
        )
    )
    services = build_services(config)
    await services.start()
    yield config, services
    await services.stop()


@pytest.fixture
def client_for(
    simulated: tuple[Config, Services],
) -> Callable[..., httpx.AsyncClient]:
    config, services = simulated
    app = create_app(config, services)

    def make(client: tuple[str, int] = LOCAL, host: str = "localhost:8069") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=client)
        return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")

    return make


def journal(services: Services) -> list[dict[str, Any]]:
    return services.printers["receipt"].journal(10)  # type: ignore[attr-defined,no-any-return]


async def test_snapshot_lists_simulated_devices(
    client_for: Callable[..., httpx.AsyncClient],
) -> None:
    async with client_for() as http:
        data = (await http.get("/api/diagnostics")).json()
    kinds = {d["kind"]: d for d in data["devices"]}
    assert {"printer", "scale", "scanner", "display"} <= set(kinds)
    assert kinds["printer"]["details"]["connection"]
    assert data["actions"] == {"allowed": True, "reason": ""}
    assert data["printers"][0]["name"] == "receipt" and data["printers"][0]["default"]
    assert "Simulated devices" in " ".join(data["warnings"])


async def test_test_print_reprint_and_drawer_from_the_till(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    async with client_for() as http:
        answer = await http.post("/api/test_print", json={"printer": "receipt"})
        assert answer.status_code == 200, answer.text
        assert "Test page queued" in answer.json()["message"]
        await until(lambda: journal(services)[0]["state"] == "done", "test page printed")
        first = journal(services)[0]["id"]

        answer = await http.post("/api/reprint", json={"printer": "receipt", "job_id": first})
        assert answer.status_code == 200, answer.text
        await until(lambda: journal(services)[0]["state"] == "done", "reprint printed")
        assert journal(services)[0]["reprint_of"] == first

        answer = await http.post("/api/drawer_test", json={})  # default printer
        assert answer.status_code == 200
        await until(lambda: journal(services)[0]["kind"] == "drawer", "drawer kick queued")

        answer = await http.post("/api/reprint", json={"job_id": journal(services)[0]["id"]})
        assert answer.status_code == 400 and "cannot be reprinted" in answer.json()["error"]


async def test_bad_requests_are_refused_with_a_message(
    client_for: Callable[..., httpx.AsyncClient],
) -> None:
    async with client_for() as http:
        r = await http.post("/api/test_print", content=b"{not json")
        assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
        r = await http.post("/api/test_print", json=["receipt"])
        assert r.status_code == 400
        r = await http.post("/api/test_print", json={"printer": "kitchen"})
        assert r.status_code == 409 and "kitchen" in r.json()["error"]
        r = await http.post("/api/reprint", json={"printer": "receipt"})
        assert r.status_code == 400 and "job_id" in r.json()["error"]
        r = await http.post("/api/reprint", json={"job_id": 999999})
        assert r.status_code == 400 and "No print job 999999" in r.json()["error"]
        r = await http.post("/api/inject_barcode", json={"code": ""})
        assert r.status_code == 400


async def test_other_computers_need_the_admin_token(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    async with client_for(REMOTE, host="till1.shop.lan:8069") as http:
        data = (await http.get("/api/diagnostics")).json()
        assert data["actions"]["allowed"] is False and "admin token" in data["actions"]["reason"]
        r = await http.post("/api/drawer_test", json={})
        assert r.status_code == 403
        r = await http.post("/api/drawer_test", json={}, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 403
        assert journal(services) == []
        r = await http.post(
            "/api/drawer_test", json={}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 200


async def test_other_sites_pages_cannot_act_even_on_the_till(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    async with client_for() as http:
        r = await http.post("/api/drawer_test", json={}, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403
        same = await http.post(
            "/api/drawer_test", json={}, headers={"Origin": "http://localhost:8069"}
        )
        assert same.status_code == 200
    # DNS rebinding: a loopback peer that calls us by someone else's name.
    async with client_for(LOCAL, host="evil.example:8069") as http:
        r = await http.post("/api/test_print", json={})
        assert r.status_code == 421
    assert [j["kind"] for j in journal(services)] == ["drawer"]


async def test_page_renders_without_javascript_and_escapes_barcodes(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    async with client_for() as http:
        r = await http.post("/api/inject_barcode", json={"code": "</script><b>x</b>"})
        assert r.status_code == 200
        await until(lambda: bool(services.scanner and services.scanner.recent()), "barcode seen")
        page = await http.get("/")
    assert page.status_code == 200
    assert "<td class='connected'>connected</td>" in page.text
    assert "</script><b>x" not in page.text
    assert "http://" not in page.text.replace("http://localhost", "")  # nothing external
    assert "<script src" not in page.text and "<link" not in page.text


async def test_simulated_weight_can_be_set(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    scale = services.scale
    assert scale is not None
    async with client_for() as http:
        r = await http.post("/api/simulate_weight", json={"weight": 2.5})
        assert r.status_code == 200 and "2.500 kg" in r.json()["message"]
        await until(lambda: scale.reading()["weight"] == 2.5, "the scale reads 2.5 kg")
        r = await http.post("/api/simulate_weight", json={"weight": 0.3, "moving": True})
        assert r.status_code == 200
        await until(lambda: scale.reading()["info"] == ["moving"], "the scale reads motion")
        for bad in ({"weight": "heavy"}, {"weight": -1}, {"weight": True}, {}):
            r = await http.post("/api/simulate_weight", json=bad)
            assert r.status_code == 400 and "weight in kg" in r.json()["error"]


async def test_a_real_scale_weight_cannot_be_set(
    client_for: Callable[..., httpx.AsyncClient], simulated: tuple[Config, Services]
) -> None:
    _, services = simulated
    services.scale.simulator = None  # type: ignore[union-attr]  # as on a real till
    async with client_for() as http:
        r = await http.post("/api/simulate_weight", json={"weight": 1})
    assert r.status_code == 409 and "real one" in r.json()["error"]
