"""Reading the chart's Grafana dashboard: its PromQL queries and the metric names they use."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from . import rendering

DASHBOARD = rendering.CHART / "dashboards" / "videodl.json"

# Grafana replaces these before a query reaches Prometheus.
GRAFANA_MACROS = {"$__rate_interval": "5m", "$namespace": ".*"}

_METRIC = re.compile(r"\b(videodl_[a-z0-9_]+)\b")


def load() -> dict[str, Any]:
    """The dashboard as a dict."""
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that is not a row (rows nest their panels when collapsed)."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of every panel, with Grafana's macros substituted."""
    found = []
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for macro, value in GRAFANA_MACROS.items():
                expr = expr.replace(macro, value)
            found.append(expr)
    return found


def metric_names(exprs: Iterable[str]) -> set[str]:
    """The series names (videodl_*) the expressions select."""
    return {name for expr in exprs for name in _METRIC.findall(expr)}


def sample_names(exposition: str) -> set[str]:
    """The sample names in a Prometheus text exposition (histograms give _bucket/_sum/_count)."""
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def missing_metrics(dashboard: dict[str, Any], exposition: str) -> set[str]:
    """Series the dashboard queries that the exposition does not have."""
    return metric_names(expressions(dashboard)) - sample_names(exposition)
