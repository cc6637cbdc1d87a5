"""The diagnostics page's payment-terminal actions (registered by ``web/status_page.py``).

* ``terminal_resolve``: settle a transaction whose outcome is unknown, from the terminal's own
  ticket or journal (the only way an unknown outcome becomes final without the terminal);
* ``terminal_next_outcome``: what a simulated terminal does with the next payment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from posboxless.device import DeviceUnavailable, InvalidInput
from posboxless.terminal.simulator import OUTCOMES

if TYPE_CHECKING:
    from posboxless.web.state import AppState


async def resolve(state: AppState, params: dict[str, Any]) -> str:
    terminal = state.services.terminals.get(_name(params))
    transaction_id = params.get("transaction_id")
    outcome = params.get("outcome")
    if not isinstance(transaction_id, str) or outcome not in ("accepted", "refused"):
        raise InvalidInput("Give transaction_id and outcome ('accepted' or 'refused')")
    tx = await terminal.resolve(transaction_id, outcome == "accepted", "diagnostics page")
    said = "paid" if tx.success else "not paid"
    return f"Transaction {tx.id} recorded as {said}; the POS gets this answer at its next poll"


async def next_outcome(state: AppState, params: dict[str, Any]) -> str:
    terminal = state.services.terminals.get(_name(params))
    simulator = terminal.simulator
    if simulator is None:
        raise DeviceUnavailable(f"The payment terminal '{terminal.name}' is a real one")
    outcome = params.get("outcome")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}")
    simulator.script(outcome)
    simulator.wake()
    return f"The simulated terminal '{terminal.name}' will {outcome.replace('_', ' ')} next"


def _name(params: dict[str, Any]) -> str | None:
    name = params.get("terminal")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("terminal must be a terminal name")
    return name


ACTIONS = {"terminal_resolve": resolve, "terminal_next_outcome": next_outcome}
