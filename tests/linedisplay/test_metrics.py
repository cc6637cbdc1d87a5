"""``/metrics`` has the customer display: up, status, and its counters (messages, screens
written, screens collapsed, unanswered writes)."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from posboxless.linedisplay.simulator import PoleDisplaySimulator
from posboxless.ops.metrics import Metrics
from posboxless.services import Services

from .conftest import eventually, make_service


async def test_metrics_have_the_display() -> None:
    sim = PoleDisplaySimulator().start()
    service = make_service(sim.port)
    await service.start()
    try:
        await asyncio.to_thread(eventually, lambda: service.status().status == "connected")
        service.show(["Total", "12.50"])
        await asyncio.to_thread(sim.wait_for, ["Total".ljust(20), "12.50".ljust(20)])
        await asyncio.to_thread(
            eventually, lambda: service.details()["counters"].get("shown", 0) >= 2
        )
        text, _ = Metrics(Services(customer_display=service)).render()
    finally:
        await service.stop()
        sim.close()
    families = {f.name: f for f in text_string_to_metric_families(text.decode())}
    up = {
        (s.labels["kind"], s.labels["name"]): s.value
        for s in families["posboxless_device_up"].samples
    }
    assert up[("customer_display", "pole-display")] == 1
    events = {
        s.labels["event"]: s.value
        for s in families["posboxless_device_events"].samples
        if s.labels["kind"] == "customer_display" and s.name.endswith("_total")
    }
    assert events["messages"] == 1 and events["shown"] >= 2
