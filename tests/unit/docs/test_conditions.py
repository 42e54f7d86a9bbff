"""The condition and health tables of the docs agree with the code that computes them.

architecture.md, operator.md and gitops.md tabulate Ready, Reconciling and Stalled per phase;
gitops.md also tabulates what kstatus concludes and what the shipped Argo CD health check
returns. Each row is recomputed here: the conditions with
:func:`videodl.core.conditions.compute`, kstatus with the library itself (``hack/kstatus``),
and the health with the shipped ``health.lua`` under Lua 5.1, on its upstream-style test cases.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from tests.unit.gitops import argocd, documented, kstatus

from videodl.api.status import Phase
from videodl.core import conditions

from . import markdown

ARCHITECTURE = markdown.DOCS / "architecture.md"
GITOPS = markdown.DOCS / "gitops.md"
OPERATOR = markdown.DOCS / "operator.md"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
PHASES = {p.value for p in Phase}


def phases_of(cell: str) -> list[str]:
    """The phase names written as code in a table cell."""
    return [word for word in markdown.code_spans(cell) if word in PHASES]


def sample(phase: str, *, generation: int = 1, observed: int = 1) -> dict[str, Any]:
    """A VideoDownload in ``phase`` with the conditions the operator writes for it."""
    status: dict[str, Any] = {
        "phase": phase,
        "observedGeneration": observed,
        "conditions": conditions.compute(
            phase=phase, reason="Sample", message=f"{phase} message", generation=observed, now=NOW
        ),
    }
    if phase == "Running":
        status["progress"] = {"percent": 42}
    if phase == "Failed":
        status["lastFailure"] = {"class": "Permanent", "reason": "HTTPError404", "message": "gone"}
    metadata = {"name": "v", "namespace": "n", "generation": generation}
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoDownload",
        "metadata": metadata,
        "spec": {"url": "https://example.org/v.mp4"},
        "status": status,
    }


def condition_tables(text: str) -> list[list[list[str]]]:
    """Tables with Ready, Reconciling and Stalled columns."""
    found = []
    for table in markdown.tables(text):
        header = [cell.strip("`") for cell in table[0]]
        if {"Ready", "Reconciling", "Stalled"} <= set(header):
            found.append(table)
    return found


def condition_mismatches(table: list[list[str]]) -> list[str]:
    """Rows of a conditions table whose values differ from what the operator writes."""
    header = [cell.strip("`") for cell in table[0]]
    problems = []
    for row in table[1:]:
        for phase in phases_of(row[0]):
            written = {c["type"]: c["status"] for c in sample(phase)["status"]["conditions"]}
            for kind in ("Ready", "Reconciling", "Stalled"):
                shown = row[header.index(kind)]
                if shown != written[kind]:
                    problems.append(f"{phase}: {kind} shown {shown}, written {written[kind]}")
    return problems


class TestConditionTables:
    @pytest.mark.parametrize("document", [ARCHITECTURE, OPERATOR, GITOPS], ids=lambda p: p.name)
    def test_tables_match_the_conditions_written(self, document: Any) -> None:
        """Every phase row shows the Ready, Reconciling and Stalled values the operator writes."""
        tables = condition_tables(document.read_text(encoding="utf-8"))
        assert tables, f"{document.name} has no conditions table"
        for table in tables:
            covered = [p for row in table[1:] for p in phases_of(row[0])]
            assert sorted(covered) == sorted(PHASES), f"{document.name}: each phase once"
            assert not condition_mismatches(table)

    def test_a_wrong_value_is_caught(self) -> None:
        """A table claiming Failed is Reconciling is reported."""
        table = [
            ["Phase", "`Ready`", "`Reconciling`", "`Stalled`"],
            ["`Failed`", "False", "True", "True"],
        ]
        assert condition_mismatches(table) == ["Failed: Reconciling shown True, written False"]


def special_object(key: str) -> dict[str, Any]:
    """The sample object of a gitops.md row about an object without a phase to name."""
    if key == documented.NO_STATUS:
        return {"metadata": {"name": "v", "generation": 1}, "spec": {"url": "https://x/y"}}
    if key == documented.DELETING:
        obj = sample("Running")
        obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return obj
    assert key == documented.STALE, key
    return sample("Succeeded", generation=2, observed=1)


def sample_for(key: str) -> dict[str, Any]:
    """The sample object of a row of gitops.md's tables."""
    return sample(key) if key in PHASES else special_object(key)


#: What Flux's health check does with each kstatus status.
FLUX = {"Current": "passes", "InProgress": "waits", "Failed": "fails", "Terminating": ""}


class TestKstatusTable:
    def test_kstatus_column_is_what_the_library_concludes(self) -> None:
        """The kstatus column is what kstatus itself concludes for each row's object."""
        promised = documented.kstatus_table()
        assert set(promised) == PHASES | set(documented.SPECIAL)
        answers = kstatus.compute_all([sample_for(key) for key in promised])
        assert dict(zip(promised, (a.status for a in answers), strict=True)) == promised

    def test_flux_column_follows_from_kstatus(self) -> None:
        """Current passes, InProgress waits, Failed fails a Flux health check."""
        (table,) = [
            t
            for t in markdown.tables(GITOPS.read_text(encoding="utf-8"))
            if "Flux health check" in t[0]
        ]
        for row in table[1:]:
            (status,) = markdown.code_spans(row[4])
            assert row[5].split(" (")[0] == FLUX[status], row

    def test_a_wrong_claim_is_caught(self) -> None:
        """Were Suspended all False, as it once was, kstatus would say InProgress, not Current."""
        obj = sample("Suspended")
        for condition in obj["status"]["conditions"]:
            condition["status"] = "False"
        assert kstatus.compute(obj) == "InProgress"


class TestArgoTable:
    def test_health_column_matches_the_upstream_test_cases(self) -> None:
        """Each row's health is what health_test.yaml expects for the objects of that row."""
        promised = documented.health_table()
        assert set(promised) == PHASES | set(documented.SPECIAL)
        for case in argocd.cases():
            obj = argocd.load(argocd.VIDEODOWNLOAD / case.input_path)
            key = documented.row_key(obj)
            assert case.expected.status == promised[key], case.input_path

    def test_health_column_matches_the_script_on_computed_objects(self) -> None:
        """Each row's health is also what health.lua returns for the row's sample object."""
        for key, shown in documented.health_table().items():
            assert argocd.health(sample_for(key)).status == shown, key

    def test_running_message_shows_the_percentage(self) -> None:
        """The documented `Running (42%)` message is what the script writes."""
        section = markdown.section(GITOPS.read_text(encoding="utf-8"), "Argo CD")
        row = next(r for t in markdown.tables(section) for r in t if phases_of(r[0]) == ["Running"])
        assert "`Running (42%)`" in row[2]
        assert argocd.health(sample("Running")).message == "Running (42%)"


class TestStateDiagram:
    def test_every_phase_is_in_the_diagram_and_the_phase_table(self) -> None:
        """The phase diagram and the phase table of architecture.md name every phase."""
        text = ARCHITECTURE.read_text(encoding="utf-8")
        (diagram,) = [
            b for b in markdown.blocks(text) if b.lang == "mermaid" and "stateDiagram" in b.body
        ]
        in_diagram = set(re.findall(r"\b[A-Z][A-Za-z]+\b", diagram.body)) & PHASES
        assert in_diagram == PHASES
        section = markdown.section(text, "Phases")
        table = next(t for t in markdown.tables(section) if t[0][0] == "Phase")
        assert sorted(p for row in table[1:] for p in phases_of(row[0])) == sorted(PHASES)
