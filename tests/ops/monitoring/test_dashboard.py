"""The shipped Grafana dashboard: valid JSON with a schema version, template variables for the
per-till drill-down, and every query reading only metrics that a live ``posboxless serve
--simulate`` exposes (or recording rules of the shipped rules file, or Prometheus' own)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from posboxless.ops.monitoring import DASHBOARD_FILE, RULES_FILE, shipped
from tests.ops.monitoring.stack import (
    free_port,
    posboxless_simulated,
    running,
    wait_for,
    wait_until_serving,
)

PROMETHEUS_OWN = {"ALERTS", "ALERTS_FOR_STATE", "up"}
"""Series Prometheus itself makes: alerts, and the scrape status of each target."""

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
             "bool", "offset", "inf", "nan"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (a small lexer: no PromQL parser for Python
    is maintained)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)\s*(\(?)", text):
        name, call = match.groups()
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (shop) (increase(a_total{x="y"}[1h]))', {"a_total"}),
        ("count(b == 1) or vector(0)", {"b"}),
        ("(c - time()) / 86400 < 21", {"c"}),
        ('d unless on(shop, till) e{f="g h"}', {"d", "e"}),
        ("histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ("posboxless:shop_open == 1 and on() i", {"posboxless:shop_open", "i"}),
    ],
)
def test_the_lexer_finds_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def _dashboard() -> dict[str, Any]:
    return dict(json.loads(shipped(DASHBOARD_FILE)))


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        out.append(panel)
        out += _panels(panel.get("panels", []))
    return out


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in _panels(dashboard["panels"]) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query":
            text = query["query"] if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\((.*),\s*\w+\)", text)
            assert match, text
            exprs.append(match.group(1))
    return exprs


def test_dashboard_shape() -> None:
    dashboard = _dashboard()
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 30
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert {"datasource", "shop", "till"} <= set(variables)
    assert "$shop" in variables["till"]["definition"]
    ids = [p["id"] for p in _panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    till_panels = [
        p for p in _panels(dashboard["panels"])
        if any('till=~"$till"' in t["expr"] for t in p.get("targets", []))
    ]  # fmt: skip
    assert len(till_panels) >= 10, "the drill-down filters on the till"
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def _recording_rules() -> set[str]:
    groups = yaml.safe_load(shipped(RULES_FILE))["groups"]
    return {r["record"] for g in groups for r in g["rules"] if "record" in r}


def test_every_query_reads_metrics_a_live_till_exposes(tmp_path: Path) -> None:
    port = free_port()
    proxy = posboxless_simulated(tmp_path, port, https_port=free_port())
    base = f"http://127.0.0.1:{port}"
    with running(proxy):
        wait_until_serving(proxy, base)
        # What a till in use has done: a POS called (requests, clients), HTTPS is on.
        hello = httpx.get(f"{base}/hw_proxy/hello", headers={"Origin": base}, timeout=10)
        assert hello.status_code == 200, hello.text
        printed = httpx.post(f"{base}/api/test_print", json={}, timeout=30)
        assert printed.status_code == 200, printed.text

        def scraped_after_printing() -> str | None:
            text = httpx.get(f"{base}/metrics", timeout=10).text
            return text if "posboxless_print_last_printed_timestamp_seconds{" in text else None

        body = wait_for("a receipt printed", scraped_after_printing)
    exposed = {s.name for f in text_string_to_metric_families(body) for s in f.samples}
    known = exposed | _recording_rules() | PROMETHEUS_OWN
    queries = _queries(_dashboard())
    used = set().union(*(metric_names(q) for q in queries))
    assert used - known == set(), f"the dashboard reads metrics nobody exposes: {used - known}"
    # And the alert rules too.
    groups = yaml.safe_load(shipped(RULES_FILE))["groups"]
    rule_metrics = set().union(*(metric_names(str(r["expr"])) for g in groups for r in g["rules"]))
    assert rule_metrics - known == set(), f"the rules read unknown metrics: {rule_metrics - known}"
