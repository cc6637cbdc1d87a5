"""The durable print queue: order, durability across reopen, crash recovery, bounds, journal."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from posboxless.printer.queue import JobQueue, QueueFull


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "printers" / "receipt.sqlite3"


def test_jobs_come_out_in_order_and_finish(db: Path) -> None:
    queue = JobQueue(db)
    ids = [queue.enqueue("xml", f"job {i}".encode()) for i in range(3)]
    assert ids == sorted(ids)
    for expected in ids:
        job = queue.next_job()
        assert job is not None and job.id == expected
        queue.mark_attempt(job.id)
        queue.mark_done(job.id)
    assert queue.next_job() is None
    assert queue.pending_count() == 0
    assert [e["state"] for e in queue.journal()] == ["done"] * 3


def test_accepted_job_is_on_disk_at_once(db: Path) -> None:
    queue = JobQueue(db)
    job_id = queue.enqueue("image", b"\x00\x01payload")
    # Another connection (another process after a crash) sees the committed job.
    other = sqlite3.connect(db)
    row = other.execute("SELECT kind, data, state FROM jobs WHERE id=?", (job_id,)).fetchone()
    other.close()
    assert row == ("image", b"\x00\x01payload", "queued")
    mode = queue._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_reopen_keeps_pending_jobs(db: Path) -> None:
    queue = JobQueue(db)
    first = queue.enqueue("xml", b"a")
    queue.enqueue("xml", b"b")
    queue.mark_attempt(first)
    queue.mark_done(first)
    queue.close()
    reopened = JobQueue(db)
    job = reopened.next_job()
    assert job is not None and job.data == b"b" and not job.interrupted
    assert reopened.recovered == []


def test_job_cut_by_a_crash_is_requeued_flagged_but_a_drawer_kick_is_not(db: Path) -> None:
    queue = JobQueue(db)
    receipt = queue.enqueue("xml", b"receipt")
    kick = queue.enqueue("drawer", b"kick")
    queue.mark_attempt(receipt)
    queue.mark_attempt(kick)  # both "being written" when the process died
    queue.close()
    reopened = JobQueue(db)
    assert sorted(reopened.recovered) == [receipt, kick]
    job = reopened.next_job()
    assert job is not None and job.id == receipt and job.interrupted and job.attempts == 1
    assert reopened.get(kick).state == "expired"  # type: ignore[union-attr]
    assert reopened.pending_count() == 1


def test_full_queue_refuses_and_stores_nothing(db: Path) -> None:
    queue = JobQueue(db, max_queued=2)
    queue.enqueue("xml", b"1")
    queue.enqueue("xml", b"2")
    with pytest.raises(QueueFull):
        queue.enqueue("xml", b"3")
    assert queue.pending_count() == 2
    job = queue.next_job()
    assert job is not None
    queue.mark_attempt(job.id)
    queue.mark_done(job.id)
    queue.enqueue("xml", b"3")  # room again
    assert queue.pending_count() == 2


def test_expired_and_interrupted_states(db: Path) -> None:
    queue = JobQueue(db)
    old = queue.enqueue("xml", b"old", created=0.0)
    cut = queue.enqueue("xml", b"cut")
    queue.mark_expired(old, "too old")
    queue.mark_attempt(cut)
    queue.mark_interrupted(cut, "link lost")
    job = queue.next_job()
    assert job is not None and job.id == cut and job.interrupted and job.state == "queued"
    entries = {e["id"]: e for e in queue.journal()}
    assert entries[old]["state"] == "expired" and entries[old]["error"] == "too old"
    assert entries[cut]["error"] == "link lost" and entries[cut]["interrupted"] is True


def test_journal_is_bounded_and_newest_first(db: Path) -> None:
    queue = JobQueue(db, keep_done=5)
    for i in range(12):
        job_id = queue.enqueue("xml", bytes([i]))
        queue.mark_attempt(job_id)
        queue.mark_done(job_id)
    journal = queue.journal(100)
    assert len(journal) <= 6
    assert [e["id"] for e in journal] == sorted((e["id"] for e in journal), reverse=True)
    assert journal[0]["size"] == 1 and "data" not in journal[0]


def test_concurrent_enqueues_are_all_kept(db: Path) -> None:
    queue = JobQueue(db, max_queued=1000)
    ids: list[int] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        for i in range(20):
            job_id = queue.enqueue("xml", f"{n}-{i}".encode())
            with lock:
                ids.append(job_id)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 80 and queue.pending_count() == 80


def test_reprint_reference_is_kept(db: Path) -> None:
    queue = JobQueue(db)
    original = queue.enqueue("image", b"img")
    again = queue.enqueue("image", b"img", reprint_of=original, note="reprint")
    job = queue.get(again)
    assert job is not None and job.reprint_of == original and job.note == "reprint"
    assert queue.get(9999) is None
