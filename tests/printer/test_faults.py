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
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from posboxless.printer.config import PrinterConfig
from posboxless.printer.escpos.status import count_status_queries
from posboxless.printer.queue import JobQueue
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import (
    PtyPrinterSimulator,
    SimulatedPrinter,
    TcpPrinterSimulator,
)
from posboxless.printer.worker import REPRINT_INTERRUPTED, WorkerSettings
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.transports.tcp import TcpTransport
from posboxless.transports.usblp import UsblpTransport
from tests.helpers import until

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
    polled = sim.printer.status_queries
    await until(lambda: sim.printer.status_queries >= polled + 8, "two polls while paper is out")
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
    polled = sim.printer.status_queries
    await until(lambda: sim.printer.status_queries >= polled + 8, "two unanswered polls")
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
            image = Image.new("L", (576, 2925), 255)
            for y in range(offset, 2925, 40):
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


# -- confirmation that stray answers cannot fool ---------------------------------------------------

PRINTER_PACE = 100_000
"""Bytes per second a printer reads: slower than the link, as a real one."""


def query_image(seed: int, rows: int = 1000, patterns: int = 6) -> str:
    """A full-width (576 dots: no scaling, no dithering surprises) black-and-white PNG whose
    raster rows hold ``10 04 n`` (n = 1..4) ``patterns`` times: what a printer takes for status
    queries. ``seed`` makes each image's bytes different."""
    width_bytes = 72
    raster = bytearray(width_bytes * rows)
    for row in range(0, rows, 7):  # some ink everywhere, different per image
        raster[row * width_bytes + (seed + row) % width_bytes] = 0x81
    for k in range(patterns):
        at = ((k + 1) * rows // (patterns + 1)) * width_bytes + 20 + seed
        raster[at : at + 3] = bytes((0x10, 0x04, 1 + k % 4))
    image = Image.frombytes("1", (width_bytes * 8, rows), bytes(raster), "raw", "1;I")
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def job_bytes(service: EscPosPrinterService, job_id: str) -> bytes:
    queue = JobQueue(service.queue_path)
    try:
        job = queue.get(int(job_id))
    finally:
        queue.close()
    assert job is not None
    return job.data


@pytest.fixture
def slow_sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator()
    simulator.bytes_per_second = PRINTER_PACE
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
async def slow_service(
    tmp_path: Path, slow_sim: TcpPrinterSimulator
) -> AsyncIterator[EscPosPrinterService]:
    config = PrinterConfig(name="receipt", host=(slow_sim.host, slow_sim.port))
    transport = TcpTransport(slow_sim.host, slow_sim.port)
    svc = EscPosPrinterService(config, transport, tmp_path, settings=FAST)
    await svc.start()
    yield svc
    await svc.stop()


async def test_image_cut_after_the_printer_answered_its_raster_patterns_is_reprinted(
    slow_service: EscPosPrinterService, slow_sim: TcpPrinterSimulator
) -> None:
    await until(lambda: slow_service.status().status == "connected")
    # The line drops right after the printer answered the 4th pattern inside the image: four
    # answers came back, as many as a status poll asks for, but the job was cut.
    slow_sim.printer.drop_after_image_queries = 4
    job = await slow_service.submit_image_receipt(query_image(0))
    data = job_bytes(slow_service, job)
    assert count_status_queries(data) == 6
    await until(lambda: pending(slow_service) == 0, timeout=30)
    received = bytes(slow_sim.printer.received)
    assert received.count(data) == 1  # printed whole, once, after the cut
    assert slow_sim.connections == 2  # the cut happened
    assert received.index(REPRINT_INTERRUPTED) < received.index(data)
    entry = slow_service.journal()[0]
    assert entry["state"] == "done" and entry["interrupted"] and entry["attempts"] == 2


async def test_late_answers_of_an_image_never_confirm_the_next_job(
    slow_service: EscPosPrinterService, slow_sim: TcpPrinterSimulator
) -> None:
    await until(lambda: slow_service.status().status == "connected")
    # Two image jobs back to back; the line drops inside the second one, after the printer
    # answered its first pattern. Stray answers of the first image must not confirm it early,
    # and its own late answers must not confirm the second.
    slow_sim.printer.drop_after_image_queries = 6 + 1
    first = await slow_service.submit_image_receipt(query_image(1))
    second = await slow_service.submit_image_receipt(query_image(2))
    await until(lambda: pending(slow_service) == 0, timeout=30)
    received = bytes(slow_sim.printer.received)
    assert received.count(job_bytes(slow_service, first)) == 1
    assert received.count(job_bytes(slow_service, second)) == 1
    assert slow_sim.connections == 2
    journal = {str(e["id"]): e for e in slow_service.journal()}
    assert not journal[first]["interrupted"]
    assert journal[second]["interrupted"] and journal[second]["state"] == "done"


def paper_ends_with(printer: SimulatedPrinter, marker: bytes) -> None:
    """Paper runs out just as the printer reads the end of a job: it holds the job unprinted."""

    def hook(data: bytes) -> None:
        if marker in bytes(printer.received[-64:]) + data:
            printer.on_bytes = None
            printer.state = "paper_out"

    printer.on_bytes = hook


async def held_for_a_while(service: EscPosPrinterService, job: str) -> None:
    await until(lambda: service.status().messages == ("Paper out",))
    polls = service.details()["counters"]["status_polls"]
    await until(lambda: service.details()["counters"]["status_polls"] >= polls + 3)
    entry = service.journal()[0]
    assert str(entry["id"]) == job
    assert entry["state"] == "printing"  # not done: the printer has not printed it
    assert "Paper out" in entry["error"]


async def test_paper_end_at_confirmation_keeps_the_job_until_the_printer_prints_it(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    await until(lambda: service.status().status == "connected")
    paper_ends_with(sim.printer, b"END-1")
    job = await service.submit_xml_receipt(receipt(1))
    await held_for_a_while(service, job)
    sim.printer.state = "ok"  # paper loaded: the printer prints what it held
    await until(lambda: pending(service) == 0)
    entry = service.journal()[0]
    assert entry["state"] == "done" and not entry["interrupted"]
    assert ends(bytes(sim.printer.received)) == [1]  # the link never broke: no reprint


async def test_paper_end_then_power_cycle_reprints_the_held_job(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    await until(lambda: service.status().status == "connected")
    paper_ends_with(sim.printer, b"END-1")
    job = await service.submit_xml_receipt(receipt(1))
    await held_for_a_while(service, job)
    sim.printer.state = "ok"
    sim.drop_line()  # switched off and on to change the roll: the held job is gone
    await until(lambda: pending(service) == 0)
    entry = service.journal()[0]
    assert entry["state"] == "done" and entry["interrupted"]
    received = bytes(sim.printer.received)
    assert ends(received) == [1, 1]
    assert received.index(REPRINT_INTERRUPTED) > received.index(b"END-1")


async def test_paper_end_at_confirmation_on_serial_reprints_once_ready(tmp_path: Path) -> None:
    # A serial line does not show a power cycle: "ready again" is no evidence that the printer
    # kept what it held, so the job is printed again (flagged) rather than assumed printed.
    simulator = PtyPrinterSimulator().start()
    paper_ends_with(simulator.printer, b"END-1")
    config = PrinterConfig(name="receipt", device=simulator.path)
    transport = SerialTransport(simulator.path, SerialSettings(38400))
    svc = EscPosPrinterService(config, transport, tmp_path, settings=FAST)
    await svc.start()
    try:
        await until(lambda: svc.status().status == "connected")
        job = await svc.submit_xml_receipt(receipt(1))
        await held_for_a_while(svc, job)
        simulator.printer.state = "ok"
        await until(lambda: pending(svc) == 0)
        entry = svc.journal()[0]
    finally:
        await svc.stop()
        simulator.stop()
    assert entry["state"] == "done" and entry["interrupted"]
    assert ends(bytes(simulator.printer.received)) == [1, 1]


async def test_printer_that_ignores_patterns_inside_images_prints_once(tmp_path: Path) -> None:
    # Some printers only look for real-time commands between commands: the count comes out
    # short. A fresh query answered alone proves the job was read: printed once, not reprinted.
    simulator = TcpPrinterSimulator().start()
    simulator.printer.answers_inside_images = False
    settings = replace(FAST, confirm_timeout=0.5)
    config = PrinterConfig(name="receipt", host=(simulator.host, simulator.port))
    transport = TcpTransport(simulator.host, simulator.port)
    svc = EscPosPrinterService(config, transport, tmp_path, settings=settings)
    await svc.start()
    try:
        job = await svc.submit_image_receipt(query_image(3))
        await until(lambda: pending(svc) == 0)
        data = job_bytes(svc, job)
        entry = svc.journal()[0]
        counters = svc.details()["counters"]
    finally:
        await svc.stop()
        simulator.stop()
    assert count_status_queries(data) == 6
    assert bytes(simulator.printer.received).count(data) == 1
    assert REPRINT_INTERRUPTED not in simulator.printer.received
    assert entry["state"] == "done" and not entry["interrupted"] and entry["attempts"] == 1
    assert counters["short_answers"] == 1
