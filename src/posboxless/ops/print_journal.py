"""A read-only summary of the printers' SQLite queues (``<data_dir>/printers/*.sqlite3``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

RECENT = 50
_COLUMNS = (
    "id",
    "kind",
    "size",
    "created",
    "state",
    "attempts",
    "interrupted",
    "finished",
    "error",
)


def summarise_queue(path: Path) -> dict[str, Any]:
    """Job counts by state and the most recent jobs (without their data). Never writes."""
    try:
        # mode=ro: a support bundle must not change, lock for writing or create the journal.
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error as exc:
        return {"file": str(path), "error": str(exc)}
    try:
        states = dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        rows = db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY id DESC LIMIT ?", (RECENT,)
        ).fetchall()
    except sqlite3.Error as exc:
        return {"file": str(path), "error": str(exc)}
    finally:
        db.close()
    return {
        "file": str(path),
        "jobs_by_state": states,
        "recent": [dict(zip(_COLUMNS, row, strict=True)) for row in rows],
    }


def summarise_journals(data_dir: Path) -> dict[str, Any]:
    folder = data_dir / "printers"
    if not folder.is_dir():
        return {"note": f"no print journal in {folder}"}
    return {p.stem: summarise_queue(p) for p in sorted(folder.glob("*.sqlite3"))}
