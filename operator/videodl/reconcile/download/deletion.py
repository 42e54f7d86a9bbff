"""What happens while a VideoDownload is being deleted.

Its running worker is stopped at once. With ``deletionPolicy: Delete`` (the finalizer
``videodl.dev/cleanup`` is on the object) the files it owns are removed by a short cleanup
Pod once no worker can write any more. A download owns the files of its own result, unless
it found the video already downloaded (``status.result.skipped``): those an earlier download
wrote. A file another download on the same claim also lists is kept while that download
keeps it (see :func:`owned_elsewhere`), and so is its download-archive entry; only paths
inside the download's own directory (``spec.output.subPath``) are ever removed. The
finalizer is released when the cleanup succeeded, when there is nothing to remove, when
the namespace is being deleted (no Pod can be created there any more), or after
:data:`MAX_CLEANUP_ROUNDS` failed cleanup Pods, each time with an Event naming the files
left. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable
from typing import Final

from videodl.api.resource import VideoDownload
from videodl.api.spec import DeletionPolicy
from videodl.api.status import DownloadResult
from videodl.reconcile.download import naming
from videodl.reconcile.download.plan import Event, Observation, Plan
from videodl.reconcile.download.podspec import MissingClaimError, claim_name, s3_target
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.reasons import Reason
from videodl.reconcile.download.settings import WorkerSettings
from videodl.workerapi import cleanup, s3
from videodl.workerapi.cleanup import ARCHIVE_FILE_NAME

__all__ = [
    "MAX_CLEANUP_ROUNDS",
    "archive_entries",
    "decide",
    "namespace_terminating",
    "owned_elsewhere",
]

#: Cleanup Pods tried before the finalizer is released anyway.
MAX_CLEANUP_ROUNDS: Final = 3


def decide(observation: Observation) -> Plan:  # noqa: PLR0911 - one exit per case
    """The next step for a download that has a deletion timestamp."""
    workers = observation.workers
    stop = tuple(p.name for p in workers if p.active and not p.deleting)
    if naming.FINALIZER not in observation.finalizers or any(p.active for p in workers):
        # Without the finalizer garbage collection does the rest; with it, files may still
        # be written until the worker has stopped.
        return Plan(delete_pods=stop)
    result = observation.status.result
    if result is not None and result.skipped:
        kept = Event.of(
            Reason.FILES_KEPT,
            "not deleting files: this download found the video already downloaded, the "
            "files are another download's",
        )
        return Plan(remove_finalizer=True, events=(kept,))
    try:
        target = s3_target(observation.download, observation.settings)
    except MissingClaimError:
        target = None
    if target is not None and result is not None:
        return _decide_s3(observation, result, target)
    safe, refused = cleanup.split_paths([f.path for f in result.files] if result else [])
    inside = _directory(observation.download.spec.output.sub_path)
    refused += [p for p in safe if not _within(p, inside)]
    safe = [p for p in safe if _within(p, inside)]
    shared = [p for p in safe if p in observation.shared_paths]
    safe = [p for p in safe if p not in observation.shared_paths]
    notes: tuple[Event, ...] = ()
    if refused:
        where = f"the download's directory {inside}" if inside else "the volume"
        notes += (
            Event.of(
                Reason.CLEANUP_REFUSED,
                f"not deleting paths outside {where}: " + ", ".join(refused),
            ),
        )
    if shared:
        notes += (
            Event.of(
                Reason.FILES_KEPT,
                "not deleting files other downloads on the claim also own: " + ", ".join(shared),
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
    if plan.cleanup_round is None or result is None or shared:
        # While another download keeps a file, the archive keeps the video recorded.
        return plan
    archive = archive_entries(observation.download.spec.output.sub_path, result)
    return dataclasses.replace(plan, cleanup_archive=archive)


def _object_inside(uri: str, target: s3.S3Target) -> bool:
    """Whether ``uri`` names an object of ``target``'s bucket below its prefix."""
    parsed = s3.parse_uri(uri)
    if parsed is None or parsed[0] != target.bucket:
        return False
    key = parsed[1]
    if cleanup.normalise(key) != key:
        return False
    return not target.key_prefix or key.startswith(target.key_prefix + "/")


def _decide_s3(observation: Observation, result: DownloadResult, target: s3.S3Target) -> Plan:
    """Deleting the objects of a download into a bucket: its own objects and markers.

    The cleanup Pod deletes them with the download's credentials Secret; an object another
    download also lists is kept, and so is the video's archive marker then.
    """
    uris = list(dict.fromkeys(f.path for f in result.files))
    refused = [u for u in uris if not _object_inside(u, target)]
    shared = [u for u in uris if u not in refused and u in observation.shared_paths]
    safe = [u for u in uris if u not in refused and u not in shared]
    notes: tuple[Event, ...] = ()
    if refused:
        where = target.uri(target.key_prefix + "/") if target.key_prefix else target.uri("")
        notes += (
            Event.of(
                Reason.CLEANUP_REFUSED,
                f"not deleting objects outside {where}: " + ", ".join(refused),
            ),
        )
    if shared:
        notes += (
            Event.of(
                Reason.FILES_KEPT,
                "not deleting objects other downloads also own: " + ", ".join(shared),
            ),
        )
    if not safe:
        return Plan(remove_finalizer=True, events=notes)
    markers: list[str] = []
    entries = archive_entries(None, result)
    if entries is not None and not shared:
        markers = [target.uri(s3.marker_key(target.key_prefix, e)) for e in entries[1]]
    return _cleanup_step(observation.cleanups, (*safe, *markers), notes)


def namespace_terminating(observation: Observation, paths: tuple[str, ...]) -> Plan:
    """The namespace is being deleted, so no cleanup Pod can start: release the finalizer.

    The files stay on the claim (which outlives the namespace only if its volume is
    retained); the Event names them.
    """
    left = ", ".join(paths) or "none"
    message = (
        f"namespace {observation.download.namespace} is being deleted: no cleanup Pod can "
        f"run there; files left: {left}"
    )
    return Plan(remove_finalizer=True, events=(Event.of(Reason.CLEANUP_FAILED, message),))


def owned_elsewhere(
    this: VideoDownload, others: Iterable[VideoDownload], settings: WorkerSettings
) -> frozenset[str]:
    """Result paths of ``this`` that other downloads on the same claim own and keep.

    Another download keeps a file while it exists, or while it is being deleted with
    ``deletionPolicy: Retain``; a download that found the video already there owns
    nothing.
    """
    mine = this.status.result if this.status else None
    if mine is None or not mine.files:
        return frozenset()
    try:
        claim = claim_name(this, settings)
    except MissingClaimError:
        return frozenset()
    paths = {f.path for f in mine.files}
    kept: set[str] = set()
    for other in others:
        result = other.status.result if other.status else None
        if result is None or result.skipped or other.namespace != this.namespace:
            continue
        if other.metadata.get("uid") == this.metadata.get("uid"):
            continue
        going = other.metadata.get("deletionTimestamp") is not None
        if going and other.spec.deletion_policy != DeletionPolicy.RETAIN:
            continue
        try:
            if claim_name(other, settings) != claim:
                continue
        except MissingClaimError:
            continue
        kept |= paths & {f.path for f in result.files}
    return frozenset(kept)


def _directory(sub_path: str | None) -> str:
    return posixpath.normpath(sub_path).strip("/") if sub_path else ""


def _within(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


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
