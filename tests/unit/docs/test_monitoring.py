"""docs/monitoring.md against the code: metrics, the dashboard's panels, alert rules, Events."""

from __future__ import annotations

import ast
import dataclasses
import json
import re

import yaml
from prometheus_client.metrics import MetricWrapperBase

from videodl.breaker.metrics import BreakerMetrics
from videodl.operator.metrics import Metrics

from . import markdown

MONITORING = markdown.DOCS / "monitoring.md"
PACKAGE = markdown.REPO / "operator" / "videodl"
DASHBOARD = markdown.REPO / "charts" / "videodl-operator" / "dashboards" / "videodl.json"
ALERTS = markdown.DOCS / "monitoring" / "alerts.yaml"
#: The modules allowed to define metrics; any other module importing prometheus_client
#: would export series this test does not know about.
METRIC_MODULES = {"videodl.operator.metrics", "videodl.breaker.metrics"}


@dataclasses.dataclass(frozen=True)
class Family:
    """One exported metric family: its documented name, type and label names."""

    name: str
    type: str
    labels: frozenset[str]

    @property
    def series(self) -> set[str]:
        """Every series name a scrape can show for this family."""
        if self.type == "counter":
            base = self.name.removesuffix("_total")
            return {self.name, f"{base}_created"}
        if self.type == "histogram":
            return {self.name, *(f"{self.name}_{s}" for s in ("bucket", "sum", "count", "created"))}
        return {self.name}


def exported() -> dict[str, Family]:
    """The operator's registry as the runtime builds it: its own metrics plus the breaker's."""
    metrics = Metrics()
    breaker = BreakerMetrics(metrics.registry)
    families = {}
    for owner in (metrics, breaker):
        for value in vars(owner).values():
            if isinstance(value, MetricWrapperBase):
                kind = value._type
                name = value._name + ("_total" if kind == "counter" else "")
                families[name] = Family(name, kind, frozenset(value._labelnames))
    # The attributes found must be the whole registry, or a metric would go unchecked.
    registered = {f.name + ("_total" if f.type == "counter" else "") for f in
                  metrics.registry.collect()}  # fmt: skip
    assert registered == set(families), "the registry holds metrics the owners do not expose"
    return families


def documented_rows(text: str) -> dict[str, list[str]]:
    """The rows of the metrics table of ``text``, by the metric's name."""
    rows = {}
    for table in markdown.tables(markdown.section(text, "Metrics")):
        if table[0][:3] != ["Metric", "Type", "Labels"]:
            continue
        for row in table[1:]:
            (name,) = markdown.code_spans(row[0])
            rows[name] = row
    return rows


def documented_labels(cell: str) -> set[str]:
    """Label names in a Labels cell: code spans outside the parentheses listing values."""
    return set(markdown.code_spans(re.sub(r"\([^)]*\)", "", cell)))


class TestMetricNames:
    def test_only_the_metrics_modules_import_prometheus_client(self) -> None:
        """No other module defines metrics, so the registry checked here is the whole set."""
        importers = set()
        for path in PACKAGE.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n.split(".")[0] == "prometheus_client" for n in names):
                    module = path.relative_to(PACKAGE.parent).with_suffix("")
                    importers.add(".".join(module.parts))
        assert importers == METRIC_MODULES

    def test_every_mentioned_metric_is_exported(self) -> None:
        """Each videodl_* name in monitoring.md (tables, PromQL, prose) is a series of a scrape."""
        allowed = set().union(*(f.series for f in exported().values()))
        unknown = markdown.metric_names(MONITORING.read_text(encoding="utf-8")) - allowed
        assert not unknown, f"monitoring.md names series the operator does not export: {unknown}"

    def test_every_exported_metric_has_a_row(self) -> None:
        """Each exported family has a row in the metrics table, and no row is left over."""
        rows = documented_rows(MONITORING.read_text(encoding="utf-8"))
        assert set(rows) == set(exported())

    def test_rows_give_the_right_type_and_labels(self) -> None:
        """Each row's type and label names are those of the exported family."""
        rows = documented_rows(MONITORING.read_text(encoding="utf-8"))
        for name, family in exported().items():
            row = rows[name]
            assert row[1] == family.type, f"{name}: documented as {row[1]}, is {family.type}"
            assert documented_labels(row[2]) == family.labels, f"{name}: labels"

    def test_the_checks_catch_an_unknown_name_and_a_wrong_type(self) -> None:
        """A made-up series and a row with the wrong type are told apart from the real ones."""
        families = exported()
        allowed = set().union(*(f.series for f in families.values()))
        assert "videodl_downloads_failed_total" not in allowed
        assert "videodl_download_bytes_sum" in allowed
        assert "videodl_queue_depth_total" not in allowed
        text = (
            "## Metrics\n\n| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n"
            "| `videodl_queue_depth` | counter | `priority` (`Low`) | x |\n"
        )
        row = documented_rows(text)["videodl_queue_depth"]
        assert row[1] != families["videodl_queue_depth"].type
        assert documented_labels(row[2]) == {"priority"}


class TestDashboard:
    def test_every_panel_is_described(self) -> None:
        """Each panel of the shipped dashboard has a row in the dashboard table, and vice versa."""
        dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
        panels = set()
        for panel in dashboard["panels"]:
            # Rows hold their panels when collapsed; an open row is followed by them.
            nested = panel.get("panels", []) if panel["type"] == "row" else [panel]
            panels.update(p["title"] for p in nested)
        assert len(panels) >= 10, "the dashboard reader found too few panels"
        section = markdown.section(MONITORING.read_text(encoding="utf-8"), "The Grafana dashboard")
        (table,) = markdown.tables(section)
        assert table[0][:2] == ["Row", "Panel"]
        assert {row[1] for row in table[1:]} == panels


class TestAlerts:
    """The Alerts section describes the shipped rule file; tests/unit/monitoring tests it."""

    def _section(self) -> str:
        return markdown.section(MONITORING.read_text(encoding="utf-8"), "Alerts")

    def test_the_section_links_the_rules_and_their_tests(self) -> None:
        """The rule file and its promtool suite are linked, and no copy of the rules is inline."""
        links = set(markdown.links(self._section()))
        assert {"monitoring/alerts.yaml", "monitoring/alerts_test.yaml"} <= links
        assert not [b for b in markdown.blocks(self._section()) if "groups:" in b.body]

    def test_the_table_lists_every_alert_with_its_for_and_severity(self) -> None:
        """Each alert of the rule file has a row with its `for` and severity, and no other row."""
        (table,) = markdown.tables(self._section())
        assert table[0] == ["Alert", "Fires when", "For", "Severity"]
        shown = {markdown.code_spans(row[0])[0]: (row[2], row[3]) for row in table[1:]}
        document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
        defined = {
            rule["alert"]: (rule["for"], rule["labels"]["severity"])
            for group in document["groups"]
            for rule in group["rules"]
        }
        assert shown == defined

    def test_every_metric_of_the_rules_is_exported(self) -> None:
        """Each videodl_* name in the rule file is a series of a scrape."""
        allowed = set().union(*(f.series for f in exported().values()))
        unknown = markdown.metric_names(ALERTS.read_text(encoding="utf-8")) - allowed
        assert not unknown, f"alerts.yaml names series the operator does not export: {unknown}"


def emitted_events() -> dict[str, str]:
    """Event reason -> type ("Normal" or "Warning") of every Event the operator posts.

    The download state machine builds each Event from a declared reason, which carries its
    type (``Event.of``); the declarations are the whole set.
    """
    from videodl.reconcile.download.reasons import Reason

    return {reason.value: reason.type for reason in Reason}


class TestEvents:
    def test_events_table_matches_the_operator(self) -> None:
        """The Events table lists every reason the operator posts, each with its type."""
        section = markdown.section(MONITORING.read_text(encoding="utf-8"), "Events")
        (table,) = markdown.tables(section)
        assert table[0][:2] == ["Reason", "Type"]
        documented = {markdown.code_spans(row[0])[0]: row[1] for row in table[1:]}
        emitted = emitted_events()
        assert len(emitted) >= 10, "the reader of the operator's Events found too few"
        assert documented == emitted

    def test_breaker_event_reasons_exist(self) -> None:
        """The breaker's Event reasons named in monitoring.md are reasons the breaker posts."""
        section = markdown.section(MONITORING.read_text(encoding="utf-8"), "Events")
        listing = re.search(r"Events on its ConfigMap \(([^;]*);", section)
        assert listing, "monitoring.md no longer lists the breaker's Events"
        named = set(re.findall(r"`([A-Z][A-Za-z]+)`", listing[1]))
        source = (PACKAGE / "core" / "breaker.py").read_text(encoding="utf-8")
        source += (PACKAGE / "breaker" / "events.py").read_text(encoding="utf-8")
        posted = set(re.findall(r"= \"([A-Z][A-Za-z]+)\"", source))
        posted |= set(re.findall(r"reason=\"([A-Z][A-Za-z]+)\"", source))
        assert named, "no breaker Event reasons found in monitoring.md"
        assert named <= posted, f"not posted by the breaker: {named - posted}"
