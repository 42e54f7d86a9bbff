"""The condition and health tables of the docs agree with the code that computes them.

architecture.md and gitops.md tabulate Ready, Reconciling and Stalled per phase and what
kstatus concludes; gitops.md also tabulates what the shipped Argo CD health check returns.
Each row is recomputed here: the conditions with :func:`videodl.core.conditions.compute`,
kstatus with :func:`videodl.core.conditions.kstatus`, and the health with the Lua script run
by a real Lua interpreter.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import lupa
import pytest

from videodl.api.status import Phase
from videodl.core import conditions

from . import markdown

ARCHITECTURE = markdown.DOCS / "architecture.md"
GITOPS = markdown.DOCS / "gitops.md"
HEALTH_LUA = markdown.DOCS / "gitops" / "argocd-health.lua"
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
    return {"metadata": metadata, "spec": {"url": "https://example.org/v.mp4"}, "status": status}


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
    @pytest.mark.parametrize("document", [ARCHITECTURE, GITOPS], ids=lambda p: p.name)
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


def _special_object(cell: str) -> dict[str, Any] | None:
    """The sample object a non-phase row of gitops.md describes, if any."""
    if "no status" in cell:
        return {"metadata": {"name": "v", "generation": 1}, "spec": {"url": "https://x/y"}}
    if "deleted" in cell:
        obj = sample("Running")
        obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return obj
    if "observedGeneration" in cell:
        return sample("Succeeded", generation=2, observed=1)
    return None


def rows_with_objects(table: list[list[str]]) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(label, row, sample object) for every row; a row describing nothing known fails."""
    found = []
    for row in table[1:]:
        phases = phases_of(row[0])
        if phases:
            found.extend((phase, row, sample(phase)) for phase in phases)
            continue
        special = _special_object(row[0])
        assert special is not None, f"gitops.md row {row[0]!r} describes no object the test knows"
        found.append((row[0], row, special))
    return found


class TestKstatusTable:
    def test_kstatus_column_matches(self) -> None:
        """The kstatus column is what kstatus's rules conclude for each row's object."""
        (table,) = condition_tables(GITOPS.read_text(encoding="utf-8"))
        column = table[0].index("kstatus")
        rows = rows_with_objects(table)
        assert len(rows) == len(PHASES) + 2
        for label, row, obj in rows:
            (shown,) = markdown.code_spans(row[column])
            assert shown == conditions.kstatus(obj).value, label


def argo_health(obj: dict[str, Any]) -> tuple[str, str]:
    """Run the shipped health.lua as Argo CD does: ``obj`` global, a table returned."""
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)

    def to_lua(value: Any) -> Any:
        if isinstance(value, dict):
            return runtime.table_from({k: to_lua(v) for k, v in value.items()})
        if isinstance(value, list):
            return runtime.table_from([to_lua(v) for v in value])
        return value

    runtime.globals().obj = to_lua(obj)
    result = runtime.execute(HEALTH_LUA.read_text(encoding="utf-8"))
    return str(result["status"]), str(result["message"])


class TestArgoTable:
    def _table(self) -> list[list[str]]:
        section = markdown.section(GITOPS.read_text(encoding="utf-8"), "Argo CD")
        (table,) = [t for t in markdown.tables(section) if t[0][:2] == ["Object", "Health"]]
        return table

    def test_health_column_matches_the_script(self) -> None:
        """Each row's health is what argocd-health.lua returns for such an object."""
        table = self._table()
        rows = rows_with_objects(table)
        assert sorted(label for label, _, _ in rows if label in PHASES) == sorted(PHASES)
        for label, row, obj in rows:
            (shown,) = markdown.code_spans(row[1])
            assert shown == argo_health(obj)[0], label

    def test_running_message_shows_the_percentage(self) -> None:
        """The documented `Running (42%)` message is what the script writes."""
        row = next(r for r in self._table() if phases_of(r[0]) == ["Running"])
        assert "`Running (42%)`" in row[2]
        assert argo_health(sample("Running"))[1] == "Running (42%)"


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
