"""Structured results of the till checks, shared by doctor, the diagnostics page and bundles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    """What was checked, e.g. ``"device printer 'receipt'"``."""
    level: Level
    message: str
    """What was found, in words a support person understands."""
    fix: str = ""
    """What to do about it (empty when nothing needs doing)."""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "level": self.level, "message": self.message, "fix": self.fix}


def ok(name: str, message: str) -> CheckResult:
    return CheckResult(name, "ok", message)


def warn(name: str, message: str, fix: str = "") -> CheckResult:
    return CheckResult(name, "warn", message, fix)


def fail(name: str, message: str, fix: str) -> CheckResult:
    return CheckResult(name, "fail", message, fix)


def worst(results: list[CheckResult]) -> Level:
    levels = {r.level for r in results}
    return "fail" if "fail" in levels else "warn" if "warn" in levels else "ok"
