"""PromQL of the dashboard and the alerts against what the operator really exports.

The universe is a scrape of the operator's own registry (:func:`scrape`): every series name
with the label names and values it can carry. The operator creates the children of its
labelled metrics up front (every ``result``, ``failure_class`` and ``priority``), so a fresh
scrape lists them all; a breaker site is made known so the per-site series appear. Prometheus
adds the target labels (:data:`TARGET_LABELS`) when it scrapes through a ServiceMonitor.

The reading of PromQL here is for the plain queries we write (selectors, ``by``/``without``/
``on``/``ignoring``/``group_*`` clauses, Grafana ``{{label}}`` legends), not a parser: it finds
label names and matched values that no exported series has, which would make a query return
nothing or group by nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from prometheus_client.parser import text_string_to_metric_families

from videodl.breaker.metrics import BreakerMetrics
from videodl.operator.metrics import Metrics

#: Labels Prometheus attaches to every series of a target discovered by a ServiceMonitor.
TARGET_LABELS = frozenset(
    {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
)
#: Labels whose values are not a fixed set (any site the operator has seen).
FREE_VALUES = frozenset({"site"})
SITE = "generic.media.example"

_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_SELECTOR = re.compile(r"\b(videodl_[a-z0-9_]+)\b(?:\s*\{(?P<matchers>[^}]*)\})?")
_MATCHER = re.compile(rf'({_NAME})\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_LEGEND = re.compile(rf"\{{\{{\s*({_NAME})\s*\}}\}}")
_SERIES = re.compile(rf"^\s*({_NAME})\s*(?:\{{(?P<labels>[^}}]*)\}})?\s*$")


@dataclasses.dataclass(frozen=True)
class Universe:
    """Series name -> the label sets it is exported with (target labels not included)."""

    series: Mapping[str, tuple[frozenset[tuple[str, str]], ...]]

    def label_names(self, name: str) -> frozenset[str]:
        """Every label name ``name`` can carry, target labels included."""
        names = {label for labels in self.series.get(name, ()) for label, _ in labels}
        return frozenset(names) | TARGET_LABELS

    def values(self, name: str, label: str) -> frozenset[str]:
        """Every value ``label`` has on series ``name`` in the scrape."""
        return frozenset(v for labels in self.series.get(name, ()) for k, v in labels if k == label)


def scrape() -> str:
    """The operator's exposition as a fresh process serves it, with one breaker site known."""
    metrics = Metrics()
    breaker = BreakerMetrics(metrics.registry)
    breaker.set_state(SITE, "OPEN")
    breaker.tripped(SITE)
    breaker.rejected_admission(SITE)
    return metrics.exposition().decode()


def universe(exposition: str | None = None) -> Universe:
    """The series of an exposition (default: :func:`scrape`) and their label sets."""
    found: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for family in text_string_to_metric_families(scrape() if exposition is None else exposition):
        for sample in family.samples:
            found.setdefault(sample.name, set()).add(frozenset(sample.labels.items()))
    return Universe({name: tuple(sets) for name, sets in found.items()})


def _matcher_problems(name: str, matchers: str, known: Universe) -> list[str]:
    problems = []
    for label, operator, value in _MATCHER.findall(matchers):
        if label not in known.label_names(name):
            problems.append(f"{name} has no label {label!r}")
        elif operator == "=" and label not in TARGET_LABELS | FREE_VALUES:
            values = known.values(name, label)
            if value not in values:
                problems.append(f"{name}{{{label}={value!r}}} is never exported: {sorted(values)}")
    return problems


def problems(expr: str, known: Universe, legend: str = "") -> list[str]:
    """What in ``expr`` (and its Grafana ``legend``) no exported series has; [] if all is known.

    A selected series must be exported, a matcher must name one of its labels (and, for
    ``=``, a value it is exported with), and a label in a grouping clause or the legend must
    be a label of a series the query selects.
    """
    found = []
    selected: set[str] = set()
    for match in _SELECTOR.finditer(expr):
        name = match[1]
        if name not in known.series:
            found.append(f"{name} is not exported")
            continue
        selected |= known.label_names(name)
        found.extend(_matcher_problems(name, match["matchers"] or "", known))
    if not selected and not found:
        found.append("selects no videodl_ series")
    used = [label.strip() for clause in _CLAUSE.findall(expr) for label in clause.split(",")]
    used += _LEGEND.findall(legend)
    found.extend(
        f"{label!r} is a label of none of the series it selects"
        for label in used
        if label and label not in selected | TARGET_LABELS
    )
    return found


def series_problems(series: str, known: Universe) -> list[str]:
    """What makes a promtool ``input_series`` unlike a series the operator exports.

    Its name must be exported and its labels, target labels aside, exactly one exported
    label set (with any value for ``site``).
    """
    match = _SERIES.match(series)
    if match is None:
        return [f"{series!r} is not a series selector"]
    name = match[1]
    labels = {k: v for k, _, v in _MATCHER.findall(match["labels"] or "")}
    if name not in known.series:
        return [f"{name} is not exported"]
    own = {k: ("*" if k in FREE_VALUES else v) for k, v in labels.items() if k not in TARGET_LABELS}
    exported = [
        {k: ("*" if k in FREE_VALUES else v) for k, v in labels_set}
        for labels_set in known.series[name]
    ]
    if own not in exported:
        shown = sorted(
            "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels_set.items())) + "}"
            for labels_set in exported
        )
        return [f"{series!r}: {name} is exported only as {', '.join(shown)}"]
    return []


def all_problems(exprs: Iterable[tuple[str, str]], known: Universe) -> dict[str, list[str]]:
    """``problems`` of each (expression, legend), keeping only the expressions with some."""
    found = {}
    for expr, legend in exprs:
        listed = problems(expr, known, legend)
        if listed:
            found[expr] = listed
    return found
