"""Fault tests: unplugged printer, paper out, silent printer, proxy crash, status polls during a
large job, printer appearing after start. Every job is counted at the simulator."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.config import PrinterConfig
from posboxless.printer.queue import JobQueue
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import PtyPrinterSimulator, TcpPrinterSimulator
from posboxless.printer.worker import REPRINT_INTERRUPTED, WorkerSettings
from posboxless.transports.tcp import TcpTransport
from posboxless.transports.usblp import UsblpTransport

FAST = WorkerSettings(
    status_interval=0.05, status_timeout=0.3, confirm_timeout=3, retry_min=0.02, retry_max=0.1
)


def receipt(k: int, filler_lines: int = 3) -> str:
    filler = "".join(
        f"<div>line {i} of job {k} ....................</div>" for i in range(filler_lines)
    )
    return f"<receipt><div>JOB-{k}</div>{filler}<div>END-{k}</div></receipt>"


def ends(received: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb"END-(\d+)", received)]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def pending(service: EscPosPrinterService) -> int:
    return sum(e["state"] in ("queued", "printing") for e in service.journal(1000))


@pytest.fixture
def sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
async def service(tmp_path: Path, sim: TcpPrinterSimulator) -> AsyncIterator[EscPosPrinterService]:
    config = PrinterConfig(name="receipt", host=(sim.host, sim.port))
    svc = EscPosPrinterService(config, TcpTransport(sim.host, sim.port), tmp_path, settings=FAST)
    await svc.start()
    yield svc
    await svc.stop()


async def test_unplugged_mid_queue_resumes_in_order_none_lost_none_duplicated(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    unplugged = threading.Event()

    def unplug_after_job_3_confirmed(data: bytes) -> None:
        # The printer has answered for job 3 (its queries follow the job): pull the cable.
        if b"END-3" in sim.printer.received and b"\x10\x04\x04" in data:
            sim.printer.on_bytes = None
            sim.unplug(after_answers=True)
            unplugged.set()

    sim.printer.on_bytes = unplug_after_job_3_confirmed
    for k in range(1, 11):
        await service.submit_xml_receipt(receipt(k))
    await until(unplugged.is_set)
    await until(lambda: service.status().status == "disconnected")
    assert pending(service) > 0
    sim.replug()
    await until(lambda: pending(service) == 0)
    assert ends(bytes(sim.printer.received)) == list(range(1, 11))


async def test_paper_out_holds_jobs_and_resumes(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.state = "paper_out"
    await until(lambda: service.status().status == "error")
    assert service.status().messages == ("Paper out",)
    for k in range(1, 4):
        await service.submit_xml_receipt(receipt(k))
    await until(lambda: "waiting: Paper out" in str(service.journal()))
    await asyncio.sleep(0.2)  # several polls while the paper is out
    assert ends(bytes(sim.printer.received)) == []
    assert service.status().messages == ("Paper out",)
    sim.printer.state = "ok"
    await until(lambda: pending(service) == 0)
    assert ends(bytes(sim.printer.received)) == [1, 2, 3]
    assert service.status().status == "connected"


async def test_silent_printer_holds_jobs_until_it_answers(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.silent = True
    await until(lambda: service.status().status == "error")
    await service.submit_xml_receipt(receipt(1))
    await asyncio.sleep(0.3)
    assert ends(bytes(sim.printer.received)) == []
    assert "not answering" in service.status().messages[0]
    sim.printer.silent = False
    await until(lambda: pending(service) == 0)
    assert ends(bytes(sim.printer.received)) == [1]


async def test_large_image_never_cut_by_status_polls(tmp_path: Path) -> None:
    simulator = TcpPrinterSimulator().start()
    simulator.read_size = 4096  # a slow printer: the job takes many reads
    simulator.read_delay = 0.001
    settings = WorkerSettings(status_interval=0.001, status_timeout=0.3, confirm_timeout=5)
    config = PrinterConfig(name="receipt", host=(simulator.host, simulator.port))
    svc = EscPosPrinterService(
        config, TcpTransport(simulator.host, simulator.port), tmp_path, settings=settings
    )
    await svc.start()
    stop = threading.Event()
    calls = [0]

    def hammer() -> None:
        while not stop.is_set():
            svc.status()
            svc.details()
            calls[0] += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        ids = []
        for offset in (0, 20):  # two different images
            image = Image.new("L", (512, 2600), 255)
            for y in range(offset, 2600, 40):
                image.paste(0, (0, y, 512, y + 20))
            out = io.BytesIO()
            image.save(out, "PNG")
            ids.append(await svc.submit_image_receipt(base64.b64encode(out.getvalue()).decode()))
        await until(lambda: pending(svc) == 0, timeout=30)
        polls = svc.details()["counters"]["status_polls"]
    finally:
        stop.set()
        for t in threads:
            t.join()
        await svc.stop()
        simulator.stop()
    queue = JobQueue(svc.queue_path)
    jobs = [queue.get(int(job_id)) for job_id in ids]
    queue.close()
    received = bytes(simulator.printer.received)
    for job in jobs:
        assert job is not None and len(job.data) >= 200_000
        assert received.count(job.data) == 1  # every byte, contiguous, exactly once
    assert calls[0] > 100
    assert polls > 2


async def test_printer_that_appears_after_start_is_picked_up(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = PrinterConfig(name="receipt", host=("127.0.0.1", port))
    svc = EscPosPrinterService(config, TcpTransport("127.0.0.1", port), tmp_path, settings=FAST)
    await svc.start()
    simulator: TcpPrinterSimulator | None = None
    try:
        await until(lambda: svc.status().status == "disconnected")
        job = await svc.submit_xml_receipt(receipt(1))
        simulator = TcpPrinterSimulator(port=port).start()
        await until(lambda: pending(svc) == 0)
        assert ends(bytes(simulator.printer.received)) == [1]
        assert svc.journal()[0]["id"] == int(job)
    finally:
        await svc.stop()
        if simulator is not None:
            simulator.stop()


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from posboxless.printer.config import PrinterConfig
    from posboxless.printer.service import EscPosPrinterService
    from posboxless.printer.worker import WorkerSettings
    from posboxless.transports.usblp import UsblpTransport

    path, data_dir = sys.argv[1], Path(sys.argv[2])
    count, lines = int(sys.argv[3]), int(sys.argv[4])

    def receipt(k):
        filler = "".join(
            f"<div>line {i} of job {k} ....................</div>" for i in range(lines)
        )
        return f"<receipt><div>JOB-{k}</div>{filler}<div>END-{k}</div></receipt>"

    async def main():
        config = PrinterConfig(name="receipt", device=path)
        settings = WorkerSettings(status_interval=0.05, status_timeout=0.5)
        service = EscPosPrinterService(config, UsblpTransport(path), data_dir, settings=settings)
        await service.start()
        ids = [await service.submit_xml_receipt(receipt(k)) for k in range(1, count + 1)]
        print("ACCEPTED", " ".join(ids), flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_crash_with_jobs_queued_prints_every_job_once(tmp_path: Path) -> None:
    count, lines = 6, 1500  # ~70 kB per receipt: far more than the pty buffers
    simulator = PtyPrinterSimulator().start()
    simulator.read_size = 1024
    paused = threading.Event()

    def pause_inside_job_3(data: bytes) -> None:
        if b"JOB-3" in simulator.printer.received:
            simulator.printer.on_bytes = None
            simulator.pause()
            paused.set()

    simulator.printer.on_bytes = pause_inside_job_3
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, simulator.path, str(tmp_path), str(count), str(lines)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        accepted = await asyncio.to_thread(child.stdout.readline)
        assert accepted.startswith("ACCEPTED"), accepted
        await until(paused.is_set, timeout=20)
    finally:
        os.kill(child.pid, signal.SIGKILL)  # the proxy dies in the middle of job 3
        child.wait()
    assert ends(bytes(simulator.printer.received)) == [1, 2]

    simulator.resume()
    config = PrinterConfig(name="receipt", device=simulator.path)
    svc = EscPosPrinterService(config, UsblpTransport(simulator.path), tmp_path, settings=FAST)
    await svc.start()
    try:
        await until(lambda: pending(svc) == 0, timeout=20)
        journal = {e["id"]: e for e in svc.journal()}
    finally:
        await svc.stop()
        simulator.stop()
    received = bytes(simulator.printer.received)
    assert ends(received) == list(range(1, count + 1))  # every accepted job, once, in order
    assert received.count(REPRINT_INTERRUPTED) == 1
    assert received.index(REPRINT_INTERRUPTED) < received.rindex(b"JOB-3")
    assert journal[3]["interrupted"] is True and journal[3]["attempts"] == 2
    assert all(e["state"] == "done" for e in journal.values())
