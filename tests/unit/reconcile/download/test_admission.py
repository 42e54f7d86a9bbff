"""Tests for videodl.reconcile.download.admission: starting a run, blocking, a refused Pod."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.reconcile.download.builders import (
    SECOND,
    T0,
    download,
    observe,
    pod,
    reasons,
    running,
    status_in,
    worker_name,
    written,
)

from videodl.api.status import Phase
from videodl.reconcile.download import admission


class TestAdmit:
    def queued(self, **fields: Any) -> dict[str, Any]:
        return download(status=status_in("Queued", **fields))

    def test_write_ahead(self) -> None:
        """Admission records the run (Running, attempt, Pod name) and asks for exactly that Pod."""
        plan = admission.admit(observe(self.queued(), now=T0 + SECOND))
        assert plan is not None
        assert plan.status is not None
        assert plan.status.phase == Phase.RUNNING
        assert plan.status.attempts == 1
        assert plan.status.worker_pod == worker_name(1)
        assert plan.status.start_time == T0 + SECOND
        assert plan.create_pod is not None
        assert (plan.create_pod.run, plan.create_pod.attempt) == (1, 1)
        assert reasons(plan) == ["Started"]

    def test_next_run_after_earlier_pods(self) -> None:
        """The run number continues after every run recorded or seen as a Pod."""
        body = self.queued(workerPod=worker_name(2), attempts=1)
        old = pod(worker_name(3), phase="Failed", exit_code=10)
        plan = admission.admit(observe(body, [old]))
        assert plan is not None
        assert plan.create_pod is not None
        assert plan.create_pod.run == 4
        assert plan.create_pod.attempt == 2

    @pytest.mark.parametrize(
        ("body", "pods"),
        [
            (download(spec={"suspend": True}, status=status_in("Queued")), []),
            (download(deleting=True, finalizers=["x"], status=status_in("Queued")), []),
            (download(status=status_in("Running", workerPod=worker_name(1))), []),
            (download(status=status_in("Succeeded")), []),
            (download(status=status_in("Queued")), [pod(worker_name(1), phase="Running")]),
            (download(spec={"deletionPolicy": "Delete"}, status=status_in("Queued")), []),
            (
                download(status=status_in("BackingOff", nextAttemptTime="2026-01-01T00:10:00Z")),
                [],
            ),
        ],
        ids=[
            "suspended",
            "deleting",
            "running",
            "finished",
            "previous-pod-active",
            "finalizer-missing",
            "backoff-not-over",
        ],
    )
    def test_not_admitted(self, body: dict[str, Any], pods: list[Any]) -> None:
        """Downloads that must not start a run now are not admitted."""
        assert admission.admit(observe(body, pods)) is None

    def test_backoff_over(self) -> None:
        """A download whose backoff is over is admitted directly from BackingOff."""
        body = download(
            status=status_in("BackingOff", attempts=1, nextAttemptTime="2026-01-01T00:00:05Z")
        )
        plan = admission.admit(observe(body, now=T0 + 5 * SECOND))
        assert plan is not None
        assert plan.status is not None
        assert plan.status.attempts == 2
        assert plan.status.next_attempt_time is None


class TestBlockAndRejection:
    def test_block_shows_the_reason(self) -> None:
        """A gate's denial shows as phase Blocked with its reason and message."""
        body = download(status=status_in("Queued"))
        plan = admission.block(observe(body), reason="CircuitOpen", message="until 10:00")
        assert plan is not None
        assert plan.status is not None
        assert plan.status.phase == Phase.BLOCKED
        ready = plan.status.condition("Ready")
        assert ready is not None
        assert (ready.reason, ready.message) == ("CircuitOpen", "until 10:00")
        again = admission.block(
            observe(written(body, plan)), reason="CircuitOpen", message="until 10:00"
        )
        assert again is None

    def test_refused_pod_backs_off_without_an_attempt(self) -> None:
        """A Pod the apiserver refuses is reported with a hint and retried later, uncounted."""
        body = running()
        message = 'pods "x" is forbidden: no PriorityClass with name videodl-normal was found'
        plan = admission.pod_rejected(observe(body), message)
        assert plan.status is not None
        assert plan.status.phase == Phase.BACKING_OFF
        assert plan.status.attempts == 0
        assert plan.status.last_failure is not None
        assert plan.status.last_failure.reason == "PodRejected"
        assert "--priority-class-names" in plan.status.last_failure.message
