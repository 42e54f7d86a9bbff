"""What docs/gitops.md promises: its kstatus table and its Argo CD health table, by row.

A row is keyed by the phase it names (``Queued``), or, for the rows about objects without a
phase, by one of :data:`SPECIAL`. Both the unit tests (on stored and computed objects) and
the end-to-end tests (on objects read from the apiserver) compare against these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.unit.docs import markdown

from videodl.api.status import Phase

GITOPS = markdown.DOCS / "gitops.md"
PHASES = frozenset(p.value for p in Phase)

NO_STATUS = "no status yet"
DELETING = "being deleted"
STALE = "generation not observed yet"
#: The rows about objects that have no phase to name, and the words that tell them apart.
SPECIAL = {NO_STATUS: "no status", DELETING: "deleted", STALE: "observedGeneration"}


def row_keys(cell: str) -> list[str]:
    """The keys of a row, from its first cell: the phases it names, else what it describes."""
    phases = [word for word in markdown.code_spans(cell) if word in PHASES]
    if phases:
        return phases
    special = [key for key, words in SPECIAL.items() if words in cell]
    assert len(special) == 1, f"gitops.md row {cell!r} describes no object the tests know"
    return special


def _table(heading: str, columns: set[str]) -> list[list[str]]:
    section = markdown.section(GITOPS.read_text(encoding="utf-8"), heading)
    found = [t for t in markdown.tables(section) if columns <= {c.strip("`") for c in t[0]}]
    assert len(found) == 1, f"gitops.md, {heading}: one table with the columns {columns}"
    return found[0]


def _column(table: list[list[str]], name: str) -> dict[str, str]:
    """Key -> the single code span of column ``name``, for every row of ``table``."""
    index = [c.strip("`") for c in table[0]].index(name)
    values = {}
    for row in table[1:]:
        (value,) = markdown.code_spans(row[index]) or [""]
        for key in row_keys(row[0]):
            assert key not in values, f"gitops.md lists {key} twice"
            values[key] = value
    return values


def kstatus_table() -> dict[str, str]:
    """Row key -> the kstatus status the conditions table of gitops.md promises."""
    return _column(_table("The conditions (kstatus)", {"Phase", "kstatus"}), "kstatus")


def conditions_table() -> dict[str, dict[str, str]]:
    """Phase -> {condition type: status} as the conditions table of gitops.md shows them."""
    table = _table("The conditions (kstatus)", {"Phase", "Ready", "Reconciling", "Stalled"})
    header = [c.strip("`") for c in table[0]]
    found = {}
    for row in table[1:]:
        for key in row_keys(row[0]):
            if key in PHASES:
                found[key] = {t: row[header.index(t)] for t in ("Ready", "Reconciling", "Stalled")}
    return found


def health_table() -> dict[str, str]:
    """Row key -> the Argo CD health the health table of gitops.md promises."""
    return _column(_table("Argo CD", {"Object", "Health"}), "Health")


def row_key(obj: Mapping[str, Any]) -> str:
    """The row of gitops.md's tables that describes ``obj`` (a VideoDownload as read)."""
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    if metadata.get("deletionTimestamp"):
        return DELETING
    if not status.get("phase"):
        return NO_STATUS
    observed = status.get("observedGeneration")
    if observed is not None and observed != metadata.get("generation", observed):
        return STALE
    phase: str = status["phase"]
    return phase
