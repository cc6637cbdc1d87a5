"""ePOS latency: an Odoo ePOS-Print request until the last byte reaches a loopback printer,
beside the /hw_proxy image path, in the same run, on the same printer service and simulator.

Both paths print the same 512 x 2000 receipt on a TM-T20III profile through real loopback HTTP
(uvicorn + httpx) and the printer's durable queue:

* ``ePOS``: ``POST /cgi-bin/epos/service.cgi?devid=local_printer`` with the SOAP body Odoo 17-19
  send (raster image, MSB first, base64, ``<cut type="feed"/>``), answered once printed;
* ``/hw_proxy``: ``default_printer_action`` with the JPEG Odoo 13-18 send to an IoT box.

Requests alternate between the paths (so drift hits both alike). The target: ePOS p50 within 10 %
of the /hw_proxy path. Run: ``.venv/bin/python bench/bench_epos.py [--jobs N]`` (writes
bench/results/epos.json).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from PIL import Image, ImageDraw

from benchlib import LastByteClock, summary
from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.epos.protocol import parse_request, render_request
from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos import render_image_receipt
from posboxless.printer.profiles import get_profile
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.services import Services
from posboxless.transports.tcp import TcpTransport

EPOS_NS = "http://www.epson-pos.com/schemas/2011/03/epos-print"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def receipt() -> Image.Image:
    image = Image.new("L", (512, 2000), 255)
    draw = ImageDraw.Draw(image)
    for y in range(10, 1990, 24):
        draw.text((10, y), f"Line {y // 24:03d}  Produit {y % 97:02d} .......... {y / 7:8.2f} EUR")
    draw.line((0, 1995, 511, 1995), fill=0)
    return image


def jpeg_base64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=92)  # canvas.toDataURL("image/jpeg")
    return base64.b64encode(out.getvalue()).decode()


def epos_body(image: Image.Image) -> bytes:
    """What Odoo's client sends: the canvas dithered to 1 bit, 1 = black, MSB first, base64."""
    mono = image.convert("1")  # Floyd-Steinberg, as Odoo's canvasToRaster
    raster = mono.tobytes("raw", "1;I")
    data = base64.b64encode(raster).decode()
    return (
        f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body><epos-print xmlns="{EPOS_NS}">'
        f'<image width="{mono.width}" height="{mono.height}" align="center">{data}</image>'
        '<cut type="feed"></cut></epos-print></s:Body></s:Envelope>'
    ).encode()


async def run(jobs: int) -> dict[str, Any]:
    image = receipt()
    jpeg = jpeg_base64(image)
    body = epos_body(image)
    profile = get_profile("TM-T20III")
    tails = {
        "ePOS": render_request(parse_request(body), profile).data[-24:],
        "/hw_proxy": render_image_receipt(jpeg, profile).data[-24:],
    }
    sim = TcpPrinterSimulator().start()
    clock = LastByteClock(sim)
    samples: dict[str, list[float]] = {name: [] for name in tails}
    with tempfile.TemporaryDirectory() as data_dir:
        config = PrinterConfig(name="receipt", host=(sim.host, sim.port), profile="TM-T20III")
        service = EscPosPrinterService(config, TcpTransport(sim.host, sim.port), Path(data_dir))
        services = Services(printers={"receipt": service}, default_printer_name="receipt")
        app = create_app(Config(server=ServerConfig(data_dir=Path(data_dir))), services)
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        await service.start()
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:

                async def epos() -> None:
                    answer = await client.post(
                        "/cgi-bin/epos/service.cgi?devid=local_printer",
                        content=body,
                        headers={"Content-Type": "text/plain;charset=UTF-8"},
                    )
                    assert 'success="true" code=""' in answer.text, answer.text

                async def hw_proxy() -> None:
                    data = {"action": "print_receipt", "receipt": jpeg}
                    rpc = {"jsonrpc": "2.0", "method": "call", "params": {"data": data}, "id": 1}
                    answer = await client.post("/hw_proxy/default_printer_action", json=rpc)
                    assert answer.json().get("result") is True, answer.text

                senders = {"ePOS": epos, "/hw_proxy": hw_proxy}
                for _ in range(2):  # warm-up: imports, first connection
                    for send in senders.values():
                        await send()
                for _ in range(jobs):
                    for name, send in senders.items():
                        clock.arm(tails[name])
                        start = time.perf_counter()
                        await send()
                        samples[name].append((await clock.wait() - start) * 1000)
                        await asyncio.sleep(0.02)
        finally:
            server.should_exit = True
            await task
            await service.stop()
            sim.stop()
    results: dict[str, Any] = {"jobs": jobs, "epos_body_bytes": len(body), "jpeg_chars": len(jpeg)}
    for name, values in samples.items():
        p50, p99 = summary(values)
        results[name] = {"p50_ms": p50, "p99_ms": p99}
    results["ratio ePOS / hw_proxy p50"] = (
        results["ePOS"]["p50_ms"] / results["/hw_proxy"]["p50_ms"]
    )
    results["ratio ePOS / hw_proxy p99"] = (
        results["ePOS"]["p99_ms"] / results["/hw_proxy"]["p99_ms"]
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=30)
    args = parser.parse_args()
    results = asyncio.run(run(args.jobs))
    print(f"512x2000 receipt, {args.jobs} jobs per path, request -> last byte at the printer")
    print(f"{'path':12} {'p50 ms':>9} {'p99 ms':>9}")
    for name in ("ePOS", "/hw_proxy"):
        print(f"{name:12} {results[name]['p50_ms']:9.2f} {results[name]['p99_ms']:9.2f}")
    ratio = results["ratio ePOS / hw_proxy p50"]
    print(f"ratio ePOS / hw_proxy: p50 {ratio:.2f}, p99 {results['ratio ePOS / hw_proxy p99']:.2f}")
    print("target (ePOS within 10 % of /hw_proxy):", "met" if ratio <= 1.10 else "NOT met")
    out = Path(__file__).parent / "results" / "epos.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
