"""A running attempt: its recorded run's Pod is created, watched, replaced or judged.

While a download is Running, ``status.workerPod`` names the run the operator recorded before
creating its Pod (write-ahead). This module decides what that Pod's state means: create it
when a crash came between the two writes, leave it alone while it runs, record a new run of
the same attempt when Kubernetes stopped or removed it (not counted again), and once it has
ended, succeed or hand the failure to :mod:`~videodl.reconcile.download.failures`. Pure: no
I/O.
"""

from __future__ import annotations

import dataclasses
import datetime

from videodl.api.status import ConditionReason, DownloadResult, Phase
from videodl.reconcile.download import failures, naming, outcome, phases, podspec, startup
from videodl.reconcile.download.plan import AttemptOutcome, Event, Observation, Plan
from videodl.reconcile.download.podspec import PodIdentity
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.reasons import Reason

__all__ = ["decide_running", "succeed"]


def decide_running(observation: Observation) -> Plan:
    """The next step of a Running download, from the Pod of its recorded run."""
    status = observation.status
    current = observation.pod(status.worker_pod)
    run = naming.run_of(status.worker_pod)
    if run is None:
        # Running without a recorded run cannot come from this operator; start over.
        return phases.queue(observation, "no run recorded: waiting for a worker slot")
    if current is None:
        return _without_pod(observation, run)
    if current.active:
        if current.deleting or current.disrupted:
            reason = "PodDeleted" if current.deleting else "DisruptionTarget"
            return _replace_run(observation, current, reason, current.message or "")
        return _while_active(observation, current)
    return _after_pod(observation, current)


def _without_pod(observation: Observation, run: int) -> Plan:
    """The recorded run has no Pod: it was never created, or it was removed at once."""
    last = observation.gone_pod(observation.status.worker_pod)
    if last is None:
        return _create_recorded_run(observation, run)
    if last.active:
        # Removed with no grace (a forced deletion, or while nobody watched): the name is
        # spent, so the attempt goes on under the next run, as after a graceful deletion.
        return _replace_run(observation, last, "PodDeleted", last.message or "")
    return _after_pod(observation, last)


def _while_active(observation: Observation, pod: PodView) -> Plan:
    """The recorded run's Pod may run: leave it, or free its slot if it cannot start."""
    settings = observation.settings
    try:
        claim: str | None = podspec.claim_name(observation.download, settings)
    except podspec.MissingClaimError:
        claim = None
    problem = startup.diagnose(
        pod,
        observation.download,
        claim=claim,
        unschedulable_grace_seconds=settings.unschedulable_grace_seconds,
        stuck_after_seconds=settings.start_timeout_seconds,
        others_placed=observation.others_placed,
    )
    refresh = phases.refresh(observation)
    if problem is None:
        return refresh
    if problem.queued:
        again = observation.now + datetime.timedelta(seconds=problem.act_after_seconds)
        return dataclasses.replace(refresh, recheck_at=again)
    created = pod.created_at or observation.now
    due = created + datetime.timedelta(seconds=problem.act_after_seconds)
    if due > observation.now:
        return dataclasses.replace(refresh, recheck_at=due)
    return _startup_blocked(observation, pod, problem)


def _startup_blocked(
    observation: Observation, pod: PodView, problem: startup.StartupProblem
) -> Plan:
    """The worker cannot start: delete its Pod, wait as Blocked, try again later.

    The attempt is given back (no worker ran), so the next admission runs the same attempt
    number; while Blocked the download holds no worker slot.
    """
    status = observation.status
    retry_at = observation.now + datetime.timedelta(
        seconds=observation.settings.blocked_retry_seconds
    )
    message = f"{problem.message}; trying again at {retry_at.isoformat(timespec='seconds')}"
    new = phases.enter(
        observation,
        phase=Phase.BLOCKED,
        reason=problem.reason,
        message=message,
        attempts=max((status.attempts or 1) - 1, 0),
        next_attempt_time=retry_at,
        progress=None,
    )
    return Plan(
        status=new,
        delete_pods=(pod.name,),
        events=phases.transition_events(status.phase, new, message),
    )


def _after_pod(observation: Observation, pod: PodView) -> Plan:
    """The recorded run's Pod has ended: succeed, run again, back off or fail."""
    result = outcome.of_pod(pod)
    if isinstance(result, outcome.Succeeded):
        return succeed(observation, result, pod)
    if isinstance(result, outcome.Interrupted):
        return _replace_run(observation, pod, result.reason, result.message)
    assert isinstance(result, outcome.Failed)
    return failures.after_failure(observation, result.failure)


def _create_recorded_run(observation: Observation, run: int) -> Plan:
    """The recorded run has no Pod (a crash between the two writes): create exactly it."""
    status = observation.status
    if any(p.active and p.name != status.worker_pod for p in observation.workers):
        return phases.refresh(observation)  # wait until the previous Pod is gone
    identity = PodIdentity(
        name=observation.download.name,
        namespace=observation.download.namespace,
        uid=observation.uid,
        run=run,
        attempt=status.attempts or 1,
    )
    return dataclasses.replace(phases.refresh(observation), create_pod=identity)


def _replace_run(observation: Observation, old: PodView, reason: str, message: str) -> Plan:
    """Record a new run for the same attempt; create its Pod once the old one is done."""
    status = observation.status
    run = phases.last_run(observation) + 1
    pod_name = naming.worker_pod_name(observation.download.name, observation.uid, run)
    attempts = status.attempts or 1
    maximum = phases.max_attempts(observation)
    new = phases.enter(
        observation,
        phase=Phase.RUNNING,
        reason=ConditionReason.RUNNING,
        message=f"attempt {attempts} of {maximum} continues in Pod {pod_name}",
        worker_pod=pod_name,
        progress=None,
    )
    others_active = any(p.active and p.name != pod_name for p in observation.workers)
    create = None
    if not others_active:
        create = PodIdentity(
            name=observation.download.name,
            namespace=observation.download.namespace,
            uid=observation.uid,
            run=run,
            attempt=attempts,
        )
    detail = f"worker Pod {old.name} was stopped by Kubernetes ({reason}"
    detail += f": {message})" if message else ")"
    detail += f"; attempt {attempts} continues in Pod {pod_name} and is not counted again"
    return Plan(
        status=new,
        create_pod=create,
        events=(Event.of(Reason.WORKER_REPLACED, detail),),
        attempt_ended=AttemptOutcome(attempts, outcome.Interrupted(reason, message)),
    )


def succeed(observation: Observation, result: outcome.Succeeded, pod: PodView | None) -> Plan:
    """The attempt that ``pod`` ran succeeded: phase Succeeded with its result."""
    status = observation.status
    attempts = max(status.attempts or 0, (pod.attempt if pod else None) or 0)
    completion = result.finished_at or observation.now
    message = _result_summary(result.result, result.skipped)
    new = phases.enter(
        observation,
        phase=Phase.SUCCEEDED,
        reason=ConditionReason.SUCCEEDED,
        message=message,
        result=result.result,
        completion_time=completion,
        next_attempt_time=None,
        attempts=attempts,
    )
    return Plan(
        status=new,
        events=phases.transition_events(status.phase, new, message),
        attempt_ended=AttemptOutcome(attempts, result) if status.phase == Phase.RUNNING else None,
    )


def _result_summary(result: DownloadResult | None, skipped: bool) -> str:
    if result is None:
        return "the worker finished without reporting files"
    what = result.title or result.video_id or "the video"
    size = sum(f.size_bytes for f in result.files)
    verb = "was already downloaded" if skipped else "downloaded"
    return f"{what} {verb}: {len(result.files)} file(s), {size} bytes"
