"""Print latency: from accepting a job to the last byte at a loopback "9100" printer.

Measured for an Odoo XML receipt and a 512x2000 image receipt, ~30 jobs each (p50 / p99):

* ``posboxless service``: ``await service.submit_*()`` (render, durable SQLite commit) until the
  simulator has received the job's last byte;
* ``posboxless HTTP``: when ``posboxless.app.create_app`` exists, a JSON-RPC request over real
  loopback HTTP (uvicorn + httpx) until the last byte, i.e. what the POS sees;
* ``python-escpos 3.1`` (peer, same run, same simulator): a ``Network`` printer printing the same
  content directly (no queue, no durability, no status checks): ``text()``+``cut()`` for the XML
  receipt's lines, ``image()``+``cut()`` for the image.

Ratios are posboxless / peer (lower is better).
Run: ``.venv/bin/python bench/bench_print_latency.py`` (writes bench/results/print_latency.json).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from benchlib import LastByteClock, summary
from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos import render_image_receipt, render_xml_receipt
from posboxless.printer.profiles import get_profile
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.transports.tcp import TcpTransport

JOBS = 30
LINES = [f"{i:2d} x Croissant au beurre ......... {i * 1.15:6.2f} EUR" for i in range(1, 25)]
XML = (
    "<receipt><div>Boulangerie du Coin</div>"
    + "".join(f"<div>{line}</div>" for line in LINES)
    + "<line><left>TOTAL</left><right>123,45 EUR</right></line></receipt>"
)


def receipt_image() -> tuple[str, Image.Image]:
    image = Image.new("L", (512, 2000), 255)
    draw = ImageDraw.Draw(image)
    for y in range(10, 1990, 24):
        draw.text((10, y), f"Line {y // 24:03d}  Produit {y % 97:02d} .......... {y / 7:8.2f} EUR")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode(), image


async def measure(
    clock: LastByteClock, tail: bytes, send: Callable[[], Awaitable[Any]], jobs: int = JOBS
) -> list[float]:
    samples = []
    for _ in range(jobs):
        clock.arm(tail)
        start = time.perf_counter()
        await send()
        samples.append((await clock.wait() - start) * 1000)
        await asyncio.sleep(0.02)
    return samples


async def posboxless_rows(
    sim: TcpPrinterSimulator, clock: LastByteClock, image_b64: str
) -> dict[str, list[float]]:
    profile = get_profile("TM-T20III")
    xml_tail = render_xml_receipt(XML, profile).data[-24:]
    image_tail = render_image_receipt(image_b64, profile).data[-24:]
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        config = PrinterConfig(name="receipt", host=(sim.host, sim.port), profile="TM-T20III")
        service = EscPosPrinterService(config, TcpTransport(sim.host, sim.port), Path(data_dir))
        await service.start()
        try:
            rows["posboxless service: XML"] = await measure(
                clock, xml_tail, lambda: service.submit_xml_receipt(XML)
            )
            rows["posboxless service: image"] = await measure(
                clock, image_tail, lambda: service.submit_image_receipt(image_b64)
            )
            rows.update(await http_rows(service, clock, xml_tail, image_tail, image_b64))
        finally:
            await service.stop()
    return rows


async def http_rows(
    service: EscPosPrinterService,
    clock: LastByteClock,
    xml_tail: bytes,
    image_tail: bytes,
    image_b64: str,
) -> dict[str, list[float]]:
    try:
        from posboxless.app import create_app
    except ImportError:
        print("posboxless.app.create_app not available: HTTP rows skipped", file=sys.stderr)
        return {}
    import socket

    import httpx
    import uvicorn

    from posboxless.config import Config
    from posboxless.services import Services

    services = Services(printers={"receipt": service}, default_printer_name="receipt")
    app = create_app(Config(), services)
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"

    def rpc(params: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}

    rows: dict[str, list[float]] = {}
    try:
        async with httpx.AsyncClient(base_url=base) as client:

            async def xml() -> None:
                answer = await client.post(
                    "/hw_proxy/print_xml_receipt", json=rpc({"receipt": XML})
                )
                assert "error" not in answer.json(), answer.text

            async def image() -> None:
                data = {"action": "print_receipt", "receipt": image_b64}
                answer = await client.post(
                    "/hw_proxy/default_printer_action", json=rpc({"data": data})
                )
                assert answer.json().get("result") is True, answer.text

            rows["posboxless HTTP: XML"] = await measure(clock, xml_tail, xml)
            rows["posboxless HTTP: image"] = await measure(clock, image_tail, image)
    finally:
        server.should_exit = True
        await task
    return rows


async def peer_rows(
    sim: TcpPrinterSimulator, clock: LastByteClock, image: Image.Image
) -> dict[str, list[float]]:
    from escpos.printer import Dummy, Network

    # python-escpos warns about its profile on every image; keep the table readable.
    logging.getLogger("escpos").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="escpos")

    def text_job(printer: Any) -> None:
        printer.text("Boulangerie du Coin\n" + "\n".join(LINES) + "\nTOTAL 123,45 EUR\n")
        printer.cut()

    def image_job(printer: Any) -> None:
        printer.image(image)
        printer.cut()

    rows: dict[str, list[float]] = {}
    for label, job in (("XML", text_job), ("image", image_job)):
        dummy = Dummy()
        job(dummy)
        tail = dummy.output[-24:]
        printer = Network(sim.host, port=sim.port, timeout=10)
        printer.open()
        try:

            async def send(job: Callable[[Any], None] = job, printer: Any = printer) -> None:
                await asyncio.to_thread(job, printer)

            rows[f"python-escpos 3.1: {label}"] = await measure(clock, tail, send)
        finally:
            printer.close()
    return rows


async def main() -> None:
    image_b64, image = receipt_image()
    sim = TcpPrinterSimulator().start()
    clock = LastByteClock(sim)
    try:
        rows = await posboxless_rows(sim, clock, image_b64)
        # python-escpos print()s a profile notice on every image (peers.md defect 29).
        with contextlib.redirect_stdout(io.StringIO()):
            rows.update(await peer_rows(sim, clock, image))
    finally:
        sim.stop()
    print(f"{'path':34} {'jobs':>5} {'p50 ms':>9} {'p99 ms':>9}")
    results: dict[str, Any] = {}
    for label, samples in rows.items():
        p50, p99 = summary(samples)
        results[label] = {"jobs": len(samples), "p50_ms": p50, "p99_ms": p99}
        print(f"{label:34} {len(samples):5d} {p50:9.2f} {p99:9.2f}")
    print()
    for kind in ("XML", "image"):
        peer = results.get(f"python-escpos 3.1: {kind}")
        for path in ("posboxless service", "posboxless HTTP"):
            ours = results.get(f"{path}: {kind}")
            if peer and ours:
                ratio = ours["p50_ms"] / peer["p50_ms"]
                print(f"ratio {path} / python-escpos, {kind}, p50: {ratio:.2f}")
                results[f"ratio {path} {kind} p50"] = ratio
    out = Path(__file__).parent / "results" / "print_latency.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
