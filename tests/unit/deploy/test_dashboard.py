"""The Grafana dashboard (``deploy/grafana/fraudguard.json``) queries exactly the metrics the
job exports (``fraudguard.metrics.names``, which the metrics tests hold to a real job's
scrape), each for the job chosen in its ``job_name`` variable."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.unit.deploy.test_monitoring import flink_config

from fraudguard.config import PROJECT_ROOT, MetricsSettings
from fraudguard.flink.environment import reporter_configuration
from fraudguard.metrics.names import JOB_METRICS, exported_names

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "fraudguard.json"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers left once strings, label
    matchers, ranges and grouping labels are gone, that do not call something.

    >>> sorted(metric_names('sum by (le) (rate(a_b{job_name=~"$j",x="y} z"}[1m])) / sum(c) > 0'))
    ['a_b', 'c']
    """
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    names = set()
    for found in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", bare):
        calls = bare[found.end() :].lstrip().startswith("(")
        if not calls and found.group(0) not in PROMQL_WORDS:
            names.add(found.group(0))
    return names


def panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_every_query_reads_metrics_the_job_exports_and_every_one_is_shown() -> None:
    queried: set[str] = set()
    for panel in panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            queried |= metric_names(target["expr"])
    assert queried <= exported_names(), sorted(queried - exported_names())
    assert queried == exported_names(), f"not on the dashboard: {exported_names() - queried}"


def test_each_query_is_for_the_chosen_job_on_the_chosen_prometheus() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "job_name"} <= variables
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            selectors = re.findall(r"\{[^}]*\}", target["expr"])
            assert selectors and all('job_name=~"$job_name"' in s for s in selectors), target


def test_grouped_panels_group_by_the_labels_the_job_sets() -> None:
    labels = {metric.label for metric in JOB_METRICS if metric.label} | {"task_name"}
    for panel in panels():
        for target in panel["targets"]:
            for grouped in re.findall(r"\bby \(([^)]*)\)", target["expr"]):
                assert {g.strip() for g in grouped.split(",")} <= labels, target["expr"]


def test_the_cluster_keeps_label_values_as_the_local_job_does() -> None:
    # Else a cluster's model versions and latency buckets would not match the dashboard's
    # reading of them (xgb-1.2 -> xgb_1_2, +Inf -> _Inf).
    key = "metrics.reporter.prom.filterLabelValueCharacters"
    local = reporter_configuration(MetricsSettings())[key]
    assert str(flink_config()[key]).lower() == local == "false"
