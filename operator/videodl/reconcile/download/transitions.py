"""The download state machine: from what is observed to what should be written next.

Level-triggered: every decision is computed from the VideoDownload object as it is now plus
the Pods it owns, never from what the operator remembers. A decision is a
:class:`~videodl.reconcile.download.plan.Plan`: at most one new status (written first, so a
run is always recorded before its Pod exists), then Pod creations and deletions, finalizer
changes and Events. The same observation always yields the same plan, so a plan that was cut
short by a crash is simply computed again.

:func:`decide` plans everything except starting a new run, by phase: this module handles a
new download, queueing, suspending and resuming, a manual retry, a finished download and the
finalizer; :mod:`~videodl.reconcile.download.attempts` a running attempt;
:mod:`~videodl.reconcile.download.failures` what a failure leads to;
:mod:`~videodl.reconcile.download.deletion` a download being deleted. Starting a run and
holding one back are :mod:`~videodl.reconcile.download.admission`'s. Pure: no I/O; the time
is an argument.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Final

from videodl.api.spec import DeletionPolicy
from videodl.api.status import ConditionReason, FailureClass, Phase
from videodl.reconcile.download import attempts, deletion, failures, naming, outcome, phases
from videodl.reconcile.download.outcome import failure_of
from videodl.reconcile.download.plan import Event, Observation, Plan
from videodl.reconcile.download.podspec import MissingClaimError, claim_name
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.reasons import Reason

__all__ = ["decide"]


def decide(observation: Observation) -> Plan:
    """The next writes for a download, apart from starting a new run (see ``admission``)."""
    if observation.deleting:
        return deletion.decide(observation)

    plan = Plan(delete_pods=_unwanted_pods(observation))
    wants_finalizer = observation.download.spec.deletion_policy == DeletionPolicy.DELETE
    has_finalizer = naming.FINALIZER in observation.finalizers
    plan = dataclasses.replace(
        plan,
        add_finalizer=wants_finalizer and not has_finalizer,
        remove_finalizer=has_finalizer and not wants_finalizer,
    )
    step = _decide_status(observation)
    return dataclasses.replace(
        step,
        delete_pods=tuple(dict.fromkeys(plan.delete_pods + step.delete_pods)),
        add_finalizer=plan.add_finalizer,
        remove_finalizer=plan.remove_finalizer,
    )


def _should_run(observation: Observation, pod: PodView) -> bool:
    status = observation.status
    return (
        not observation.deleting
        and not observation.download.spec.suspend
        and status.phase == Phase.RUNNING
        and pod.name == status.worker_pod
    )


def _unwanted_pods(observation: Observation) -> tuple[str, ...]:
    """Active worker Pods that should not run (suspended, stale or stray), not yet deleting."""
    return tuple(
        p.name
        for p in observation.workers
        if p.active and not p.deleting and not _should_run(observation, p)
    )


def _decide_status(observation: Observation) -> Plan:
    phase = observation.status.phase
    if phase is None or phases.is_new(phase):
        return _decide_new(observation)
    retry = _manual_retry(observation)
    if retry is not None:
        return retry
    if phase in (Phase.SUCCEEDED, Phase.FAILED):
        return _decide_finished(observation)
    if observation.download.spec.suspend:
        return _decide_suspend(observation)
    step = _BY_PHASE.get(phase, phases.refresh)
    return step(observation)


def _decide_new(observation: Observation) -> Plan:
    """A download with no phase yet: fail it, suspend it, or leave it to admission.

    What can be checked before queueing is checked here (a claim to write into). A download
    that may run is not written at all: the admission loop records it once, as Running when
    a slot is free and as Queued otherwise, so starting at once costs one status write.
    """
    try:
        claim_name(observation.download, observation.settings)
    except MissingClaimError as exc:
        failure = failure_of(
            failure_class=FailureClass.PERMANENT,
            reason=exc.reason,
            message=str(exc),
            time=observation.now,
        )
        return failures.fail(observation, failure)
    if observation.download.spec.suspend:
        return _decide_suspend(observation)
    return Plan()


def _decide_resume(observation: Observation) -> Plan:
    return phases.queue(observation, "resumed: waiting for a worker slot")


def _manual_retry(observation: Observation) -> Plan | None:
    token = observation.annotations.get(naming.ANNOTATION_RETRY)
    handled = observation.annotations.get(naming.ANNOTATION_RETRY_HANDLED)
    if not token or token == handled:
        return None
    if observation.status.phase != Phase.FAILED:
        # Only a Failed download can be retried; remember the value so it is not
        # applied later by surprise.
        return Plan(retry_handled=token)
    new = phases.enter(
        observation,
        phase=Phase.QUEUED,
        reason=ConditionReason.RETRY_REQUESTED,
        message=f"retry requested ({naming.ANNOTATION_RETRY}={token}): waiting for a worker slot",
        attempts=0,
        completion_time=None,
        next_attempt_time=None,
    )
    return Plan(
        status=new,
        retry_handled=token,
        events=(
            Event.of(
                Reason.RETRY_REQUESTED,
                f"{naming.ANNOTATION_RETRY}={token}: a fresh budget of "
                f"{phases.max_attempts(observation)} attempt(s)",
            ),
            Event.of(Reason.QUEUED, "waiting for a worker slot"),
        ),
    )


def _decide_finished(observation: Observation) -> Plan:
    status = observation.status
    ttl = observation.download.spec.ttl_seconds_after_finished
    if ttl is not None and status.completion_time is not None:
        expiry = status.completion_time + datetime.timedelta(seconds=ttl)
        if observation.now >= expiry:
            return Plan(delete_download=True)
    return phases.refresh(observation)


def _decide_suspend(observation: Observation) -> Plan:
    status = observation.status
    current = observation.pod(status.worker_pod)
    result = outcome.of_pod(current) if current is not None else None
    if isinstance(result, outcome.Succeeded) and status.phase in (Phase.RUNNING, Phase.SUSPENDED):
        # The attempt finished before the stop reached it: its result stands.
        return attempts.succeed(observation, result, current)
    if status.phase == Phase.SUSPENDED:
        return phases.refresh(observation)
    count = status.attempts or 0
    if status.phase == Phase.RUNNING:
        # A stopped attempt is not counted: resuming continues it under the same number.
        count = max(count - 1, 0)
    new = phases.enter(
        observation,
        phase=Phase.SUSPENDED,
        reason=ConditionReason.SUSPENDED,
        message=phases.SUMMARY[Phase.SUSPENDED],
        attempts=count,
        next_attempt_time=None,
    )
    detail = (
        f"stopped worker Pod {status.worker_pod}; the download resumes from its partial file"
        if status.phase == Phase.RUNNING
        else "spec.suspend is true"
    )
    return Plan(status=new, events=phases.transition_events(status.phase, new, detail))


_BY_PHASE: Final[Mapping[Phase, Callable[[Observation], Plan]]] = {
    Phase.SUSPENDED: _decide_resume,
    Phase.RUNNING: attempts.decide_running,
}
