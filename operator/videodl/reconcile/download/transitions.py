"""The download state machine: from what is observed to what should be written next.

Level-triggered: every decision is computed from the VideoDownload object as it is now plus
the Pods it owns, never from what the operator remembers. A decision is a :class:`Plan`:
at most one new status (written first, so a run is always recorded before its Pod exists),
then Pod creations and deletions, finalizer changes and Events. The same observation always
yields the same plan, so a plan that was cut short by a crash is simply computed again.

- :func:`decide`: everything except starting a new run.
- :func:`admit`: start the next run (the admission loop calls it for downloads it chose).
- :func:`block`: keep a download waiting because an admission gate said so.

Pure: no I/O; the time is an argument and jitter comes from a generator seeded by the
download's uid and attempt.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from videodl.api.spec import DeletionPolicy
from videodl.api.status import (
    Condition,
    ConditionType,
    DownloadResult,
    Failure,
    FailureClass,
    Phase,
    VideoDownloadStatus,
)
from videodl.core import backoff, conditions
from videodl.reconcile.download import deletion, naming, outcome
from videodl.reconcile.download.outcome import failure_of
from videodl.reconcile.download.plan import (
    NORMAL,
    WARNING,
    AttemptOutcome,
    Event,
    Observation,
    Plan,
)
from videodl.reconcile.download.podspec import MissingClaimError, PodIdentity, claim_name
from videodl.reconcile.download.podview import PodView

__all__ = [
    "AttemptOutcome",
    "Event",
    "Observation",
    "Plan",
    "admit",
    "block",
    "decide",
    "decide_invalid",
    "is_waiting",
    "is_waiting_phase",
    "last_run",
    "pod_rejected",
]


# --- small helpers -------------------------------------------------------------------------


def last_run(observation: Observation) -> int:
    """Highest run number recorded in status or carried by any worker Pod (0 if none)."""
    runs = [naming.run_of(observation.status.worker_pod) or 0]
    runs.extend(p.run or 0 for p in observation.workers)
    return max(runs)


def is_waiting(status: VideoDownloadStatus, now: datetime.datetime) -> bool:
    """Whether the download waits for admission now (queued, blocked, or backoff over)."""
    return is_waiting_phase(status.phase, status.next_attempt_time, now)


def is_waiting_phase(
    phase: Phase | None, next_attempt_time: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """:func:`is_waiting` from the two fields it reads."""
    if phase in (Phase.QUEUED, Phase.BLOCKED):
        return True
    if phase == Phase.BACKING_OFF:
        return next_attempt_time is None or next_attempt_time <= now
    return False


def _max_attempts(observation: Observation) -> int:
    return observation.download.spec.retry.max_attempts


def _should_run(observation: Observation, pod: PodView) -> bool:
    status = observation.status
    return (
        not observation.deleting
        and not observation.download.spec.suspend
        and status.phase == Phase.RUNNING
        and pod.name == status.worker_pod
    )


_PHASE_SUMMARY: Final = {
    Phase.PENDING: "the download was accepted and is about to be queued",
    Phase.QUEUED: "waiting for a worker slot",
    Phase.SUSPENDED: "spec.suspend is true: set it to false to continue",
}


def _conditions(
    previous: Sequence[Condition],
    *,
    phase: Phase,
    reason: str,
    message: str,
    generation: int,
    now: datetime.datetime,
) -> list[Condition]:
    """Ready, Reconciling and Stalled for ``phase``, as :mod:`videodl.core.conditions` rules."""
    computed = conditions.compute(
        phase=phase,
        reason=reason,
        message=message,
        generation=generation,
        now=now,
        previous=[c.model_dump(mode="json", by_alias=True, exclude_none=True) for c in previous],
    )
    return [Condition.model_validate(c) for c in computed]


def _with(
    observation: Observation,
    *,
    phase: Phase,
    reason: str,
    message: str,
    **fields: object,
) -> VideoDownloadStatus:
    """The current status with ``fields`` and ``phase`` set, conditions and generation fresh."""
    status = observation.status
    conditions = _conditions(
        status.conditions,
        phase=phase,
        reason=reason,
        message=message,
        generation=observation.generation,
        now=observation.now,
    )
    return status.model_copy(
        update={
            **fields,
            "phase": phase,
            "observed_generation": observation.generation,
            "conditions": conditions,
        }
    )


def _same(a: VideoDownloadStatus, b: VideoDownloadStatus) -> bool:
    """Equal for writing purposes: transition times of unchanged conditions aside."""

    def key(status: VideoDownloadStatus) -> object:
        data = status.model_dump(mode="json", by_alias=True, exclude_none=True)
        for condition in data.get("conditions", []):
            condition.pop("lastTransitionTime", None)
        return data

    return key(a) == key(b)


def _changed(observation: Observation, status: VideoDownloadStatus) -> VideoDownloadStatus | None:
    return None if _same(observation.status, status) else status


def _transition_events(
    old: Phase | None, new: VideoDownloadStatus, detail: str
) -> tuple[Event, ...]:
    if old == new.phase:
        return ()
    reasons = {
        Phase.QUEUED: (NORMAL, "Queued"),
        Phase.RUNNING: (NORMAL, "Started"),
        Phase.BACKING_OFF: (WARNING, "Retrying"),
        Phase.BLOCKED: (WARNING, "Blocked"),
        Phase.SUCCEEDED: (NORMAL, "Succeeded"),
        Phase.FAILED: (WARNING, "Failed"),
        Phase.SUSPENDED: (NORMAL, "Suspended"),
    }
    if new.phase not in reasons:
        return ()
    kind, reason = reasons[new.phase]
    return (Event(kind, reason, detail),)


def _result_summary(result: DownloadResult | None, skipped: bool) -> str:
    if result is None:
        return "the worker finished without reporting files"
    what = result.title or result.video_id or "the video"
    size = sum(f.size_bytes for f in result.files)
    verb = "was already downloaded" if skipped else "downloaded"
    return f"{what} {verb}: {len(result.files)} file(s), {size} bytes"


# --- decide --------------------------------------------------------------------------------


def decide(observation: Observation) -> Plan:
    """The next writes for a download, apart from starting a new run (see :func:`admit`)."""
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


def _unwanted_pods(observation: Observation) -> tuple[str, ...]:
    """Active worker Pods that should not run (suspended, stale or stray), not yet deleting."""
    return tuple(
        p.name
        for p in observation.workers
        if p.active and not p.deleting and not _should_run(observation, p)
    )


def _decide_status(observation: Observation) -> Plan:
    phase = observation.status.phase
    if phase is None:
        return Plan(
            status=_with(
                observation,
                phase=Phase.PENDING,
                reason="Pending",
                message=_PHASE_SUMMARY[Phase.PENDING],
            )
        )
    retry = _manual_retry(observation)
    if retry is not None:
        return retry
    if phase in (Phase.SUCCEEDED, Phase.FAILED):
        return _decide_finished(observation)
    if observation.download.spec.suspend:
        return _decide_suspend(observation)
    step = _BY_PHASE.get(phase, _refresh)
    return step(observation)


def _decide_pending(observation: Observation) -> Plan:
    """Check what can be checked before queueing: a claim to write into."""
    try:
        claim_name(observation.download, observation.settings)
    except MissingClaimError as exc:
        failure = failure_of(
            failure_class=FailureClass.PERMANENT,
            reason="NoOutputClaim",
            message=str(exc),
            time=observation.now,
        )
        return _fail(observation, failure)
    priority = observation.download.spec.priority.value
    return _queue(observation, f"waiting for a worker slot (priority {priority})")


def _decide_resume(observation: Observation) -> Plan:
    return _queue(observation, "resumed: waiting for a worker slot")


def _queue(observation: Observation, detail: str) -> Plan:
    new = _with(
        observation, phase=Phase.QUEUED, reason="Queued", message=_PHASE_SUMMARY[Phase.QUEUED]
    )
    return Plan(status=new, events=_transition_events(observation.status.phase, new, detail))


def _refresh(observation: Observation) -> Plan:
    """Only bring observedGeneration (and the conditions' copies of it) up to date."""
    status = observation.status
    if status.observed_generation == observation.generation and all(
        c.observed_generation == observation.generation for c in status.conditions
    ):
        return Plan()
    ready = status.condition(ConditionType.READY.value)
    assert status.phase is not None
    new = _with(
        observation,
        phase=status.phase,
        reason=ready.reason if ready else status.phase.value,
        message=ready.message if ready else "",
    )
    return Plan(status=_changed(observation, new))


def _manual_retry(observation: Observation) -> Plan | None:
    token = observation.annotations.get(naming.ANNOTATION_RETRY)
    handled = observation.annotations.get(naming.ANNOTATION_RETRY_HANDLED)
    if not token or token == handled:
        return None
    if observation.status.phase != Phase.FAILED:
        # Only a Failed download can be retried; remember the value so it is not
        # applied later by surprise.
        return Plan(retry_handled=token)
    new = _with(
        observation,
        phase=Phase.QUEUED,
        reason="RetryRequested",
        message=f"retry requested ({naming.ANNOTATION_RETRY}={token}): waiting for a worker slot",
        attempts=0,
        completion_time=None,
        next_attempt_time=None,
    )
    return Plan(
        status=new,
        retry_handled=token,
        events=(
            Event(
                NORMAL,
                "RetryRequested",
                f"{naming.ANNOTATION_RETRY}={token}: a fresh budget of "
                f"{_max_attempts(observation)} attempt(s)",
            ),
            Event(NORMAL, "Queued", "waiting for a worker slot"),
        ),
    )


def _decide_finished(observation: Observation) -> Plan:
    status = observation.status
    ttl = observation.download.spec.ttl_seconds_after_finished
    if ttl is not None and status.completion_time is not None:
        expiry = status.completion_time + datetime.timedelta(seconds=ttl)
        if observation.now >= expiry:
            return Plan(delete_download=True)
    return _refresh(observation)


def _decide_suspend(observation: Observation) -> Plan:
    status = observation.status
    current = observation.pod(status.worker_pod)
    result = outcome.of_pod(current) if current is not None else None
    if isinstance(result, outcome.Succeeded) and status.phase in (Phase.RUNNING, Phase.SUSPENDED):
        # The attempt finished before the stop reached it: its result stands.
        return _succeed(observation, result, current)
    if status.phase == Phase.SUSPENDED:
        return _refresh(observation)
    attempts = status.attempts or 0
    if status.phase == Phase.RUNNING:
        # A stopped attempt is not counted: resuming continues it under the same number.
        attempts = max(attempts - 1, 0)
    new = _with(
        observation,
        phase=Phase.SUSPENDED,
        reason="Suspended",
        message=_PHASE_SUMMARY[Phase.SUSPENDED],
        attempts=attempts,
        next_attempt_time=None,
    )
    detail = (
        f"stopped worker Pod {status.worker_pod}; the download resumes from its partial file"
        if status.phase == Phase.RUNNING
        else "spec.suspend is true"
    )
    return Plan(status=new, events=_transition_events(status.phase, new, detail))


def _decide_running(observation: Observation) -> Plan:
    status = observation.status
    current = observation.pod(status.worker_pod)
    run = naming.run_of(status.worker_pod)
    if run is None:
        # Running without a recorded run cannot come from this operator; start over.
        return _queue(observation, "no run recorded: waiting for a worker slot")
    if current is None:
        return _create_recorded_run(observation, run)
    if current.active:
        if current.deleting or current.disrupted:
            reason = "PodDeleted" if current.deleting else "DisruptionTarget"
            return _replace_run(observation, current, reason, current.message or "")
        return _refresh(observation)
    return _after_pod(observation, current)


def _after_pod(observation: Observation, pod: PodView) -> Plan:
    """The recorded run's Pod has ended: succeed, run again, back off or fail."""
    result = outcome.of_pod(pod)
    if isinstance(result, outcome.Succeeded):
        return _succeed(observation, result, pod)
    if isinstance(result, outcome.Interrupted):
        return _replace_run(observation, pod, result.reason, result.message)
    assert isinstance(result, outcome.Failed)
    return _after_failure(observation, result.failure)


def _create_recorded_run(observation: Observation, run: int) -> Plan:
    """The recorded run has no Pod (a crash between the two writes): create exactly it."""
    status = observation.status
    if any(p.active and p.name != status.worker_pod for p in observation.workers):
        return _refresh(observation)  # wait until the previous Pod is gone
    identity = PodIdentity(
        name=observation.download.name,
        namespace=observation.download.namespace,
        uid=observation.uid,
        run=run,
        attempt=status.attempts or 1,
    )
    return dataclasses.replace(_refresh(observation), create_pod=identity)


def _replace_run(observation: Observation, old: PodView, reason: str, message: str) -> Plan:
    """Record a new run for the same attempt; create its Pod once the old one is done."""
    status = observation.status
    run = last_run(observation) + 1
    pod_name = naming.worker_pod_name(observation.download.name, observation.uid, run)
    attempts = status.attempts or 1
    new = _with(
        observation,
        phase=Phase.RUNNING,
        reason="Running",
        message=f"attempt {attempts} of {_max_attempts(observation)} continues in Pod {pod_name}",
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
        events=(Event(WARNING, "WorkerReplaced", detail),),
        outcome=AttemptOutcome(attempts, outcome.Interrupted(reason, message)),
    )


def _succeed(observation: Observation, result: outcome.Succeeded, pod: PodView | None) -> Plan:
    status = observation.status
    attempts = max(status.attempts or 0, (pod.attempt if pod else None) or 0)
    completion = result.finished_at or observation.now
    message = _result_summary(result.result, result.skipped)
    new = _with(
        observation,
        phase=Phase.SUCCEEDED,
        reason="Succeeded",
        message=message,
        result=result.result,
        completion_time=completion,
        next_attempt_time=None,
        attempts=attempts,
    )
    return Plan(
        status=new,
        events=_transition_events(status.phase, new, message),
        outcome=AttemptOutcome(attempts, result) if status.phase == Phase.RUNNING else None,
    )


def _fail(observation: Observation, failure: Failure, ended: AttemptOutcome | None = None) -> Plan:
    status = observation.status
    message = f"{failure.failure_class.value} failure {failure.reason}: {failure.message}".strip()
    new = _with(
        observation,
        phase=Phase.FAILED,
        reason=failure.reason,
        message=message,
        last_failure=failure,
        completion_time=failure.time or observation.now,
        next_attempt_time=None,
    )
    return Plan(status=new, events=_transition_events(status.phase, new, message), outcome=ended)


def _after_failure(observation: Observation, failure: Failure) -> Plan:
    status = observation.status
    if failure.time is None:
        failure = failure.model_copy(update={"time": observation.now})
    attempts = status.attempts or 1
    maximum = _max_attempts(observation)
    ended = AttemptOutcome(attempts, outcome.Failed(failure))
    if failure.failure_class == FailureClass.PERMANENT:
        return _fail(observation, failure, ended)
    if attempts >= maximum:
        note = f"attempt {attempts} of {maximum}, no retries left"
        message = f"{failure.message} ({note})" if failure.message else note
        return _fail(observation, failure.model_copy(update={"message": message}), ended)
    assert failure.time is not None
    next_time = _backoff_until(observation, attempts, failure.time)
    message = (
        f"attempt {attempts} of {maximum} failed ({failure.failure_class.value} "
        f"{failure.reason}); next attempt at {next_time.isoformat(timespec='seconds')}"
    )
    new = _with(
        observation,
        phase=Phase.BACKING_OFF,
        reason="BackingOff",
        message=message,
        last_failure=failure,
        next_attempt_time=next_time,
    )
    detail = f"{message}: {failure.message}" if failure.message else message
    return Plan(status=new, events=_transition_events(status.phase, new, detail), outcome=ended)


def _backoff_until(
    observation: Observation, retry: int, since: datetime.datetime
) -> datetime.datetime:
    policy = observation.download.spec.retry.backoff
    delay = backoff.delay_seconds(
        backoff.BackoffPolicy(
            initial_seconds=policy.initial_seconds,
            factor=policy.factor,
            max_seconds=policy.max_seconds,
            jitter=observation.backoff_jitter,
        ),
        max(retry, 1),
        # Seeded by what the delay is for, so that deciding again yields the same time.
        random.Random(f"{observation.uid}/{retry}"),  # noqa: S311 - jitter, not security
    )
    return since + datetime.timedelta(seconds=delay)


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
        reason="PodRejected",
        message=text,
        time=observation.now,
    )
    next_time = _backoff_until(observation, attempts + 1, observation.now)
    new = _with(
        observation,
        phase=Phase.BACKING_OFF,
        reason="PodRejected",
        message=f"{text}; trying again at {next_time.isoformat(timespec='seconds')}",
        attempts=attempts,
        last_failure=failure,
        next_attempt_time=next_time,
    )
    return Plan(status=new, events=(Event(WARNING, "PodRejected", text),))


# --- admit and block ----------------------------------------------------------------------


def admit(observation: Observation) -> Plan | None:
    """Start the next run of a waiting download: record it (write-ahead), then its Pod.

    None when the download is not (or no longer) waiting, is suspended or being deleted,
    lacks its finalizer, or a previous worker Pod has not finished yet.
    """
    status = observation.status
    spec = observation.download.spec
    if observation.deleting or spec.suspend or not is_waiting(status, observation.now):
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
    run = last_run(observation) + 1
    pod_name = naming.worker_pod_name(observation.download.name, observation.uid, run)
    maximum = _max_attempts(observation)
    new = _with(
        observation,
        phase=Phase.RUNNING,
        reason="Running",
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
        events=_transition_events(
            status.phase, new, f"attempt {attempts} of {maximum} started in Pod {pod_name}"
        ),
    )


def block(observation: Observation, *, reason: str, message: str) -> Plan | None:
    """Keep a waiting download waiting, as phase Blocked with ``reason`` and ``message``."""
    status = observation.status
    if observation.deleting or observation.download.spec.suspend:
        return None
    if not is_waiting(status, observation.now):
        return None
    new = _with(observation, phase=Phase.BLOCKED, reason=reason, message=message)
    changed = _changed(observation, new)
    if changed is None:
        return None
    return Plan(status=changed, events=_transition_events(status.phase, new, message))


def decide_invalid(
    status: VideoDownloadStatus, *, generation: int, problem: str, now: datetime.datetime
) -> VideoDownloadStatus | None:
    """Status for an object the models cannot read: Failed and Stalled, naming the problem.

    None when the status already says so for this generation.
    """
    conditions = _conditions(
        status.conditions,
        phase=Phase.FAILED,
        reason="InvalidSpec",
        message=problem,
        generation=generation,
        now=now,
    )
    new = status.model_copy(
        update={
            "phase": Phase.FAILED,
            "observed_generation": generation,
            "conditions": conditions,
            "last_failure": failure_of(
                failure_class=FailureClass.PERMANENT,
                reason="InvalidSpec",
                message=problem,
                time=now,
            ),
            "completion_time": status.completion_time or now,
        }
    )
    if (
        status.phase == Phase.FAILED
        and status.observed_generation == generation
        and status.last_failure is not None
        and status.last_failure.reason == "InvalidSpec"
    ):
        return None
    return new


_BY_PHASE: Final[Mapping[Phase, Callable[[Observation], Plan]]] = {
    Phase.PENDING: _decide_pending,
    Phase.SUSPENDED: _decide_resume,
    Phase.RUNNING: _decide_running,
}
