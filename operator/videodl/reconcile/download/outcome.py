"""What a finished worker Pod means: a result, a classified failure, or an interruption.

The worker's termination message is trusted first (it carries the result or the failure
with its class and reason); the exit code classifies a failure when the message is missing
or unreadable (a killed container writes none). Interruptions by Kubernetes (eviction,
preemption, deletion) are not the download's fault and do not use up an attempt. Pure:
no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime

from videodl.api.status import DownloadResult, Failure, FailureClass
from videodl.reconcile.download.podview import PodView
from videodl.workerapi import exitcodes, termination

__all__ = ["Failed", "Interrupted", "Outcome", "Succeeded", "failure_of", "of_pod"]

#: Longest excerpt of a worker's log kept in ``lastFailure.message``.
LOG_EXCERPT_CHARS = 1024
#: Pod reasons Kubernetes sets when it stops a Pod for its own purposes.
_DISRUPTION_REASONS = frozenset({"Evicted", "Preempting", "Terminated", "Shutdown", "NodeLost"})


@dataclasses.dataclass(frozen=True)
class Succeeded:
    """The attempt downloaded the video (or found it already downloaded)."""

    result: DownloadResult | None
    skipped: bool
    finished_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True)
class Failed:
    """The attempt failed; ``failure.failure_class`` says whether to retry."""

    failure: Failure


@dataclasses.dataclass(frozen=True)
class Interrupted:
    """Kubernetes stopped the attempt (eviction, preemption, deletion): run it again."""

    reason: str
    message: str


Outcome = Succeeded | Failed | Interrupted


def _excerpt(text: str) -> str:
    text = text.strip()
    if len(text) <= LOG_EXCERPT_CHARS:
        return text
    return "…" + text[-(LOG_EXCERPT_CHARS - 1) :]


def _failure(
    failure_class: FailureClass,
    reason: str,
    message: str,
    exit_code: int | None,
    time: datetime.datetime | None,
) -> Failed:
    return Failed(
        failure_of(
            failure_class=failure_class,
            reason=reason,
            message=message,
            exit_code=exit_code,
            time=time,
        )
    )


def failure_of(
    *,
    failure_class: FailureClass,
    reason: str,
    message: str,
    exit_code: int | None = None,
    time: datetime.datetime | None = None,
) -> Failure:
    """A :class:`Failure` built by field name (its ``class`` field is a Python keyword)."""
    return Failure.model_validate(
        {
            "class": failure_class,
            "reason": reason,
            "message": message,
            "exitCode": exit_code,
            "time": time,
        }
    )


def of_pod(pod: PodView) -> Outcome | None:
    """The outcome of a finished worker Pod; None while the Pod is still active."""
    if pod.active:
        return None
    ended = pod.termination
    finished_at = ended.finished_at if ended else None
    parsed: termination.SuccessMessage | termination.FailureMessage | None = None
    if ended and ended.message.strip():
        try:
            parsed = termination.parse(ended.message)
        except termination.InvalidTerminationMessageError:
            parsed = None

    if pod.phase == "Succeeded":
        if isinstance(parsed, termination.SuccessMessage):
            skipped = bool(parsed.skipped)
            # Kept in status: deleting a download that only found the video already there
            # must never delete the files another download wrote.
            result = DownloadResult.model_validate(
                {**parsed.model_dump(exclude={"omitted_files"}), "skipped": skipped or None}
            )
            return Succeeded(result=result, skipped=skipped, finished_at=finished_at)
        # Exit code 0 is success; a worker that wrote no result just has none to report.
        return Succeeded(result=None, skipped=False, finished_at=finished_at)

    if pod.disrupted or pod.deleting or (pod.reason in _DISRUPTION_REASONS):
        reason = pod.reason or ("DisruptionTarget" if pod.disrupted else "PodDeleted")
        return Interrupted(reason=reason, message=pod.message or f"worker Pod {pod.name} {reason}")

    return _failed(pod, parsed)


def _failed(
    pod: PodView, parsed: termination.SuccessMessage | termination.FailureMessage | None
) -> Failed:
    """Classify a worker Pod that failed on its own (not stopped by Kubernetes)."""
    ended = pod.termination
    finished_at = ended.finished_at if ended else None
    if pod.reason == "DeadlineExceeded":
        return _failure(
            FailureClass.TRANSIENT,
            "DeadlineExceeded",
            pod.message or "the attempt ran longer than its activeDeadlineSeconds",
            ended.exit_code if ended else None,
            finished_at,
        )
    if isinstance(parsed, termination.FailureMessage):
        return Failed(
            parsed.model_copy(
                update={
                    "exit_code": ended.exit_code if ended else parsed.exit_code,
                    "time": parsed.time or finished_at,
                }
            )
        )
    if ended is None:
        return _failure(
            FailureClass.TRANSIENT,
            "WorkerNotStarted",
            pod.message or f"worker Pod {pod.name} failed before its container ran",
            None,
            None,
        )
    if ended.reason == "OOMKilled":
        return _failure(
            FailureClass.TRANSIENT,
            "OOMKilled",
            "the worker ran out of memory; raise spec.resources.limits.memory",
            ended.exit_code,
            finished_at,
        )
    failure_class = exitcodes.failure_class_of(ended.exit_code) or FailureClass.TRANSIENT
    known = ended.exit_code in (
        exitcodes.ExitCode.TRANSIENT,
        exitcodes.ExitCode.THROTTLED,
        exitcodes.ExitCode.PERMANENT,
    )
    reason = f"WorkerExit{ended.exit_code}" if known else "WorkerCrashed"
    log = _excerpt(ended.message)
    message = f"worker exited with code {ended.exit_code}" + (f": {log}" if log else "")
    return _failure(failure_class, reason, message, ended.exit_code, finished_at)
