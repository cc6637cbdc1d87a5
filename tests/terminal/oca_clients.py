"""What OCA ``pos_payment_terminal``'s client code does with the proxy, per version
(payment-terminal.md §A2-A3), as small Python models: the tests replay each version's requests
and read the answers exactly as its JavaScript does, to see what the POS would record.

Only the poll interval is shortened (1 s in 13-18, the 5 s status poll in 8-12).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

ORIGIN = "https://coop.example.com"
_ids = itertools.count(1)


async def rpc(http: httpx.AsyncClient, path: str, params: dict[str, Any],
              timeout: float | None = None) -> Any:  # fmt: skip
    """One JSON-RPC call as the POS makes it; returns ``result`` or raises on ``error``."""
    body = {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(_ids)}
    response = await http.post(
        f"/hw_proxy/{path}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
        timeout=timeout,
    )
    payload = response.json()
    if "error" in payload:
        raise RpcFailed(payload["error"])
    return payload["result"]


class RpcFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["data"]["message"])
        self.error = error


@dataclass
class PaymentLine:
    """The payment line's fields the 13-18 client sets (``terminal_transaction_*``)."""

    state: str = "pending"
    """pending -> waitingCard -> done | retry | force_done; ``paid`` when the promise resolved
    true."""
    terminal_transaction_id: str | None = None
    success: bool | None = None
    status: str | None = None
    status_details: str | None = None
    transaction_id: str | None = None
    """The accounting reference copied from the answer."""
    popup: str | None = None
    polls: int = 0
    statuses_seen: list[str | None] = field(default_factory=list)

    @property
    def recorded(self) -> str:
        """What the order records: paid, not paid (retry), or left to the cashier."""
        return {"done": "paid", "retry": "not paid", "force_done": "cashier decides"}.get(
            self.state, self.state
        )


@dataclass
class Oca13to18:
    """``PaymentInterface`` ``oca_payment_terminal`` of 13, 14, 16 and 18."""

    http: httpx.AsyncClient
    version: int
    terminal_id: str | None = None
    interval: float = 0.05
    proxy_down_until_ok: bool = False

    def payment_info(self, amount: float, mode: str = "card") -> dict[str, Any]:
        info: dict[str, Any] = {
            "amount": amount,
            "currency_iso": "EUR",
            "currency_decimals": 2,
            "payment_mode": mode,
        }
        if self.version >= 18:
            info["payment_id"] = str(uuid.uuid4())
            info["order_id"] = "Order 00012-003-0004".replace(" ", "", 1).replace("-", "").upper()
        else:
            info["payment_id"] = "c42"
            info["order_id"] = "Order 00012-003-0004"
        if self.terminal_id:
            info["terminal_id"] = self.terminal_id
        return info

    async def start(self, amount: float, mode: str = "card") -> tuple[PaymentLine, Any]:
        """``send_payment_request``: returns the line after the start answer, and that answer."""
        line = PaymentLine()
        try:
            result = await rpc(
                self.http,
                "payment_terminal_transaction_start",
                {"payment_info": json.dumps(self.payment_info(amount, mode))},
            )
        except (RpcFailed, httpx.HTTPError):
            result = False  # 18 turns a failed call into false; 13-16 treat it the same
        if result is False:
            line.state = "retry"
            line.popup = "Failed to send the amount to pay to the payment terminal."
        elif isinstance(result, dict) and "transaction_id" in result:
            line.state = "waitingCard"
            line.terminal_transaction_id = result["transaction_id"]
        elif result is True:
            # the 18 trap: 18 resolves true (paid, unchecked); 13-16 ask the cashier
            line.state = "done" if self.version >= 18 else "force_done"
        else:
            line.state = "retry" if self.version >= 18 else "force_done"
        return line, result

    def _scan(self, line: PaymentLine, status: dict[str, Any]) -> None:
        for driver in status.values():
            if not (isinstance(driver, dict) and driver.get("is_terminal")):
                continue
            transactions = driver.get("transactions")
            if transactions is None:
                continue
            items = transactions.values() if isinstance(transactions, dict) else transactions
            for tx in items:
                if tx.get("transaction_id") == line.terminal_transaction_id:
                    line.success = tx.get("success")
                    line.status = tx.get("status")
                    line.status_details = tx.get("status_details")
                    if self.version >= 18:
                        line.transaction_id = tx.get("transaction_id")
                    else:
                        line.transaction_id = tx.get("reference")

    async def poll_once(self, line: PaymentLine) -> bool:
        """One status poll; True when polling stops."""
        params = {"terminal_id": self.terminal_id} if self.terminal_id else {}
        try:
            # 13-16: the proxy connection's 1000 ms timeout; 18: none
            timeout = 1.0 if self.version < 18 else None
            status = await rpc(self.http, "status_json", params, timeout=timeout)
        except (RpcFailed, httpx.HTTPError):
            if self.version >= 18:
                return False  # 18: the proxy is "disconnected"; polling waits for it
            line.state = "force_done"  # 13-16: a failed poll leaves it to the cashier
            return True
        line.polls += 1
        self._scan(line, status)
        line.statuses_seen.append(line.status)
        if line.success is not None:
            line.state = "done" if line.success else "retry"
            return True
        return False

    async def poll(self, line: PaymentLine, max_polls: int = 2000) -> PaymentLine:
        for _ in range(max_polls):
            if await self.poll_once(line):
                return line
            await asyncio.sleep(self.interval)
        return line

    async def pay(self, amount: float, mode: str = "card") -> PaymentLine:
        line, _ = await self.start(amount, mode)
        if line.state == "waitingCard":
            await self.poll(line)
        return line


@dataclass
class Oca8to12:
    """10 and 12: fire-and-forget start, then the ``status_json`` poll of every driver."""

    http: httpx.AsyncClient
    version: int
    order_uid: str = "00012-003-0004"
    interval: float = 0.05
    in_transaction: bool = False
    validated: bool = False
    start_result: Any = None
    seen_in_transaction: bool = False

    async def pay(self, amount: float, max_polls: int = 2000) -> Oca8to12:
        info = {"amount": amount, "currency_iso": "EUR", "currency_decimals": 2,
                "payment_mode": "card"}  # fmt: skip
        if self.version >= 12:
            info["order_id"] = self.order_uid
        try:
            self.start_result = await rpc(
                self.http, "payment_terminal_transaction_start", {"payment_info": json.dumps(info)}
            )
        except RpcFailed as exc:
            self.start_result = exc
            return self
        self.in_transaction = True  # set by the button itself (12 screens.js)
        known = 0
        for _ in range(max_polls):
            await asyncio.sleep(self.interval)
            status = await rpc(self.http, "status_json", {})
            drivers = [d for d in status.values() if isinstance(d, dict)]
            self.in_transaction = any(d.get("in_transaction") for d in drivers)
            self.seen_in_transaction |= self.in_transaction
            count = sum(
                len((d.get("latest_transactions") or {}).get(self.order_uid, [])) for d in drivers
            )
            if count > known:  # the order is paid by its lines: the POS validates it
                self.validated = True
                return self
            known = count
            if not self.in_transaction:
                return self
        return self
