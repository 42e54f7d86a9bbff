"""Reconciling one download: observe, decide (pure), then write in a safe order.

The controller keeps the in-memory view of VideoDownloads and their Pods (fed by kopf's
watches and by the responses to its own writes), a work queue of downloads to reconcile,
and one lock per download so a reconcile and an admission never interleave. Each reconcile
turns the view into an :class:`~videodl.reconcile.download.transitions.Observation`, asks
:mod:`~videodl.reconcile.download.transitions` for a plan and carries it out: the status first (the
write-ahead record of a run), then metadata, Pod deletions and creations, and Events.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from videodl.api.resource import VideoDownload
from videodl.api.status import VideoDownloadStatus
from videodl.kube.cache import Store
from videodl.kube.client import ApiError, Kube
from videodl.kube.events import Recorder
from videodl.kube.workqueue import WorkQueue
from videodl.operator.metrics import Metrics
from videodl.operator.settings import Settings
from videodl.reconcile.download import naming, patches, podspec, transitions
from videodl.reconcile.download.gate import AdmissionGate, Candidate, Verdict
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.record import DownloadRecord, record_of

__all__ = ["Controller", "DownloadRecord", "Key", "record_of"]

Key = tuple[str, str]
"""(namespace, name) of a VideoDownload."""

logger = logging.getLogger(__name__)

_MAX_STEPS = 6


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_of(body: Mapping[str, Any]) -> Key:
    metadata = body.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


class Controller:
    """The operator's state and the reconcile of one download."""

    def __init__(
        self,
        *,
        settings: Settings,
        kube: Kube,
        recorder: Recorder,
        metrics: Metrics,
        gate: AdmissionGate,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.recorder = recorder
        self.metrics = metrics
        self.gate = gate
        self.clock = clock
        self.downloads: Store[Key, DownloadRecord] = Store()
        self.pods: Store[Key, PodView] = Store()
        self.queue: WorkQueue[Key] = WorkQueue()
        #: Set when something changed that may let the admission loop start a download.
        self.changed = asyncio.Event()
        #: Set once kopf has listed every watched object (its indexes are complete).
        self.ready = asyncio.Event()
        #: Set while this replica may write (always, unless several replicas elect one).
        self.leading = asyncio.Event()
        self._pods_by_owner: dict[str, set[Key]] = collections.defaultdict(set)
        self._locks: dict[Key, asyncio.Lock] = {}
        self._failures: dict[Key, int] = {}

    # --- the view -------------------------------------------------------------------------

    def observe_download(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        """Take a watched VideoDownload into the view (or out of it, when deleted)."""
        key = _key_of(body)
        version = (body.get("metadata") or {}).get("resourceVersion")
        if deleted:
            self.downloads.delete(key, version)
            self._locks.pop(key, None)
            self._failures.pop(key, None)
        elif self.downloads.version(key) != version or key not in self.downloads:
            self.downloads.put(key, version, record_of(body))
        return key

    def observe_pod(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take a watched Pod into the view; returns the key of the download owning it."""
        view = PodView.from_pod(body)
        self._put_pod(view, deleted=deleted)
        if view.owner_name is None:
            return None
        return view.namespace, view.owner_name

    def _put_pod(self, view: PodView, *, deleted: bool = False) -> None:
        pod_key = (view.namespace, view.name)
        if deleted:
            self.pods.delete(pod_key, view.resource_version)
            if view.owner_uid is not None:
                owned = self._pods_by_owner.get(view.owner_uid)
                if owned is not None:
                    owned.discard(pod_key)
                    if not owned:
                        del self._pods_by_owner[view.owner_uid]
        elif self.pods.put(pod_key, view.resource_version, view) and view.owner_uid:
            self._pods_by_owner[view.owner_uid].add(pod_key)

    def pods_of(self, uid: str) -> list[PodView]:
        """The Pods owned by the download with ``uid``."""
        pods = (self.pods.get(k) for k in self._pods_by_owner.get(uid, ()))
        return [p for p in pods if p is not None and p.owner_uid == uid]

    def _store_download(self, key: Key, body: Mapping[str, Any]) -> DownloadRecord:
        record = record_of(body)
        self.downloads.put(key, record.resource_version, record)
        return self.downloads.get(key) or record

    def _lock(self, key: Key) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def _observation(self, record: DownloadRecord) -> transitions.Observation:
        model = record.model
        assert model is not None
        return transitions.Observation(
            download=model,
            uid=record.uid,
            pods=tuple(self.pods_of(record.uid)),
            now=self.clock(),
            settings=self.settings.worker,
            backoff_jitter=self.settings.admission.backoff_jitter,
        )

    # --- reconcile workers ----------------------------------------------------------------

    async def run_worker(self) -> None:
        """Reconcile queued keys forever (start several of these)."""
        await self.ready.wait()
        await self.leading.wait()
        while True:
            key = await self.queue.get()
            try:
                await self.reconcile(key)
                self._failures.pop(key, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                delay = min(0.5 * 2 ** (failures - 1), 60.0)
                self.metrics.reconcile_errors.inc()
                logger.exception("reconciling %s/%s failed; retrying in %.1fs", *key, delay)
                self.queue.add_after(key, delay)
            finally:
                self.queue.done(key)

    async def reconcile(self, key: Key) -> None:
        """Bring one download one or more steps closer to where it should be."""
        started = time.perf_counter()
        async with self._lock(key):
            for _ in range(_MAX_STEPS):
                record = self.downloads.get(key)
                if record is None:
                    break
                if record.problem is not None:
                    await self._write_invalid(key, record)
                    break
                observation = self._observation(record)
                plan = transitions.decide(observation)
                if plan.empty or not await self._execute(key, record, observation, plan):
                    break
        self.metrics.reconcile_duration.observe(time.perf_counter() - started)

    async def admit(self, key: Key) -> bool:
        """Start the next run of ``key`` if it still waits; True if a run was recorded."""
        async with self._lock(key):
            record = self.downloads.get(key)
            if record is None or record.problem is not None:
                return False
            observation = self._observation(record)
            plan = transitions.admit(observation)
            if plan is None:
                return False
            await self._execute(key, record, observation, plan)
            return True

    async def block(self, key: Key, verdict: Verdict) -> None:
        """Show ``key`` as Blocked with the gate's reason, if it still waits."""
        async with self._lock(key):
            record = self.downloads.get(key)
            if record is None or record.problem is not None:
                return
            observation = self._observation(record)
            plan = transitions.block(observation, reason=verdict.reason, message=verdict.message)
            if plan is not None:
                await self._execute(key, record, observation, plan)

    # --- carrying out a plan ----------------------------------------------------------------

    async def _write_invalid(self, key: Key, record: DownloadRecord) -> None:
        status = record.status
        new = transitions.decide_invalid(
            status,
            generation=record.generation,
            problem=record.problem or "the object cannot be read",
            now=self.clock(),
        )
        if new is None:
            return
        patch = patches.status_patch(status, new)
        if patch:
            body = await self.kube.patch_download_status(key[0], key[1], patch)
            self._store_download(key, body)

    async def _execute(
        self,
        key: Key,
        record: DownloadRecord,
        observation: transitions.Observation,
        plan: transitions.Plan,
    ) -> bool:
        """Carry out ``plan``; True when something was written (deciding again may help)."""
        current = record
        wrote = False
        if plan.status is not None:
            written = await self._write_status(key, record, observation, plan.status)
            if written is None:
                return False  # the object is gone
            wrote = written is not record
            current = written
        if plan.add_finalizer or plan.remove_finalizer or plan.retry_handled:
            patched = await self._patch_metadata(key, current, plan)
            if patched is None:
                return wrote
            current = patched
            wrote = True
        new_attempt = plan.status is not None and (plan.status.attempts or 0) > (
            observation.status.attempts or 0
        )
        wrote = await self._write_pods(key, current, plan, new_attempt=new_attempt) or wrote
        if plan.delete_download:
            try:
                await self.kube.delete_download(key[0], key[1], current.uid)
            except ApiError as exc:
                if not (exc.not_found or exc.conflict):
                    raise
            wrote = True
        if plan.events:
            self.recorder.record(
                namespace=key[0],
                name=key[1],
                uid=current.uid,
                resource_version=current.resource_version,
                events=plan.events,
            )
        if plan.outcome is not None:
            await self._tell_gate(current, plan.outcome)
        return wrote

    async def _write_status(
        self,
        key: Key,
        record: DownloadRecord,
        observation: transitions.Observation,
        status: VideoDownloadStatus,
    ) -> DownloadRecord | None:
        """Patch what changed in status; the record afterwards (None: the object is gone)."""
        patch = patches.status_patch(observation.status, status)
        if not patch:
            return record
        try:
            body = await self.kube.patch_download_status(key[0], key[1], patch)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise
        self.metrics.record_status(observation.status, status)
        self.changed.set()
        return self._store_download(key, body)

    async def _write_pods(
        self, key: Key, current: DownloadRecord, plan: transitions.Plan, *, new_attempt: bool
    ) -> bool:
        """Pod deletions, then the worker or cleanup Pod to create; True if any was written.

        ``new_attempt``: the plan started a new attempt (counted once its Pod exists).
        """
        namespace = key[0]
        for pod_name in plan.delete_pods:
            pod = self.pods.get((namespace, pod_name))
            deleted = await self.kube.delete_pod(namespace, pod_name, pod.uid if pod else None)
            if pod is not None:
                gone = (
                    PodView.from_pod(deleted)
                    if deleted
                    else dataclasses.replace(pod, deleting=True)
                )
                self._put_pod(gone)
        wrote = bool(plan.delete_pods)
        if plan.create_pod is None and plan.cleanup_round is None:
            return wrote
        model = current.model
        if model is None:
            return wrote
        if plan.create_pod is not None:
            created = await self._create_worker(key, current, model, plan.create_pod)
            if created and new_attempt:
                self.metrics.attempts.inc()
            wrote = True
        if plan.cleanup_round is not None:
            manifest = podspec.cleanup_pod(
                model,
                uid=current.uid,
                round_=plan.cleanup_round,
                paths=plan.cleanup_paths,
                settings=self.settings.worker,
                instance=self.settings.instance,
                archive=plan.cleanup_archive,
            )
            manifest["metadata"]["labels"][naming.LABEL_RUN] = str(plan.cleanup_round)
            await self._create_pod(namespace, manifest)
            wrote = True
        return wrote

    async def _patch_metadata(
        self, key: Key, current: DownloadRecord, plan: transitions.Plan
    ) -> DownloadRecord | None:
        metadata: dict[str, Any] = {"resourceVersion": current.resource_version}
        finalizers = list(current.finalizers)
        if plan.add_finalizer and naming.FINALIZER not in finalizers:
            metadata["finalizers"] = [*finalizers, naming.FINALIZER]
        if plan.remove_finalizer and naming.FINALIZER in finalizers:
            metadata["finalizers"] = [f for f in finalizers if f != naming.FINALIZER]
        if plan.retry_handled is not None:
            metadata["annotations"] = {naming.ANNOTATION_RETRY_HANDLED: plan.retry_handled}
        if len(metadata) == 1:
            return current
        try:
            body = await self.kube.patch_download(key[0], key[1], {"metadata": metadata})
        except ApiError as exc:
            if exc.conflict:
                # Changed since it was read: decide again on the newer object.
                self.queue.add(key)
                return None
            if exc.not_found:
                return None
            raise
        return self._store_download(key, body)

    async def _create_pod(self, namespace: str, manifest: Mapping[str, Any]) -> None:
        try:
            created = await self.kube.create_pod(namespace, manifest)
        except ApiError as exc:
            if exc.conflict:
                return  # created before (by an earlier operator process): the watch brings it
            raise
        self._put_pod(PodView.from_pod(created))

    async def _create_worker(
        self,
        key: Key,
        record: DownloadRecord,
        model: VideoDownload,
        identity: podspec.PodIdentity,
    ) -> bool:
        """Create the worker Pod of ``identity``; False when the apiserver refused it."""
        manifest = podspec.worker_pod(
            model,
            identity,
            settings=self.settings.worker,
            instance=self.settings.instance,
        )
        try:
            await self._create_pod(key[0], manifest)
        except ApiError as exc:
            if not exc.rejected:
                raise
            logger.warning("worker Pod for %s/%s refused: %s", *key, exc.message)
            observation = self._observation(record)
            plan = transitions.pod_rejected(observation, exc.message or str(exc))
            await self._execute(key, record, observation, plan)
            return False
        return True

    async def _tell_gate(self, record: DownloadRecord, result: transitions.AttemptOutcome) -> None:
        candidate = Candidate(
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            url=record.url,
            priority=record.priority,
            attempt=result.attempt,
        )
        try:
            await self.gate.attempt_finished(candidate, result.outcome)
        except Exception:
            logger.exception("the admission gate failed to record an outcome of %s", candidate.name)
