"""The Argo CD health check of VideoSubscriptions, run under Lua 5.1 as TestLuaHealthScript does."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.subscription import SubscriptionPhase, VideoSubscription
from videodl.core import conditions
from videodl.reconcile.subscription import transitions

from . import argocd, kstatus

SUBSCRIPTION = argocd.CUSTOMIZATIONS / "videodl.dev" / "VideoSubscription"
SCRIPT = (SUBSCRIPTION / "health.lua").read_text(encoding="utf-8")
CASES = argocd.cases(SUBSCRIPTION / "health_test.yaml")


def load(case: argocd.Case) -> Any:
    return argocd.load(SUBSCRIPTION / case.input_path)


def load_phase(phase: SubscriptionPhase) -> Any:
    (case,) = [c for c in CASES if (load(c).get("status") or {}).get("phase") == phase.value]
    return load(case)


class TestSubscriptionHealth:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_case(self, case: argocd.Case) -> None:
        """health.lua returns the case's status and message for its object, under Lua 5.1."""
        assert argocd.health(load(case), SCRIPT) == case.expected

    def test_every_phase_is_covered(self) -> None:
        """There is a case for every subscription phase, and one without a status."""
        phases = {(load(c).get("status") or {}).get("phase") for c in CASES}
        assert phases == {p.value for p in SubscriptionPhase} | {None}

    def test_every_test_object_is_a_case(self) -> None:
        """Each file under testdata/ is the input of exactly one case."""
        stored = sorted(f"testdata/{p.name}" for p in (SUBSCRIPTION / "testdata").glob("*.yaml"))
        assert sorted(c.input_path for c in CASES) == stored

    def test_a_subscription_being_deleted_is_progressing(self) -> None:
        """A deletionTimestamp makes any phase Progressing, "Deleting"."""
        obj = load_phase(SubscriptionPhase.SCHEDULED)
        obj["metadata"]["deletionTimestamp"] = "2026-12-01T23:30:00Z"
        assert argocd.health(obj, SCRIPT) == argocd.Health("Progressing", "Deleting")

    def test_a_spec_not_observed_yet_is_progressing(self) -> None:
        """An observedGeneration behind metadata.generation waits for the operator."""
        obj = load_phase(SubscriptionPhase.SCHEDULED)
        obj["metadata"]["generation"] = 2
        expected = argocd.Health("Progressing", "Waiting for the operator to observe generation 2")
        assert argocd.health(obj, SCRIPT) == expected

    def test_a_scan_without_its_name_shows_the_ready_message(self) -> None:
        """A Scanning object without status.active says what its Ready condition says."""
        obj = load_phase(SubscriptionPhase.SCANNING)
        del obj["status"]["active"]
        expected = argocd.Health("Healthy", "scan example-channel-29936100 runs")
        assert argocd.health(obj, SCRIPT) == expected


class TestTestObjects:
    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_conditions_are_what_the_operator_writes(self, case: argocd.Case) -> None:
        """A test object's conditions are those the operator computes for its phase."""
        status = load(case).get("status")
        if status is None:
            return
        written = status["conditions"]
        (ready,) = [c for c in written if c["type"] == "Ready"]
        computed = conditions.compute(
            phase=transitions.CONDITION_PHASE[SubscriptionPhase(status["phase"])],
            reason=ready["reason"],
            message=ready["message"],
            generation=status["observedGeneration"],
            now=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
            previous=written,
        )
        assert computed == written

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.input_path)
    def test_objects_are_what_the_models_read(self, case: argocd.Case) -> None:
        """Each object but the Failed one parses; the Failed one is refused as it says."""
        obj = load(case)
        status = obj.get("status") or {}
        if status.get("phase") != SubscriptionPhase.FAILED.value:
            assert VideoSubscription.from_object(obj).name == "example-channel"
            return
        (stalled,) = [c for c in status["conditions"] if c["type"] == "Stalled"]
        with pytest.raises(InvalidVideoDownloadError) as refused:
            VideoSubscription.from_object(obj)
        assert str(refused.value) == stalled["message"]


#: What kstatus concludes for each subscription phase: its rules read Reconciling and Stalled
#: first, then Ready.
KSTATUS = {
    "Pending": "InProgress",
    "Scanning": "Current",
    "Scheduled": "Current",
    "Suspended": "Current",
    "Failed": "Failed",
}


class TestSubscriptionKstatus:
    def test_every_phase_gets_its_kstatus(self) -> None:
        """The real kstatus library reads each stored subscription as its phase promises."""
        objects = [load(c) for c in CASES if load(c).get("status")]
        answers = kstatus.compute_all(objects)
        got = {o["status"]["phase"]: a.status for o, a in zip(objects, answers, strict=True)}
        assert got == KSTATUS
