"""Reconciling one download: observe, decide (pure), then write in a safe order.

:class:`DownloadController` is the :class:`videodl.kube.controller.Controller` of
VideoDownloads: the machinery (view, work queue, lock per download, gates, retries, status
and metadata patches) is the generic one; this module adds the Pods each download owns, and
what a reconcile does. Each reconcile turns the view into an
:class:`~videodl.reconcile.download.plan.Observation`, asks the state machine
(:mod:`~videodl.reconcile.download.transitions`, and
:mod:`~videodl.reconcile.download.admission` for the admission loop) for a plan and carries it
out: the status first (the write-ahead record of a run), then metadata, Pod deletions and
creations, and Events.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from videodl.api.resource import VideoDownload
from videodl.api.status import Phase, VideoDownloadStatus
from videodl.breaker import sites
from videodl.kube import controller
from videodl.kube.cache import Key, OwnedStore
from videodl.kube.client import VIDEODOWNLOADS, ApiError, Kube
from videodl.kube.events import Recorder
from videodl.operator.metrics import Metrics
from videodl.operator.settings import Settings
from videodl.reconcile.download import (
    admission,
    deletion,
    failures,
    naming,
    patches,
    podspec,
    queueing,
    settle,
    transitions,
)
from videodl.reconcile.download.gate import AdmissionGate, Candidate, Verdict
from videodl.reconcile.download.plan import AttemptOutcome, Observation, Plan
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.download.record import DownloadRecord, record_of

__all__ = ["DownloadController"]

logger = logging.getLogger(__name__)

_MAX_STEPS: Final = 6


#: A download in these phases runs no more Pods of its recorded runs.
_FINAL_PHASES: Final = frozenset({Phase.SUCCEEDED, Phase.FAILED})


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _placed(view: PodView) -> bool:
    """The Pod holds a place on a node: scheduled there and not finished."""
    return view.node_name is not None and not view.finished


def _namespace_terminating(exc: ApiError) -> bool:
    """The apiserver refused a create because the namespace is being deleted."""
    return exc.status == 403 and "being terminated" in exc.message


class DownloadController(controller.Controller[DownloadRecord]):
    """The operator's view of VideoDownloads and their Pods, and the reconcile of one."""

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
        super().__init__(
            kube=kube,
            resource=VIDEODOWNLOADS,
            read=record_of,
            active=queueing.concerns_admission,
            errors=metrics.reconcile_errors,
        )
        self.settings = settings
        self.recorder = recorder
        self.metrics = metrics
        self.gate = gate
        self.clock = clock
        #: The worker and cleanup Pods, by the uid of the download owning them.
        self.pods: OwnedStore[PodView] = OwnedStore()
        #: Keys of the Pods on a node and not finished, for a quick "are nodes full of
        #: other workers?".
        self._placed_pods: set[Key] = set()
        #: The last views of worker Pods seen deleted, by the uid of their download then
        #: name, kept while the download may still name one as its recorded run.
        self._gone: dict[str, dict[str, PodView]] = {}
        #: Uids of downloads whose ended attempt is written but not yet told to the gate.
        self._telling: set[str] = set()

    # --- the view -------------------------------------------------------------------------

    def observe(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        if deleted:
            metadata = body.get("metadata") or {}
            key = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
            record = self.objects.get(key)
            if record is not None:
                self._gone.pop(record.uid, None)
        return super().observe(body, deleted=deleted)

    def observe_pod(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take a watched Pod into the view; returns the key of the download owning it."""
        view = PodView.from_pod(body)
        self.pods.put(view, deleted=deleted)
        if deleted:
            self._remember_gone(view)
        key = (view.namespace, view.name)
        current = self.pods.get(key)
        if current is not None and _placed(current):
            self._placed_pods.add(key)
        else:
            self._placed_pods.discard(key)
        if view.owner_name is None:
            return None
        return view.namespace, view.owner_name

    def forget_pod(self, key: Key) -> PodView | None:
        """Drop the view of a Pod a listing no longer has (deleted while nobody watched)."""
        gone = self.pods.forget(key)
        if gone is not None:
            self._remember_gone(gone)
        return gone

    def _remember_gone(self, view: PodView) -> None:
        if view.component == naming.COMPONENT_WORKER and view.owner_uid is not None:
            self._gone.setdefault(view.owner_uid, {})[view.name] = view

    def _gone_pods(self, record: DownloadRecord, model: VideoDownload) -> tuple[PodView, ...]:
        """The deleted worker Pods the download may still name; older runs are dropped."""
        gone = self._gone.get(record.uid)
        if not gone:
            return ()
        status = model.status or VideoDownloadStatus()
        if status.phase in _FINAL_PHASES:
            del self._gone[record.uid]
            return ()
        recorded = naming.run_of(status.worker_pod)
        if recorded is None:
            return ()
        for name in [n for n in gone if (naming.run_of(n) or 0) < recorded]:
            del gone[name]
        return tuple(gone.values())

    def _observation(self, record: DownloadRecord) -> Observation:
        model = record.model
        assert model is not None
        shared: frozenset[str] = frozenset()
        if record.deleting and naming.FINALIZER in record.finalizers:
            # Only a deletion reads other downloads: which of its files they still own.
            others = (
                other.model
                for (namespace, _), other in self.objects.items()
                if namespace == record.namespace and other.uid != record.uid
            )
            shared = deletion.owned_elsewhere(
                model, (o for o in others if o is not None), self.settings.worker
            )
        pods = tuple(self.pods.of(record.uid))
        return Observation(
            download=model,
            uid=record.uid,
            pods=pods,
            # Only a Pod not placed yet needs to know (see reconcile.startup).
            others_placed=any(p.active and p.node_name is None for p in pods)
            and self._others_placed(record.uid),
            gone=self._gone_pods(record, model),
            now=self.clock(),
            settings=self.settings.worker,
            backoff_jitter=self.settings.admission.backoff_jitter,
            shared_paths=shared,
        )

    def _others_placed(self, uid: str) -> bool:
        """Whether a Pod of another download is on a node and not finished (the set holds
        at most what the nodes fit; a view forgotten since is dropped here)."""
        for key in list(self._placed_pods):
            view = self.pods.get(key)
            if view is None or not _placed(view):
                self._placed_pods.discard(key)
            elif view.owner_uid != uid:
                return True
        return False

    def outcome_pending(self, uid: str) -> bool:
        """Whether the download's last attempt ended and the gate has not learnt how yet.

        Its status may already show it waiting for the next attempt; deciding on that
        before the gate knows the outcome would admit it on what the gate knew before.
        """
        return uid in self._telling

    # --- reconcile and admission ----------------------------------------------------------

    async def reconcile(self, key: Key) -> None:
        """Bring one download one or more steps closer to where it should be."""
        started = time.perf_counter()
        async with self.locks[key]:
            for _ in range(_MAX_STEPS):
                record = self.objects.get(key)
                if record is None:
                    break
                if record.problem is not None:
                    await self._write_invalid(key, record)
                    break
                observation = self._observation(record)
                plan = settle.settle(observation, transitions.decide)
                if plan.recheck_at is not None:
                    delay = (plan.recheck_at - observation.now).total_seconds()
                    self.queue.add_after(key, delay)
                if plan.empty or not await self._execute(key, record, observation, plan):
                    break
        self.metrics.reconcile_duration.observe(time.perf_counter() - started)

    async def admit(self, key: Key) -> bool:
        """Start the next run of ``key`` if it still waits; True if a run was recorded."""
        async with self.locks[key]:
            record = self.objects.get(key)
            if record is None or record.problem is not None:
                return False
            observation = self._observation(record)
            plan = admission.admit(observation)
            if plan is None:
                return False
            await self._execute(key, record, observation, plan)
            return True

    async def hold(self, key: Key) -> None:
        """Record a new download that was not admitted this time as Queued."""
        async with self.locks[key]:
            record = self.objects.get(key)
            if record is None or record.problem is not None:
                return
            observation = self._observation(record)
            plan = admission.hold(observation)
            if plan is not None:
                await self._execute(key, record, observation, plan)

    async def block(self, key: Key, verdict: Verdict) -> None:
        """Show ``key`` as Blocked with the gate's reason, if it still waits."""
        async with self.locks[key]:
            record = self.objects.get(key)
            if record is None or record.problem is not None:
                return
            observation = self._observation(record)
            plan = admission.block(observation, reason=verdict.reason, message=verdict.message)
            if plan is not None:
                await self._execute(key, record, observation, plan)

    # --- carrying out a plan ----------------------------------------------------------------

    async def _write_invalid(self, key: Key, record: DownloadRecord) -> None:
        status = record.status
        new = failures.decide_invalid(
            status,
            generation=record.generation,
            problem=record.problem or "the object cannot be read",
            now=self.clock(),
        )
        if new is None:
            return
        patch = patches.status_patch(status, new)
        if patch:
            await self.patch_status(key, patch)

    async def _execute(
        self, key: Key, record: DownloadRecord, observation: Observation, plan: Plan
    ) -> bool:
        """Carry out ``plan``; True when something was written (deciding again may help)."""
        if plan.attempt_ended is None or record.uid in self._telling:
            return await self._carry_out(key, record, observation, plan)
        # The status that ends the attempt is visible (through the watch) before the gate
        # has learnt the outcome: hold the download's next admission until it has.
        self._telling.add(record.uid)
        try:
            return await self._carry_out(key, record, observation, plan)
        finally:
            self._telling.discard(record.uid)
            self.changed.set()

    async def _carry_out(
        self, key: Key, record: DownloadRecord, observation: Observation, plan: Plan
    ) -> bool:
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
                await self.delete(key, uid=current.uid)
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
        if plan.attempt_ended is not None:
            await self._tell_gate(current, plan.attempt_ended)
        return wrote

    async def _write_status(
        self,
        key: Key,
        record: DownloadRecord,
        observation: Observation,
        status: VideoDownloadStatus,
    ) -> DownloadRecord | None:
        """Patch what changed in status; the record afterwards (None: the object is gone)."""
        patch = patches.status_patch(observation.status, status)
        if not patch:
            return record
        try:
            written = await self.patch_status(key, patch)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise
        self.metrics.record_status(observation.status, status)
        self.changed.set()
        return written

    async def _write_pods(
        self, key: Key, current: DownloadRecord, plan: Plan, *, new_attempt: bool
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
                self.pods.put(gone)
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
            try:
                await self._create_pod(namespace, manifest)
            except ApiError as exc:
                if not _namespace_terminating(exc):
                    raise
                await self._give_up_cleanup(key, current, plan)
            wrote = True
        return wrote

    async def _give_up_cleanup(self, key: Key, record: DownloadRecord, plan: Plan) -> None:
        """No Pod can be created in a terminating namespace: release the finalizer now."""
        observation = self._observation(record)
        released = deletion.namespace_terminating(observation, plan.cleanup_paths)
        logger.warning(
            "%s/%s: namespace is being deleted; releasing the finalizer, files left: %s",
            *key,
            ", ".join(plan.cleanup_paths) or "none",
        )
        await self._execute(key, record, observation, released)

    async def _patch_metadata(
        self, key: Key, current: DownloadRecord, plan: Plan
    ) -> DownloadRecord | None:
        metadata: dict[str, Any] = {}
        finalizers = list(current.finalizers)
        if plan.add_finalizer and naming.FINALIZER not in finalizers:
            metadata["finalizers"] = [*finalizers, naming.FINALIZER]
        if plan.remove_finalizer and naming.FINALIZER in finalizers:
            metadata["finalizers"] = [f for f in finalizers if f != naming.FINALIZER]
        if plan.retry_handled is not None:
            metadata["annotations"] = {naming.ANNOTATION_RETRY_HANDLED: plan.retry_handled}
        if not metadata:
            return current
        return await self.patch_metadata(key, metadata, resource_version=current.resource_version)

    async def _create_pod(self, namespace: str, manifest: Mapping[str, Any]) -> None:
        try:
            created = await self.kube.create_pod(namespace, manifest)
        except ApiError as exc:
            if exc.conflict:
                return  # created before (by an earlier operator process): the watch brings it
            raise
        self.pods.put(PodView.from_pod(created))

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
            # Mostly found already: the gate looked the URL up in a thread when it was
            # considered, and at most a millisecond of matching otherwise.
            extractor=sites.extractor_hint(model.spec.url),
        )
        try:
            await self._create_pod(key[0], manifest)
        except ApiError as exc:
            if not exc.rejected:
                raise
            logger.warning("worker Pod for %s/%s refused: %s", *key, exc.message)
            observation = self._observation(record)
            plan = admission.pod_rejected(observation, exc.message or str(exc))
            await self._execute(key, record, observation, plan)
            return False
        return True

    async def _tell_gate(self, record: DownloadRecord, ended: AttemptOutcome) -> None:
        candidate = Candidate(
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            url=record.url,
            priority=record.priority,
            attempt=ended.attempt,
        )
        try:
            await self.gate.attempt_finished(candidate, ended.outcome)
        except Exception:
            logger.exception("the admission gate failed to record an outcome of %s", candidate.name)
