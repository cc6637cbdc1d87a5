"""The metrics a partner's monitoring relies on: reasons from a fixed set, queue age, reprints
and drawer kicks, POS clients, certificate, process health, naming and bounded labels."""

from __future__ import annotations

import asyncio
import datetime
import re
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from posboxless.ops.metrics import REASONS, Metrics, problem_reason
from posboxless.web.clients import ClientTracker
from tests.ops.test_metrics import Devices, FakeDevice, samples, value


@pytest.mark.parametrize(
    ("status", "messages", "details", "reason"),
    [
        ("connected", ("Paper near end",), {}, None),
        ("error", ("Paper out",), {"printer_state": {"paper_out": True}}, "paper_out"),
        ("error", ("Cover open",), {"printer_state": {"cover_open": True}}, "cover_open"),
        ("disconnected", ("[Errno 13] Permission denied: '/dev/usb/lp0'",), {}, "permission"),
        ("disconnected", ("Connection refused",), {}, "unplugged"),
        ("connecting", ("Connecting to 127.0.0.1:9100",), {}, "unplugged"),
        ("error", ("Printer 'receipt' is not answering",), {}, "not_answering"),
        ("error", ("The scale is busy (owned by the browser)",), {}, "busy"),
    ],
)
def test_reasons_come_from_a_fixed_set(
    status: str, messages: tuple[str, ...], details: dict[str, Any], reason: str | None
) -> None:
    assert problem_reason(status, messages, details) == reason
    assert reason is None or reason in REASONS


def test_one_reason_at_a_time_and_none_when_working() -> None:
    printer = FakeDevice("printer", "receipt", "error", {"printer_state": {"paper_out": True}})
    scale = FakeDevice("scale", "scale", "connected", {})
    metrics = Metrics(Devices(printer, scale))
    got = samples(metrics)
    for kind, name, lit in (("printer", "receipt", "paper_out"), ("scale", "scale", None)):
        for reason in REASONS:
            key = (
                "posboxless_device_problem",
                (("kind", kind), ("name", name), ("reason", reason)),
            )
            assert got[key] == (1.0 if reason == lit else 0.0)


def test_queue_age_reprints_withdrawn_and_drawer_kicks() -> None:
    created = time.time() - 120
    printer = FakeDevice(
        "printer",
        "receipt",
        "connected",
        {
            "pending_jobs": 2,
            "oldest_pending_created": created,
            "counters": {"printed": 5, "printed_drawer": 2, "reprints": 1, "withdrawn": 3},
        },
    )
    metrics = Metrics(Devices(printer))
    age = value(metrics, "posboxless_print_queue_oldest_job_age_seconds", printer="receipt")
    assert 119 <= age < 3600
    assert value(metrics, "posboxless_print_reprints_total", printer="receipt") == 1
    assert value(metrics, "posboxless_drawer_kicks_total", printer="receipt") == 2
    jobs = "posboxless_print_jobs_total"
    assert value(metrics, jobs, printer="receipt", outcome="withdrawn") == 3
    idle = FakeDevice("printer", "idle", "connected", {"oldest_pending_created": None})
    assert (
        value(
            Metrics(Devices(idle)), "posboxless_print_queue_oldest_job_age_seconds", printer="idle"
        )
        == 0
    )


def test_pos_clients_are_counted_without_their_addresses() -> None:
    clients = ClientTracker()
    clients.seen("https://shop.example.com", "192.168.1.20", "/hw_proxy/hello")
    clients.seen("https://shop.example.com", "192.168.1.21", "/hw_proxy/hello")
    metrics = Metrics(Devices(), clients)
    assert value(metrics, "posboxless_pos_clients") == 2
    last = value(metrics, "posboxless_pos_last_contact_timestamp_seconds")
    assert abs(last - time.time()) < 3600
    body = metrics.render()[0].decode()
    assert "192.168.1.20" not in body and "shop.example.com" not in body


def _certificate(path: Path, days: int) -> float:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "till")])
    now = datetime.datetime.now(datetime.timezone.utc)
    end = now + datetime.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.not_valid_after_utc.timestamp()


def test_certificate_end_of_validity(tmp_path: Path) -> None:
    path = tmp_path / "server.pem"
    end = _certificate(path, 30)
    metrics = Metrics(Devices())
    assert "posboxless_certificate_expiry" not in metrics.render()[0].decode()
    metrics.watch_certificate(path)
    assert value(metrics, "posboxless_certificate_expiry_timestamp_seconds") == end
    path.write_text("not a certificate")
    # A broken file is not a crash of the whole scrape.
    assert "posboxless_device_scrape_errors" in metrics.render()[0].decode()


def test_process_health_and_build_info_in_the_apps_own_registry() -> None:
    got = {name for name, _ in samples(Metrics(Devices()))}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= got
    assert {"python_info", "posboxless_build_info"} <= got


async def test_names_and_labels_of_a_live_simulated_till(tmp_path: Path) -> None:
    """Counters end in _total, no label holds a barcode, job id or address."""
    from posboxless.config import Config, ServerConfig
    from posboxless.services import build_services

    services = build_services(Config(server=ServerConfig(data_dir=tmp_path, simulate=True)))
    metrics = Metrics(services)
    await services.start()
    try:
        printer = services.default_printer
        assert printer is not None
        await printer.submit_drawer_kick()
        for _ in range(500):
            if printer.details()["counters"].get("printed"):
                break
            await asyncio.sleep(0.01)
        body = metrics.render()[0].decode()
    finally:
        await services.stop()
    allowed_labels = {
        "kind", "name", "status", "reason", "event", "printer", "outcome", "unit", "terminal",
        "method", "route", "code", "le", "version", "implementation", "major", "minor",
        "patchlevel",
    }  # fmt: skip
    for family in text_string_to_metric_families(body):
        assert re.fullmatch(r"[a-z_]+", family.name), family.name
        for sample in family.samples:
            if family.type == "counter" and not sample.name.endswith("_created"):
                assert sample.name.endswith("_total"), sample.name
            assert set(sample.labels) <= allowed_labels, (sample.name, sample.labels)
    assert 'posboxless_drawer_kicks_total{printer="receipt"} 1.0' in body
    assert 'posboxless_print_last_printed_timestamp_seconds{printer="receipt"}' in body
