"""Tests for videodl.reconcile.download.startup and the Blocked plan of a worker that cannot
start: the reason names the missing thing, the slot is freed, no attempt is used."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.reconcile.download.builders import (
    SETTINGS,
    T0,
    download,
    observe,
    pod_object,
    reasons,
    running,
    stamp,
    worker_name,
    written,
)

from videodl.api.resource import VideoDownload
from videodl.api.status import Phase
from videodl.reconcile.download import admission, phases, startup, transitions
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.startup import StartupReason

SECOND = datetime.timedelta(seconds=1)
CLAIMED = {"output": {"persistentVolumeClaim": {"claimName": "media"}}}


def pending(
    *,
    unschedulable: str | None = None,
    waiting: tuple[str, str] | None = None,
    created: datetime.datetime = T0,
    node: str | None = None,
) -> PodView:
    """The recorded run's worker Pod, Pending for the given reason (on ``node``, if given)."""
    body = pod_object(worker_name(1), phase="Pending", node=node)
    body["metadata"]["creationTimestamp"] = stamp(created)
    if unschedulable is not None:
        body["status"]["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": unschedulable,
            }
        ]
    if waiting is not None:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
        body["status"]["containerStatuses"] = [{"name": "worker", "state": state}]
    return PodView.from_pod(body)


def diagnose(
    view: PodView, spec: dict[str, Any] | None = None, *, others_placed: bool = False
) -> startup.StartupProblem | None:
    return startup.diagnose(
        view,
        VideoDownload.from_object(download(spec=spec)),
        claim="media",
        unschedulable_grace_seconds=30,
        stuck_after_seconds=300,
        others_placed=others_placed,
    )


class TestDiagnose:
    @pytest.mark.parametrize(
        ("view", "reason", "named"),
        [
            (
                pending(waiting=("CreateContainerConfigError", 'secret "jar" not found')),
                StartupReason.SECRET_NOT_FOUND,
                'Secret "jar"',
            ),
            (
                pending(
                    waiting=(
                        "ContainerCreating",
                        'MountVolume.SetUp failed for volume "cookies": secret "jar" not found',
                    )
                ),
                StartupReason.SECRET_NOT_FOUND,
                "spec.cookies.secretRef",
            ),
            (
                pending(
                    unschedulable='0/1 nodes are available: persistentvolumeclaim "media" '
                    "not found. preemption: 0/1 nodes are available"
                ),
                StartupReason.CLAIM_NOT_FOUND,
                'PersistentVolumeClaim "media"',
            ),
            (
                pending(waiting=("ContainerCreating", 'configmap "settings" not found')),
                StartupReason.CONFIG_MAP_NOT_FOUND,
                'ConfigMap "settings"',
            ),
            (
                pending(waiting=("ErrImagePull", "manifest unknown")),
                StartupReason.IMAGE_PULL_FAILED,
                "--worker-image",
            ),
            (
                pending(waiting=("CreateContainerError", "no such user")),
                StartupReason.CONTAINER_CONFIG_ERROR,
                "no such user",
            ),
        ],
    )
    def test_a_missing_object_is_named_and_acted_on_at_once(
        self, view: PodView, reason: StartupReason, named: str
    ) -> None:
        """A missing Secret, ConfigMap or claim, or an image that cannot be pulled, is named
        in the message and needs no waiting."""
        problem = diagnose(view)
        assert problem is not None
        assert problem.reason == reason
        assert named in problem.message
        assert problem.act_after_seconds == 0

    def test_no_node_fits_waits_for_preemption_first(self) -> None:
        """Unschedulable requests are acted on after the grace period, with the scheduler's words
        and the fix."""
        problem = diagnose(pending(unschedulable="0/1 nodes are available: 1 Insufficient cpu."))
        assert problem is not None
        assert problem.reason == StartupReason.UNSCHEDULABLE
        assert "Insufficient cpu" in problem.message
        assert "spec.resources" in problem.message
        assert problem.act_after_seconds == 30

    def test_a_silent_wait_times_out_naming_what_the_pod_needs(self) -> None:
        """A Pod that waits with no reason given times out; the message lists its objects."""
        spec = {**CLAIMED, "cookies": {"secretRef": {"name": "jar"}}}
        problem = diagnose(pending(waiting=("ContainerCreating", "")), spec)
        assert problem is not None
        assert problem.reason == StartupReason.START_TIMEOUT
        assert problem.act_after_seconds == 300
        assert 'PersistentVolumeClaim "media"' in problem.message
        assert 'Secret "jar"' in problem.message

    @pytest.mark.parametrize("phase", ["Running", "Succeeded", "Failed"])
    def test_a_started_pod_has_no_startup_problem(self, phase: str) -> None:
        """Once the Pod runs or ended, nothing about starting it is reported."""
        assert diagnose(PodView.from_pod(pod_object(worker_name(1), phase=phase))) is None

    @given(
        st.from_regex(r"[a-z0-9]([-.a-z0-9]{0,60}[a-z0-9])?", fullmatch=True),
        st.sampled_from(["secret", "configmap", "persistentvolumeclaim"]),
    )
    def test_the_named_object_is_the_one_reported(self, name: str, kind: str) -> None:
        """Whatever the object's name, the message names that object exactly."""
        problem = diagnose(pending(waiting=("ContainerCreating", f'{kind} "{name}" not found')))
        assert problem is not None
        assert f'"{name}"' in problem.message


class TestBlockedPlan:
    def observe_pending(self, view: PodView, now: datetime.datetime, attempts: int = 1) -> Any:
        return observe(download(spec=CLAIMED, status=running(attempts=attempts)["status"]),
                       [view], now=now)  # fmt: skip

    def test_missing_secret_frees_the_slot_and_gives_the_attempt_back(self) -> None:
        """The Pod is deleted, the download is Blocked until the retry time, and the attempt
        it used is given back."""
        view = pending(waiting=("CreateContainerConfigError", 'secret "jar" not found'))
        plan = transitions.decide(self.observe_pending(view, T0 + SECOND))
        assert plan.status is not None
        assert plan.status.phase == Phase.BLOCKED
        assert plan.status.attempts == 0
        assert (
            plan.status.next_attempt_time == T0 + SECOND + SETTINGS.blocked_retry_seconds * SECOND
        )
        assert plan.delete_pods == (worker_name(1),)
        assert reasons(plan) == ["Blocked"]
        ready = next(c for c in plan.status.conditions if c.type == "Ready")
        assert ready.reason == StartupReason.SECRET_NOT_FOUND
        assert 'Secret "jar"' in ready.message

    def test_blocked_waits_then_runs_the_same_attempt_again(self) -> None:
        """A Blocked download is not admitted before its retry time; then it runs attempt 1
        again in a new Pod."""
        view = pending(waiting=("CreateContainerConfigError", 'secret "jar" not found'))
        now = T0 + SECOND
        body = download(spec=CLAIMED, status=running()["status"])
        plan = transitions.decide(observe(body, [view], now=now))
        body = written(body, plan)
        status = observe(body, now=now).status
        assert not phases.is_waiting(status, now + SECOND)
        later = now + SETTINGS.blocked_retry_seconds * SECOND
        assert phases.is_waiting(status, later)
        again = admission.admit(observe(body, now=later))
        assert again is not None
        assert again.status is not None
        assert again.status.attempts == 1
        assert again.create_pod is not None
        assert again.create_pod.run == 2

    def test_unschedulable_is_decided_again_after_the_grace_period(self) -> None:
        """Before the grace period ends nothing is written, but a time to decide again is set."""
        view = pending(unschedulable="0/1 nodes are available: 1 Insufficient memory.")
        early = transitions.decide(self.observe_pending(view, T0 + 5 * SECOND))
        assert early.empty
        assert early.recheck_at == T0 + SETTINGS.unschedulable_grace_seconds * SECOND
        late = transitions.decide(
            self.observe_pending(view, T0 + SETTINGS.unschedulable_grace_seconds * SECOND)
        )
        assert late.status is not None
        assert late.status.phase == Phase.BLOCKED
        assert late.delete_pods == (worker_name(1),)

    def test_a_pending_pod_that_may_still_start_is_left_alone(self) -> None:
        """A Pod just created and waiting with no reason is left alone until the timeout."""
        view = pending(waiting=("ContainerCreating", ""))
        plan = transitions.decide(self.observe_pending(view, T0 + 10 * SECOND))
        assert plan.empty
        assert plan.recheck_at == T0 + SETTINGS.start_timeout_seconds * SECOND
        stuck = dataclasses.replace(SETTINGS, start_timeout_seconds=5)
        body = download(spec=CLAIMED, status=running()["status"])
        timed_out = transitions.decide(observe(body, [view], now=T0 + 10 * SECOND, settings=stuck))
        assert timed_out.status is not None
        assert timed_out.status.phase == Phase.BLOCKED


class TestFullNodes:
    def test_nodes_full_of_pods_wait_as_long_as_a_silent_start(self) -> None:
        """A burst fills the nodes' Pod capacity; the Pods are placed as others end."""
        problem = diagnose(
            pending(unschedulable="0/1 nodes are available: 1 Too many pods."), others_placed=True
        )
        assert problem is not None
        assert problem.reason == StartupReason.UNSCHEDULABLE
        assert problem.act_after_seconds == 300

    def test_what_preemption_found_is_not_a_reason_of_its_own(self) -> None:
        """With priorities the scheduler appends its preemption verdict to the reasons."""
        message = (
            "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod."
        )
        problem = diagnose(pending(unschedulable=message), others_placed=True)
        assert problem is not None
        assert problem.act_after_seconds == 300

    def test_nodes_full_of_requests_wait_too(self) -> None:
        """A burst of Pods with CPU requests fills the nodes' CPU: also capacity."""
        message = (
            "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, "
            "preemption: not eligible due to preemptionPolicy=Never."
        )
        problem = diagnose(pending(unschedulable=message), others_placed=True)
        assert problem is not None
        assert problem.act_after_seconds == 300
        both = "0/2 nodes are available: 1 Insufficient memory, 1 Too many pods."
        full = diagnose(pending(unschedulable=both), others_placed=True)
        assert full is not None
        assert full.act_after_seconds == 300

    def test_full_nodes_without_other_workers_keep_the_grace_period(self) -> None:
        """Nothing of ours will end and make room: the request may never fit."""
        message = "0/1 nodes are available: 1 Insufficient cpu."
        problem = diagnose(pending(unschedulable=message), others_placed=False)
        assert problem is not None
        assert problem.act_after_seconds == 30

    def test_placement_reasons_keep_the_grace_period(self) -> None:
        message = (
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
            "{dedicated: gpu}. preemption: 0/2 nodes are available: 2 Preemption is not "
            "helpful for scheduling."
        )
        problem = diagnose(pending(unschedulable=message), others_placed=True)
        assert problem is not None
        assert problem.act_after_seconds == 30

    def test_other_reasons_before_preemption_keep_the_grace_period(self) -> None:
        message = (
            "0/2 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node "
            "affinity/selector. preemption: 0/2 nodes are available: 2 No preemption victims "
            "found for incoming pod."
        )
        problem = diagnose(pending(unschedulable=message), others_placed=True)
        assert problem is not None
        assert problem.act_after_seconds == 30

    def test_any_other_reason_keeps_the_grace_period(self) -> None:
        message = (
            "0/2 nodes are available: 1 Too many pods, 1 node(s) had volume node affinity conflict."
        )
        problem = diagnose(pending(unschedulable=message), others_placed=True)
        assert problem is not None
        assert problem.act_after_seconds == 30


class TestQueuedForRoom:
    """A burst larger than the nodes: Pods wait for the room other workers hold."""

    FULL = "0/1 nodes are available: 1 Insufficient cpu."
    LONG_AFTER = T0 + 3600 * SECOND

    def decide(self, view: PodView, *, others_placed: bool, now: datetime.datetime) -> Any:
        body = download(spec=CLAIMED, status=running()["status"])
        observation = dataclasses.replace(
            observe(body, [view], now=now), others_placed=others_placed
        )
        return transitions.decide(observation)

    def test_full_nodes_never_give_the_pod_up_while_other_workers_hold_them(self) -> None:
        plan = self.decide(
            pending(unschedulable=self.FULL), others_placed=True, now=self.LONG_AFTER
        )
        assert plan.empty
        assert plan.recheck_at == self.LONG_AFTER + SETTINGS.start_timeout_seconds * SECOND

    def test_once_no_other_worker_holds_a_place_the_grace_period_applies(self) -> None:
        plan = self.decide(
            pending(unschedulable=self.FULL), others_placed=False, now=self.LONG_AFTER
        )
        assert plan.status is not None
        assert plan.status.phase == Phase.BLOCKED
        assert plan.delete_pods == (worker_name(1),)

    def test_a_pod_the_scheduler_has_not_come_to_waits_its_turn(self) -> None:
        """No condition yet, not placed, while other workers hold the nodes: queued."""
        problem = diagnose(pending(), others_placed=True)
        assert problem is not None
        assert problem.queued
        plan = self.decide(pending(), others_placed=True, now=self.LONG_AFTER)
        assert plan.empty
        assert plan.recheck_at is not None

    def test_an_unplaced_pod_with_no_other_worker_times_out(self) -> None:
        """Nothing of ours is placed either: perhaps no scheduler serves the Pod at all."""
        problem = diagnose(pending(), others_placed=False)
        assert problem is not None
        assert (problem.reason, problem.queued) == (StartupReason.START_TIMEOUT, False)
        plan = self.decide(pending(), others_placed=False, now=self.LONG_AFTER)
        assert plan.status is not None
        assert plan.status.phase == Phase.BLOCKED

    def test_a_placed_pod_that_does_not_start_times_out_whatever_runs_beside_it(self) -> None:
        """On a node and still not started after the timeout: the node is stuck, not full."""
        view = pending(node="node-1")
        problem = diagnose(view, others_placed=True)
        assert problem is not None
        assert (problem.reason, problem.queued) == (StartupReason.START_TIMEOUT, False)
        plan = self.decide(view, others_placed=True, now=self.LONG_AFTER)
        assert plan.status is not None
        assert plan.status.phase == Phase.BLOCKED
