"""The SQLite databases whose commits are promises: the print queues and the payment journals.

A job or a transaction is committed before the POS is told anything, so a commit must survive a
power cut, not only a process crash (WAL, ``synchronous=FULL``), and every change is one
``BEGIN IMMEDIATE`` transaction under the owner's lock (the API thread and the device's worker
share the connection).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """The writing connection of the database at ``path`` (created with ``schema``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


@contextmanager
def transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[sqlite3.Connection]:
    """One immediate transaction: committed when the block ends, rolled back if it raises."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
