"""Why a download is not running (or what ended it), in one line. Pure: no I/O."""

from __future__ import annotations

import datetime

from videodl.api.spec import VideoDownloadSpec
from videodl.api.status import ConditionType, Phase, VideoDownloadStatus
from videodl.cli import formatting
from videodl.core.times import format_time

__all__ = ["reason"]


def _ready_message(status: VideoDownloadStatus) -> str:
    ready = status.condition(ConditionType.READY.value)
    return ready.message if ready else ""


def reason(  # noqa: PLR0911 - one answer per phase
    spec: VideoDownloadSpec,
    status: VideoDownloadStatus,
    *,
    deleting: bool,
    now: datetime.datetime,
) -> str:
    """What the download waits for, or why it ended; empty while it simply runs or is done."""
    phase = status.phase
    if deleting:
        return "being deleted (the finalizer removes the files first)"
    if spec.suspend and phase not in (Phase.SUCCEEDED, Phase.FAILED):
        if phase == Phase.RUNNING:
            return "suspend requested: the worker is being stopped"
        return "suspended: resume with `kubectl videodl resume`"
    if phase is None:
        return "not seen by the operator yet (is it running?)"
    if phase == Phase.BACKING_OFF:
        return _backoff(status, now)
    if phase == Phase.BLOCKED:
        until = status.next_attempt_time
        text = f"breaker: {_ready_message(status)}"
        if until is not None and until > now:
            text += f" (next try {format_time(until)})"
        return text
    if phase == Phase.FAILED:
        failure = status.last_failure
        if failure is None:
            return _ready_message(status)
        return f"{failure.failure_class.value} {failure.reason}: {failure.message}"
    if phase in (Phase.PENDING, Phase.QUEUED):
        return _ready_message(status) or "waiting for a worker slot"
    return ""


def _backoff(status: VideoDownloadStatus, now: datetime.datetime) -> str:
    until = status.next_attempt_time
    failure = status.last_failure
    cause = f" after {failure.failure_class.value} {failure.reason}" if failure else ""
    if until is None:
        return f"backing off{cause}"
    if until <= now:
        return f"backoff over{cause}: waiting for a worker slot"
    left = formatting.duration((until - now).total_seconds())
    return f"backoff until {format_time(until)} (in {left}){cause}"
