"""Admission-time plans: start the next run, hold a download back, or back off a refused Pod.

The admission loop (:mod:`videodl.operator.admission`) chooses which waiting downloads start;
for each it asks :func:`admit` for the write-ahead record of the run and its Pod, or
:func:`block` when an admission gate denied it; a new download that must wait is recorded
as Queued by :func:`hold`. When the apiserver refuses the worker Pod
of a run just recorded, :func:`pod_rejected` backs off without counting an attempt.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from videodl.api.spec import DeletionPolicy
from videodl.api.status import ConditionReason, FailureClass, Phase
from videodl.reconcile.download import failures, naming, phases
from videodl.reconcile.download.outcome import failure_of
from videodl.reconcile.download.plan import Event, Observation, Plan
from videodl.reconcile.download.podspec import MissingClaimError, PodIdentity, claim_name
from videodl.reconcile.download.reasons import Reason

__all__ = ["admit", "block", "hold", "pod_rejected"]


def admit(observation: Observation) -> Plan | None:
    """Start the next run of a waiting download: record it (write-ahead), then its Pod.

    None when the download is not (or no longer) waiting, is suspended or being deleted,
    lacks its finalizer, or a previous worker Pod has not finished yet.
    """
    status = observation.status
    spec = observation.download.spec
    if observation.deleting or spec.suspend or not phases.is_waiting(status, observation.now):
        return None
    if (
        spec.deletion_policy == DeletionPolicy.DELETE
        and naming.FINALIZER not in observation.finalizers
    ):
        return None
    if any(p.active for p in observation.workers):
        return None
    try:
        claim_name(observation.download, observation.settings)
    except MissingClaimError:
        return None
    attempts = (status.attempts or 0) + 1
    run = phases.last_run(observation) + 1
    pod_name = naming.worker_pod_name(observation.download.name, observation.uid, run)
    maximum = phases.max_attempts(observation)
    new = phases.enter(
        observation,
        phase=Phase.RUNNING,
        reason=ConditionReason.RUNNING,
        message=f"attempt {attempts} of {maximum} running in Pod {pod_name}",
        attempts=attempts,
        worker_pod=pod_name,
        start_time=status.start_time or observation.now,
        next_attempt_time=None,
        completion_time=None,
        progress=None,
    )
    return Plan(
        status=new,
        create_pod=PodIdentity(
            name=observation.download.name,
            namespace=observation.download.namespace,
            uid=observation.uid,
            run=run,
            attempt=attempts,
        ),
        events=phases.transition_events(
            status.phase, new, f"attempt {attempts} of {maximum} started in Pod {pod_name}"
        ),
    )


def block(observation: Observation, *, reason: str, message: str) -> Plan | None:
    """Keep a waiting download waiting, as phase Blocked with ``reason`` and ``message``."""
    status = observation.status
    if observation.deleting or observation.download.spec.suspend:
        return None
    if not phases.is_waiting(status, observation.now):
        return None
    new = phases.enter(observation, phase=Phase.BLOCKED, reason=reason, message=message)
    changed = phases.changed(observation, new)
    if changed is None:
        return None
    return Plan(status=changed, events=phases.transition_events(status.phase, new, message))


def hold(observation: Observation) -> Plan | None:
    """Record a new download that was not admitted this time as Queued.

    None when it is no longer new (another write got there first), is suspended or being
    deleted, or has no claim to write into (the reconcile fails it).
    """
    status = observation.status
    if observation.deleting or observation.download.spec.suspend:
        return None
    if not phases.is_new(status.phase):
        return None
    try:
        claim_name(observation.download, observation.settings)
    except MissingClaimError:
        return None
    priority = observation.download.spec.priority.value
    return phases.queue(observation, f"waiting for a worker slot (priority {priority})")


_REJECTION_HINTS: Final = (
    (
        "PriorityClass",
        "create the PriorityClass, or map the priority to an existing one "
        "with the operator's --priority-class-names",
    ),
    ("exceeded quota", "raise the namespace's ResourceQuota or lower spec.resources"),
    ("PodSecurity", "the namespace's PodSecurity level refuses the worker Pod"),
    (
        "serviceaccount",
        "create the worker ServiceAccount in this namespace "
        "(see the operator's --worker-service-account)",
    ),
)


def pod_rejected(observation: Observation, message: str) -> Plan:
    """The apiserver refused the worker Pod of the recorded run: back off and try again.

    The refused run is not counted as an attempt: no worker ever ran.
    """
    status = observation.status
    attempts = max((status.attempts or 1) - 1, 0)
    hint = next((h for needle, h in _REJECTION_HINTS if needle.lower() in message.lower()), "")
    text = f"the worker Pod was refused: {message}" + (f" ({hint})" if hint else "")
    failure = failure_of(
        failure_class=FailureClass.TRANSIENT,
        reason=ConditionReason.POD_REJECTED,
        message=text,
        time=observation.now,
    )
    next_time = failures.backoff_until(observation, attempts + 1, observation.now)
    new = phases.enter(
        observation,
        phase=Phase.BACKING_OFF,
        reason=ConditionReason.POD_REJECTED,
        message=f"{text}; trying again at {next_time.isoformat(timespec='seconds')}",
        attempts=attempts,
        last_failure=failure,
        next_attempt_time=next_time,
    )
    return Plan(status=new, events=(Event.of(Reason.POD_REJECTED, text),))
