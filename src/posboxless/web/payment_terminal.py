"""``payment_terminal_transaction_start`` and the terminals' part of ``status_json``, as every
client version of OCA's ``pos_payment_terminal`` reads them (payment-terminal.md §A).

One answer serves every version, because the route cannot tell them apart:

* the start answer is always the transaction object ``{transaction_id, success: null, status,
  status_details, reference}``, never a bare ``true`` (which Odoo 18 takes as "paid");
* each terminal's ``status_json`` entry carries both shapes: ``is_terminal`` + ``transactions``
  (13-18 poll it every second until ``success`` is not null) and ``in_transaction`` +
  ``latest_transactions`` (8-12).

A transaction whose outcome is unknown (the terminal may have taken the payment) keeps
``success: null``: 13-18 keep waiting, showing ``status_details``, until the terminal's late
answer arrives or someone settles it from the terminal's ticket on the diagnostics page. It is
never answered ``false``, which would invite the cashier to charge the card again.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from posboxless.device import InvalidInput
from posboxless.terminal.journal import Transaction
from posboxless.terminal.registry import Terminals
from posboxless.terminal.service import PaymentOrder

MAX_PAYMENT_INFO = 4096
"""The POS sends a few hundred bytes; anything much larger is not a payment."""

_STATUS = {
    None: "pending",
    "accepted": "accepted",
    "refused": "refused",
    "not_verified": "not_verified",
    "not_sent": "failed",
    "unknown": "unknown",
}


def _bad(message: str, value: Any = None) -> InvalidInput:
    return InvalidInput(f"payment_info: {message}", arguments=[f"payment_info: {message}", value])


def parse_payment_info(params: dict[str, Any]) -> tuple[PaymentOrder, str | None]:
    """The order and the terminal id from ``params.payment_info`` (a JSON string, or an object
    as odoo-driver also accepts); raises ``InvalidInput`` for anything malformed."""
    info = params.get("payment_info")
    if isinstance(info, str):
        if len(info) > MAX_PAYMENT_INFO:
            raise _bad(f"longer than {MAX_PAYMENT_INFO} characters")
        try:
            info = json.loads(info)
        except (ValueError, RecursionError):
            raise _bad("a string that is not JSON", info[:100]) from None
    if not isinstance(info, dict):
        raise _bad("expected a JSON object with amount and currency_iso", repr(info)[:100])
    amount = info.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
        raise _bad("'amount' must be a number", repr(amount)[:50])
    if isinstance(amount, float) and not math.isfinite(amount):
        raise _bad("'amount' must be a finite number", repr(amount))
    try:
        value = Decimal(str(amount))
    except ArithmeticError:
        raise _bad("'amount' must be a number", repr(amount)[:50]) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(
            f"Cannot process a transaction with a zero or negative amount ({amount})",
            arguments=["Zero or negative amount", str(amount)[:50]],
        )
    currency = info.get("currency_iso")
    if not isinstance(currency, str) or not currency:
        raise _bad("'currency_iso' must be a currency code such as 'EUR'", repr(currency)[:50])
    decimals = info.get("currency_decimals")
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 4
    ):
        raise _bad("'currency_decimals' must be an integer from 0 to 4", repr(decimals)[:50])
    mode = info.get("payment_mode", "card")
    if mode == "cheque":
        mode = "check"
    if not isinstance(mode, str):
        raise _bad("'payment_mode' must be 'card' or 'check'", repr(mode)[:50])
    order_id = _text(info, "order_id")
    payment_id = _text(info, "payment_id")
    terminal_id = _text(info, "terminal_id")
    order = PaymentOrder(value, currency.upper(), mode, order_id, payment_id)
    return order, terminal_id


def _text(info: dict[str, Any], key: str) -> str | None:
    value = info.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _bad(f"'{key}' must be a string", repr(value)[:50])
    text = str(value)
    if len(text) > 200:
        raise _bad(f"'{key}' is longer than 200 characters")
    return text


def transaction_json(tx: Transaction) -> dict[str, Any]:
    """One entry of ``transactions`` (and the start answer)."""
    return {
        "transaction_id": tx.id,
        "success": tx.success,
        "status": _STATUS.get(tx.outcome, tx.outcome) if tx.phase == "done" else "pending",
        "status_details": tx.details or _pending_details(tx),
        "reference": tx.id if tx.success else None,
        "amount_minor": tx.amount,
        "currency": tx.currency,
        "order_id": tx.order_id,
        "payment_id": tx.payment_id,
    }


def _pending_details(tx: Transaction) -> str:
    if tx.phase in ("created", "connecting", "sending"):
        return "Sending the amount to the payment terminal"
    return "Waiting for the customer's card"


async def transaction_start(terminals: Terminals, params: dict[str, Any]) -> dict[str, Any]:
    order, terminal_id = parse_payment_info(params)
    terminal = terminals.get(terminal_id)
    tx = await terminal.begin(order)
    return transaction_json(tx)


def status_entries(terminals: Terminals) -> dict[str, Any]:
    """The ``status_json`` entries: ``payment_terminal`` for the default terminal,
    ``payment_terminal_<name>`` for the others. Cached state only."""
    entries: dict[str, Any] = {}
    for name, terminal in terminals.by_name.items():
        recent = terminal.transactions()
        latest: dict[str, list[dict[str, Any]]] = {}
        # 8-12 validate the order when its list grows: only accepted payments are listed.
        for tx in reversed(recent):
            if tx.success and tx.order_id:
                latest.setdefault(tx.order_id, []).append(transaction_json(tx))
        key = "payment_terminal" if name == terminals.default_name else f"payment_terminal_{name}"
        entries[key] = {
            **terminal.status().as_json(),
            "is_terminal": True,
            "terminal_id": name,
            "transactions": {tx.id: transaction_json(tx) for tx in recent},
            "in_transaction": terminal.in_transaction,
            "latest_transactions": latest,
        }
    return entries
