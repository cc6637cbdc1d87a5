"""Payment terminals in operations: /metrics counts outcomes, doctor checks the port, the support
bundle holds the journal with masked card numbers only."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from posboxless.config import Config
from posboxless.ops.checks import Probe, check_devices
from posboxless.ops.identity import Identity
from posboxless.ops.layout import Layout
from posboxless.ops.metrics import Metrics
from posboxless.services import Services
from posboxless.terminal.config import TerminalConfig
from posboxless.terminal.journal import export_journals
from posboxless.terminal.registry import Terminals
from posboxless.terminal.service import PaymentOrder, TeliumTerminalService
from posboxless.terminal.simulator import TEST_CARD, TeliumSimulator

from .conftest import settled, until


async def test_metrics_count_outcomes_and_bundle_journal_is_masked(
    terminal: TeliumTerminalService, sim: TeliumSimulator, tmp_path: Path
) -> None:
    sim.script("accept", "refuse", "lose_line")
    for _ in range(3):
        tx = await terminal.begin(PaymentOrder(Decimal("2.5"), "EUR", order_id="o1"))
        await until(settled(terminal, tx.id))
    text = Metrics(Services(terminals=Terminals({"terminal": terminal}, "terminal"))).render()[0]
    lines = text.decode().splitlines()
    for outcome, count in (("accepted", 1), ("refused", 1), ("unknown", 1), ("not_sent", 0)):
        wanted = f'posboxless_payment_transactions_total{{outcome="{outcome}",terminal="terminal"}}'
        assert f"{wanted} {float(count)}" in lines, outcome

    exported = export_journals(tmp_path)
    dump = json.dumps(exported)
    assert TEST_CARD not in dump and TEST_CARD[:6] not in dump
    entries = exported["terminal"]
    assert [e["outcome"] for e in entries] == ["unknown", "refused", "accepted"]
    assert entries[2]["card"] == "************4455"
    assert [e["phase"] for e in entries[2]["events"]][-1] == "done"
    assert export_journals(tmp_path / "nothing") == {
        "note": f"no payment journal in {tmp_path / 'nothing' / 'terminals'}"
    }


def probe(root: Path) -> Probe:
    return Probe(layout=Layout(root), current=lambda: Identity("root", 0, frozenset({0}), False))


def test_doctor_checks_the_terminal_port_and_usb_ids(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "dev").mkdir(parents=True)
    config = Config(terminals=(replace(TerminalConfig(), port="/dev/ttyACM0"),))
    (result,) = check_devices(config, probe(root))
    assert result.name == "payment terminal 'terminal'" and result.level == "fail"
    assert "/dev/ttyACM0 does not exist" in result.message

    config = Config(terminals=(TerminalConfig(),))
    (result,) = check_devices(config, probe(root))
    assert result.level == "fail" and "079b:0028" in result.message
    assert "caisse" in (result.fix or "")
    device = root / "sys/bus/usb/devices/1-1"
    device.mkdir(parents=True)
    (device / "idVendor").write_text("0b00\n")
    (device / "idProduct").write_text("0080\n")
    (result,) = check_devices(config, probe(root))
    assert result.level == "ok" and "0b00:0080" in result.message
