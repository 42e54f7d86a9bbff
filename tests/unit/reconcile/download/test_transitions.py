"""Tests for videodl.reconcile.download.transitions: the download state machine."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.reconcile.download.builders import (
    SECOND,
    T0,
    UID,
    conditions,
    download,
    failure_message,
    observe,
    pod,
    reasons,
    running,
    status_in,
    success_message,
    worker_name,
    written,
)

from videodl.api.status import ConditionStatus, FailureClass, Phase, VideoDownloadStatus
from videodl.reconcile.download import admission, naming, transitions
from videodl.reconcile.download.plan import Plan
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.settings import WorkerSettings


def succeeded_pod(finished: datetime.datetime) -> PodView:
    """Run 1's worker Pod, ended with success at ``finished``."""
    return pod(
        worker_name(1),
        phase="Succeeded",
        exit_code=0,
        termination_message=success_message(),
        finished_at=finished,
    )


class TestFirstSight:
    def test_new_download_is_left_to_admission(self) -> None:
        """A new download that may run is not written by the reconcile: admission records it."""
        assert transitions.decide(observe(download(generation=3))).empty

    def test_held_download_is_queued_with_conditions(self) -> None:
        """Not admitted at once, it is Queued: not Ready, Reconciling, with observedGeneration
        and no Event (its Events are Started and Succeeded or Failed)."""
        plan = admission.hold(observe(download(generation=3)))
        assert plan is not None
        assert plan.status is not None
        assert plan.status.phase == Phase.QUEUED
        assert plan.status.observed_generation == 3
        assert conditions(plan.status) == {
            "Ready": ConditionStatus.FALSE,
            "Reconciling": ConditionStatus.TRUE,
            "Stalled": ConditionStatus.FALSE,
        }
        assert all(c.observed_generation == 3 for c in plan.status.conditions)
        assert plan.create_pod is None
        assert reasons(plan) == []

    def test_admitted_at_once_is_one_write(self) -> None:
        """Admitted while new, it goes from no status to the write-ahead Running in one plan."""
        plan = admission.admit(observe(download(generation=2)))
        assert plan is not None
        assert plan.status is not None
        assert (plan.status.phase, plan.status.attempts) == (Phase.RUNNING, 1)
        assert plan.status.observed_generation == 2
        assert plan.create_pod is not None
        assert plan.status.worker_pod == worker_name(plan.create_pod.run)
        assert reasons(plan) == ["Started"]

    def test_hold_after_a_write_does_nothing(self) -> None:
        """Once recorded, a download is no longer new: holding it again writes nothing."""
        body = download()
        held = admission.hold(observe(body))
        assert held is not None
        body = written(body, held)
        assert admission.hold(observe(body)) is None

    def test_no_claim_fails_stalled(self) -> None:
        """Without a claim in the spec or the settings the download fails and says how to fix it."""
        body = download(spec={"output": {}})
        assert admission.hold(observe(body)) is None
        assert admission.admit(observe(body)) is None
        plan = transitions.decide(observe(body))
        assert plan.status is not None
        assert plan.status.phase == Phase.FAILED
        assert conditions(plan.status)["Stalled"] == ConditionStatus.TRUE
        assert plan.status.last_failure is not None
        assert plan.status.last_failure.reason == "NoOutputClaim"
        assert "--default-claim" in plan.status.last_failure.message

    def test_default_claim_is_enough(self) -> None:
        """The operator's default claim stands in for a missing one."""
        body = download(spec={"output": {}})
        settings_ = WorkerSettings(default_claim="shared")
        assert transitions.decide(observe(body, settings=settings_)).empty
        plan = admission.hold(observe(body, settings=settings_))
        assert plan is not None
        assert plan.status is not None
        assert plan.status.phase == Phase.QUEUED

    def test_created_suspended_is_suspended_at_once(self) -> None:
        """A download created with spec.suspend is recorded Suspended in its first write."""
        plan = transitions.decide(observe(download(spec={"suspend": True})))
        assert plan.status is not None
        assert plan.status.phase == Phase.SUSPENDED

    def test_steady_state_writes_nothing(self) -> None:
        """Deciding again on what was just written plans nothing."""
        body = download()
        held = admission.hold(observe(body))
        assert held is not None
        body = written(body, held)
        assert transitions.decide(observe(body)).empty


class TestRunning:
    def test_recorded_pod_missing_is_created(self) -> None:
        """A run recorded without its Pod (a crash between the two writes) gets that Pod."""
        plan = transitions.decide(observe(running()))
        assert plan.status is None
        assert plan.create_pod is not None
        assert (plan.create_pod.run, plan.create_pod.attempt) == (1, 1)

    def test_running_pod_is_left_alone(self) -> None:
        """A running worker needs nothing."""
        assert transitions.decide(observe(running(), [pod(worker_name(1))])).empty

    def test_success(self) -> None:
        """A successful Pod makes the download Succeeded with the result and completion time."""
        finished = T0 + 30 * SECOND
        done = succeeded_pod(finished)
        plan = transitions.decide(observe(running(), [done], now=finished + SECOND))
        status = plan.status
        assert status is not None
        assert status.phase == Phase.SUCCEEDED
        assert status.completion_time == finished
        assert status.result is not None
        assert status.result.files[0].path == "clip.mp4"
        assert conditions(status) == {
            "Ready": ConditionStatus.TRUE,
            "Reconciling": ConditionStatus.FALSE,
            "Stalled": ConditionStatus.FALSE,
        }
        assert reasons(plan) == ["Succeeded"]
        assert plan.attempt_ended is not None
        assert plan.attempt_ended.attempt == 1

    def test_transient_failure_backs_off(self) -> None:
        """A transient failure waits initialSeconds (no jitter) from the failure, then retries."""
        finished = T0 + 30 * SECOND
        failed = pod(
            worker_name(1),
            phase="Failed",
            exit_code=10,
            termination_message=failure_message("Transient", "HTTPError503", "Service Unavailable"),
            finished_at=finished,
        )
        body = running()
        body["spec"]["retry"] = {"maxAttempts": 3, "backoff": {"initialSeconds": 7}}
        plan = transitions.decide(observe(body, [failed], now=finished + SECOND))
        status = plan.status
        assert status is not None
        assert status.phase == Phase.BACKING_OFF
        assert status.next_attempt_time == finished + 7 * SECOND
        assert status.last_failure is not None
        assert status.last_failure.reason == "HTTPError503"
        assert status.last_failure.exit_code == 10
        assert conditions(status)["Reconciling"] == ConditionStatus.TRUE
        assert reasons(plan) == ["Retrying"]

    def test_second_retry_waits_longer(self) -> None:
        """The wait after attempt n is initialSeconds * factor ** (n - 1), capped."""
        failed = pod(worker_name(2), phase="Failed", exit_code=10, finished_at=T0, attempt=2)
        body = running(run=2, attempts=2)
        body["spec"]["retry"] = {
            "maxAttempts": 5,
            "backoff": {"initialSeconds": 4, "factor": 3, "maxSeconds": 10},
        }
        status = transitions.decide(observe(body, [failed])).status
        assert status is not None
        assert status.next_attempt_time == T0 + 10 * SECOND  # 4 * 3 = 12, capped at 10

    def test_jitter_is_bounded_and_repeatable(self) -> None:
        """Jitter only shortens the wait, and deciding again gives the same time."""
        failed = pod(worker_name(1), phase="Failed", exit_code=10, finished_at=T0)
        body = running()
        body["spec"]["retry"] = {"maxAttempts": 3, "backoff": {"initialSeconds": 100}}
        first = transitions.decide(observe(body, [failed], jitter=0.5)).status
        again = transitions.decide(observe(body, [failed], jitter=0.5)).status
        assert first is not None
        assert again is not None
        assert first.next_attempt_time == again.next_attempt_time
        assert first.next_attempt_time is not None
        wait = (first.next_attempt_time - T0).total_seconds()
        assert 50 < wait <= 100

    def test_permanent_failure_fails(self) -> None:
        """A permanent failure ends in Failed with Stalled at once."""
        failed = pod(
            worker_name(1),
            phase="Failed",
            exit_code=12,
            termination_message=failure_message("Permanent", "HTTPError404", "Not Found", 12),
        )
        plan = transitions.decide(observe(running(), [failed]))
        assert plan.status is not None
        assert plan.status.phase == Phase.FAILED
        assert conditions(plan.status) == {
            "Ready": ConditionStatus.FALSE,
            "Reconciling": ConditionStatus.FALSE,
            "Stalled": ConditionStatus.TRUE,
        }
        assert plan.status.completion_time is not None
        assert reasons(plan) == ["Failed"]

    def test_attempts_exhausted(self) -> None:
        """A retryable failure of the last allowed attempt ends in Failed."""
        failed = pod(worker_name(3), phase="Failed", exit_code=11, attempt=3)
        plan = transitions.decide(observe(running(run=3, attempts=3), [failed]))
        assert plan.status is not None
        assert plan.status.phase == Phase.FAILED
        assert plan.status.last_failure is not None
        assert plan.status.last_failure.failure_class == FailureClass.THROTTLED
        assert "no retries left" in plan.status.last_failure.message

    def test_deleted_pod_gets_a_new_run_without_an_attempt(self) -> None:
        """A worker Pod being deleted from under the download is replaced by the next run."""
        going = pod(worker_name(1), deleting=True)
        plan = transitions.decide(observe(running(), [going]))
        assert plan.status is not None
        assert plan.status.worker_pod == worker_name(2)
        assert plan.status.attempts == 1
        assert plan.create_pod is None  # not while the old Pod still runs
        assert reasons(plan) == ["WorkerReplaced"]
        body = written(running(), plan)
        gone = transitions.decide(observe(body, []))
        assert gone.create_pod is not None
        assert (gone.create_pod.run, gone.create_pod.attempt) == (2, 1)

    def test_pod_removed_at_once_gets_a_new_run_not_the_same_name(self) -> None:
        """A running worker Pod deleted with no grace period is gone from the view at once:
        its name is spent, so the attempt goes on in the next run's Pod, created now."""
        removed = pod(worker_name(1), phase="Running")
        plan = transitions.decide(observe(running(), [], gone=[removed]))
        assert plan.status is not None
        assert plan.status.worker_pod == worker_name(2)
        assert plan.status.attempts == 1
        assert plan.create_pod is not None
        assert (plan.create_pod.run, plan.create_pod.attempt) == (2, 1)
        assert reasons(plan) == ["WorkerReplaced"]
        assert plan.attempt_ended is not None
        assert plan.attempt_ended.attempt == 1

    def test_pod_removed_after_it_ended_is_judged_by_its_last_state(self) -> None:
        """A finished worker Pod removed before the download saw it end: its last state
        decides, as if it were still there."""
        finished = T0 + 30 * SECOND
        done = succeeded_pod(finished)
        plan = transitions.decide(observe(running(), [], gone=[done], now=finished + SECOND))
        assert plan.status is not None
        assert plan.status.phase == Phase.SUCCEEDED
        assert plan.create_pod is None

    def test_removed_pod_of_an_earlier_run_does_not_count(self) -> None:
        """Only the recorded run's Pod matters: an earlier run's removal leaves the write-ahead
        recovery of the recorded run as it is."""
        old = pod(worker_name(1), phase="Running")
        plan = transitions.decide(observe(running(run=2), [], gone=[old]))
        assert plan.status is None
        assert plan.create_pod is not None
        assert plan.create_pod.run == 2

    def test_evicted_pod_is_replaced(self) -> None:
        """An evicted Pod (DisruptionTarget) is replaced at once, not counted as an attempt."""
        evicted = pod(
            worker_name(1), phase="Failed", reason="Evicted", disrupted=True, exit_code=137
        )
        plan = transitions.decide(observe(running(), [evicted]))
        assert plan.status is not None
        assert plan.status.phase == Phase.RUNNING
        assert plan.status.attempts == 1
        assert plan.create_pod is not None
        assert plan.create_pod.run == 2

    def test_deadline_exceeded_is_transient(self) -> None:
        """An attempt stopped by activeDeadlineSeconds is a transient failure."""
        slow = pod(worker_name(1), phase="Failed", reason="DeadlineExceeded", exit_code=143)
        status = transitions.decide(observe(running(), [slow])).status
        assert status is not None
        assert status.phase == Phase.BACKING_OFF
        assert status.last_failure is not None
        assert status.last_failure.reason == "DeadlineExceeded"

    def test_stray_worker_is_deleted(self) -> None:
        """An active worker Pod that is not the recorded run is stopped."""
        stray = pod(worker_name(7))
        plan = transitions.decide(observe(running(), [pod(worker_name(1)), stray]))
        assert plan.delete_pods == (worker_name(7),)


class TestSuspend:
    def test_running_download_is_suspended(self) -> None:
        """suspend stops the worker and does not count the stopped attempt."""
        body = running(attempts=2, run=2)
        body["spec"]["suspend"] = True
        plan = transitions.decide(observe(body, [pod(worker_name(2), attempt=2)]))
        assert plan.status is not None
        assert plan.status.phase == Phase.SUSPENDED
        assert plan.status.attempts == 1
        assert plan.delete_pods == (worker_name(2),)
        assert conditions(plan.status)["Reconciling"] == ConditionStatus.FALSE
        assert reasons(plan) == ["Suspended"]

    def test_queued_download_is_suspended(self) -> None:
        """A queued download is suspended without any Pod to stop."""
        body = download(spec={"suspend": True}, status=status_in("Queued"))
        plan = transitions.decide(observe(body))
        assert plan.status is not None
        assert plan.status.phase == Phase.SUSPENDED
        assert plan.delete_pods == ()

    def test_resume_queues_again(self) -> None:
        """suspend: false queues the download again."""
        body = download(status=status_in("Suspended", attempts=0, workerPod=worker_name(1)))
        plan = transitions.decide(
            observe(body, [pod(worker_name(1), phase="Failed", exit_code=10)])
        )
        assert plan.status is not None
        assert plan.status.phase == Phase.QUEUED
        resumed = admission.admit(observe(written(body, plan)))
        assert resumed is None or resumed.create_pod is not None
        assert resumed is not None
        assert resumed.create_pod is not None
        assert (resumed.create_pod.run, resumed.create_pod.attempt) == (2, 1)

    def test_success_before_the_stop_counts(self) -> None:
        """A worker that finished before the stop reached it still makes the download succeed."""
        body = download(
            spec={"suspend": True},
            status=status_in("Suspended", attempts=0, workerPod=worker_name(1)),
        )
        done = pod(
            worker_name(1), phase="Succeeded", exit_code=0, termination_message=success_message()
        )
        plan = transitions.decide(observe(body, [done]))
        assert plan.status is not None
        assert plan.status.phase == Phase.SUCCEEDED
        assert plan.status.attempts == 1


class TestManualRetry:
    def failed(self, **annotations: str) -> dict[str, Any]:
        return download(
            annotations=annotations,
            status=status_in("Failed", attempts=1, completionTime="2026-01-01T00:01:00Z"),
        )

    def test_retry_annotation_requeues_with_a_fresh_budget(self) -> None:
        """A new videodl.dev/retry value queues a Failed download with attempts reset."""
        plan = transitions.decide(observe(self.failed(**{naming.ANNOTATION_RETRY: "1"})))
        assert plan.status is not None
        assert plan.status.phase == Phase.QUEUED
        assert plan.status.attempts == 0
        assert plan.status.completion_time is None
        assert plan.retry_handled == "1"
        assert reasons(plan) == ["RetryRequested", "Queued"]

    def test_handled_value_does_nothing(self) -> None:
        """The same value again is not a new request."""
        body = self.failed(**{naming.ANNOTATION_RETRY: "1", naming.ANNOTATION_RETRY_HANDLED: "1"})
        assert transitions.decide(observe(body)).empty

    def test_value_on_a_running_download_is_only_remembered(self) -> None:
        """A retry request while not Failed is remembered, not applied later by surprise."""
        body = running()
        body["metadata"]["annotations"] = {naming.ANNOTATION_RETRY: "x"}
        plan = transitions.decide(observe(body, [pod(worker_name(1))]))
        assert plan.retry_handled == "x"
        assert plan.status is None


class TestFinished:
    def test_ttl_deletes_after_expiry(self) -> None:
        """ttlSecondsAfterFinished deletes the object once that long has passed."""
        body = download(
            spec={"ttlSecondsAfterFinished": 60},
            status=status_in("Succeeded", completionTime="2026-01-01T00:00:00Z"),
        )
        assert not transitions.decide(observe(body, now=T0 + 59 * SECOND)).delete_download
        assert transitions.decide(observe(body, now=T0 + 60 * SECOND)).delete_download

    def test_generation_change_is_observed(self) -> None:
        """A spec change of a finished download only updates observedGeneration."""
        body = download(status=status_in("Succeeded", completionTime="2026-01-01T00:00:00Z"))
        body["metadata"]["generation"] = 2
        plan = transitions.decide(observe(body))
        assert plan.status is not None
        assert plan.status.observed_generation == 2
        assert plan.status.phase == Phase.SUCCEEDED
        assert all(c.observed_generation == 2 for c in plan.status.conditions)


class TestFinalizer:
    def test_added_for_delete_policy(self) -> None:
        """deletionPolicy Delete adds the cleanup finalizer."""
        plan = transitions.decide(observe(download(spec={"deletionPolicy": "Delete"})))
        assert plan.add_finalizer

    def test_removed_for_retain_policy(self) -> None:
        """Switching back to Retain releases the finalizer."""
        body = download(finalizers=[naming.FINALIZER], status=status_in("Queued"))
        assert transitions.decide(observe(body)).remove_finalizer


class TestDeleting:
    def result_status(self, *paths: str) -> dict[str, Any]:
        files = [{"path": p, "sizeBytes": 1, "sha256": "0" * 64} for p in paths]
        return status_in("Succeeded", result={"files": files})

    def deleting(self, *paths: str) -> dict[str, Any]:
        return download(
            spec={"deletionPolicy": "Delete"},
            deleting=True,
            finalizers=[naming.FINALIZER],
            status=self.result_status(*paths),
        )

    def cleanup(self, round_: int, phase: str, **kwargs: Any) -> Any:
        name = naming.cleanup_pod_name("clip", UID, round_)
        return pod(name, component=naming.COMPONENT_CLEANUP, run=round_, phase=phase, **kwargs)

    def test_running_worker_is_stopped(self) -> None:
        """Deleting a running download deletes its worker Pod."""
        body = running()
        body["metadata"]["deletionTimestamp"] = "2026-01-01T01:00:00Z"
        plan = transitions.decide(observe(body, [pod(worker_name(1))]))
        assert plan.delete_pods == (worker_name(1),)
        assert plan.status is None

    def test_cleanup_pod_runs_first(self) -> None:
        """With deletionPolicy Delete a cleanup Pod deletes the result's files."""
        plan = transitions.decide(observe(self.deleting("a/clip.mp4", "a/clip.info.json")))
        assert plan.cleanup_round == 1
        assert plan.cleanup_paths == ("a/clip.mp4", "a/clip.info.json")
        assert not plan.remove_finalizer

    def test_archive_lines_are_dropped_too(self) -> None:
        """The cleanup also drops the video from the download archive of its directory."""
        body = self.deleting("shows/clip.mp4")
        body["spec"]["output"]["subPath"] = "shows"
        body["status"]["result"].update(extractor="youtube:tab", videoId="abc")
        plan = transitions.decide(observe(body))
        assert plan.cleanup_archive == (
            "shows/.videodl-archive.txt",
            ("youtube:tab abc", "youtubetab abc"),
        )

    def test_waits_for_the_worker(self) -> None:
        """No cleanup while a worker Pod may still write files."""
        plan = transitions.decide(
            observe(self.deleting("clip.mp4"), [pod(worker_name(1), deleting=True)])
        )
        assert plan.cleanup_round is None
        assert not plan.remove_finalizer

    def test_finalizer_released_after_cleanup(self) -> None:
        """A successful cleanup releases the finalizer."""
        plan = transitions.decide(
            observe(self.deleting("clip.mp4"), [self.cleanup(1, "Succeeded")])
        )
        assert plan.remove_finalizer
        assert reasons(plan) == ["FilesDeleted"]

    def test_failed_cleanup_is_retried_then_given_up(self) -> None:
        """A failed cleanup is tried again, up to three Pods, then reported and released."""
        failed1 = self.cleanup(1, "Failed", exit_code=1)
        plan = transitions.decide(observe(self.deleting("clip.mp4"), [failed1]))
        assert plan.cleanup_round == 2
        pods = [self.cleanup(r, "Failed", exit_code=1) for r in (1, 2, 3)]
        plan = transitions.decide(observe(self.deleting("clip.mp4"), pods))
        assert plan.remove_finalizer
        assert reasons(plan) == ["CleanupFailed"]

    def test_escaping_paths_are_refused(self) -> None:
        """Paths leaving the volume are never handed to the cleanup Pod."""
        plan = transitions.decide(observe(self.deleting("../etc/passwd", "/abs", "ok.mp4")))
        assert plan.cleanup_paths == ("ok.mp4",)
        assert "CleanupRefused" in reasons(plan)

    def test_nothing_to_delete(self) -> None:
        """Without files the finalizer is released at once."""
        assert transitions.decide(observe(self.deleting())).remove_finalizer


# --- a property: random histories keep the invariants ---------------------------------------

EVENTS = st.lists(
    st.sampled_from(
        [
            "admit",
            "hold",
            "start",
            "succeed",
            "transient",
            "permanent",
            "evict",
            "delete-pod",
            "pod-gone",
            "suspend",
            "resume",
            "crash",
            "wait",
        ]
    ),
    max_size=40,
)


class Cluster:
    """A tiny simulation: the download, its Pods, and an operator that may crash mid-plan."""

    def __init__(self) -> None:
        self.body = download(spec={"retry": {"maxAttempts": 3, "backoff": {"initialSeconds": 1}}})
        self.pods: dict[str, dict[str, Any]] = {}
        self.now = T0
        self.created: list[tuple[str, int]] = []  # (pod name, attempt label)
        self.crash_next = False

    def views(self) -> list[Any]:
        return [pod(name, **state) for name, state in self.pods.items()]

    def execute(self, plan: Plan) -> None:
        if plan.status is not None:
            self.body = written(self.body, plan)
            # The write-ahead rule: a Pod is only ever created for the run status records.
            if plan.create_pod is not None:
                assert plan.status.worker_pod == worker_name(plan.create_pod.run)
        if self.crash_next:
            self.crash_next = False
            return  # the status was written, the rest of the plan was lost
        self.body = written(self.body, dataclasses.replace(plan, status=None))
        for name in plan.delete_pods:
            self.pods[name]["deleting"] = True
        if plan.create_pod is not None:
            name = worker_name(plan.create_pod.run)
            if name not in self.pods:
                active = [n for n, s in self.pods.items() if s["phase"] in ("Pending", "Running")]
                assert not active, f"{name} created while {active} still active"
                self.pods[name] = {"phase": "Pending", "attempt": plan.create_pod.attempt}
                self.created.append((name, plan.create_pod.attempt))

    def reconcile(self) -> None:
        for _ in range(6):
            plan = transitions.decide(observe(self.body, self.views(), now=self.now))
            if plan.empty:
                return
            self.execute(plan)
        raise AssertionError("no steady state after six steps")

    def current(self) -> dict[str, Any] | None:
        name = (self.body.get("status") or {}).get("workerPod")
        return self.pods.get(name) if name else None

    def apply(self, event: str) -> None:  # noqa: PLR0912 - one branch per simulated event
        current = self.current()
        if event in ("admit", "hold"):
            decide = admission.admit if event == "admit" else admission.hold
            plan = decide(observe(self.body, self.views(), now=self.now))
            if plan is not None:
                self.execute(plan)
        elif event == "start" and current and current["phase"] == "Pending":
            current["phase"] = "Running"
        elif (
            event in ("succeed", "transient", "permanent")
            and current
            and current["phase"] == "Running"
        ):
            if event == "succeed":
                current.update(
                    phase="Succeeded", exit_code=0, termination_message=success_message()
                )
            else:
                code = 10 if event == "transient" else 12
                current.update(phase="Failed", exit_code=code, finished_at=self.now)
        elif event == "evict" and current and current["phase"] == "Running":
            current.update(phase="Failed", reason="Evicted", disrupted=True, exit_code=137)
        elif event == "delete-pod" and current and current["phase"] in ("Pending", "Running"):
            current["deleting"] = True
        elif event == "pod-gone":
            for name, state in list(self.pods.items()):
                if state.get("deleting") or state["phase"] in ("Succeeded", "Failed"):
                    if state.get("deleting") and state["phase"] in ("Pending", "Running"):
                        state.update(phase="Failed", exit_code=143)
                    del self.pods[name]
                    break
        elif event == "suspend":
            self.body["spec"]["suspend"] = True
        elif event == "resume":
            self.body["spec"]["suspend"] = False
        elif event == "crash":
            self.crash_next = True
        elif event == "wait":
            self.now += datetime.timedelta(seconds=5)
        self.reconcile()

    def check(self) -> None:
        status = VideoDownloadStatus.model_validate(self.body.get("status") or {})
        if status.phase is None:
            # Only a download that admission has not recorded yet has no phase.
            assert not self.created
            assert not self.pods
        assert (status.attempts or 0) <= 3
        active = [
            n
            for n, s in self.pods.items()
            if s["phase"] in ("Pending", "Running") and not s.get("deleting")
        ]
        assert len(active) <= 1
        if status.phase == Phase.SUCCEEDED:
            assert status.result is not None
        runs = [n for n, _ in self.created]
        assert len(runs) == len(set(runs)), "a run's Pod was created twice"


class TestHistories:
    @settings(max_examples=300, deadline=None)
    @given(EVENTS)
    def test_invariants_hold(self, events: list[str]) -> None:
        """Any history, with crashes mid-plan, keeps one active Pod at most, runs created once,
        attempts within the budget, and a phase set once anything ran."""
        cluster = Cluster()
        cluster.reconcile()
        for event in events:
            cluster.apply(event)
            cluster.check()
