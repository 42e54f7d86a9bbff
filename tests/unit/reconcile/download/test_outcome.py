"""Tests for the download podview and outcome modules: what a finished Pod means."""

from __future__ import annotations

import pytest
from tests.unit.reconcile.download.builders import T0, failure_message, pod, success_message

from videodl.api.status import FailureClass
from videodl.reconcile.download import outcome


class TestPodView:
    def test_summary(self) -> None:
        """The view keeps owner, run, attempt, phase and the container's termination."""
        view = pod("clip-abc-r4", attempt=2, phase="Failed", exit_code=11, finished_at=T0)
        assert (view.owner_name, view.run, view.attempt) == ("clip", 4, 2)
        assert view.finished
        assert not view.active
        assert view.termination is not None
        assert view.termination.exit_code == 11
        assert view.termination.finished_at == T0

    def test_active_states(self) -> None:
        """Pending, Running and Unknown Pods may still run a process."""
        for phase in ("Pending", "Running", "Unknown"):
            assert pod("p-r1", phase=phase).active


class TestOutcome:
    def test_active_pod_has_none(self) -> None:
        """A Pod that still runs has no outcome yet."""
        assert outcome.of_pod(pod("p-r1")) is None

    def test_success_with_result(self) -> None:
        """Succeeded carries the result from the termination message."""
        result = outcome.of_pod(
            pod("p-r1", phase="Succeeded", exit_code=0, termination_message=success_message("T"))
        )
        assert isinstance(result, outcome.Succeeded)
        assert result.result is not None
        assert result.result.title == "T"

    def test_success_without_message(self) -> None:
        """Exit code 0 without a message is a success without a result."""
        result = outcome.of_pod(pod("p-r1", phase="Succeeded", exit_code=0))
        assert isinstance(result, outcome.Succeeded)
        assert result.result is None

    def test_worker_failure_message(self) -> None:
        """The worker's failure message is taken as written, with the real exit code."""
        result = outcome.of_pod(
            pod(
                "p-r1",
                phase="Failed",
                exit_code=11,
                termination_message=failure_message("Throttled", "HTTPError429", "Too Many", 11),
            )
        )
        assert isinstance(result, outcome.Failed)
        assert result.failure.failure_class == FailureClass.THROTTLED
        assert result.failure.reason == "HTTPError429"
        assert result.failure.exit_code == 11

    @pytest.mark.parametrize(
        ("exit_code", "failure_class", "reason"),
        [
            (10, FailureClass.TRANSIENT, "WorkerExit10"),
            (11, FailureClass.THROTTLED, "WorkerExit11"),
            (12, FailureClass.PERMANENT, "WorkerExit12"),
            (1, FailureClass.TRANSIENT, "WorkerCrashed"),
            (139, FailureClass.TRANSIENT, "WorkerCrashed"),
        ],
    )
    def test_exit_code_without_message(
        self, exit_code: int, failure_class: FailureClass, reason: str
    ) -> None:
        """Without a readable message the exit code decides the class."""
        result = outcome.of_pod(
            pod("p-r1", phase="Failed", exit_code=exit_code, termination_message="Traceback ...")
        )
        assert isinstance(result, outcome.Failed)
        assert result.failure.failure_class == failure_class
        assert result.failure.reason == reason
        assert "Traceback" in result.failure.message

    def test_oom(self) -> None:
        """An OOM-killed worker is transient and the message says which limit to raise."""
        result = outcome.of_pod(
            pod("p-r1", phase="Failed", exit_code=137, container_reason="OOMKilled")
        )
        assert isinstance(result, outcome.Failed)
        assert result.failure.reason == "OOMKilled"
        assert "limits.memory" in result.failure.message

    def test_never_started(self) -> None:
        """A Pod that failed before its container ran is transient."""
        result = outcome.of_pod(pod("p-r1", phase="Failed", message="no node"))
        assert isinstance(result, outcome.Failed)
        assert result.failure.reason == "WorkerNotStarted"

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"disrupted": True, "reason": "Evicted"},
            {"reason": "Preempting"},
            {"deleting": True},
        ],
    )
    def test_interruptions(self, kwargs: dict[str, object]) -> None:
        """Evicted, preempted and deleted Pods are interruptions, not failures."""
        result = outcome.of_pod(pod("p-r1", phase="Failed", exit_code=143, **kwargs))  # type: ignore[arg-type]
        assert isinstance(result, outcome.Interrupted)

    def test_long_logs_are_cut(self) -> None:
        """Only the end of a long log is kept in the failure message."""
        result = outcome.of_pod(
            pod("p-r1", phase="Failed", exit_code=1, termination_message="x" * 5000 + "END")
        )
        assert isinstance(result, outcome.Failed)
        assert result.failure.message.endswith("END")
        assert len(result.failure.message) < 1200
