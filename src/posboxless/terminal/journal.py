"""The payment journal: every transaction and each of its state changes, on disk before anyone
is told about them (one SQLite database per terminal, WAL, synchronous FULL).

Life of a transaction (``phase``; ``outcome`` is set when it ends)::

    created -> connecting -> sending -> waiting_card -> receiving -> closing -> done
                   |            \\____________ may have reached the terminal ______/
                   +-> done (not_sent)                      |
                                                            +-> done (unknown) / recovering

``sending`` is committed *before* the request's first byte is written: after a crash, a
transaction still in ``created`` or ``connecting`` certainly never reached the terminal; one in
``sending`` or later may have, so it is never reported as refused: the proxy listens for the
terminal's late answer, else reports it unknown until someone reads the terminal's ticket.

Card data: only the masked card number is ever stored (the answer's report is not kept).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from posboxless.durable import open_durable, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    terminal TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    mode TEXT NOT NULL,
    order_id TEXT,
    payment_id TEXT,
    phase TEXT NOT NULL,
    outcome TEXT,
    success INTEGER,
    details TEXT NOT NULL DEFAULT '',
    result_code TEXT,
    card TEXT,
    answer TEXT,
    resolved_by TEXT
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL,
    at REAL NOT NULL,
    phase TEXT NOT NULL,
    outcome TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS events_tx ON events (transaction_id, seq);
"""

FINAL_PHASE = "done"
# Phases after which the terminal may hold the request (see the module docstring).
MAY_HAVE_REACHED = ("sending", "waiting_card", "receiving", "closing", "recovering")
NOT_SENT = ("created", "connecting")


@dataclass(frozen=True)
class Transaction:
    id: str
    terminal: str
    created: float
    updated: float
    amount: int
    currency: str
    mode: str
    order_id: str | None
    payment_id: str | None
    phase: str
    outcome: str | None = None
    """``accepted``, ``refused``, ``not_verified``, ``not_sent`` or ``unknown``."""
    success: bool | None = None
    details: str = ""
    result_code: str | None = None
    card: str | None = None
    """Masked card number (``************1234``)."""
    answer: str | None = None
    """The answer without its report (result, amount, mode, currency), for support."""
    resolved_by: str | None = None

    @property
    def finished(self) -> bool:
        """The outcome is final (``unknown`` is not: it waits for a late answer or a person)."""
        return self.phase == FINAL_PHASE and self.outcome != "unknown"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "id, terminal, created, updated, amount, currency, mode, order_id, payment_id, phase, "
    "outcome, success, details, result_code, card, answer, resolved_by"
)


def _row(row: tuple[Any, ...]) -> Transaction:
    values = list(row)
    values[11] = None if values[11] is None else bool(values[11])
    return Transaction(*values)


class PaymentJournal:
    """Thread-safe: the API thread creates transactions, the terminal's worker advances them."""

    def __init__(self, path: Path, *, keep: int = 2000) -> None:
        self.path = path
        self.keep = keep
        self._lock = threading.Lock()
        self._db = open_durable(path, _SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def create(self, tx: Transaction) -> Transaction:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO transactions ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                _values(tx),
            )
            db.execute(
                "INSERT INTO events (transaction_id, at, phase, note) VALUES (?, ?, ?, ?)",
                (tx.id, tx.created, tx.phase, "request received from the POS"),
            )
            self._prune(db)
        return tx

    def update(self, tx: Transaction, note: str | None = None, **changes: Any) -> Transaction:
        """Commit the new state of ``tx`` and an event; returns the new state."""
        new = replace(tx, updated=time.time(), **changes)
        with self._transaction() as db:
            db.execute(
                "UPDATE transactions SET updated=?, phase=?, outcome=?, success=?, details=?, "
                "result_code=?, card=?, answer=?, resolved_by=? WHERE id=?",
                (
                    new.updated, new.phase, new.outcome,
                    None if new.success is None else int(new.success), new.details,
                    new.result_code, new.card, new.answer, new.resolved_by, new.id,
                ),
            )  # fmt: skip
            db.execute(
                "INSERT INTO events (transaction_id, at, phase, outcome, note) "
                "VALUES (?, ?, ?, ?, ?)",
                (new.id, new.updated, new.phase, new.outcome, note),
            )
        return new

    def get(self, transaction_id: str) -> Transaction | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM transactions WHERE id=?", (transaction_id,)
            ).fetchone()
        return None if row is None else _row(row)

    def recent(self, limit: int = 50) -> list[Transaction]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM transactions ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_row(r) for r in rows]

    def open_transactions(self) -> list[Transaction]:
        """Transactions a previous run left unfinished (oldest first)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM transactions WHERE phase != ? ORDER BY seq",
                (FINAL_PHASE,),
            ).fetchall()
        return [_row(r) for r in rows]

    def events(self, transaction_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, phase, outcome, note FROM events WHERE transaction_id=? ORDER BY seq",
                (transaction_id,),
            ).fetchall()
        return [{"at": at, "phase": p, "outcome": o, "note": n} for at, p, o, n in rows]

    def _prune(self, db: sqlite3.Connection) -> None:
        (count,) = db.execute("SELECT COUNT(*) FROM transactions").fetchone()
        if count <= self.keep:
            return
        # Only finished transactions are forgotten; an open or unknown one stays until settled.
        old = db.execute(
            "SELECT id FROM transactions WHERE phase = ? AND outcome != 'unknown' "
            "ORDER BY seq LIMIT ?",
            (FINAL_PHASE, count - self.keep),
        ).fetchall()
        for (tx_id,) in old:
            db.execute("DELETE FROM events WHERE transaction_id=?", (tx_id,))
            db.execute("DELETE FROM transactions WHERE id=?", (tx_id,))


def _values(tx: Transaction) -> tuple[Any, ...]:
    d = tx.as_dict()
    if d["success"] is not None:
        d["success"] = int(d["success"])
    return tuple(d[name.strip()] for name in _COLUMNS.split(","))


def export_journals(data_dir: Path, limit: int = 200) -> dict[str, Any]:
    """The journals under ``<data_dir>/terminals/`` for a support bundle: amounts, outcomes,
    state changes and masked card numbers only (nothing else of the card is stored)."""
    base = data_dir / "terminals"
    result: dict[str, Any] = {}
    if not base.is_dir():
        return {"note": f"no payment journal in {base}"}
    for path in sorted(base.glob("*.sqlite3")):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM transactions ORDER BY seq DESC LIMIT ?", (limit,)
                ).fetchall()
                entries = []
                for row in rows:
                    tx = _row(row).as_dict()
                    tx["events"] = [
                        {"at": at, "phase": p, "outcome": o, "note": n}
                        for at, p, o, n in db.execute(
                            "SELECT at, phase, outcome, note FROM events "
                            "WHERE transaction_id=? ORDER BY seq",
                            (tx["id"],),
                        )
                    ]
                    entries.append(tx)
            finally:
                db.close()
            result[path.stem] = entries
        except sqlite3.Error as exc:
            result[path.stem] = {"error": str(exc)}
    json.dumps(result)  # fail here, not in the bundle, if something is not serialisable
    return result
