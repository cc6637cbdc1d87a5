from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from posboxless.terminal import telium
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.journal import Transaction
from posboxless.terminal.service import TeliumTerminalService
from posboxless.terminal.simulator import TeliumSimulator

FAST = telium.Timing(byte_timeout=0.5, answer_timeout=10, enq_retries=1, retry_pause=0.1,
                     request_retries=1, answer_retries=1)  # fmt: skip


async def until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def settled(service: TeliumTerminalService, tx_id: str) -> Callable[[], Transaction | None]:
    def check() -> Transaction | None:
        for tx in service.transactions():
            if tx.id == tx_id and tx.phase == "done":
                return tx
        return None

    return check


@pytest.fixture
def sim() -> Iterator[TeliumSimulator]:
    simulator = TeliumSimulator(card_delay=0.2).start()
    yield simulator
    simulator.close()


@pytest.fixture
async def terminal(tmp_path: Path, sim: TeliumSimulator) -> AsyncIterator[TeliumTerminalService]:
    config = replace(TerminalConfig(), port=sim.port, timing=FAST)
    service = TeliumTerminalService(config, tmp_path)
    await service.start()
    await until(lambda: service.status().status == "connected")
    yield service
    await service.stop()
