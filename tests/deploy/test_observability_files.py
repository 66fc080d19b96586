"""docs/operations.md and deploy/grafana: the metrics, alerts and panels name only metrics
the code exports, every exported metric is documented, every setting named exists."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import (
    DEPLOY,
    ROOT,
    invoke,
    metric_sample_names,
    metric_samples,
    promql_metrics,
    unknown_settings,
)

OPERATIONS = ROOT / "docs" / "operations.md"
SCALING = ROOT / "docs" / "scaling.md"
GRAFANA = DEPLOY / "grafana" / "agenttrace.json"


def alert_rules() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", OPERATIONS.read_text(), re.DOTALL)
    (rules,) = [yaml.safe_load(b) for b in blocks if b.startswith("groups:")]
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_every_alert_is_complete_and_names_only_exported_metrics() -> None:
    exported = metric_sample_names()
    rules = alert_rules()
    wanted = {"5xx": False, "lag": False, "dead_letters": False, "pool": False}
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= rule.keys(), rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        metrics = promql_metrics(rule["expr"])
        assert metrics, f"{rule['alert']} names no AgentTrace metric"
        assert metrics <= exported, f"{rule['alert']}: {metrics - exported} do not exist"
        expr = rule["expr"]
        wanted["5xx"] |= 'status=~"5.."' in expr
        wanted["lag"] |= "agenttrace_consumer_lag_messages" in expr and "deriv(" in expr
        wanted["dead_letters"] |= "agenttrace_worker_dead_letters_total" in expr
        wanted["pool"] |= "agenttrace_db_pool_connections_in_use" in expr
    assert all(wanted.values()), wanted
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    assert any("agenttrace_rate_limit_decisions_total" in r["expr"] for r in rules)
    assert any("agenttrace_worker_store_seconds_bucket" in r["expr"] for r in rules)


def grafana_panels() -> list[dict[str, Any]]:
    dashboard = json.loads(GRAFANA.read_text())
    panels: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        panels += [panel, *panel.get("panels", [])]
    return [p for p in panels if p["type"] != "row"]


def test_grafana_dashboard_is_valid_json_with_unique_ids_and_a_datasource_choice() -> None:
    dashboard = json.loads(GRAFANA.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for panel in grafana_panels():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]


def test_every_grafana_query_names_only_exported_metrics() -> None:
    exported = metric_sample_names()
    shown = set()
    for panel in grafana_panels():
        for target in panel["targets"]:
            metrics = promql_metrics(target["expr"])
            assert metrics, f"panel {panel['title']!r} names no AgentTrace metric"
            assert metrics <= exported, f"panel {panel['title']!r}: {metrics - exported}"
            shown |= {metric_samples()[m] for m in metrics}
    # Every metric the code exports has a panel.
    missing = set(metric_samples().values()) - shown
    assert not missing, f"no panel shows {missing}"


def documented_metrics() -> set[str]:
    table = OPERATIONS.read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(agenttrace_[a-z0-9_]+)` \|", table, re.MULTILINE))


def test_the_metrics_table_lists_exactly_the_exported_metrics() -> None:
    documented = documented_metrics()
    declared = set(metric_samples().values())
    assert documented - declared == set(), "documented in docs/operations.md, not exported"
    assert declared - documented == set(), "exported, not documented in docs/operations.md"


@pytest.mark.parametrize("doc", [OPERATIONS, SCALING], ids=lambda p: p.name)
def test_settings_named_in_the_docs_exist(doc: Any) -> None:
    named = set(re.findall(r"\bAGENTTRACE_[A-Z0-9_]*[A-Z0-9]\b", doc.read_text()))
    assert named, doc
    assert not unknown_settings(dict.fromkeys(named, "")), doc.name


def test_settings_examples_in_the_docs_parse() -> None:
    text = OPERATIONS.read_text()
    examples = dict(re.findall(r"`(AGENTTRACE_[A-Z0-9_]+)=([^`\s]+)`", text))
    invoke("docs/operations.md", ["migrate"], examples)
