"""What a failure leads to: a backoff before the next attempt, or phase Failed.

A permanent failure, or a transient one with no attempts left, fails the download; any other
backs off until a time computed by :mod:`videodl.core.backoff`, with jitter from a generator
seeded by the download's uid and attempt, so deciding again yields the same time. An object
the API models cannot read fails at once (:func:`decide_invalid`). Pure: no I/O.
"""

from __future__ import annotations

import datetime
import random

from videodl.api.status import ConditionReason, Failure, FailureClass, Phase, VideoDownloadStatus
from videodl.core import backoff
from videodl.reconcile.download import outcome, phases
from videodl.reconcile.download.outcome import failure_of
from videodl.reconcile.download.plan import AttemptOutcome, Observation, Plan

__all__ = ["after_failure", "backoff_until", "decide_invalid", "fail"]


def fail(observation: Observation, failure: Failure, ended: AttemptOutcome | None = None) -> Plan:
    """Give up: phase Failed with ``failure`` (``ended``: the attempt this ends, if any)."""
    status = observation.status
    message = f"{failure.failure_class.value} failure {failure.reason}: {failure.message}".strip()
    new = phases.enter(
        observation,
        phase=Phase.FAILED,
        reason=failure.reason,
        message=message,
        last_failure=failure,
        completion_time=failure.time or observation.now,
        next_attempt_time=None,
    )
    return Plan(
        status=new, events=phases.transition_events(status.phase, new, message), attempt_ended=ended
    )


def after_failure(observation: Observation, failure: Failure) -> Plan:
    """The recorded attempt failed with ``failure``: back off, or fail for good."""
    status = observation.status
    if failure.time is None:
        failure = failure.model_copy(update={"time": observation.now})
    attempts = status.attempts or 1
    maximum = phases.max_attempts(observation)
    ended = AttemptOutcome(attempts, outcome.Failed(failure))
    if failure.failure_class == FailureClass.PERMANENT:
        return fail(observation, failure, ended)
    if attempts >= maximum:
        note = f"attempt {attempts} of {maximum}, no retries left"
        message = f"{failure.message} ({note})" if failure.message else note
        return fail(observation, failure.model_copy(update={"message": message}), ended)
    assert failure.time is not None
    next_time = backoff_until(observation, attempts, failure.time)
    message = (
        f"attempt {attempts} of {maximum} failed ({failure.failure_class.value} "
        f"{failure.reason}); next attempt at {next_time.isoformat(timespec='seconds')}"
    )
    new = phases.enter(
        observation,
        phase=Phase.BACKING_OFF,
        reason=ConditionReason.BACKING_OFF,
        message=message,
        last_failure=failure,
        next_attempt_time=next_time,
    )
    detail = f"{message}: {failure.message}" if failure.message else message
    return Plan(
        status=new, events=phases.transition_events(status.phase, new, detail), attempt_ended=ended
    )


def backoff_until(
    observation: Observation, retry: int, since: datetime.datetime
) -> datetime.datetime:
    """When retry number ``retry`` may start, backing off from ``since``."""
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


def decide_invalid(
    status: VideoDownloadStatus, *, generation: int, problem: str, now: datetime.datetime
) -> VideoDownloadStatus | None:
    """Status for an object the models cannot read: Failed and Stalled, naming the problem.

    None when the status already says so for this generation.
    """
    conditions = phases.conditions_for(
        status.conditions,
        phase=Phase.FAILED,
        reason=ConditionReason.INVALID_SPEC,
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
                reason=ConditionReason.INVALID_SPEC,
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
        and status.last_failure.reason == ConditionReason.INVALID_SPEC
    ):
        return None
    return new
