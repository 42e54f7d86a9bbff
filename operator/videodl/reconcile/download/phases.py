"""Entering a phase: the next status, its conditions, and the Event of the phase change.

Every plan of the state machine writes its status through :func:`enter`, which sets the
phase, brings ``observedGeneration`` and the Ready, Reconciling and Stalled conditions up to
date (as :mod:`videodl.core.conditions` computes them) and keeps everything else. The small
plans that several phases share live here too: :func:`refresh` (only catch up with the
generation) and :func:`queue`. Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Final

from videodl.api.status import Condition, ConditionReason, ConditionType, Phase, VideoDownloadStatus
from videodl.core import conditions
from videodl.reconcile.download import naming
from videodl.reconcile.download.plan import Event, Observation, Plan
from videodl.reconcile.download.reasons import Reason

__all__ = [
    "SUMMARY",
    "changed",
    "conditions_for",
    "enter",
    "is_new",
    "is_waiting",
    "is_waiting_phase",
    "last_run",
    "max_attempts",
    "queue",
    "refresh",
    "transition_events",
]

#: The Ready condition's message in phases that have nothing more specific to say.
SUMMARY: Final = {
    Phase.PENDING: "the download was accepted and is about to be queued",
    Phase.QUEUED: "waiting for a worker slot",
    Phase.SUSPENDED: "spec.suspend is true: set it to false to continue",
}

#: The Event posted when a download enters a phase (phases not listed post none).
_ENTERED: Final = {
    Phase.QUEUED: Reason.QUEUED,
    Phase.RUNNING: Reason.STARTED,
    Phase.BACKING_OFF: Reason.RETRYING,
    Phase.BLOCKED: Reason.BLOCKED,
    Phase.SUCCEEDED: Reason.SUCCEEDED,
    Phase.FAILED: Reason.FAILED,
    Phase.SUSPENDED: Reason.SUSPENDED,
}


def last_run(observation: Observation) -> int:
    """Highest run number recorded in status or carried by any worker Pod (0 if none)."""
    runs = [naming.run_of(observation.status.worker_pod) or 0]
    runs.extend(p.run or 0 for p in observation.workers)
    return max(runs)


def max_attempts(observation: Observation) -> int:
    """The download's budget of attempts (``spec.retry.maxAttempts``)."""
    return observation.download.spec.retry.max_attempts


def is_new(phase: Phase | None) -> bool:
    """Whether a download has not been recorded in a phase of its own yet.

    ``Pending`` counts as new: it is what earlier versions wrote before queueing.
    """
    return phase is None or phase == Phase.PENDING


def is_waiting(status: VideoDownloadStatus, now: datetime.datetime) -> bool:
    """Whether the download waits for admission now (queued, blocked, or backoff over)."""
    return is_waiting_phase(status.phase, status.next_attempt_time, now)


def is_waiting_phase(
    phase: Phase | None, next_attempt_time: datetime.datetime | None, now: datetime.datetime
) -> bool:
    """:func:`is_waiting` from the two fields it reads."""
    if phase == Phase.QUEUED or is_new(phase):
        return True
    # Blocked by a gate has no time of its own; Blocked because the worker could not
    # start waits until its retry time, as a backoff does.
    if phase in (Phase.BLOCKED, Phase.BACKING_OFF):
        return next_attempt_time is None or next_attempt_time <= now
    return False


def conditions_for(
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


def enter(
    observation: Observation,
    *,
    phase: Phase,
    reason: str,
    message: str,
    **fields: object,
) -> VideoDownloadStatus:
    """The current status with ``fields`` and ``phase`` set, conditions and generation fresh.

    ``reason`` and ``message`` are the Ready condition's.
    """
    status = observation.status
    fresh = conditions_for(
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
            "conditions": fresh,
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


def changed(observation: Observation, status: VideoDownloadStatus) -> VideoDownloadStatus | None:
    """``status``, or None when writing it would change nothing."""
    return None if _same(observation.status, status) else status


def transition_events(
    old: Phase | None, new: VideoDownloadStatus, detail: str
) -> tuple[Event, ...]:
    """The Event of going from phase ``old`` to ``new``'s phase (none if it stays the same).

    Entering the queue for the first time posts none: the download's life is told by its
    Started and Succeeded or Failed Events, and the phase shows that it waits.
    """
    if old == new.phase or new.phase not in _ENTERED:
        return ()
    if is_new(old) and new.phase == Phase.QUEUED:
        return ()
    return (Event.of(_ENTERED[new.phase], detail),)


def refresh(observation: Observation) -> Plan:
    """Only bring observedGeneration (and the conditions' copies of it) up to date."""
    status = observation.status
    if status.observed_generation == observation.generation and all(
        c.observed_generation == observation.generation for c in status.conditions
    ):
        return Plan()
    ready = status.condition(ConditionType.READY.value)
    assert status.phase is not None
    new = enter(
        observation,
        phase=status.phase,
        reason=ready.reason if ready else status.phase.value,
        message=ready.message if ready else "",
    )
    return Plan(status=changed(observation, new))


def queue(observation: Observation, detail: str) -> Plan:
    """Wait for a worker slot (phase Queued); ``detail`` is the Event's message."""
    new = enter(
        observation,
        phase=Phase.QUEUED,
        reason=ConditionReason.QUEUED,
        message=SUMMARY[Phase.QUEUED],
    )
    return Plan(status=new, events=transition_events(observation.status.phase, new, detail))
