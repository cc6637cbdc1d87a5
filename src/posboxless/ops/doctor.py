"""``posboxless doctor``: checks the till and says what to do about each problem.

Exit status: 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from posboxless.ops.checks import Probe, run_checks
from posboxless.ops.layout import DEFAULT_USER, Layout
from posboxless.ops.results import CheckResult
from posboxless.ops.running import URL_HELP, asker

_TAGS = {"ok": "[ OK ]", "warn": "[WARN]", "fail": "[FAIL]"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, default=Path("/"), help="check an installation below this directory"
    )
    parser.add_argument("--user", default=DEFAULT_USER, help=f"the service's user ({DEFAULT_USER})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--url", help=URL_HELP)


def format_result(r: CheckResult) -> str:
    text = f"{_TAGS[r.level]} {r.name}: {r.message}"
    if r.fix and r.level != "ok":
        text += f"\n       -> {r.fix}"
    return text


def format_results(results: list[CheckResult]) -> str:
    lines = [format_result(r) for r in results]
    failed = sum(r.level == "fail" for r in results)
    warned = sum(r.level == "warn" for r in results)
    if failed:
        lines.append(f"{failed} problem(s) to fix, {warned} warning(s).")
    elif warned:
        lines.append(f"No problem; {warned} warning(s).")
    else:
        lines.append("Everything looks right.")
    return "\n".join(lines)


def run(
    args: argparse.Namespace,
    probe_factory: Callable[[Layout, str], Probe] | None = None,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    layout = Layout(getattr(args, "root", Path("/")))
    user = getattr(args, "user", DEFAULT_USER)
    running = asker(getattr(args, "url", None))
    probe = (
        probe_factory(layout, user)
        if probe_factory
        else Probe(layout=layout, user=user, running=running)
    )
    results = run_checks(getattr(args, "config", None), probe)
    if getattr(args, "json", False):
        out.write(json.dumps([r.as_json() for r in results], indent=2) + "\n")
    else:
        out.write(format_results(results) + "\n")
    return 1 if any(r.level == "fail" for r in results) else 0
