"""The shipped alert rules: valid for promtool, every alert unit-tested, each with a summary and
a runbook saying what to tell the shop."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from posboxless.ops.monitoring import RULES_FILE, RULES_TEST_FILE, shipped, shipped_path
from tests.ops.monitoring.tools import need


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(shipped(RULES_FILE))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules() -> None:
    promtool = need("promtool")
    result = subprocess.run(
        [promtool, "check", "rules", str(shipped_path(RULES_FILE))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass(tmp_path: Path) -> None:
    promtool = need("promtool")
    # Copied so that the test file's relative rule_files path holds wherever the package is.
    for name in (RULES_FILE, RULES_TEST_FILE):
        shutil.copy(shipped_path(name), tmp_path / name)
    result = subprocess.run(
        [promtool, "test", "rules", RULES_TEST_FILE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_unit_test() -> None:
    tests = yaml.safe_load(shipped(RULES_TEST_FILE))["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if not case.get("exp_alerts")
    }
    names = {rule["alert"] for rule in _alerts()}
    assert names <= fired, f"alerts never seen firing in the unit tests: {names - fired}"
    assert names <= quiet, f"alerts never seen quiet in the unit tests: {names - quiet}"


def test_every_alert_says_what_to_tell_the_shop() -> None:
    for rule in _alerts():
        annotations = rule.get("annotations", {})
        assert annotations.get("summary"), rule["alert"]
        assert len(annotations.get("runbook", "")) > 60, rule["alert"]
        assert rule.get("labels", {}).get("severity") in ("warning", "critical"), rule["alert"]
