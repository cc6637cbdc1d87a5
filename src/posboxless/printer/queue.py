"""The durable print queue and journal: one SQLite database (WAL) per printer.

Life of a job::

    queued --(attempt recorded, committed)--> printing --(bytes written and confirmed)--> done
       |                                          |
       +--(too old when its turn comes)--> expired +--(crash / link lost mid-job)--> queued again,
                                                      flagged ``interrupted``

A job is committed before the API answers, so an accepted job survives a crash. The attempt is
committed *before* the first byte is written; a job still ``printing`` when the database is opened
again was cut by a crash somewhere between its first byte and its completion. Such a job is printed
again in full with a "REPRINT (interrupted)" header: a duplicated half receipt is visible and
harmless, a lost one is not. Drawer kicks are the exception: an interrupted kick is not repeated
(the drawer may already be open), it is marked expired.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

JobKind = Literal["xml", "image", "drawer", "text"]
JobState = Literal["queued", "printing", "done", "expired"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    error TEXT,
    reprint_of INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (state, id);
"""

_PENDING = ("queued", "printing")


class QueueFull(Exception):
    """The queue already holds its maximum number of jobs."""


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    data: bytes
    created: float
    state: JobState
    attempts: int
    interrupted: bool
    reprint_of: int | None
    note: str | None


class JobQueue:
    """Thread-safe: the API threads enqueue, the printer's worker thread takes jobs in order."""

    def __init__(self, path: Path, *, max_queued: int = 100, keep_done: int = 500) -> None:
        self.path = path
        self.max_queued = max_queued
        self.keep_done = keep_done
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives a power cut, not only a process crash. Accepted means on disk.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.recovered = self._recover()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _recover(self) -> list[int]:
        """Jobs left ``printing`` by a crash: receipts go back in line (flagged), kicks expire."""
        with self._transaction() as db:
            rows = db.execute("SELECT id, kind FROM jobs WHERE state = 'printing'").fetchall()
            for job_id, kind in rows:
                if kind == "drawer":
                    db.execute(
                        "UPDATE jobs SET state='expired', finished=?, error=? WHERE id=?",
                        (time.time(), "interrupted by a restart; not repeated", job_id),
                    )
                else:
                    db.execute(
                        "UPDATE jobs SET state='queued', interrupted=1 WHERE id=?", (job_id,)
                    )
        return [job_id for job_id, _ in rows]

    def enqueue(
        self,
        kind: JobKind,
        data: bytes,
        *,
        created: float | None = None,
        reprint_of: int | None = None,
        note: str | None = None,
    ) -> int:
        """Commit a new job; raises ``QueueFull`` (nothing stored) when the queue is full."""
        with self._transaction() as db:
            (pending,) = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'printing')"
            ).fetchone()
            if pending >= self.max_queued:
                raise QueueFull(f"{pending} jobs are already waiting")
            cursor = db.execute(
                "INSERT INTO jobs (kind, data, size, created, reprint_of, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    sqlite3.Binary(data),
                    len(data),
                    time.time() if created is None else created,
                    reprint_of,
                    note,
                ),
            )
            job_id = cursor.lastrowid
        assert job_id is not None
        return job_id

    def next_job(self) -> Job | None:
        """The oldest pending job (a job marked ``printing`` first: it was cut off)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, kind, data, created, state, attempts, interrupted, reprint_of, note "
                "FROM jobs WHERE state IN ('queued', 'printing') ORDER BY id LIMIT 1"
            ).fetchone()
        return None if row is None else _job(row)

    def mark_attempt(self, job_id: int) -> None:
        """Committed before the first byte is written (see the module docstring)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='printing', attempts=attempts+1, started=? WHERE id=?",
                (time.time(), job_id),
            )

    def mark_done(self, job_id: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='done', finished=?, error=NULL WHERE id=?",
                (time.time(), job_id),
            )
            self._prune(db)

    def mark_expired(self, job_id: int, reason: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='expired', finished=?, error=? WHERE id=?",
                (time.time(), reason, job_id),
            )

    def mark_interrupted(self, job_id: int, error: str) -> None:
        """The link broke while the job was being sent: print it again, flagged, later."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='queued', interrupted=1, error=? WHERE id=?",
                (error, job_id),
            )

    def note_error(self, job_id: int, error: str) -> None:
        """The job is still waiting; remember why (shown in the journal)."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET error=? WHERE id=?", (error, job_id))

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, kind, data, created, state, attempts, interrupted, reprint_of, note "
                "FROM jobs WHERE id=?",
                (job_id,),
            ).fetchone()
        return None if row is None else _job(row)

    def pending_count(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'printing')"
            ).fetchone()
        return int(count)

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first, without their bytes."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, size, created, state, attempts, interrupted, started, finished, "
                "error, reprint_of, note FROM jobs ORDER BY id DESC LIMIT ?",
                (max(0, limit),),
            ).fetchall()
        keys = (
            "id", "kind", "size", "created", "state", "attempts", "interrupted", "started",
            "finished", "error", "reprint_of", "note",
        )  # fmt: skip
        entries = [dict(zip(keys, row, strict=True)) for row in rows]
        for entry in entries:
            entry["interrupted"] = bool(entry["interrupted"])
        return entries

    def _prune(self, db: sqlite3.Connection) -> None:
        """Keep the journal bounded: forget the oldest finished jobs beyond ``keep_done``."""
        db.execute(
            "DELETE FROM jobs WHERE state IN ('done', 'expired') AND id <= "
            "(SELECT id FROM jobs WHERE state IN ('done', 'expired') "
            "ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.keep_done,),
        )


def _job(row: tuple[Any, ...]) -> Job:
    job_id, kind, data, created, state, attempts, interrupted, reprint_of, note = row
    return Job(
        id=job_id,
        kind=kind,
        data=bytes(data),
        created=created,
        state=state,
        attempts=attempts,
        interrupted=bool(interrupted),
        reprint_of=reprint_of,
        note=note,
    )
