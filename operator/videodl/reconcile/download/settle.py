"""Deciding until the decision settles, so one reconcile writes one status.

A decision that changes only the status (say, a finished attempt that leads straight to the
next phase) would otherwise be written, read back from the watch and decided again, one
patch per step. :func:`settle` applies such steps to the observation in memory and decides
again, until a step asks for more than a status (a Pod, a finalizer, a deletion) or nothing
at all; the combined plan carries the last status, every step's Events in order, and the
earliest time to decide again. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Final

from videodl.api.status import VideoDownloadStatus
from videodl.reconcile.download.plan import Observation, Plan

__all__ = ["MAX_STEPS", "settle"]

#: The most steps folded into one plan; a state machine that never settles is cut here.
MAX_STEPS: Final = 8


def settle(observation: Observation, decide: Callable[[Observation], Plan]) -> Plan:
    """The plan of ``decide`` applied until it settles, as one plan."""
    current = observation
    folded: list[Plan] = []
    for _ in range(MAX_STEPS):
        plan = decide(current)
        if not _status_only(plan) or plan.status is None or _unchanged(current, plan.status):
            return _combine(folded, plan)
        if plan.attempt_ended is not None and any(p.attempt_ended for p in folded):
            # One plan tells the admission gate about one attempt: write what is folded.
            return _combine(folded, Plan())
        folded.append(plan)
        current = _with_status(current, plan.status)
    return _combine(folded, Plan())


def _status_only(plan: Plan) -> bool:
    """Whether ``plan`` writes nothing but status and Events (safe to fold)."""
    bare = dataclasses.replace(plan, status=None, events=(), attempt_ended=None, recheck_at=None)
    return bare == Plan()


def _unchanged(observation: Observation, status: VideoDownloadStatus) -> bool:
    return status == observation.status


def _with_status(observation: Observation, status: VideoDownloadStatus) -> Observation:
    download = observation.download.model_copy(update={"status": status})
    return dataclasses.replace(observation, download=download)


def _earliest(times: list[datetime.datetime | None]) -> datetime.datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _combine(folded: list[Plan], last: Plan) -> Plan:
    if not folded:
        return last
    status = last.status if last.status is not None else folded[-1].status
    ended = [p.attempt_ended for p in [*folded, last] if p.attempt_ended is not None]
    return dataclasses.replace(
        last,
        status=status,
        events=tuple(e for p in [*folded, last] for e in p.events),
        attempt_ended=ended[0] if ended else None,
        recheck_at=_earliest([p.recheck_at for p in [*folded, last]]),
    )
