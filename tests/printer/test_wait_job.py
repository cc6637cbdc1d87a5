"""Truthful answers: ``wait_job`` reports what the printer did, withdraws what it could not take in
time (so it never prints later), never duplicates a job partly sent, and "queue" printers keep
their jobs. Every job is counted at a simulated printer reached over loopback TCP."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from posboxless.device import DeviceUnavailable, JobKind, JobState
from posboxless.printer.config import PrinterConfig
from posboxless.printer.queue import JobQueue
from posboxless.printer.service import EscPosPrinterService
from posboxless.printer.simulator import TcpPrinterSimulator
from posboxless.printer.worker import WorkerSettings
from posboxless.transports.tcp import TcpTransport

from .test_faults import FAST, ends, receipt, until


@pytest.fixture
def sim() -> Iterator[TcpPrinterSimulator]:
    simulator = TcpPrinterSimulator().start()
    yield simulator
    simulator.stop()


def make_service(
    tmp_path: Path, sim: TcpPrinterSimulator, settings: WorkerSettings = FAST, **config: object
) -> EscPosPrinterService:
    printer = PrinterConfig(name="receipt", host=(sim.host, sim.port))
    printer = replace(printer, **config)  # type: ignore[arg-type]
    transport = TcpTransport(sim.host, sim.port)
    return EscPosPrinterService(printer, transport, tmp_path, settings=settings)


@pytest.fixture
async def service(tmp_path: Path, sim: TcpPrinterSimulator) -> AsyncIterator[EscPosPrinterService]:
    svc = make_service(tmp_path, sim)
    await svc.start()
    yield svc
    await svc.stop()


def state_of(service: EscPosPrinterService, job_id: str) -> str:
    return next(e["state"] for e in service.journal(1000) if e["id"] == int(job_id))


async def printer_off(service: EscPosPrinterService, sim: TcpPrinterSimulator) -> None:
    sim.unplug()
    await until(lambda: service.status().status == "disconnected")


async def printer_back(service: EscPosPrinterService, sim: TcpPrinterSimulator) -> None:
    """Replug, and prove the worker has run its queue: a marker job prints after everything."""
    sim.replug()
    marker = await service.submit_xml_receipt(receipt(999))
    outcome = await service.wait_job(marker, timeout=20, withdraw=True)
    assert outcome.printed, outcome


async def test_answer_is_printed_once_the_printer_confirmed(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job = await service.submit_xml_receipt(receipt(1))
    outcome = await service.wait_job(job, timeout=20)
    assert (outcome.state, outcome.reason, outcome.message) == (JobState.PRINTED, None, "Printed")
    assert outcome.printer_state is not None and outcome.printer_state.online
    assert ends(bytes(sim.printer.received)) == [1]
    assert service.journal()[0]["source"] == "hw_proxy"


async def test_slow_printer_still_answers_printed(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.answer_delay = 0.2  # alive, but each status answer takes a while
    jobs = [await service.submit_xml_receipt(receipt(k)) for k in (1, 2)]
    outcomes = [await service.wait_job(job, timeout=30) for job in jobs]
    assert [o.state for o in outcomes] == [JobState.PRINTED] * 2
    assert ends(bytes(sim.printer.received)) == [1, 2]


async def test_printer_off_withdraws_the_job_and_a_retry_prints_exactly_once(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    await printer_off(service, sim)
    job = await service.submit_xml_receipt(receipt(1))
    outcome = await service.wait_job(job, timeout=0.2)
    assert (outcome.state, outcome.reason) == (JobState.WITHDRAWN, "offline")
    assert "not printed" in outcome.message and "not connected" in outcome.message
    assert state_of(service, job) == "withdrawn"
    assert service.details()["counters"]["withdrawn"] == 1  # the metric's source
    await printer_back(service, sim)
    assert ends(bytes(sim.printer.received)) == [999]  # the withdrawn job never printed
    retry = await service.submit_xml_receipt(receipt(1))
    assert retry != job
    assert (await service.wait_job(retry, timeout=20)).printed
    assert ends(bytes(sim.printer.received)) == [999, 1]


async def test_a_caller_leaving_during_the_first_read_still_withdraws_the_job(
    service: EscPosPrinterService, sim: TcpPrinterSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The POS can leave at any await of the wait, even the very first read of the job (slow
    under load): the job must be withdrawn all the same, never printed behind its back."""
    await printer_off(service, sim)
    job = await service.submit_xml_receipt(receipt(1))
    queue = service._queue
    assert queue is not None
    entered, release = threading.Event(), threading.Event()
    real_get = queue.get

    def first_read_blocks(number: int):  # type: ignore[no-untyped-def]
        if not entered.is_set():
            entered.set()
            release.wait(10)
        return real_get(number)

    monkeypatch.setattr(queue, "get", first_read_blocks)
    waiting = asyncio.ensure_future(service.wait_job(job, timeout=60))
    await until(entered.is_set)
    waiting.cancel()  # the POS left while the first read was under way
    release.set()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await until(lambda: state_of(service, job) == "withdrawn")
    await printer_back(service, sim)
    assert ends(bytes(sim.printer.received)) == [999]  # the withdrawn job never printed


async def test_paper_out_is_the_reason_given(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    sim.printer.state = "paper_out"
    await until(lambda: service.status().status == "error")
    job = await service.submit_drawer_kick()
    outcome = await service.wait_job(job, timeout=0.2)
    assert (outcome.state, outcome.reason) == (JobState.WITHDRAWN, "paper_out")
    assert "cash drawer was not opened" in outcome.message
    assert outcome.printer_state is not None and outcome.printer_state.paper_out
    sim.printer.state = "ok"
    await printer_back(service, sim)
    assert sim.printer.received.count(b"\x1bp") == 0  # the kick was not performed late


async def test_partly_sent_job_is_reported_not_confirmed_and_a_resend_joins_it(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    # A printer that takes the job, then stalls (buffer full) longer than the answer time but
    # within the worker's confirmation time: it answers only once the test lets it.
    service = make_service(tmp_path, sim, replace(FAST, confirm_timeout=60))
    release = threading.Event()
    sim.printer.on_bytes = lambda data: release.wait(60) if b"JOB-1" in data else None
    await service.start()
    try:
        job = await service.submit_xml_receipt(receipt(1))
        await until(lambda: state_of(service, job) == "printing")
        outcome = await service.wait_job(job, timeout=0)
        assert outcome.state is JobState.PRINTING and outcome.will_print
        assert "will not be printed twice" in outcome.message
        assert state_of(service, job) == "printing"  # never withdrawn once started
        resent = await service.submit_xml_receipt(receipt(1))  # the POS tries again
        assert resent == job
        release.set()
        assert (await service.wait_job(resent, timeout=20)).printed
        await printer_back(service, sim)
        assert ends(bytes(sim.printer.received)) == [1, 999]
        assert [e["id"] for e in service.journal()] == [int(job) + 1, int(job)]
    finally:
        release.set()
        await service.stop()


async def test_queue_printer_keeps_receipts_but_never_a_drawer_kick(
    tmp_path: Path, sim: TcpPrinterSimulator
) -> None:
    service = make_service(tmp_path, sim, offline="queue")
    await service.start()
    try:
        await printer_off(service, sim)
        job = await service.submit_xml_receipt(receipt(1))
        outcome = await service.wait_job(job)  # no wait while the printer is off
        assert (outcome.state, outcome.reason) == (JobState.QUEUED, "offline")
        assert outcome.message.startswith("Queued")
        kick = await service.submit_drawer_kick()
        assert (await service.wait_job(kick, timeout=0.2)).state is JobState.WITHDRAWN
        await printer_back(service, sim)
        assert ends(bytes(sim.printer.received)) == [1, 999]
        assert sim.printer.received.count(b"\x1bp") == 0
    finally:
        await service.stop()


async def test_reprint_of_a_waiting_job_does_not_queue_a_second_copy(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    await printer_off(service, sim)
    job = await service.submit_xml_receipt(receipt(1))
    assert await service.reprint(job) == job
    assert await service.reprint(job) == job
    await printer_back(service, sim)
    assert ends(bytes(sim.printer.received)) == [1, 999]
    again = await service.reprint(job)  # printed now: a real second copy
    assert again != job and await service.reprint(job) in (again, str(int(again) + 1))
    entries = [e for e in service.journal() if e["reprint_of"] == int(job)]
    assert len(entries) == 1 and entries[0]["source"] == "page"


async def test_submit_job_takes_rendered_bytes_from_any_front_end(
    service: EscPosPrinterService, sim: TcpPrinterSimulator
) -> None:
    job = await service.submit_job(
        JobKind.TEXT, b"\x1b@EPOS-TEXT\n", source="epos", note="ePOS-Print"
    )
    assert (await service.wait_job(job, timeout=20)).printed
    assert b"EPOS-TEXT" in sim.printer.received
    entry = service.journal()[0]
    assert (entry["source"], entry["note"], entry["kind"]) == ("epos", "ePOS-Print", "text")
    with pytest.raises(DeviceUnavailable) as refused:
        await make_service(Path("/nonexistent"), sim).submit_job(JobKind.TEXT, b"x")
    assert refused.value.reason == "offline"


def test_withdraw_and_start_exclude_each_other(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "q.sqlite3")
    seen: list[tuple[int, JobState]] = []
    queue.add_listener(lambda job_id, state: seen.append((job_id, state)))
    first = queue.enqueue(JobKind.XML, b"a")
    second = queue.enqueue(JobKind.XML, b"b")
    assert queue.withdraw(first, "caller gave up")
    assert not queue.mark_attempt(first)  # the worker lost the race: nothing is sent
    job = queue.next_job()
    assert job is not None and job.id == second  # withdrawn jobs are skipped
    assert queue.mark_attempt(second)
    assert not queue.withdraw(second, "too late")  # started: can no longer be withdrawn
    queue.mark_interrupted(second, "link lost")
    assert not queue.withdraw(second, "too late")  # partly sent once: it will be finished
    queue.mark_expired(first, "old")  # a final state is never overwritten
    assert queue.journal()[-1]["state"] == "withdrawn"
    assert seen == [
        (first, JobState.QUEUED),
        (second, JobState.QUEUED),
        (first, JobState.WITHDRAWN),
        (second, JobState.PRINTING),
        (second, JobState.QUEUED),
    ]
    queue.close()
