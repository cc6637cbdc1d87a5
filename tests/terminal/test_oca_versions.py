"""Each OCA ``pos_payment_terminal`` client version's exact sequence (start, then polling),
through the real server on a loopback socket and the real terminal service on the pty
simulator: what the POS records must be what the terminal did, in every case."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.registry import Terminals
from posboxless.terminal.service import TeliumTerminalService
from posboxless.terminal.simulator import REAL_OUTCOME, TeliumSimulator
from tests.live import live_server

from .conftest import FAST, until
from .oca_clients import ORIGIN, Oca8to12, Oca13to18, RpcFailed, rpc

VERSIONS_13_18 = [13, 14, 16, 18]


@dataclass
class Till:
    http: httpx.AsyncClient
    sims: dict[str, TeliumSimulator]
    terminals: Terminals
    url: str

    @property
    def sim(self) -> TeliumSimulator:
        return self.sims["terminal"]


@pytest.fixture
def till_parts(tmp_path: Path) -> Iterator[tuple[Services, dict[str, TeliumSimulator], str]]:
    sims = {name: TeliumSimulator(card_delay=0.3).start() for name in ("terminal", "bar")}
    services = Services(
        terminals=Terminals(
            {
                name: TeliumTerminalService(
                    replace(TerminalConfig(name=name), port=sim.port, timing=FAST), tmp_path
                )
                for name, sim in sims.items()
            },
            "terminal",
        )
    )
    config = Config(server=ServerConfig(data_dir=tmp_path))
    app = create_app(config, services)
    with live_server(app, services=services) as url:
        yield services, sims, url
    for sim in sims.values():
        sim.close()


@pytest.fixture
async def till(
    till_parts: tuple[Services, dict[str, TeliumSimulator], str],
) -> AsyncIterator[Till]:
    services, sims, url = till_parts
    async with httpx.AsyncClient(base_url=url) as http:
        terminals = services.terminals
        for terminal in terminals.all():
            await until(lambda t=terminal: t.status().status == "connected")  # type: ignore[misc]
        yield Till(http, sims, terminals, url)


def real_outcome(sim: TeliumSimulator) -> str:
    assert len(sim.history) == 1
    return sim.history[0][1]


@pytest.mark.parametrize("version", VERSIONS_13_18)
async def test_13_to_18_accepted(till: Till, version: int) -> None:
    pos = Oca13to18(till.http, version)
    line, answer = await pos.start(12.5)
    assert isinstance(answer, dict) and answer is not True  # never a bare true (18 trap)
    assert answer["success"] is None and answer["status"] == "pending"
    assert line.state == "waitingCard"
    await pos.poll(line)
    assert real_outcome(till.sim) == "accepted"
    assert line.recorded == "paid" and line.status == "accepted"
    assert line.transaction_id == line.terminal_transaction_id  # the accounting reference
    assert line.polls > 1  # it waited for the card, with success null meanwhile
    assert "pending" in line.statuses_seen
    # the exact bytes the terminal got (§B2, §B3): ENQ, STX request ETX LRC, EOT, then ACKs
    message = b"0100001250110978" + b" " * 10 + b"A010B010"
    lrc = functools.reduce(operator.xor, message + b"\x03", 0)
    framed = b"\x02" + message + b"\x03" + bytes([lrc])
    assert bytes(till.sim.received) == b"\x05" + framed + b"\x04" + b"\x06\x06"
    request = till.sim.requests[0]
    assert (request.amount, request.currency, request.mode, request.transaction_type) == (
        1250, 978, "1", "0",
    )  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS_13_18)
@pytest.mark.parametrize(
    ("script", "status"), [("refuse", "refused"), ("not_verified", "not_verified")]
)
async def test_13_to_18_refused(till: Till, version: int, script: str, status: str) -> None:
    till.sim.script(script)
    line = await Oca13to18(till.http, version).pay(42.0)
    assert real_outcome(till.sim) == status
    assert line.recorded == "not paid" and line.status == status and line.success is False


@pytest.mark.parametrize("version", VERSIONS_13_18)
async def test_13_to_18_terminal_silent_nothing_charged(till: Till, version: int) -> None:
    till.sim.script("silent")
    line = await Oca13to18(till.http, version).pay(9.99)
    assert till.sim.history == []  # the terminal never took a request
    assert line.recorded == "not paid" and line.status == "failed"
    assert "did not take the request" in (line.status_details or "")


@pytest.mark.parametrize("version", VERSIONS_13_18)
async def test_13_to_18_line_lost_mid_answer_is_never_refused(till: Till, version: int) -> None:
    till.sim.script("lose_line")
    pos = Oca13to18(till.http, version)
    line, _ = await pos.start(30.0)
    for _ in range(2000):
        assert not await pos.poll_once(line)  # success stays null: the POS keeps waiting
        if line.status == "unknown":
            break
    assert line.status == "unknown" and line.success is None
    assert (line.status_details or "").startswith("Unknown — check the terminal")
    for _ in range(3):
        assert not await pos.poll_once(line)
    # The terminal did take the payment; the manager reads its ticket and settles it.
    assert real_outcome(till.sim) == "accepted"
    response = await till.http.post(
        "/api/terminal_resolve",
        json={"transaction_id": line.terminal_transaction_id, "outcome": "accepted"},
    )
    assert response.status_code == 200, response.text
    await pos.poll(line)
    assert line.recorded == "paid" and line.status == "accepted"


@pytest.mark.parametrize("version", [10, 12])
@pytest.mark.parametrize(
    ("script", "validated"),
    [("accept", True), ("refuse", False), ("silent", False), ("lose_line", False)],
)
async def test_8_to_12(till: Till, version: int, script: str, validated: bool) -> None:
    till.sim.script(script)
    pos = await Oca8to12(till.http, version).pay(12.5)
    assert isinstance(pos.start_result, dict) and "transaction_id" in pos.start_result
    assert pos.seen_in_transaction
    if version == 12:  # 10 sends no order uid: its POS has nothing to match
        assert pos.validated is validated
        if pos.validated:
            assert REAL_OUTCOME[script] == "accepted"
    assert not pos.in_transaction


async def test_several_terminals_by_terminal_id(till: Till) -> None:
    till.sims["bar"].script("refuse")
    bar = await Oca13to18(till.http, 16, terminal_id="bar").pay(5.0)
    main = await Oca13to18(till.http, 18).pay(6.0)
    assert bar.recorded == "not paid" and main.recorded == "paid"
    assert [r.amount for r in till.sims["bar"].requests] == [500]
    assert [r.amount for r in till.sim.requests] == [600]
    status = await rpc(till.http, "status_json", {"terminal_id": "bar"})
    assert status["payment_terminal_bar"]["terminal_id"] == "bar"
    assert status["payment_terminal"]["is_terminal"] is True


async def test_second_start_while_one_runs_is_a_clear_error(till: Till) -> None:
    till.sim.card_delay = 2.0
    pos = Oca13to18(till.http, 16)
    line, _ = await pos.start(10.0)
    with pytest.raises(RpcFailed, match="busy with transaction"):
        await rpc(till.http, "payment_terminal_transaction_start",
                  {"payment_info": json.dumps(pos.payment_info(11.0))})  # fmt: skip
    second, _ = await pos.start(11.0)
    assert second.state == "retry"  # the POS shows "Failed to send the amount"
    await pos.poll(line)
    assert line.recorded == "paid" and len(till.sim.requests) == 1


async def test_late_poll_still_finds_the_outcome(till: Till) -> None:
    pos = Oca13to18(till.http, 18)
    line, _ = await pos.start(3.0)
    await until(lambda: len(till.sim.history) == 1 and not till.terminals.get(None).in_transaction)
    for _ in range(5):  # other payments in between
        await Oca13to18(till.http, 16).pay(1.0)
    await pos.poll(line)
    assert line.recorded == "paid"


BAD_INFOS = [
    {"amount": 0, "currency_iso": "EUR"},
    {"amount": -12.5, "currency_iso": "EUR"},
    {"amount": 1e12, "currency_iso": "EUR"},
    {"amount": 100000, "currency_iso": "EUR"},
    {"amount": 12.505, "currency_iso": "EUR"},
    {"amount": 12.5, "currency_iso": "ZZZ"},
    {"amount": 12.5, "currency_iso": ""},
    {"amount": 12.5},
    {"amount": True, "currency_iso": "EUR"},
    {"amount": "douze", "currency_iso": "EUR"},
    {"amount": None, "currency_iso": "EUR"},
    {"amount": 12.5, "currency_iso": "EUR", "payment_mode": "crypto"},
    {"amount": 12.5, "currency_iso": "EUR", "currency_decimals": "2"},
    {"amount": 12.5, "currency_iso": "EUR", "terminal_id": "nowhere"},
    {"amount": 12.5, "currency_iso": "EUR", "order_id": {"x": 1}},
    {"currency_iso": "EUR", "amount": 12.5, "payment_id": "p" * 500},
]


BAD_PARAMS = [
    *({"payment_info": json.dumps(info)} for info in BAD_INFOS),
    {"payment_info": "{not json"},
    {"payment_info": '{"amount": NaN, "currency_iso": "EUR"}'},
    {"payment_info": '{"amount": Infinity, "currency_iso": "EUR"}'},
    {"payment_info": "[12.5]"},
    {"payment_info": 12.5},
    {"payment_info": "x" * 100_000},
    {"payment_info": "[" * 50_000},
    {},
]


async def test_bad_input_is_a_json_rpc_error_and_the_terminal_gets_nothing(till: Till) -> None:
    for params in BAD_PARAMS:
        response = await till.http.post(
            "/hw_proxy/payment_terminal_transaction_start",
            json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 5},
            headers={"Origin": ORIGIN},
        )
        assert response.status_code == 200
        error = response.json()["error"]
        assert error["data"]["name"] == "posboxless.InvalidInput", (params, error)
        assert error["data"]["arguments"] and error["data"]["message"]
    for sim in till.sims.values():
        assert bytes(sim.received) == b""
    assert all(t.transactions() == [] for t in till.terminals.all())
    assert till.terminals.get(None).details()["counters"]["invalid_request"] >= 5


async def test_no_terminal_configured(tmp_path: Path) -> None:
    app = create_app(Config(server=ServerConfig(data_dir=tmp_path)), Services())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8069") as http:
        with pytest.raises(RpcFailed, match="No payment terminal"):
            info = json.dumps({"amount": 1, "currency_iso": "EUR"})
            await rpc(http, "payment_terminal_transaction_start", {"payment_info": info})
        status = await rpc(http, "status_json", {})
        assert not any(isinstance(v, dict) and v.get("is_terminal") for v in status.values())
