"""Tests for videodl.core.conditions; what kstatus concludes is asked of the library itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.gitops import kstatus

from videodl.api.status import ConditionType, Phase
from videodl.core import conditions

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STAMP0 = "2026-01-01T00:00:00Z"


def by_type(result: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in result}


def statuses(result: list[dict[str, Any]]) -> tuple[str, str, str]:
    found = by_type(result)
    return (
        found["Ready"]["status"],
        found["Reconciling"]["status"],
        found["Stalled"]["status"],
    )


def resource(result: list[dict[str, Any]], generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "videodl.dev/v1alpha1",
        "kind": "VideoDownload",
        "metadata": {"name": "v", "namespace": "n", "generation": generation},
        "status": {"observedGeneration": generation, "conditions": result},
    }


class TestCompute:
    def test_policy_covers_every_condition_type(self) -> None:
        """POLICY decides every condition type the API declares, and nothing else."""
        assert list(conditions.POLICY) == list(ConditionType)

    @pytest.mark.parametrize(
        ("phase", "expected", "status"),
        [
            ("Pending", ("False", "True", "False"), "InProgress"),
            ("Queued", ("False", "True", "False"), "InProgress"),
            ("Running", ("False", "True", "False"), "InProgress"),
            ("BackingOff", ("False", "True", "False"), "InProgress"),
            ("Blocked", ("False", "True", "False"), "InProgress"),
            ("Succeeded", ("True", "False", "False"), "Current"),
            ("Failed", ("False", "False", "True"), "Failed"),
            # Ready, so that kstatus (whose fallback reads Ready=False as InProgress) says
            # Current and a GitOps wait on a suspended download passes.
            ("Suspended", ("True", "False", "False"), "Current"),
        ],
    )
    def test_phase_table(self, phase: str, expected: tuple[str, str, str], status: str) -> None:
        """Each phase sets Ready/Reconciling/Stalled as documented, and kstatus reads it so."""
        result = conditions.compute(phase=phase, reason=phase, message="m", generation=1, now=T0)
        assert statuses(result) == expected
        assert kstatus.compute(resource(result)) == status

    def test_first_reconcile(self) -> None:
        """The first reconcile sets all three, Ready=False, with the generation and time."""
        result = conditions.compute(
            phase=Phase.PENDING, reason="Created", message="accepted", generation=3, now=T0
        )
        assert result == [
            {
                "type": kind,
                "status": status,
                "reason": "Created",
                "message": "accepted",
                "lastTransitionTime": STAMP0,
                "observedGeneration": 3,
            }
            for kind, status in (("Ready", "False"), ("Reconciling", "True"), ("Stalled", "False"))
        ]

    def test_transition_time_moves_only_on_status_change(self) -> None:
        """Queued -> Running keeps every time; Running -> Succeeded moves Ready and Reconciling."""
        queued = conditions.compute(
            phase="Queued", reason="Queued", message="3rd", generation=1, now=T0
        )
        later = T0 + timedelta(minutes=5)
        running = conditions.compute(
            phase="Running",
            reason="Started",
            message="pod x",
            generation=2,
            now=later,
            previous=queued,
        )
        assert {c["lastTransitionTime"] for c in running} == {STAMP0}
        assert {(c["reason"], c["observedGeneration"]) for c in running} == {("Started", 2)}
        done_at = T0 + timedelta(minutes=9)
        done = by_type(
            conditions.compute(
                phase="Succeeded",
                reason="Succeeded",
                message="ok",
                generation=2,
                now=done_at,
                previous=running,
            )
        )
        assert done["Ready"]["lastTransitionTime"] == "2026-01-01T00:09:00Z"
        assert done["Reconciling"]["lastTransitionTime"] == "2026-01-01T00:09:00Z"
        assert done["Stalled"]["lastTransitionTime"] == STAMP0

    def test_foreign_conditions_are_kept(self) -> None:
        """Conditions of other types stay as they were, after the owned ones."""
        foreign = {"type": "Archived", "status": "True", "reason": "X", "message": ""}
        result = conditions.compute(
            phase="Running",
            reason="Started",
            message="",
            generation=1,
            now=T0,
            previous=[foreign],
        )
        assert [c["type"] for c in result] == ["Ready", "Reconciling", "Stalled", "Archived"]
        assert result[3] == foreign

    def test_previous_without_time_gets_now(self) -> None:
        """A previous condition missing lastTransitionTime is stamped now."""
        previous = [{"type": "Ready", "status": "False"}]
        result = conditions.compute(
            phase="Queued", reason="Queued", message="", generation=1, now=T0, previous=previous
        )
        assert by_type(result)["Ready"]["lastTransitionTime"] == STAMP0

    def test_time_is_utc_seconds(self) -> None:
        """Times in another zone with microseconds are written as UTC whole seconds."""
        now = datetime(2026, 1, 1, 3, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=3)))
        result = conditions.compute(phase="Queued", reason="Q", message="", generation=1, now=now)
        assert result[0]["lastTransitionTime"] == STAMP0

    def test_long_message_is_bounded(self) -> None:
        """A huge message is cut to the API's limit instead of making the update fail."""
        result = conditions.compute(
            phase="Failed", reason="Permanent", message="x" * 40000, generation=1, now=T0
        )
        assert len(result[0]["message"]) == 32768
        assert result[0]["message"].endswith("…")

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"phase": "Done"}, "phase must be one of Pending, Queued"),
            ({"reason": "not camel case"}, "reason 'not camel case' is not valid"),
            ({"reason": ""}, "reason '' is not valid"),
            ({"generation": -1}, "generation must be 0 or more"),
            ({"now": datetime(2026, 1, 1)}, "timezone-aware"),
        ],
    )
    def test_bad_input_names_the_field(self, kwargs: dict[str, Any], match: str) -> None:
        """Bad arguments are rejected with the field and the expected form."""
        arguments: dict[str, Any] = {
            "phase": "Queued",
            "reason": "Queued",
            "message": "",
            "generation": 1,
            "now": T0,
        }
        arguments.update(kwargs)
        with pytest.raises(ValueError, match=match):
            conditions.compute(**arguments)

    @given(
        steps=st.lists(
            st.tuples(st.sampled_from(list(Phase)), st.integers(min_value=0, max_value=3600)),
            min_size=1,
            max_size=30,
        )
    )
    def test_invariants_over_any_phase_sequence(self, steps: list[tuple[Phase, int]]) -> None:
        """Along any phase sequence the conditions stay consistent with the phase.

        Ready is True exactly when Succeeded or Suspended, Stalled exactly when Failed, never
        Reconciling and Stalled together; lastTransitionTime changes exactly when the status
        changes; and kstatus (the library, asked once per sequence) agrees with the phase.
        """
        now = T0
        previous: list[dict[str, Any]] = []
        objects: list[dict[str, Any]] = []
        wanted: list[str] = []
        for generation, (phase, gap) in enumerate(steps, start=1):
            now += timedelta(seconds=gap)
            result = conditions.compute(
                phase=phase,
                reason="Step",
                message="",
                generation=generation,
                now=now,
                previous=previous,
            )
            ready, reconciling, stalled = statuses(result)
            assert (ready == "True") == (phase in (Phase.SUCCEEDED, Phase.SUSPENDED))
            assert (stalled == "True") == (phase is Phase.FAILED)
            assert not (reconciling == "True" and stalled == "True")
            old = by_type(previous)
            for condition in result:
                assert condition["observedGeneration"] == generation
                before = old.get(condition["type"])
                if before is not None and before["status"] == condition["status"]:
                    assert condition["lastTransitionTime"] == before["lastTransitionTime"]
                else:
                    stamp = now.isoformat().replace("+00:00", "Z")
                    assert condition["lastTransitionTime"] == stamp
            objects.append(resource(result, generation))
            wanted.append(
                {
                    Phase.SUCCEEDED: "Current",
                    Phase.SUSPENDED: "Current",
                    Phase.FAILED: "Failed",
                }.get(phase, "InProgress")
            )
            previous = result
        assert [r.status for r in kstatus.compute_all(objects)] == wanted
