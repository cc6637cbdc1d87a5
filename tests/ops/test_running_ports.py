"""doctor checks the ports a hand-started proxy listens on (``serve --http-port ...``), not
those of its configuration file."""

from __future__ import annotations

from pathlib import Path

from posboxless.config import ServerConfig
from posboxless.ops.checks import Probe, run_checks
from posboxless.ops.layout import Layout
from posboxless.ops.running import RunningProxy

LISTEN = [
    "http://localhost:18069",
    "https://localhost:18443",
    "http://127.0.0.2:18069 (POS API only)",
]


def running(listen: list[str]) -> RunningProxy:
    return RunningProxy(
        url="http://127.0.0.1:18069",
        config_file=None,
        data_dir=Path("/srv/data"),
        diagnostics={"listen": listen, "data_dir": "/srv/data", "devices": []},
    )


def test_listen_urls_give_the_ports() -> None:
    assert running(LISTEN).server_ports() == {"http_port": 18069, "https_port": 18443}
    assert running(["http://[::1]:8070"]).server_ports() == {"http_port": 8070}
    assert running(["nonsense", "http://x:notaport", 3]).server_ports() == {}  # type: ignore[list-item]


def test_doctor_checks_the_ports_the_proxy_listens_on(tmp_path: Path) -> None:
    asked: list[ServerConfig] = []

    def answer(server: ServerConfig) -> RunningProxy:
        asked.append(server)
        return running(LISTEN)

    probe = Probe(
        layout=Layout(tmp_path),
        service_active=lambda unit: None,
        hostname=lambda: "till1",
        port_state=lambda host, port: "in-use",
        answers_as_posboxless=lambda host, port, tls: port in (18069, 18443),
        running=answer,
    )
    results = {r.name: r.message for r in run_checks(None, probe)}
    assert asked and asked[0].http_port == 8069  # found through the defaults' port...
    assert "port 8069" not in results  # ...but checked where it listens
    assert results["port 18069"] == "posboxless answers on port 18069 (HTTP)."
    assert results["port 18443"] == "posboxless answers on port 18443 (HTTPS)."
    epos = results["ePOS address of printer 'receipt'"]
    assert "127.0.0.1:18069 (http Odoo)" in epos and "127.0.0.1:18443 (https Odoo)" in epos
