"""The payment-terminal service: one worker thread owns the terminal's serial port and runs one
transaction at a time through the Telium session; the web layer reads a cached list of recent
transactions and never waits on the terminal.

Nothing is lost or doubled: a transaction is committed to the journal before the POS gets its
id, and each state change (``sending`` before the request's first byte) and the terminal's answer
before it is published. After a restart, a payment that may have reached the terminal is never
reported refused: the worker listens for the terminal's late answer, else reports it unknown
("check the terminal") until the answer arrives or someone settles it from the diagnostics page.
An answer the terminal announces while no payment runs is collected for the latest unknown
payment, and settles it only if its amount and currency match.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from posboxless.device import (
    Activity,
    DeviceError,
    DeviceStatus,
    DeviceUnavailable,
    InvalidInput,
    TerminalSimulatorControl,
    TerminalSnapshot,
)
from posboxless.terminal import telium
from posboxless.terminal.config import KNOWN_USB_IDS, TerminalConfig
from posboxless.terminal.journal import MAY_HAVE_REACHED, PaymentJournal, Transaction
from posboxless.transports.base import Transport, TransportError
from posboxless.transports.serial_port import SerialSettings, SerialTransport
from posboxless.worker import CommandDropped, DeviceWorker

log = logging.getLogger(__name__)

RECENT = 50
"""Transactions kept in memory for ``status_json`` (pywebdriver keeps 20): a late poll finds its
outcome."""
IDLE_READ = 0.2

TransportFactory = Callable[[str, SerialSettings], Transport]

_DETAILS = {
    "accepted": "Payment accepted by the terminal",
    "refused": "Payment refused by the terminal",
    "not_verified": "The terminal did not complete the payment (not verified)",
}
UNKNOWN_PREFIX = "Unknown — check the terminal"


@dataclass(frozen=True)
class PaymentOrder:
    """What the POS asks for (already read from its JSON)."""

    amount: Decimal
    """In currency units, as the POS sends it."""
    currency: str
    mode: str = "card"
    order_id: str | None = None
    payment_id: str | None = None


def find_port(config: TerminalConfig, claimed: frozenset[str] = frozenset()) -> str | None:
    """The configured port, or the first serial port with the configured (or a known Telium)
    USB id; None when there is none."""
    if config.port:
        return config.port
    from serial.tools import list_ports

    wanted = (config.usb,) if config.usb else KNOWN_USB_IDS
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        if (info.vid, info.pid) in wanted and info.device not in claimed:
            return str(info.device)
    return None


class TeliumTerminalService:
    kind = "payment_terminal"

    def __init__(
        self,
        config: TerminalConfig,
        data_dir: Path,
        *,
        locate: Callable[[], str | None] | None = None,
        transport_factory: TransportFactory = SerialTransport,
        retry_max: float = 2.0,
    ) -> None:
        self.config = config
        self.name = config.name
        self.journal_path = data_dir / "terminals" / f"{config.name}.sqlite3"
        self._locate = locate or (lambda: find_port(config))
        self._transport_factory = transport_factory
        self.retry_max = retry_max
        self.activity = Activity()
        self.simulator: TerminalSimulatorControl | None = None
        """Set by the factory in simulate mode: the simulated terminal (``script(...)``)."""
        self.port: str | None = None
        self._port_open = False
        self._journal: PaymentJournal | None = None
        self._recent: list[Transaction] = []
        self._lock = threading.Lock()
        self._busy: str | None = None
        self._recovering: list[Transaction] = []
        self._worker: DeviceWorker[Transport] = DeviceWorker(
            f"terminal {self.name}",
            self._connect_and_serve,
            logger=log,
            retry_min=0.1,
            retry_max=retry_max,
            status=DeviceStatus("connecting", ("Starting the payment terminal service",)),
            thread_name=f"terminal-{self.name}",
            device="the payment terminal",
            after_session=self._port_closed,
            # any failure during a transaction ends the session, as a lost line does
            ends_session=(Exception,),
            activity=self.activity,
        )

    # ---- cached answers (never block) ------------------------------------------------------------

    def status(self) -> DeviceStatus:
        return self._worker.status

    def transactions(self) -> list[Transaction]:
        """Recent transactions, newest first (cached)."""
        return list(self._recent)

    @property
    def in_transaction(self) -> bool:
        return self._busy is not None

    def snapshot(self) -> TerminalSnapshot:
        simulator = self.simulator
        return TerminalSnapshot(
            name=self.name,
            status=self.status(),
            protocol="Telium (Concert)",
            port=self.port,
            configured=self._configured(),
            serial_settings=str(self.config.serial_settings),
            busy_with=self._busy,
            transactions=tuple(MappingProxyType(public_view(t)) for t in self._recent[:15]),
            simulated=simulator is not None,
            next_outcome=simulator.next_outcome if simulator is not None else None,
            activity=self.activity.snapshot(),
        )

    def details(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        activity = snapshot.activity
        return {
            "protocol": snapshot.protocol,
            "port": snapshot.port,
            "configured": snapshot.configured,
            "serial_settings": snapshot.serial_settings,
            "in_transaction": snapshot.busy_with,
            "transactions": [dict(t) for t in snapshot.transactions],
            "last_ok": activity.last_ok,
            "last_error": activity.last_error,
            "last_error_message": activity.last_error_message,
            "counters": dict(activity.counters),
            "simulated": snapshot.simulated,
            "next_outcome": snapshot.next_outcome,
        }

    def _configured(self) -> str:
        if self.config.port:
            return self.config.port
        if self.config.usb:
            return f"usb {self.config.usb[0]:04x}:{self.config.usb[1]:04x}"
        return "auto (known Telium USB ids)"

    # ---- requests from the POS -------------------------------------------------------------------

    def _count(self, counter: str) -> None:
        self.activity.counters[counter] = self.activity.counters.get(counter, 0) + 1

    def validate(self, order: PaymentOrder) -> bytes:
        """The request message for ``order``; raises ``InvalidInput`` (nothing is sent)."""
        currency = order.currency.upper() if isinstance(order.currency, str) else ""
        allowed = self.config.currencies
        if currency not in telium.CURRENCIES or (allowed and currency not in allowed):
            known = ", ".join(allowed or sorted(telium.CURRENCIES))
            raise InvalidInput(
                f"The payment terminal cannot take the currency {order.currency!r} "
                f"(it takes {known})",
                arguments=[f"Unknown currency {order.currency!r}", order.currency],
            )
        mode = telium.PAYMENT_MODES.get(order.mode)
        if mode is None:
            raise InvalidInput(
                f"Unknown payment mode {order.mode!r}: expected 'card' or 'check'",
                arguments=[f"Unknown payment mode {order.mode!r}", order.mode],
            )
        try:
            minor = telium.to_minor_units(order.amount, currency)
        except telium.AmountError as exc:
            raise InvalidInput(
                f"Cannot send this amount to the payment terminal: {exc}",
                arguments=[str(exc), str(order.amount)],
            ) from None
        if order.amount > Decimal(str(self.config.max_amount)):
            raise InvalidInput(
                f"{order.amount} {currency} is more than this terminal's limit "
                f"({self.config.max_amount} {currency}, payment_terminal.max_amount)",
                arguments=["Amount above the terminal's limit", str(order.amount)],
            )
        numeric, _ = telium.CURRENCIES[currency]
        return telium.PaymentRequest(
            amount=minor,
            currency=numeric,
            mode=mode,
            pos_number=self.config.pos_number,
            full_answer=self.config.full_answer,
            delay=self.config.delay,
            authorisation="B011" if self.config.force_authorisation else "B010",
        ).encode()

    async def begin(self, order: PaymentOrder) -> Transaction:
        """Journal a new transaction and hand it to the worker; returns it (phase ``created``).
        Raises ``InvalidInput`` or ``DeviceUnavailable`` (busy, not connected): nothing sent."""
        try:
            self.validate(order)
        except InvalidInput:
            self._count("invalid_request")
            raise
        currency = order.currency.upper()
        minor = telium.to_minor_units(order.amount, currency)
        with self._lock:
            if self._journal is None:
                raise DeviceUnavailable("The payment terminal service is not running")
            if self._busy is not None:
                self._count("refused_busy")
                current = next((t for t in self._recent if t.id == self._busy), None)
                what = ""
                if current is not None:
                    what = f" ({telium.format_amount(current.amount, current.currency)})"
                raise DeviceUnavailable(
                    f"The payment terminal '{self.name}' is busy with transaction "
                    f"{self._busy}{what}: finish or cancel it on the terminal first",
                    arguments=["Payment terminal busy", self._busy],
                )
            if not self._port_open:
                self._count("refused_unavailable")
                raise DeviceUnavailable(
                    f"The payment terminal '{self.name}' is not connected: "
                    f"{'; '.join(self._worker.status.messages)}",
                    arguments=["Payment terminal not connected", self.name],
                )
            now = time.time()
            tx = Transaction(
                id=f"{self.name}-{uuid.uuid4().hex[:12]}",
                terminal=self.name,
                created=now,
                updated=now,
                amount=minor,
                currency=currency,
                mode=order.mode,
                order_id=order.order_id,
                payment_id=order.payment_id,
                phase="created",
            )
            self._busy = tx.id
        try:
            tx = await asyncio.to_thread(self._journal.create, tx)
        except Exception as exc:
            with self._lock:
                self._busy = None
            log.exception("terminal %s: cannot journal a new transaction", self.name)
            raise DeviceError(f"Cannot record the payment (nothing was sent): {exc}") from exc
        self._publish(tx)
        log.info(
            "terminal %s: transaction %s for %s (%s) order %s",
            self.name, tx.id, telium.format_amount(minor, currency), order.mode, order.order_id,
        )  # fmt: skip
        self._worker.submit(lambda transport: self._transact(transport, tx)).add_done_callback(
            lambda future: self._dropped(future, tx)
        )
        return tx

    async def resolve(self, transaction_id: str, accepted: bool, who: str) -> Transaction:
        """Settle an unknown transaction from the terminal's own ticket (diagnostics page)."""
        journal = self._journal
        if journal is None:
            raise DeviceUnavailable("The payment terminal service is not running")
        tx = await asyncio.to_thread(journal.get, transaction_id)
        if tx is None:
            raise InvalidInput(f"No transaction {transaction_id!r} on terminal '{self.name}'")
        if tx.outcome != "unknown":
            raise InvalidInput(
                f"Transaction {transaction_id} is {tx.outcome or tx.phase}: only an unknown "
                "outcome can be settled by hand"
            )
        outcome = "accepted" if accepted else "refused"
        tx = await asyncio.to_thread(
            journal.update,
            tx,
            f"settled by hand as {outcome} ({who})",
            phase="done",
            outcome=outcome,
            success=accepted,
            details=("Payment accepted" if accepted else "Payment not made")
            + " (confirmed by hand from the terminal's ticket)",
            resolved_by=who,
        )
        self._publish(tx)
        self._count(f"settled_{outcome}")
        log.warning("terminal %s: transaction %s settled by hand as %s", self.name, tx.id, outcome)
        return tx

    # ---- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._worker.alive:
            return
        self._journal = await asyncio.to_thread(PaymentJournal, self.journal_path)
        await asyncio.to_thread(self._recover)
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.shut_down(10.0, "Payment terminal service stopped")
        if self._journal is not None:
            self._journal.close()

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._worker.on_stop(callback)

    def _publish(self, tx: Transaction) -> None:
        with self._lock:
            recent = [t for t in self._recent if t.id != tx.id]
            recent.append(tx)
            recent.sort(key=lambda t: t.created, reverse=True)
            self._recent = recent[:RECENT]

    def _recover(self) -> None:
        """Settle what a previous run left open (journal first, then the cache)."""
        journal = self._journal
        assert journal is not None
        for tx in journal.open_transactions():
            if tx.phase in MAY_HAVE_REACHED:
                tx = journal.update(
                    tx,
                    f"proxy restarted in phase {tx.phase}: waiting for the terminal's answer",
                    phase="recovering",
                    outcome=None,
                    success=None,
                    details="The proxy restarted during this payment: waiting for the "
                    "terminal's answer",
                )
                self._recovering.append(tx)
                self._busy = tx.id
            else:
                tx = journal.update(
                    tx,
                    f"proxy restarted in phase {tx.phase}, before the request was sent",
                    phase="done",
                    outcome="not_sent",
                    success=False,
                    details="Not sent to the terminal (the proxy restarted first): "
                    "nothing was charged",
                )
                self._count("not_sent")
        for tx in reversed(journal.recent(RECENT)):
            self._publish(tx)

    # ---- worker thread ---------------------------------------------------------------------------

    def _port_closed(self) -> None:
        """After each session: no new payment is taken until the port is open again."""
        self._port_open = False

    def _connect_and_serve(self) -> bool:
        port = self._locate()
        if port is None:
            wanted = self.config.usb or KNOWN_USB_IDS[0]
            self._worker.report(
                "disconnected",
                "No payment terminal found (no serial port with USB id "
                f"{wanted[0]:04x}:{wanted[1]:04x}); plug it in or set payment_terminal.port",
            )
            return False
        transport = self._transport_factory(port, self.config.serial_settings)
        try:
            transport.open()
        except TransportError as exc:
            self._worker.report("disconnected", str(exc))
            return False
        self.port = port
        self._port_open = True
        self._worker.report(
            "connected", f"Telium terminal on {port} ({self.config.serial_settings})"
        )
        try:
            try:
                self._serve(transport)
            finally:
                # Closed to new payments before anyone can read that the terminal is gone: a
                # POS that saw "disconnected" must never get a payment accepted.
                self._port_closed()
                transport.close()
        except TransportError as exc:
            self._worker.report("disconnected", f"Payment terminal disconnected from {port}: {exc}")
        return True

    def _serve(self, transport: Transport) -> None:
        while self._recovering and not self._worker.stopping:
            self._collect_late_answer(transport, self._recovering[0])
            self._recovering.pop(0)
            with self._lock:
                self._busy = self._recovering[0].id if self._recovering else None
        while not self._worker.stopping:
            if self._worker.run_commands(transport):
                continue
            # Idle: a read notices an unplugged terminal, and a terminal announcing an answer
            # nobody collected (an unknown outcome) is heard.
            stray = transport.read(64, IDLE_READ) if not self._worker.pending else b""
            if stray and telium.ENQ in stray and self._collect_unknown(transport, stray):
                continue
            if stray:
                log.info("terminal %s: %d unexpected bytes while idle", self.name, len(stray))
            if self.port and self.port.startswith("/dev/") and not os.path.exists(self.port):
                raise TransportError(f"{self.port} is gone")

    def _abandon(self, transaction_id: str, exc: Exception) -> None:
        """A failure that is not the line's (a full disk, a bug) ended a transaction: say so,
        with the same caution as for a lost line."""
        tx = next((t for t in self._recent if t.id == transaction_id), None)
        if tx is None or tx.phase == "done":
            return
        if tx.phase in MAY_HAVE_REACHED:
            outcome, success = "unknown", None
            details = f"{UNKNOWN_PREFIX}: posboxless failed during the payment ({exc})"
        else:
            outcome, success = "not_sent", False
            details = f"Not sent: posboxless failed before sending ({exc}). Nothing was charged."
        try:
            self._finish(tx, outcome, success, details, note=f"failure: {exc}")
        except Exception:  # the journal itself fails: at least the POS must not wait forever
            log.exception("terminal %s: cannot journal the end of %s", self.name, tx.id)
            self._publish(
                replace(tx, phase="done", outcome=outcome, success=success, details=details)
            )

    def _request_for(self, tx: Transaction) -> bytes:
        """The request message of a journaled transaction (validated when it was created; the
        configuration's limits may have changed since, which must not block its recovery)."""
        return telium.PaymentRequest(
            amount=tx.amount,
            currency=telium.CURRENCIES[tx.currency][0],
            mode=telium.PAYMENT_MODES[tx.mode],
            pos_number=self.config.pos_number,
            full_answer=self.config.full_answer,
            delay=self.config.delay,
            authorisation="B011" if self.config.force_authorisation else "B010",
        ).encode()

    def _collect_unknown(self, transport: Transport, data: bytes) -> bool:
        """The terminal announces an answer while no transaction runs: it may be the answer to
        the latest transaction whose outcome is unknown. Collect it and settle that transaction
        only if the answer matches it (amount, currency). True when something was collected."""
        tx = next((t for t in self._recent if t.outcome == "unknown"), None)
        if tx is None:
            return False
        with self._lock:
            if self._busy is not None:  # a new payment was just accepted: it goes first
                return False
            self._busy = tx.id
        try:
            session = telium.Session(self._request_for(tx), self.config.timing)
            now = time.monotonic()
            session.listen(now, self.config.timing.byte_timeout)
            out = session.receive(data[data.index(telium.ENQ) :], now)
            log.warning("terminal %s: the terminal announces a late answer", self.name)
            self._drive(transport, tx, session, out, late=True)
        finally:
            with self._lock:
                self._busy = None
        return True

    def _transact(self, transport: Transport, tx: Transaction) -> None:
        """Worker thread: one payment (a command of the worker: never during an idle read)."""
        try:
            self._run_transaction(transport, tx)
        except TransportError:
            raise
        except Exception as exc:
            self._abandon(tx.id, exc)
            raise
        finally:
            with self._lock:
                self._busy = None

    def _dropped(self, future: Future[None], tx: Transaction) -> None:
        """A payment the worker never started (the line went away first, or the service
        stopped): journaled as not sent."""
        if future.cancelled() or not isinstance(future.exception(), CommandDropped):
            return
        reason = "the payment terminal is not connected"
        try:
            self._finish(
                tx,
                "not_sent",
                False,
                f"Not sent to the terminal: {reason}. Nothing was charged.",
                note=reason,
            )
        except Exception:  # left open: the next start journals it as not sent
            log.exception("terminal %s: cannot journal %s as not sent", self.name, tx.id)
        finally:
            with self._lock:
                self._busy = None

    def _advance(self, tx: Transaction, phase: str, note: str) -> Transaction:
        assert self._journal is not None
        tx = self._journal.update(tx, note, phase=phase)
        self._publish(tx)
        return tx

    def _finish(
        self,
        tx: Transaction,
        outcome: str,
        success: bool | None,
        details: str,
        note: str,
        count: bool = True,
        **extra: Any,
    ) -> Transaction:
        assert self._journal is not None
        tx = self._journal.update(
            tx, note, phase="done", outcome=outcome, success=success, details=details, **extra
        )
        self._publish(tx)
        if count:
            self._count(outcome)
        if outcome in ("accepted", "refused", "not_verified"):
            self.activity.ok()
        level = logging.INFO if success is not None else logging.WARNING
        log.log(level, "terminal %s: transaction %s %s: %s", self.name, tx.id, outcome, details)
        return tx

    def _run_transaction(self, transport: Transport, tx: Transaction) -> None:
        request = self._request_for(tx)
        transport.discard_input()  # stray bytes are not the answer to this request
        session = telium.Session(request, self.config.timing)
        tx = self._advance(tx, "connecting", "ENQ sent")
        self._drive(transport, tx, session, session.start(time.monotonic()))

    def _collect_late_answer(self, transport: Transport, tx: Transaction) -> None:
        session = telium.Session(self._request_for(tx), self.config.timing)
        log.warning("terminal %s: waiting for the answer to %s after a restart", self.name, tx.id)
        out = session.listen(time.monotonic(), self.config.timing.answer_timeout)
        self._drive(transport, tx, session, out)

    def _drive(
        self,
        transport: Transport,
        tx: Transaction,
        session: telium.Session,
        out: bytes,
        late: bool = False,
    ) -> None:
        """Run ``session`` to its end over ``transport``, journaling every phase change before
        the bytes of that phase are written."""
        try:
            while True:
                if session.phase.value != tx.phase and not session.done:
                    tx = self._advance(tx, session.phase.value, _PHASE_NOTES[session.phase])
                if out:
                    transport.write(out)
                if session.done:
                    break
                if self._worker.stopping:
                    # Left open in the journal, exactly as a crash would: the next start
                    # collects the answer or reports it unknown.
                    log.warning("terminal %s: stopping during transaction %s", self.name, tx.id)
                    return
                now = time.monotonic()
                wait = min(max(session.deadline - now, 0.0), IDLE_READ)
                data = transport.read(1, wait) if wait > 0 else b""
                if data:
                    data += transport.read(256, 0)
                    out = session.receive(data, time.monotonic())
                else:
                    out = session.tick(time.monotonic())
        except TransportError as exc:
            if late:
                raise  # the transaction stays unknown
            if session.phase is telium.Phase.CONNECTING:
                self._finish(
                    tx, "not_sent", False,
                    f"Not sent: the terminal went away ({exc}). Nothing was charged.",
                    note=f"line lost before the request: {exc}",
                )  # fmt: skip
            else:
                self._finish(
                    tx, "unknown", None,
                    f"{UNKNOWN_PREFIX}: the line to the terminal was lost during the payment",
                    note=f"line lost in phase {session.phase.value}: {exc}",
                )  # fmt: skip
            raise
        self._conclude(tx, session, late)

    def _conclude(self, tx: Transaction, session: telium.Session, late: bool = False) -> None:
        if late and (session.ending is not telium.Ending.ANSWERED or session.answer is None):
            self._finish(
                tx, "unknown", None, tx.details,
                note=f"late answer not collected: {session.reason}", count=False,
            )  # fmt: skip
            return
        if session.ending is telium.Ending.NOT_SENT:
            self._worker.report(
                "error",
                f"The payment terminal on {self.port} did not take the request "
                f"({session.reason}): check that it is on and that its cash-register "
                "(caisse) link is enabled",
            )
            self._finish(
                tx, "not_sent", False,
                f"The terminal did not take the request ({session.reason}). Nothing was "
                "charged: press the red button on the terminal and try again.",
                note=session.reason,
            )  # fmt: skip
            return
        if session.ending is telium.Ending.UNKNOWN or session.answer is None:
            self._finish(
                tx, "unknown", None, f"{UNKNOWN_PREFIX}: {session.reason}", note=session.reason
            )
            return
        answer = session.answer
        self._worker.report(
            "connected", f"Telium terminal on {self.port} ({self.config.serial_settings})"
        )
        numeric = telium.CURRENCIES[tx.currency][0]
        summary = (
            f"result {answer.result}, amount {answer.amount}, mode {answer.mode}, "
            f"currency {answer.currency:03d}, pos {answer.pos_number}"
        )
        extra: dict[str, Any] = {
            "result_code": answer.result,
            "card": answer.masked_card,
            "answer": summary,
        }
        mismatch = []
        if answer.amount != tx.amount:
            mismatch.append(f"amount {telium.format_amount(answer.amount, tx.currency)}")
        if answer.currency != numeric:
            mismatch.append(f"currency {answer.currency:03d}")
        if answer.pos_number != self.config.pos_number:
            mismatch.append(f"POS number {answer.pos_number}")
        outcome = answer.outcome
        note = "answer received" + (" (no final EOT)" if session.missing_eot else "")
        if late:
            note = "late answer collected: " + note
            if mismatch or outcome == "unknown_code":
                # Not this transaction's answer (or unreadable): it stays unknown.
                self._finish(
                    tx, "unknown", None, tx.details,
                    note=f"late answer ignored ({summary}): not this transaction's",
                    count=False,
                )  # fmt: skip
                return
        if outcome == "accepted" and mismatch:
            self._finish(
                tx, "unknown", None,
                f"{UNKNOWN_PREFIX}: it reports a payment with another "
                f"{', '.join(mismatch)} than the {telium.format_amount(tx.amount, tx.currency)} "
                "asked",
                note=f"{note}: accepted but {', '.join(mismatch)}", **extra,
            )  # fmt: skip
            return
        if outcome == "unknown_code":
            self._finish(
                tx, "unknown", None,
                f"{UNKNOWN_PREFIX}: it answered with the unknown result code {answer.result!r}",
                note=note, **extra,
            )  # fmt: skip
            return
        details = _DETAILS[outcome]
        if answer.masked_card:
            details += f" (card {answer.masked_card})"
        self._finish(tx, outcome, outcome == "accepted", details, note=note, **extra)


_PHASE_NOTES = {
    telium.Phase.CONNECTING: "ENQ sent",
    telium.Phase.SENDING: "terminal ready; sending the request",
    telium.Phase.WAITING_CARD: "request taken by the terminal; waiting for the customer",
    telium.Phase.RECEIVING: "terminal announced its answer",
    telium.Phase.CLOSING: "answer received and acknowledged",
}


def public_view(tx: Transaction) -> dict[str, Any]:
    """What the page and the support bundle show: no card number beyond its last digits."""
    return {
        "transaction_id": tx.id,
        "created": tx.created,
        "updated": tx.updated,
        "amount": telium.format_amount(tx.amount, tx.currency),
        "mode": tx.mode,
        "order_id": tx.order_id,
        "phase": tx.phase,
        "outcome": tx.outcome,
        "success": tx.success,
        "details": tx.details,
        "card": tx.card,
        "resolved_by": tx.resolved_by,
    }


def unknown_payments(terminals: Iterable[TerminalSnapshot]) -> list[tuple[str, str]]:
    """Banners for the diagnostics page: each payment whose outcome is unknown, with what to do."""
    banners = []
    for terminal in terminals:
        for tx in terminal.unknown_payments:
            banners.append(
                (
                    f"Payment of {tx['amount']} on terminal '{terminal.name}' "
                    f"(order {tx.get('order_id') or '?'}): {tx['details']}",
                    "Read the terminal's ticket or its last transactions, then press "
                    "'Ticket says paid' or 'Not paid' below; the POS takes that answer.",
                )
            )
    return banners
