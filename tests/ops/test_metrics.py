from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from posboxless.device import (
    ActivitySnapshot,
    DeviceService,
    DeviceSnapshot,
    DeviceStatus,
    PrinterSnapshot,
    ScaleReading,
    ScaleSnapshot,
    ScannerSnapshot,
)
from posboxless.ops.metrics import Metrics
from posboxless.printer.escpos.status import PrinterState
from posboxless.web.metrics import MetricsMiddleware, route_label
from tests.helpers import until


class FakeDevice:
    def __init__(
        self,
        kind: str,
        name: str,
        status: str,
        details: dict[str, Any],
        reading: dict[str, Any] | None = None,
    ) -> None:
        self.kind, self.name = kind, name
        self._status = DeviceStatus(status, ())  # type: ignore[arg-type]
        self._details = details
        if reading is not None:
            self.reading = lambda: reading

    def status(self) -> DeviceStatus:
        return self._status

    def details(self) -> dict[str, Any]:
        return self._details

    def snapshot(self) -> DeviceSnapshot:
        """The typed snapshot a real service of this kind would give for these details."""
        facts = self.details()
        activity = ActivitySnapshot(
            last_ok=facts.get("last_ok"), counters=dict(facts.get("counters", {}))
        )
        if self.kind == "printer":
            bits = facts.get("printer_state")
            state = None
            if bits is not None:
                ready = {"online": True, "cover_open": False, "paper_near_end": False}
                ready |= {"paper_out": False, "drawer_pin3_high": False, "error": None}
                state = PrinterState(**{**ready, **bits})
            return PrinterSnapshot(
                self.name,
                "fake",
                "fake",
                self._status,
                pending_jobs=facts.get("pending_jobs", 0),
                activity=activity,
                printer_state=state,
                last_printed=facts.get("last_printed"),
                oldest_pending_created=facts.get("oldest_pending_created"),
            )
        if self.kind == "scale":
            read = self.reading() if hasattr(self, "reading") else {"weight": 0.0}
            return ScaleSnapshot(
                name=self.name,
                status=self._status,
                reading=ScaleReading(read["weight"], read.get("unit", "kg")),
                activity=activity,
            )
        return ScannerSnapshot(name=self.name, status=self._status, activity=activity)

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Broken(FakeDevice):
    def details(self) -> dict[str, Any]:
        raise RuntimeError("boom")


class Devices:
    def __init__(self, *devices: Any) -> None:
        self.devices = list(devices)

    def all(self) -> list[DeviceService]:
        return self.devices


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: Metrics, metric: str, /, **labels: str) -> float:
    return samples(metrics)[(metric, tuple(sorted(labels.items())))]


def test_device_figures_come_from_cached_state() -> None:
    printer = FakeDevice(
        "printer",
        "receipt",
        "connected",
        {
            "counters": {"printed": 7, "interrupted": 2, "expired": 1, "transport_errors": 3},
            "pending_jobs": 4,
            "last_ok": 1700000000.0,
        },
    )
    scale = FakeDevice(
        "scale",
        "ariva",
        "disconnected",
        {"counters": {"readings": 120}},
        reading={"weight": 1.25, "unit": "kg", "info": "ok"},
    )
    scanner = FakeDevice("scanner", "scanners", "connected", {"counters": {"barcodes": 5}})
    metrics = Metrics(Devices(printer, scale, scanner))

    assert value(metrics, "posboxless_device_up", kind="printer", name="receipt") == 1
    assert value(metrics, "posboxless_device_up", kind="scale", name="ariva") == 0
    assert (
        value(
            metrics, "posboxless_device_status", kind="scale", name="ariva", status="disconnected"
        )
        == 1
    )
    assert (
        value(metrics, "posboxless_device_status", kind="scale", name="ariva", status="connected")
        == 0
    )
    assert value(metrics, "posboxless_print_jobs_total", printer="receipt", outcome="printed") == 7
    assert value(metrics, "posboxless_print_jobs_total", printer="receipt", outcome="failed") == 2
    assert value(metrics, "posboxless_print_jobs_total", printer="receipt", outcome="expired") == 1
    assert value(metrics, "posboxless_print_queue_depth", printer="receipt") == 4
    assert (
        value(
            metrics,
            "posboxless_device_events_total",
            kind="printer",
            name="receipt",
            event="transport_errors",
        )
        == 3
    )
    assert value(metrics, "posboxless_scale_weight", name="ariva", unit="kg") == 1.25
    assert value(metrics, "posboxless_scale_readings_total", name="ariva") == 120
    assert value(metrics, "posboxless_scans_total", name="scanners") == 5
    assert (
        value(
            metrics, "posboxless_device_last_ok_timestamp_seconds", kind="printer", name="receipt"
        )
        == 1700000000.0
    )

    # Scraped live: a change in the services shows at the next scrape.
    printer._details["counters"]["printed"] = 8
    assert value(metrics, "posboxless_print_jobs_total", printer="receipt", outcome="printed") == 8


def test_a_broken_device_does_not_hide_the_others() -> None:
    ok = FakeDevice("printer", "receipt", "connected", {})
    metrics = Metrics(Devices(Broken("scale", "x", "connected", {}), ok))
    assert value(metrics, "posboxless_device_up", kind="printer", name="receipt") == 1
    assert value(metrics, "posboxless_device_scrape_errors") == 1


def test_each_metrics_object_has_its_own_registry() -> None:
    a = Metrics(Devices(FakeDevice("printer", "a", "connected", {})))
    b = Metrics(Devices(FakeDevice("printer", "b", "error", {})))
    a.observe_request("GET", "/hw_proxy/hello", 200, 0.01)
    assert ("posboxless_device_up", (("kind", "printer"), ("name", "b"))) not in samples(a)
    assert (
        value(
            a, "posboxless_http_requests_total", method="GET", route="/hw_proxy/hello", code="200"
        )
        == 1
    )
    assert (
        "posboxless_http_requests_total",
        (("code", "200"), ("method", "GET"), ("route", "/hw_proxy/hello")),
    ) not in samples(b)
    assert value(b, "posboxless_build_info", version=__import__("posboxless").__version__) == 1


@pytest.mark.parametrize(
    ("path", "code", "label"),
    [
        ("/hw_proxy/status_json", 200, "/hw_proxy/status_json"),
        ("/hw_proxy/status_json/", 200, "/hw_proxy/status_json"),
        ("/hw_proxy/made_up_123", 404, "other"),
        ("/hw_proxy/a/b", 200, "other"),
        ("/", 200, "/"),
        ("/wp-login.php", 200, "other"),
        ("/static/app.js", 200, "/static"),
        ("/api/test_print", 403, "/api/test_print"),
    ],
)
def test_route_labels_are_bounded(path: str, code: int, label: str) -> None:
    assert route_label(path, code) == label


def _app(metrics: Metrics) -> MetricsMiddleware:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("ping")

    async def status(request: Request) -> Response:
        return JSONResponse({"jsonrpc": "2.0", "result": {}})

    async def crash(request: Request) -> Response:
        raise RuntimeError("bug")

    async def scrape(request: Request) -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    app = Starlette(
        routes=[
            Route("/hw_proxy/hello", hello),
            Route("/hw_proxy/status_json", status, methods=["POST"]),
            Route("/hw_proxy/crash", crash),
            Route("/metrics", scrape),
        ]
    )
    return MetricsMiddleware(app, metrics)


async def test_middleware_times_requests_by_route() -> None:
    metrics = Metrics(Devices())
    transport = httpx.ASGITransport(app=_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for _ in range(3):
            assert (await client.get("/hw_proxy/hello")).text == "ping"
        await client.post("/hw_proxy/status_json/", json={})  # redirected or 404: still bounded
        await client.post("/hw_proxy/status_json", json={})
        await client.get("/hw_proxy/nonsense1")
        await client.get("/hw_proxy/nonsense2")
        assert (await client.get("/hw_proxy/crash")).status_code == 500
        text = (await client.get("/metrics")).text
    assert "posboxless_http_request_duration_seconds_bucket" in text
    assert (
        value(
            metrics,
            "posboxless_http_request_duration_seconds_count",
            method="GET",
            route="/hw_proxy/hello",
        )
        == 3
    )
    assert (
        value(
            metrics,
            "posboxless_http_requests_total",
            method="POST",
            route="/hw_proxy/status_json",
            code="200",
        )
        >= 1
    )
    assert (
        value(metrics, "posboxless_http_requests_total", method="GET", route="other", code="404")
        == 2
    )
    assert (
        value(
            metrics,
            "posboxless_http_requests_total",
            method="GET",
            route="/hw_proxy/crash",
            code="500",
        )
        == 1
    )
    routes = {
        dict(k[1]).get("route") for k in samples(metrics) if k[0].startswith("posboxless_http")
    }
    assert "/hw_proxy/nonsense1" not in routes


async def test_metrics_of_the_real_app_and_simulated_devices(tmp_path: Any) -> None:
    from posboxless.app import create_app
    from posboxless.config import Config, ServerConfig
    from posboxless.services import build_services

    config = Config(server=ServerConfig(data_dir=tmp_path, simulate=True))
    services = build_services(config)
    app = create_app(config, services)  # its own /metrics route and timing middleware
    await services.start()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            await http.get("/hw_proxy/hello")
            printer = services.default_printer
            assert printer is not None
            await printer.wait_job(await printer.submit_drawer_kick(), timeout=10)
            response = await http.get("/metrics")
    finally:
        await services.stop()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    jobs = {
        s.labels["outcome"]: s.value
        for s in families["posboxless_print_jobs"].samples
        if s.name == "posboxless_print_jobs_total"
    }
    assert jobs["printed"] == 1
    up = {
        (s.labels["kind"], s.labels["name"]): s.value
        for s in families["posboxless_device_up"].samples
    }
    assert up[("printer", "receipt")] == 1 and ("scale", "scale") in up
    hello = [
        s
        for s in families["posboxless_http_requests"].samples
        if s.labels.get("route") == "/hw_proxy/hello"
    ]
    assert hello and hello[0].value == 1


async def test_a_job_the_journal_says_done_is_already_in_the_metrics(tmp_path: Any) -> None:
    """Whoever learns that a job is done (``wait_job`` reads the journal) finds it printed and
    out of the queue in /metrics: the worker publishes what the printer proved before the
    journal says done (metrics once counted 0 printed jobs right after ``wait_job``)."""
    from posboxless.device import JobState
    from posboxless.printer.config import PrinterConfig
    from posboxless.printer.service import EscPosPrinterService
    from posboxless.printer.simulator import TcpPrinterSimulator
    from posboxless.printer.worker import WorkerSettings
    from posboxless.transports.tcp import TcpTransport

    simulator = TcpPrinterSimulator().start()
    config = PrinterConfig(name="receipt", host=(simulator.host, simulator.port))
    fast = WorkerSettings(status_interval=0.05, status_timeout=0.5, retry_min=0.02, retry_max=0.1)
    printer = EscPosPrinterService(
        config, TcpTransport(simulator.host, simulator.port), tmp_path, settings=fast
    )
    metrics = Metrics(Devices(printer))
    seen: list[object] = []

    def journaled(job_id: int, state: JobState) -> None:
        # The worker thread, the moment the journal says done: what a waiter would read next.
        if state is JobState.PRINTED:
            try:
                seen.append(samples(metrics))
            except Exception as exc:
                seen.append(exc)

    await printer.start()
    try:
        printer._require_queue().add_listener(journaled)
        outcome = await printer.wait_job(await printer.submit_drawer_kick(), timeout=10)
        assert outcome.state.value == "done"
        # The listener runs in the worker thread and may be overtaken by the waiter it woke.
        await until(lambda: seen, "the listener saw the job done")
    finally:
        await printer.stop()
        simulator.stop()
    (figures,) = seen
    assert isinstance(figures, dict), figures
    assert figures[("posboxless_print_queue_depth", (("printer", "receipt"),))] == 0
    assert (
        figures[("posboxless_print_jobs_total", (("outcome", "printed"), ("printer", "receipt")))]
        == 1
    )


async def test_a_real_printer_shows_last_activity_and_queue_depth(tmp_path: Any) -> None:
    """Through the real printer service on TCP against the simulator, not a fake: its last
    activity and queue depth reach /metrics (a fake once supplied keys the real one lacked)."""
    from posboxless.printer.config import PrinterConfig
    from posboxless.printer.service import EscPosPrinterService
    from posboxless.printer.simulator import TcpPrinterSimulator
    from posboxless.printer.worker import WorkerSettings
    from posboxless.transports.tcp import TcpTransport

    simulator = TcpPrinterSimulator().start()
    config = PrinterConfig(name="receipt", host=(simulator.host, simulator.port))
    fast = WorkerSettings(status_interval=0.05, status_timeout=0.5, retry_min=0.02, retry_max=0.1)
    printer = EscPosPrinterService(
        config, TcpTransport(simulator.host, simulator.port), tmp_path, settings=fast
    )
    metrics = Metrics(Devices(printer))
    await printer.start()
    try:
        outcome = await printer.wait_job(await printer.submit_drawer_kick(), timeout=10)
        assert outcome.state.value == "done"
        figures = samples(metrics)
    finally:
        await printer.stop()
        simulator.stop()
    last_ok = figures[
        (
            "posboxless_device_last_ok_timestamp_seconds",
            (("kind", "printer"), ("name", "receipt")),
        )
    ]
    assert last_ok > 1_600_000_000
    assert figures[("posboxless_print_queue_depth", (("printer", "receipt"),))] == 0
    assert (
        figures[("posboxless_print_jobs_total", (("outcome", "printed"), ("printer", "receipt")))]
        == 1
    )
