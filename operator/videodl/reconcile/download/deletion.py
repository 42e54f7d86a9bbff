"""What happens while a VideoDownload is being deleted.

Its running worker is stopped at once. With ``deletionPolicy: Delete`` (the finalizer
``videodl.dev/cleanup`` is on the object) the files listed in ``status.result`` are removed
by a short cleanup Pod once no worker can write any more; the finalizer is released when
the cleanup succeeded, when there is nothing to remove, or after
:data:`MAX_CLEANUP_ROUNDS` failed cleanup Pods (with a Warning Event naming the files
left). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from videodl.api.status import DownloadResult
from videodl.reconcile.download import naming
from videodl.reconcile.download.plan import Event, Observation, Plan
from videodl.reconcile.download.podspec import MissingClaimError, claim_name
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.reasons import Reason
from videodl.workerapi import cleanup
from videodl.workerapi.cleanup import ARCHIVE_FILE_NAME

__all__ = ["MAX_CLEANUP_ROUNDS", "archive_entries", "decide"]

#: Cleanup Pods tried before the finalizer is released anyway.
MAX_CLEANUP_ROUNDS: Final = 3


def decide(observation: Observation) -> Plan:
    """The next step for a download that has a deletion timestamp."""
    workers = observation.workers
    stop = tuple(p.name for p in workers if p.active and not p.deleting)
    if naming.FINALIZER not in observation.finalizers or any(p.active for p in workers):
        # Without the finalizer garbage collection does the rest; with it, files may still
        # be written until the worker has stopped.
        return Plan(delete_pods=stop)
    result = observation.status.result
    safe, refused = cleanup.split_paths([f.path for f in result.files] if result else [])
    notes: tuple[Event, ...] = ()
    if refused:
        notes = (
            Event.of(
                Reason.CLEANUP_REFUSED,
                "not deleting paths outside the volume: " + ", ".join(refused),
            ),
        )
    if not safe:
        return Plan(remove_finalizer=True, events=notes)
    try:
        claim_name(observation.download, observation.settings)
    except MissingClaimError:
        left = Event.of(
            Reason.CLEANUP_FAILED, "no claim to delete files from; files left: " + ", ".join(safe)
        )
        return Plan(remove_finalizer=True, events=(*notes, left))
    plan = _cleanup_step(observation.cleanups, tuple(safe), notes)
    if plan.cleanup_round is None or result is None:
        return plan
    archive = archive_entries(observation.download.spec.output.sub_path, result)
    return dataclasses.replace(plan, cleanup_archive=archive)


def archive_entries(
    sub_path: str | None, result: DownloadResult
) -> tuple[str, tuple[str, ...]] | None:
    """The worker's download archive and the lines recording this video in it.

    Without them a new download of the same video into the same directory would be
    skipped as already downloaded although its file is gone. yt-dlp records
    ``<extractor key, lowercase> <id>``; the result keeps the extractor's name, which is
    the same word for most extractors and differs by a ``:`` for a few, so both are given.
    """
    if not result.extractor or not result.video_id:
        return None
    name = result.extractor.lower()
    keys = dict.fromkeys((name, name.replace(":", "")))
    path = f"{sub_path.rstrip('/')}/{ARCHIVE_FILE_NAME}" if sub_path else ARCHIVE_FILE_NAME
    return path, tuple(f"{key} {result.video_id}" for key in keys)


def _cleanup_step(
    cleanups: list[PodView], paths: tuple[str, ...], notes: tuple[Event, ...]
) -> Plan:
    """Start, await, retry or give up the cleanup Pods, the latest deciding."""
    latest = cleanups[-1] if cleanups else None
    if latest is None:
        return Plan(cleanup_round=1, cleanup_paths=paths, events=notes)
    if latest.active:
        return Plan()
    if latest.phase == "Succeeded":
        return Plan(
            remove_finalizer=True,
            events=(Event.of(Reason.FILES_DELETED, "deleted " + ", ".join(paths)),),
        )
    round_ = latest.run or len(cleanups)
    failure = (latest.termination.message.strip() if latest.termination else "") or (
        latest.message or "no message"
    )
    if round_ >= MAX_CLEANUP_ROUNDS:
        message = f"gave up after {round_} cleanup Pods ({failure}); files left: "
        return Plan(
            remove_finalizer=True,
            events=(Event.of(Reason.CLEANUP_FAILED, message + ", ".join(paths)),),
        )
    return Plan(
        cleanup_round=round_ + 1,
        cleanup_paths=paths,
        events=(Event.of(Reason.CLEANUP_FAILED, f"cleanup Pod {latest.name} failed: {failure}"),),
    )
