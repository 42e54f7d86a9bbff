"""Which downloads wait for admission, and how the admission rules see each of them.

The operator's admission loop and the command line's ``queue`` view both read waiting
downloads through these functions, so the order the command line shows is the order the
operator computes with :mod:`videodl.core.ordering`. Pure: no I/O.
"""

from __future__ import annotations

import datetime

from videodl.api.spec import DeletionPolicy
from videodl.core import ordering
from videodl.reconcile.download import naming, phases
from videodl.reconcile.download.record import DownloadRecord

__all__ = ["candidate_of", "concerns_admission", "may_start", "queued_since"]


def queued_since(record: DownloadRecord) -> datetime.datetime:
    """When the download started waiting for its next run (the aging clock's start)."""
    moments = [record.created]
    if record.reconciling_since is not None:
        moments.append(record.reconciling_since)
    if record.next_attempt_time is not None:
        moments.append(record.next_attempt_time)
    return max(moments)


def candidate_of(record: DownloadRecord) -> ordering.Candidate:
    """The admission rules' view of a waiting download."""
    return ordering.Candidate(
        namespace=record.namespace,
        name=record.name,
        uid=record.uid,
        rank=record.priority.rank,
        created=record.created,
        queued_since=queued_since(record),
    )


def may_start(record: DownloadRecord, now: datetime.datetime) -> bool:
    """Whether the download competes for a worker slot now.

    Not when it is suspended or being deleted, not in a waiting phase (or still backing
    off), or lacks the finalizer its ``deletionPolicy: Delete`` needs.
    """
    if record.deleting or record.suspend:
        return False
    if not phases.is_waiting_phase(record.phase, record.next_attempt_time, now):
        return False
    needs_finalizer = record.deletion_policy == DeletionPolicy.DELETE
    return not needs_finalizer or naming.FINALIZER in record.finalizers


def concerns_admission(record: DownloadRecord) -> bool:
    """Whether an admission pass needs to look at the download at all.

    Every download does except one that cannot be read and one finished for good (no
    ``ttlSecondsAfterFinished`` left to expire): neither runs, waits or expires, and only a
    new version of the object (a retry, a spec change) can bring it back.
    """
    if record.problem is not None:
        return False
    phase = record.phase
    return phase is None or not phase.finished or record.ttl_seconds_after_finished is not None
