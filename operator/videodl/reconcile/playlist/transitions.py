"""The VideoPlaylist's state machine: an observation in, a plan out. Pure: no I/O.

A playlist goes through two stages. **Indexing**: an indexer Pod per attempt enumerates
the sources into the index chunks; a failed attempt is retried with the template's
backoff while attempts are left (``spec.template.retry``), a permanent failure or the
last attempt ends the playlist ``Failed``. The status records the attempt and the Pod's
name before the Pod is created (the write-ahead record a restarted operator follows).
**Children**: once the chunks of the current enumeration are read, the selected entries
missing a child get one, a batch per step; children whose ``suspend`` differs from the
playlist's are patched; the counts come from the children as watched.

The phase then follows the children: ``Suspended`` while ``spec.suspend``; ``Failed``
once more children failed than ``spec.maxFailed`` allows; ``Running`` while a child is
missing or unfinished; ``Succeeded`` when every selected entry has a finished child.
A new value of the annotation ``videodl.dev/reindex`` starts a new enumeration that adds
the entries that appeared since; existing children are never touched by it.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from collections.abc import Mapping
from typing import Any, Final

from videodl.api.playlist import (
    PlaylistFailure,
    PlaylistPhase,
    PlaylistProgress,
    VideoPlaylist,
    VideoPlaylistStatus,
)
from videodl.api.status import Failure, FailureClass, Phase
from videodl.core import backoff
from videodl.reconcile.download import outcome
from videodl.reconcile.download.patches import merge_diff
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.phased import with_phase
from videodl.reconcile.playlist import naming, selection
from videodl.reconcile.playlist.children import ChildView, summarize
from videodl.reconcile.playlist.settings import IndexerSettings
from videodl.workerapi import index
from videodl.workerapi.index import Entry

__all__ = [
    "CONDITION_PHASE",
    "IndexStart",
    "Observation",
    "Plan",
    "blocked",
    "decide",
    "invalid",
    "patch_of",
    "started",
    "status_json",
]

#: The download phase whose conditions a playlist phase shares (core.conditions.POLICY).
CONDITION_PHASE: Final = {
    PlaylistPhase.PENDING: Phase.PENDING,
    PlaylistPhase.INDEXING: Phase.RUNNING,
    PlaylistPhase.BACKING_OFF: Phase.BACKING_OFF,
    PlaylistPhase.BLOCKED: Phase.BLOCKED,
    PlaylistPhase.RUNNING: Phase.RUNNING,
    PlaylistPhase.SUCCEEDED: Phase.SUCCEEDED,
    PlaylistPhase.FAILED: Phase.FAILED,
    PlaylistPhase.SUSPENDED: Phase.SUSPENDED,
}


@dataclasses.dataclass(frozen=True)
class Observation:
    """What the operator sees of one playlist, now."""

    playlist: VideoPlaylist
    uid: str
    generation: int
    annotations: Mapping[str, str]
    #: The indexer Pods it owns.
    pods: tuple[PodView, ...]
    children: tuple[ChildView, ...]
    #: The entries of the last complete enumeration (None: not read yet, or none done).
    entries: tuple[Entry, ...] | None
    #: Entries that enumeration found in all.
    found: int | None
    now: datetime.datetime
    settings: IndexerSettings = dataclasses.field(default_factory=IndexerSettings)
    jitter: float = 0.2

    @property
    def status(self) -> VideoPlaylistStatus:
        return self.playlist.status or VideoPlaylistStatus()


@dataclasses.dataclass(frozen=True)
class IndexStart:
    """An indexer Pod to create, after the status recorded it."""

    pod_name: str
    run: int
    attempt: int
    chunks: tuple[str, ...]
    #: The ``videodl.dev/reindex`` value this enumeration answers, if any.
    reindex: str | None = None


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to write, in order: status, index chunks and Pod, children, suspends, Event."""

    status: VideoPlaylistStatus | None = None
    #: Ask the admission gate (the site's breaker) before this start; write it if allowed.
    start_index: IndexStart | None = None
    #: Create (or recreate) the indexer Pod the status names, without asking again.
    resume_index: IndexStart | None = None
    #: The outcome of an indexer attempt, for the gate (success or failure).
    index_ended: outcome.Outcome | None = None
    #: Read the chunks of the enumeration that just finished.
    read_chunks: bool = False
    create_children: tuple[Entry, ...] = ()
    #: Children whose ``spec.suspend`` must become the playlist's.
    suspend_children: tuple[str, ...] = ()
    suspend: bool = False
    event: tuple[str, str, str] | None = None
    recheck_after: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.status is None
            and self.start_index is None
            and self.resume_index is None
            and not self.read_chunks
            and not self.create_children
            and not self.suspend_children
        )


def status_json(status: VideoPlaylistStatus) -> dict[str, Any]:
    """A status as the apiserver stores it: camelCase, unset fields left out."""
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def _with_phase(
    observation: Observation,
    status: VideoPlaylistStatus,
    phase: PlaylistPhase,
    reason: str,
    message: str,
) -> VideoPlaylistStatus:
    return with_phase(
        status,
        phase=phase,
        shares=CONDITION_PHASE[phase],
        reason=reason,
        message=message,
        generation=observation.generation,
        now=observation.now,
    )


def _event(
    before: PlaylistPhase | None, after: PlaylistPhase, reason: str, message: str
) -> tuple[str, str, str] | None:
    if before == after:
        return None
    kind = "Warning" if after in (PlaylistPhase.FAILED, PlaylistPhase.BACKING_OFF) else "Normal"
    return kind, reason, message


def invalid(observation: Observation, problem: str) -> VideoPlaylistStatus:
    """The status of a playlist whose spec the models refuse: Failed, at once."""
    return _with_phase(
        observation, observation.status, PlaylistPhase.FAILED, "InvalidSpec", problem
    )


def _index_start(
    observation: Observation, run: int, attempt: int, reindex: str | None = None
) -> IndexStart:
    playlist = observation.playlist
    return IndexStart(
        reindex=reindex,
        pod_name=naming.indexer_pod_name(playlist.name, observation.uid, run, attempt),
        run=run,
        attempt=attempt,
        chunks=naming.chunk_names(
            playlist.name, observation.uid, index.chunk_count(index.HARD_CAP)
        ),
    )


def _retry_delay(observation: Observation, attempt: int) -> float:
    retry = observation.playlist.spec.template.retry
    policy = backoff.BackoffPolicy(
        initial_seconds=retry.backoff.initial_seconds,
        factor=retry.backoff.factor,
        max_seconds=retry.backoff.max_seconds,
        jitter=observation.jitter,
    )
    rng = random.Random(f"{observation.uid}/index/{attempt}")  # noqa: S311 - jitter
    return backoff.delay_seconds(policy, attempt, rng)


def _indexing(observation: Observation, status: VideoPlaylistStatus) -> Plan:
    """The plan while the current enumeration is not done."""
    run = status.index_run or 1
    attempt = status.index_attempts or 0
    phase = status.phase
    if phase in (PlaylistPhase.PENDING, PlaylistPhase.BLOCKED):
        # Not started, or the gate said no: ask the gate for the next attempt.
        return Plan(start_index=_index_start(observation, run, attempt + 1))
    if phase is PlaylistPhase.BACKING_OFF:
        return _backing_off(observation, status, run, attempt)
    pod = next((p for p in observation.pods if p.name == status.indexer_pod), None)
    if pod is None:
        # Recorded but not seen: create exactly that Pod (AlreadyExists is fine).
        return Plan(resume_index=_index_start(observation, run, attempt))
    ended = outcome.of_pod(pod)
    if ended is None:
        return Plan()
    if isinstance(ended, outcome.Succeeded):
        done = status.model_copy(
            update={
                "indexed_run": run,
                "last_enumerated": observation.now,
                "last_failure": None,
                "next_attempt_time": None,
            }
        )
        return Plan(status=done, read_chunks=True, index_ended=ended)
    if isinstance(ended, outcome.Interrupted):
        failure = Failure.model_validate(
            {"class": FailureClass.TRANSIENT, "reason": ended.reason, "message": ended.message}
        )
    else:
        failure = ended.failure
    return _index_failed(observation, status, failure, attempt, ended)


def _index_failed(
    observation: Observation,
    status: VideoPlaylistStatus,
    failure: Failure,
    attempt: int,
    ended: outcome.Outcome,
) -> Plan:
    max_attempts = observation.playlist.spec.template.retry.max_attempts
    last = PlaylistFailure.model_validate(
        {
            "class": failure.failure_class.value,
            "reason": failure.reason,
            "message": failure.message[:4096],
        }
    )
    if failure.failure_class is FailureClass.PERMANENT or attempt >= max_attempts:
        message = f"indexing failed ({failure.failure_class} {failure.reason}): {failure.message}"
        new = _with_phase(
            observation,
            status.model_copy(update={"last_failure": last, "next_attempt_time": None}),
            PlaylistPhase.FAILED,
            failure.reason,
            message,
        )
        return Plan(
            status=new,
            index_ended=ended,
            event=_event(status.phase, PlaylistPhase.FAILED, failure.reason, message),
        )
    delay = _retry_delay(observation, attempt)
    when = (observation.now + datetime.timedelta(seconds=delay)).replace(microsecond=0)
    message = (
        f"indexing attempt {attempt} of {max_attempts} failed ({failure.failure_class} "
        f"{failure.reason}); next attempt at {when.isoformat()}"
    )
    new = _with_phase(
        observation,
        status.model_copy(update={"last_failure": last, "next_attempt_time": when}),
        PlaylistPhase.BACKING_OFF,
        "BackingOff",
        message,
    )
    return Plan(
        status=new,
        index_ended=ended,
        event=_event(status.phase, PlaylistPhase.BACKING_OFF, "BackingOff", message),
        recheck_after=delay,
    )


def _backing_off(
    observation: Observation, status: VideoPlaylistStatus, run: int, attempt: int
) -> Plan:
    when = status.next_attempt_time
    if when is not None and when > observation.now:
        return Plan(recheck_after=(when - observation.now).total_seconds())
    return Plan(start_index=_index_start(observation, run, attempt + 1))


def _children(observation: Observation, status: VideoPlaylistStatus) -> Plan:
    """The plan once the enumeration is done: create, suspend and count children."""
    spec = observation.playlist.spec
    if observation.entries is None:
        return Plan(read_chunks=True)
    try:
        selected = selection.select(observation.entries, spec)
    except ValueError as exc:
        new = invalid(observation, str(exc))
        return Plan(
            status=new, event=_event(status.phase, PlaylistPhase.FAILED, "InvalidSpec", str(exc))
        )
    children = {c.name: c for c in observation.children}
    room = 0 if spec.dry_run else max(0, spec.max_items - len(children))
    missing = [
        e for e in selected if naming.child_name(observation.playlist.name, e.id) not in children
    ]
    create = tuple(missing[: min(room, observation.settings.batch_size)])
    desired_suspend = spec.suspend or bool(spec.template.suspend)
    to_suspend = tuple(
        c.name for c in observation.children if c.suspend != desired_suspend and not c.finished
    )[: observation.settings.batch_size]
    summary = summarize(observation.children)
    total = max(len(selected), summary.created)
    outstanding = bool(missing) and room > 0
    failed = summary.counts.failed
    if spec.suspend:
        phase, reason = PlaylistPhase.SUSPENDED, "Suspended"
        message = "spec.suspend is true: every child is suspended"
    elif spec.max_failed is not None and failed > spec.max_failed:
        phase, reason = PlaylistPhase.FAILED, "ChildrenFailed"
        message = f"{failed} children failed, more than spec.maxFailed ({spec.max_failed})"
    elif spec.dry_run:
        phase, reason = PlaylistPhase.SUCCEEDED, "DryRun"
        message = f"spec.dryRun is true: {len(selected)} entries selected, no child created"
    elif outstanding or summary.finished < summary.created:
        phase, reason = PlaylistPhase.RUNNING, "Running"
        message = f"{summary.finished} of {total} children finished"
    else:
        phase, reason = PlaylistPhase.SUCCEEDED, "Succeeded"
        message = (
            f"{summary.counts.succeeded} of {total} children succeeded, {failed} failed"
            if total
            else "no entry was selected"
        )
    percent = round(100.0 * summary.finished / total, 1) if total else 100.0
    counted = status.model_copy(
        update={
            "entries": observation.found,
            "recorded": len(observation.entries),
            "selected": len(selected),
            "created": summary.created,
            "children": summary.counts,
            "bytes": summary.bytes,
            "progress": PlaylistProgress(
                done=summary.finished,
                total=total,
                text=f"{summary.finished}/{total}",
                percent=min(percent, 100.0),
            ),
            "progress_text": f"{summary.finished}/{total}",
        }
    )
    new = _with_phase(observation, counted, phase, reason, message)
    return Plan(
        status=new if status_json(new) != status_json(observation.status) else None,
        create_children=create,
        suspend_children=to_suspend,
        suspend=desired_suspend,
        event=_event(observation.status.phase, phase, reason, message),
    )


def decide(observation: Observation) -> Plan:
    """The next step for one playlist."""
    status = observation.status
    reindex = observation.annotations.get(naming.ANNOTATION_REINDEX)
    if reindex and reindex != status.reindex_handled and status.indexed_run:
        # A new enumeration; the children stay as they are.
        run = (status.index_run or 1) + 1
        return Plan(start_index=_index_start(observation, run, 1, reindex))
    if status.phase is None:
        pending = _with_phase(
            observation,
            status.model_copy(update={"index_run": 1, "index_attempts": 0}),
            PlaylistPhase.PENDING,
            "Pending",
            "waiting to enumerate the sources",
        )
        if reindex:
            pending = pending.model_copy(update={"reindex_handled": reindex})
        return Plan(status=pending)
    if status.phase is PlaylistPhase.FAILED and status.indexed_run != status.index_run:
        return Plan()  # indexing failed for good: a reindex annotation starts again
    if status.indexed_run is not None and status.indexed_run == status.index_run:
        return _children(observation, status)
    return _indexing(observation, status)


def started(observation: Observation, start: IndexStart) -> VideoPlaylistStatus:
    """The write-ahead status of an indexer attempt about to start."""
    status = observation.status
    message = f"indexer Pod {start.pod_name} enumerates the sources (attempt {start.attempt})"
    update: dict[str, Any] = {
        "index_run": start.run,
        "index_attempts": start.attempt,
        "indexer_pod": start.pod_name,
        "next_attempt_time": None,
    }
    if start.reindex is not None:
        update["reindex_handled"] = start.reindex
    new = status.model_copy(update=update)
    return _with_phase(observation, new, PlaylistPhase.INDEXING, "Indexing", message)


def blocked(
    observation: Observation, start: IndexStart, reason: str, message: str
) -> VideoPlaylistStatus:
    """The status of a playlist whose indexer attempt the gate holds back."""
    update: dict[str, Any] = {"index_run": start.run, "index_attempts": start.attempt - 1}
    if start.reindex is not None:
        update["reindex_handled"] = start.reindex
    new = observation.status.model_copy(update=update)
    return _with_phase(observation, new, PlaylistPhase.BLOCKED, reason, message)


def patch_of(old: VideoPlaylistStatus, new: VideoPlaylistStatus) -> dict[str, Any]:
    """``{"status": <merge diff>}``, or empty when nothing changed."""
    diff = merge_diff(status_json(old), status_json(new))
    return {"status": diff} if diff else {}
