"""The Argo CD health check of VideoPlaylists, run under Lua 5.1 as TestLuaHealthScript does."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from videodl.api.playlist import PlaylistPhase
from videodl.core import conditions
from videodl.reconcile.playlist import transitions

from . import argocd, kstatus

PLAYLIST = argocd.CUSTOMIZATIONS / "videodl.dev" / "VideoPlaylist"
SCRIPT = (PLAYLIST / "health.lua").read_text(encoding="utf-8")
CASES = argocd.cases(PLAYLIST / "health_test.yaml")


def load(case: argocd.Case) -> Any:
    return argocd.load(PLAYLIST / case.input_path)


class TestPlaylistHealth:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_case(self, case: argocd.Case) -> None:
        """health.lua returns the case's status and message for its object, under Lua 5.1."""
        assert argocd.health(load(case), SCRIPT) == case.expected

    def test_every_phase_is_covered(self) -> None:
        """There is a case for every playlist phase, and one without a status."""
        phases = {(load(c).get("status") or {}).get("phase") for c in CASES}
        assert phases == {p.value for p in PlaylistPhase} | {None}

    def test_every_test_object_is_a_case(self) -> None:
        """Each file under testdata/ is the input of exactly one case."""
        stored = sorted(f"testdata/{p.name}" for p in (PLAYLIST / "testdata").glob("*.yaml"))
        assert sorted(c.input_path for c in CASES) == stored

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_conditions_are_what_the_operator_writes(self, case: argocd.Case) -> None:
        """A test object's condition statuses are those the operator gives its phase."""
        status = load(case).get("status")
        if status is None:
            return
        computed = conditions.compute(
            phase=transitions.CONDITION_PHASE[PlaylistPhase(status["phase"])],
            reason="Any",
            message="",
            generation=1,
            now=datetime.datetime(2026, 12, 1, 23, tzinfo=datetime.UTC),
        )
        expected = {c["type"]: c["status"] for c in computed}
        assert {c["type"]: c["status"] for c in status["conditions"]} == expected


#: What kstatus concludes for each playlist phase: its rules read Reconciling and Stalled
#: first, then Ready.
KSTATUS = {
    "Pending": "InProgress",
    "Indexing": "InProgress",
    "BackingOff": "InProgress",
    "Blocked": "InProgress",
    "Running": "InProgress",
    "Succeeded": "Current",
    "Failed": "Failed",
    "Suspended": "Current",
}


class TestPlaylistKstatus:
    def test_every_phase_gets_its_kstatus(self) -> None:
        """The real kstatus library reads each stored playlist object as its phase promises."""
        objects = [load(c) for c in CASES if load(c).get("status")]
        answers = kstatus.compute_all(objects)
        got = {o["status"]["phase"]: a.status for o, a in zip(objects, answers, strict=True)}
        assert got == KSTATUS
