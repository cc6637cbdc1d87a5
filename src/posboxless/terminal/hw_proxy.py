"""The payment terminal calls of ``/hw_proxy`` (web layer): OCA ``pos_payment_terminal``'s start
call and ``status_json`` entries, translated by ``web/payment_terminal.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posboxless.web import payment_terminal
from posboxless.web.hw_calls import Call, Handler, HwProxyContext, KindWeb
from posboxless.web.state import AppState


def handlers(context: HwProxyContext) -> dict[str, Handler]:
    async def payment_terminal_transaction_start(call: Call) -> dict[str, Any]:
        return await payment_terminal.transaction_start(context.services.terminals, call.params)

    return {"payment_terminal_transaction_start": payment_terminal_transaction_start}


def status(context: HwProxyContext, host: str | None) -> Mapping[str, Any]:
    return payment_terminal.status_entries(context.services.terminals)


def page(state: AppState) -> str:
    # Filled by the page's script from /api/diagnostics (last transactions, the actions).
    return "<h2>Payment terminals</h2><div id='terminals' class='grid'></div>"


WEB = KindWeb(handlers=handlers, status=status, page=page)
