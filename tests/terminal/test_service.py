"""The terminal service against the pty simulator: every outcome, the faults, one transaction
at a time, and the journal written before anything is reported."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from posboxless.device import DeviceStatus, DeviceUnavailable, InvalidInput
from posboxless.terminal import telium
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.journal import PaymentJournal
from posboxless.terminal.service import PaymentOrder, TeliumTerminalService
from posboxless.terminal.simulator import TEST_CARD, TeliumSimulator
from posboxless.transports.base import TransportError

from .conftest import FAST, settled, until

ORDER = PaymentOrder(Decimal("12.5"), "EUR", "card", "Order 00012-003-0004", "7")


async def pay(service: TeliumTerminalService, order: PaymentOrder = ORDER) -> dict[str, object]:
    tx = await service.begin(order)
    await until(settled(service, tx.id))
    done = settled(service, tx.id)()
    assert done is not None
    return done.as_dict()


async def test_accepted_payment_bytes_on_the_line_and_journal(
    terminal: TeliumTerminalService, sim: TeliumSimulator
) -> None:
    tx = await pay(terminal)
    assert tx["outcome"] == "accepted" and tx["success"] is True
    assert tx["card"] == "************4455" and tx["result_code"] == "0"
    assert TEST_CARD not in str(tx)
    # What the terminal received, byte for byte (§B2/§B3)
    request = b"0100001250110978" + b" " * 10 + b"A010B010"
    framed = b"\x02" + request + b"\x03" + bytes([telium.lrc(request)])
    assert bytes(sim.received) == b"\x05" + framed + b"\x04" + b"\x06" + b"\x06"
    assert sim.history == [(telium.PaymentRequest.decode(request), "accepted")]
    journal = PaymentJournal(terminal.journal_path)
    try:
        phases = [e["phase"] for e in journal.events(str(tx["id"]))]
        stored = journal.get(str(tx["id"]))
    finally:
        journal.close()
    assert phases == ["created", "connecting", "sending", "waiting_card", "receiving",
                      "closing", "done"]  # fmt: skip
    assert stored is not None and stored.outcome == "accepted"


@pytest.mark.parametrize(
    ("script", "outcome", "success"),
    [
        ("refuse", "refused", False),
        ("not_verified", "not_verified", False),
        ("silent", "not_sent", False),
        ("nak", "not_sent", False),
        ("no_answer", "unknown", None),
        ("garbage", "unknown", None),
        ("lose_line", "unknown", None),
    ],
)
async def test_outcomes_and_faults(
    terminal: TeliumTerminalService,
    sim: TeliumSimulator,
    script: str,
    outcome: str,
    success: bool | None,
) -> None:
    if script == "no_answer":
        terminal.config.timing.__dict__["answer_timeout"] = 1.0  # frozen: shortened for the test
    sim.script(script)
    tx = await pay(terminal)
    assert (tx["outcome"], tx["success"]) == (outcome, success)
    if success is None:
        assert str(tx["details"]).startswith("Unknown — check the terminal")
    if script in ("silent", "nak"):
        assert sim.requests == [] or script == "nak"
        assert "Nothing was charged" in str(tx["details"])
    # the terminal is free again
    sim.wake()
    tx = await pay(terminal)
    assert tx["outcome"] == "accepted"


async def test_second_start_while_one_runs_is_refused(
    terminal: TeliumTerminalService, sim: TeliumSimulator
) -> None:
    sim.card_delay = 1.0
    first = await terminal.begin(ORDER)
    assert terminal.in_transaction
    with pytest.raises(DeviceUnavailable, match="busy with transaction"):
        await terminal.begin(ORDER)
    await until(settled(terminal, first.id))
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (PaymentOrder(Decimal("0"), "EUR"), "more than zero"),
        (PaymentOrder(Decimal("-5"), "EUR"), "more than zero"),
        (PaymentOrder(Decimal("100000"), "EUR"), "limit"),
        (PaymentOrder(Decimal("1.005"), "EUR"), "decimals"),
        (PaymentOrder(Decimal("1"), "XYZ"), "currency"),
        (PaymentOrder(Decimal("1"), "EUR", "bitcoin"), "payment mode"),
    ],
)
async def test_bad_orders_are_refused_and_nothing_reaches_the_terminal(
    terminal: TeliumTerminalService, sim: TeliumSimulator, order: PaymentOrder, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await terminal.begin(order)
    assert bytes(sim.received) == b""
    assert terminal.transactions() == []


async def test_unknown_can_be_settled_by_hand_only_once(
    terminal: TeliumTerminalService, sim: TeliumSimulator
) -> None:
    sim.script("lose_line")
    tx = await pay(terminal)
    settled_tx = await terminal.resolve(str(tx["id"]), True, "test")
    assert settled_tx.success is True and settled_tx.outcome == "accepted"
    with pytest.raises(InvalidInput):
        await terminal.resolve(str(tx["id"]), False, "test")


async def test_unplugged_terminal_is_reported_and_refuses_new_payments(tmp_path: Path) -> None:
    from dataclasses import replace

    from posboxless.terminal.config import TerminalConfig

    from .conftest import FAST

    sim = TeliumSimulator(card_delay=0.1).start()
    service = TeliumTerminalService(replace(TerminalConfig(), port=sim.port, timing=FAST), tmp_path)
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        sim.close()
        await until(lambda: service.status().status == "disconnected")
        with pytest.raises(DeviceUnavailable, match="not connected"):
            await service.begin(ORDER)
    finally:
        await service.stop()


async def test_a_payment_asked_as_soon_as_disconnected_is_published_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The POS acts on the status the moment it can read it: once "disconnected" is published,
    no payment is accepted (the port was once marked closed only after the status said so)."""
    sim = TeliumSimulator(card_delay=0.1).start()
    service = TeliumTerminalService(replace(TerminalConfig(), port=sim.port, timing=FAST), tmp_path)
    loop = asyncio.get_running_loop()
    answers: list[object] = []
    publish = service._worker.set_status

    def set_status(status: DeviceStatus, level: int | None = None) -> bool:
        changed = publish(status, level)
        if status.status == "disconnected" and not answers:  # worker thread, status now read
            try:
                answers.append(
                    asyncio.run_coroutine_threadsafe(service.begin(ORDER), loop).result()
                )
            except Exception as exc:
                answers.append(exc)
        return changed

    monkeypatch.setattr(service._worker, "set_status", set_status)
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        sim.close()
        await until(lambda: answers)
        (answer,) = answers
        assert isinstance(answer, DeviceUnavailable), answer
        assert "not connected" in str(answer)
    finally:
        await service.stop()


async def test_answer_after_the_proxy_gave_up_settles_the_unknown_payment(tmp_path: Path) -> None:
    """The customer took longer than answer_timeout: the payment became unknown; when the
    terminal then announces its answer, the idle worker collects it for that payment."""
    from dataclasses import replace

    from posboxless.terminal.config import TerminalConfig

    from .conftest import FAST

    sim = TeliumSimulator(card_delay=2.0).start()
    sim.enq_interval = 0.2
    timing = replace(FAST, answer_timeout=1.0)
    config = replace(TerminalConfig(), port=sim.port, timing=timing)
    service = TeliumTerminalService(config, tmp_path)
    await service.start()
    try:
        await until(lambda: service.status().status == "connected")
        tx = await service.begin(ORDER)
        await until(lambda: (t := settled(service, tx.id)()) is not None and t.outcome == "unknown")
        await until(lambda: (t := settled(service, tx.id)()) is not None and t.outcome != "unknown")
        done = settled(service, tx.id)()
        assert done is not None and done.outcome == "accepted" and done.success is True
        assert sim.history[0][1] == "accepted" and len(sim.requests) == 1
        assert service.activity.counters == {"unknown": 1, "accepted": 1}
        journal = PaymentJournal(service.journal_path)
        notes = [e["note"] for e in journal.events(tx.id)]
        journal.close()
        assert any("late answer collected" in (n or "") for n in notes)
        sim.card_delay = 0.1  # the next customer is quick
        assert (await pay(service))["outcome"] == "accepted"
    finally:
        await service.stop()
        sim.close()


async def test_request_is_never_sent_unless_its_sending_state_is_on_disk(
    terminal: TeliumTerminalService, sim: TeliumSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal refuses the 'sending' step (a full disk): the request's bytes must not leave,
    and the POS is told it was not sent instead of waiting forever."""
    journal = terminal._journal
    assert journal is not None
    real_update = journal.update

    def failing_update(tx: object, note: str | None = None, **changes: object) -> object:
        if changes.get("phase") == "sending":
            raise OSError("database or disk is full")
        return real_update(tx, note, **changes)  # type: ignore[arg-type]

    monkeypatch.setattr(journal, "update", failing_update)
    tx = await terminal.begin(ORDER)
    await until(settled(terminal, tx.id))
    done = settled(terminal, tx.id)()
    assert done is not None and done.outcome == "not_sent" and done.success is False
    assert "disk is full" in done.details
    assert telium.STX not in bytes(sim.received)  # only the ENQ went out
    assert sim.requests == []
    monkeypatch.undo()
    await until(lambda: terminal.status().status == "connected")
    sim.wake()
    assert (await pay(terminal))["outcome"] == "accepted"


class _VanishingLine:
    """A line whose idle read blocks until the test lets it fail (the terminal unplugged while
    idle); it cannot be opened again."""

    description = "vanishing line"

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.gone = threading.Event()
        self.opened = 0
        self.written = b""

    @property
    def is_open(self) -> bool:
        return self.opened == 1 and not self.gone.is_set()

    def open(self) -> None:
        self.opened += 1
        if self.opened > 1:
            raise TransportError("vanishing line: not connected")

    def close(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self, size: int, timeout: float) -> bytes:
        self.reading.set()
        if self.gone.wait(30):
            raise TransportError("vanishing line: device unplugged")
        return b""

    def discard_input(self) -> None:
        pass


async def test_a_payment_queued_when_the_line_goes_is_journaled_not_sent(tmp_path: Path) -> None:
    line = _VanishingLine()
    config = replace(TerminalConfig(), port="vanishing", timing=FAST)
    service = TeliumTerminalService(config, tmp_path, transport_factory=lambda port, s: line)
    await service.start()
    try:
        await until(lambda: line.reading.is_set())  # idle: the worker reads the line
        tx = await service.begin(ORDER)  # queued behind that read
        line.gone.set()
        await until(settled(service, tx.id))
        done = settled(service, tx.id)()
        assert done is not None and done.outcome == "not_sent" and done.success is False
        assert "Nothing was charged" in done.details
        assert line.written == b""  # not even an ENQ went out
        assert not service.in_transaction
        journal = PaymentJournal(service.journal_path)
        try:
            stored = journal.get(tx.id)
        finally:
            journal.close()
        assert stored is not None and stored.outcome == "not_sent"
    finally:
        await service.stop()
