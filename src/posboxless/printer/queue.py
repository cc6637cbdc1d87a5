"""The durable print queue and journal: one SQLite database (WAL) per printer.

Life of a job::

    queued --(attempt recorded, committed)--> printing --(bytes written and confirmed)--> done
       |   |                                      |
       |   +--(its caller gave up before the first byte)--> withdrawn
       +--(too old when its turn comes)--> expired    +--(crash / link lost mid-job)--> queued
                                                         again, flagged ``interrupted``

A job is committed before the API answers, so an accepted job survives a crash. The attempt is
committed *before* the first byte is written; a job still ``printing`` when the database is opened
again was cut by a crash somewhere between its first byte and its completion. Such a job is printed
again in full with a "REPRINT (interrupted)" header: a duplicated half receipt is visible and
harmless, a lost one is not. Drawer kicks are the exception: an interrupted kick is not repeated
(the drawer may already be open), it is marked expired.

Withdrawing and starting are both guarded updates on the same row (``WHERE state='queued' AND
attempts=0`` / ``WHERE state IN (queued, printing)``), so exactly one of them wins: a withdrawn job
can never print, and a job whose first byte may be out can never be withdrawn.

Reads go through a second connection: in WAL mode they see the last commit without waiting for
the writer's fsync, so the web layer never queues behind the worker's commits.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posboxless.device import JobKind, JobState
from posboxless.durable import open_durable, transaction

Listener = Callable[[int, JobState], None]

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
    note TEXT,
    source TEXT
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (state, id);
"""
_PENDING_SQL = "state IN ('queued', 'printing')"
_FINAL_SQL = "state IN ('done', 'expired', 'withdrawn')"
_JOB_COLUMNS = "id, kind, data, created, state, attempts, interrupted, reprint_of, note, error"


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
    error: str | None = None


class JobQueue:
    """Thread-safe: the API threads enqueue, the printer's worker thread takes jobs in order.

    ``add_listener`` callbacks are told of every state change after its commit, on the thread
    that made it: they must be quick and must not block (the service hands them to its loop)."""

    def __init__(self, path: Path, *, max_queued: int = 100, keep_done: int = 500) -> None:
        self.path = path
        self.max_queued = max_queued
        self.keep_done = keep_done
        self._lock = threading.Lock()
        self._db = open_durable(path, _SCHEMA)  # accepted means on disk
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "source" not in columns:  # a journal written before the column existed
            self._db.execute("ALTER TABLE jobs ADD COLUMN source TEXT")
        self._read_lock = threading.Lock()
        self._reader = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._listeners: list[Listener] = []
        self.recovered = self._recover()

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._reader.close()
            self._db.close()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, job_id: int, state: JobState) -> None:
        for listener in list(self._listeners):
            listener(job_id, state)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db, self._lock)

    def _recover(self) -> list[int]:
        """Jobs left ``printing`` by a crash: receipts go back in line (flagged), kicks expire."""
        with self._transaction() as db:
            rows = db.execute("SELECT id, kind FROM jobs WHERE state = 'printing'").fetchall()
            for job_id, kind in rows:
                if kind == JobKind.DRAWER.value:
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
        source: str | None = None,
    ) -> int:
        """Commit a new job; raises ``QueueFull`` (nothing stored) when the queue is full."""
        with self._transaction() as db:
            (pending,) = db.execute(f"SELECT COUNT(*) FROM jobs WHERE {_PENDING_SQL}").fetchone()
            if pending >= self.max_queued:
                raise QueueFull(f"{pending} jobs are already waiting")
            cursor = db.execute(
                "INSERT INTO jobs (kind, data, size, created, reprint_of, note, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    JobKind(kind).value,
                    sqlite3.Binary(data),
                    len(data),
                    time.time() if created is None else created,
                    reprint_of,
                    note,
                    source,
                ),
            )
            job_id = cursor.lastrowid
        assert job_id is not None
        self._changed(job_id, JobState.QUEUED)
        return job_id

    def next_job(self) -> Job | None:
        """The oldest pending job (a job marked ``printing`` first: it was cut off). Withdrawn,
        expired and printed jobs are never returned."""
        rows = self._read(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {_PENDING_SQL} ORDER BY id LIMIT 1"
        )
        return _job(rows[0]) if rows else None

    def mark_attempt(self, job_id: int) -> bool:
        """Committed before the first byte is written (see the module docstring). False when the
        job is no longer pending (withdrawn or expired meanwhile): it must not be sent."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state='printing', attempts=attempts+1, started=? "
                f"WHERE id=? AND {_PENDING_SQL}",
                (time.time(), job_id),
            )
        if cursor.rowcount != 1:
            return False
        self._changed(job_id, JobState.PRINTING)
        return True

    def mark_done(self, job_id: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='done', finished=?, error=NULL WHERE id=?",
                (time.time(), job_id),
            )
            self._prune(db)
        self._changed(job_id, JobState.PRINTED)

    def mark_expired(self, job_id: int, reason: str) -> None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state='expired', finished=?, error=? "
                f"WHERE id=? AND {_PENDING_SQL}",
                (time.time(), reason, job_id),
            )
        if cursor.rowcount == 1:
            self._changed(job_id, JobState.EXPIRED)

    def withdraw(self, job_id: int, reason: str) -> bool:
        """Take back a job that has not started (no byte sent, ever), so that it never prints.
        False when it has started, or is already final: the caller must then report that."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state='withdrawn', finished=?, error=? "
                "WHERE id=? AND state='queued' AND attempts=0",
                (time.time(), reason, job_id),
            )
        if cursor.rowcount != 1:
            return False
        self._changed(job_id, JobState.WITHDRAWN)
        return True

    def mark_interrupted(self, job_id: int, error: str) -> None:
        """The link broke while the job was being sent: print it again, flagged, later."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET state='queued', interrupted=1, error=? WHERE id=?",
                (error, job_id),
            )
        self._changed(job_id, JobState.QUEUED)

    def note_error(self, job_id: int, error: str) -> None:
        """The job is still waiting; remember why (shown in the journal)."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET error=? WHERE id=?", (error, job_id))

    def get(self, job_id: int) -> Job | None:
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id=?", (job_id,))
        return _job(rows[0]) if rows else None

    def pending_reprint_of(self, job_id: int) -> int | None:
        """A reprint of ``job_id`` that has not printed yet, if any."""
        rows = self._read(
            f"SELECT id FROM jobs WHERE reprint_of=? AND {_PENDING_SQL} ORDER BY id LIMIT 1",
            (job_id,),
        )
        return int(rows[0][0]) if rows else None

    def oldest_pending_created(self) -> float | None:
        """When the oldest job still waiting (or printing) was queued, as a Unix time."""
        ((created,),) = self._read(f"SELECT MIN(created) FROM jobs WHERE {_PENDING_SQL}")
        return None if created is None else float(created)

    def pending_count(self) -> int:
        ((count,),) = self._read(f"SELECT COUNT(*) FROM jobs WHERE {_PENDING_SQL}")
        return int(count)

    def journal(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent jobs, newest first, without their bytes."""
        keys = (
            "id", "kind", "size", "created", "state", "attempts", "interrupted", "started",
            "finished", "error", "reprint_of", "note", "source",
        )  # fmt: skip
        rows = self._read(
            f"SELECT {', '.join(keys)} FROM jobs ORDER BY id DESC LIMIT ?", (max(0, limit),)
        )
        entries = [dict(zip(keys, row, strict=True)) for row in rows]
        for entry in entries:
            entry["interrupted"] = bool(entry["interrupted"])
        return entries

    def _prune(self, db: sqlite3.Connection) -> None:
        """Keep the journal bounded: forget the oldest finished jobs beyond ``keep_done``."""
        db.execute(
            f"DELETE FROM jobs WHERE {_FINAL_SQL} AND id <= "
            f"(SELECT id FROM jobs WHERE {_FINAL_SQL} ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.keep_done,),
        )


def _job(row: tuple[Any, ...]) -> Job:
    job_id, kind, data, created, state, attempts, interrupted, reprint_of, note, error = row
    return Job(
        id=job_id,
        kind=JobKind(kind),
        data=bytes(data),
        created=created,
        state=JobState(state),
        attempts=attempts,
        interrupted=bool(interrupted),
        reprint_of=reprint_of,
        note=note,
        error=error,
    )
