"""The registry of device kinds is the only wiring: a kind that exists only in the tests
(``tests/fakekind``: a door bell) registered by one line is configured, built, started, listed in
``status_json``, answers its ``/hw_proxy`` call, has its section on the page, its check in
``doctor`` and its families in ``/metrics``, with no other module edited."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from posboxless import kinds
from posboxless.app import create_app
from posboxless.config import parse_config
from posboxless.ops.checks import run_checks
from posboxless.ops.layout import Layout
from posboxless.ops.probe import Probe
from posboxless.services import Services, build_services, claimed_serial_ports
from posboxless.settings import ConfigError
from posboxless.web import hw_proxy
from posboxless.web.hw_calls import KindWeb
from posboxless.web.jsonrpc import RpcError

from .fakekind import kind as bell
from .fakekind.service import BellConfig, BellService

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.fixture
def bell_registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(kinds, "KINDS", [*kinds.KINDS, bell.KIND])  # the one line
    yield


def till(tmp_path: Path) -> str:
    return (
        f'[server]\ndata_dir = "{tmp_path / "data"}"\nhttps_port = 0\n'
        '[[bell]]\nname = "door"\nport = "/dev/ttyBELL0"\n'
    )


def test_without_its_line_the_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(tomllib.loads(till(tmp_path)))
    assert "bell" in str(refused.value)


def test_its_table_is_read_by_the_kind(bell_registered: None, tmp_path: Path) -> None:
    config = parse_config(tomllib.loads(till(tmp_path)))
    assert config.configs_of(bell.KIND) == (BellConfig("door", "/dev/ttyBELL0"),)
    assert config.devices_configured and not config.simulate
    assert "/dev/ttyBELL0" in claimed_serial_ports(config)  # no scale or scanner probes it
    with pytest.raises(ConfigError) as refused:
        parse_config(tomllib.loads(till(tmp_path).replace("/dev/ttyBELL0", "COM1")))
    assert refused.value.key == "bell[0].port"


async def test_a_registered_kind_is_served_everywhere(
    bell_registered: None, tmp_path: Path
) -> None:
    config = parse_config(tomllib.loads(till(tmp_path)))
    services = build_services(config)
    [door] = services.of_kind("bell")
    assert isinstance(door, BellService) and door in services.all()
    await services.start()
    try:
        app = create_app(config, services)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8069") as http:
            rang = await http.post("/hw_proxy/bell_ring", json={"params": {}})
            assert rang.json()["result"] is True and door.rings == 1
            status = (await http.post("/hw_proxy/status_json", json={})).json()["result"]
            assert status["bell"] == {"status": "connected", "messages": []}
            page = (await http.get("/")).text
            assert "<h2>Bells</h2>" in page and "door: 1 rings" in page
            devices = (await http.get("/api/diagnostics")).json()["devices"]
            assert {"kind": "bell", "name": "door"}.items() <= devices[-1].items()
            metrics = (await http.get("/metrics")).text
            assert 'posboxless_bell_rings_total{name="door"} 1.0' in metrics
            assert 'posboxless_device_up{kind="bell",name="door"} 1.0' in metrics
            assert 'posboxless_device_events_total{event="rings",kind="bell",name="door"}' in (
                metrics
            )
    finally:
        await services.stop()
    assert door.status().status == "disconnected"


def test_doctor_runs_its_checks(bell_registered: None, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "root")
    layout.config_dir.mkdir(parents=True)
    layout.config_file.write_text(till(tmp_path))
    probe = Probe(layout=layout, service_active=lambda unit: False)
    [check] = [r for r in run_checks(None, probe) if r.name == "bell 'door'"]
    assert check.level == "warn" and "/dev/ttyBELL0 does not exist" in check.message
    (layout.root / "dev").mkdir()
    (layout.root / "dev/ttyBELL0").touch()
    [check] = [r for r in run_checks(None, probe) if r.name == "bell 'door'"]
    assert check.level == "ok"


async def _true(call: object) -> bool:
    return True


def test_a_method_claimed_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    found = hw_proxy.web_parts()
    twice = KindWeb(handlers=lambda context: {"scale_read": _true})
    monkeypatch.setattr(hw_proxy, "web_parts", lambda: [*found, twice])
    with pytest.raises(ValueError, match="scale_read"):
        hw_proxy.HwProxyApi(Services(), 1024)


async def test_a_kind_may_take_over_an_unsupported_call(monkeypatch: pytest.MonkeyPatch) -> None:
    unsupported = hw_proxy.HwProxyApi(Services(), 1024).handlers["payment_request"]
    with pytest.raises(RpcError) as refused:
        await unsupported(None)  # type: ignore[arg-type]
    assert refused.value.name == "posboxless.NotSupported"
    found = hw_proxy.web_parts()
    payments = KindWeb(handlers=lambda context: {"payment_request": _true})
    monkeypatch.setattr(hw_proxy, "web_parts", lambda: [*found, payments])
    assert hw_proxy.HwProxyApi(Services(), 1024).handlers["payment_request"] is _true
