"""The Grafana dashboard is valid JSON, covers what it must, and queries only real metrics."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from tests.unit.monitoring import promql

from videodl.breaker.metrics import BreakerMetrics
from videodl.operator.metrics import Metrics

from . import dashboard, rendering


def _operator_exposition() -> str:
    """A scrape of the operator's registry, with one breaker site known."""
    metrics = Metrics()
    breaker = BreakerMetrics(metrics.registry)
    breaker.set_state("generic.media.example", "OPEN")
    breaker.tripped("generic.media.example")
    breaker.rejected_admission("generic.media.example")
    return metrics.exposition().decode()


def test_dashboard_is_valid_json_with_unique_panels() -> None:
    """The file parses, has a uid, and no two panels share an id or overlap on the grid."""
    board = dashboard.load()
    assert board["uid"]
    assert board["title"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"panel {panel['title']!r} overlaps another"
        assert grid["x"] + grid["w"] <= 24
        cells |= mine


def test_every_query_selects_only_existing_metrics() -> None:
    """Each series name in the queries is in a scrape of the operator's metrics."""
    board = dashboard.load()
    assert dashboard.metric_names(dashboard.expressions(board))
    assert dashboard.missing_metrics(board, _operator_exposition()) == set()


def test_missing_metric_is_reported() -> None:
    """A query on a series the operator does not export is reported by name."""
    board = dashboard.load()
    board["panels"][1]["targets"][0]["expr"] = "sum(rate(videodl_nonexistent_total[5m]))"
    assert dashboard.missing_metrics(board, _operator_exposition()) == {"videodl_nonexistent_total"}


def _queries_and_legends(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(query, legend) of every panel target, Grafana's macros substituted."""
    found = []
    for panel in dashboard.panels(board):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for macro, value in dashboard.GRAFANA_MACROS.items():
                expr = expr.replace(macro, value)
            found.append((expr, target.get("legendFormat", "")))
    return found


def test_every_query_uses_exported_labels_and_values() -> None:
    """Each label a query matches, groups by or puts in a legend is one of its series' labels
    (or a scrape's target label), and each value it matches is one they are exported with."""
    board = dashboard.load()
    known = promql.universe(_operator_exposition())
    queries = _queries_and_legends(board)
    assert len(queries) >= 10
    assert promql.all_problems(queries, known) == {}
    variables = [v["query"]["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    for query in variables:
        match = re.fullmatch(r"label_values\((\w+), (\w+)\)", query)
        assert match, query
        assert match[2] in known.label_names(match[1]), query


def test_an_unknown_label_or_value_is_reported() -> None:
    """Grouping by a label the series lack, or matching a value never exported, is reported."""
    known = promql.universe(_operator_exposition())
    assert promql.problems("max by (prio) (videodl_queue_depth)", known) == [
        "'prio' is a label of none of the series it selects"
    ]
    (problem,) = promql.problems('sum(videodl_downloads_total{result="success"})', known)
    assert "result='success'" in problem
    (problem,) = promql.problems("max(videodl_queue_depth)", known, "{{site}}")
    assert "'site'" in problem


def test_every_panel_queries_a_videodl_metric() -> None:
    """No panel is empty or queries something other than the operator's series."""
    board = dashboard.load()
    for panel in dashboard.panels(board):
        exprs = [t["expr"] for t in panel["targets"]]
        assert exprs, panel["title"]
        assert all(dashboard.metric_names([e]) for e in exprs), panel["title"]


@pytest.mark.parametrize(
    ("subject", "metric", "grouping"),
    [
        ("queue depth by priority", "videodl_queue_depth", "by (priority)"),
        ("running workers", "videodl_running_workers", ""),
        ("outcomes by class", "videodl_downloads_total", "failure_class"),
        ("breaker state per site", "videodl_breaker_state", "by (site)"),
        ("download throughput", "videodl_download_bytes_sum", "rate("),
    ],
)
def test_required_views_are_present(subject: str, metric: str, grouping: str) -> None:
    """The dashboard shows each view the chart promises."""
    exprs = dashboard.expressions(dashboard.load())
    assert any(metric in e and grouping in e for e in exprs), subject


def test_queries_are_valid_promql(tmp_path: pathlib.Path) -> None:
    """promtool parses every query (as recording rules), macros substituted."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make deps` installs it (Debian package prometheus)"
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"videodl:dashboard_query_{i}", "expr": expr}
                    for i, expr in enumerate(dashboard.expressions(dashboard.load()))
                ],
            }
        ]
    }
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_configmap_carries_the_dashboard_unchanged() -> None:
    """The rendered dashboard ConfigMap holds the file's JSON, labelled for Grafana."""
    manifests = rendering.render({"metrics": {"dashboard": {"enabled": True}}})
    configmap = rendering.one(manifests, "ConfigMap", "videodl-videodl-operator-dashboard")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["data"]["videodl.json"] == dashboard.DASHBOARD.read_text().rstrip("\n")


def test_exposition_parser_sees_histogram_series() -> None:
    """Sample names of a histogram include its _bucket, _sum and _count series."""
    registry = CollectorRegistry()
    Histogram("h_seconds", "help", registry=registry).observe(1)
    names = dashboard.sample_names(generate_latest(registry).decode())
    assert {"h_seconds_bucket", "h_seconds_sum", "h_seconds_count"} <= names
