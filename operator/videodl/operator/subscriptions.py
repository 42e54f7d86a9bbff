"""Reconciling one subscription: observe, decide (pure), then write in a safe order.

:class:`SubscriptionController` is the :class:`videodl.kube.controller.Controller` of
VideoSubscriptions. Besides the subscriptions it keeps their scans (VideoPlaylists) and
downloads by their owner's uid, each subscription's ledger of seen videos (read once from
its ConfigMap, then kept in step with what it writes) and the entries of the scan being
taken. A reconcile turns these into an
:class:`~videodl.reconcile.subscription.transitions.Observation`, asks
:func:`~videodl.reconcile.subscription.transitions.decide` for a plan and carries it out:
new downloads, then the ledger, then scans, then prunes, then the status, then Events.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from videodl.api import subscription as subscription_api
from videodl.api.resource import GROUP, VERSION
from videodl.api.subscription import VideoSubscription
from videodl.kube import controller
from videodl.kube.cache import Key, OwnedStore
from videodl.kube.client import (
    FIELD_MANAGER,
    MERGE_PATCH,
    VIDEODOWNLOADS,
    ApiError,
    Kube,
    Resource,
    core_path,
)
from videodl.operator.metrics import Metrics
from videodl.operator.playlists import VIDEOPLAYLISTS
from videodl.operator.posting import EventPoster
from videodl.operator.settings import Settings
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.subscription import ledger, manifests, naming, transitions
from videodl.reconcile.subscription.ledger import Ledger
from videodl.reconcile.subscription.record import SubscriptionRecord, record_of
from videodl.reconcile.subscription.views import DownloadView, ScanView
from videodl.workerapi import index
from videodl.workerapi.index import Entry

__all__ = ["VIDEOSUBSCRIPTIONS", "SubscriptionController"]

logger = logging.getLogger(__name__)

#: Where VideoSubscriptions are written.
VIDEOSUBSCRIPTIONS: Final = Resource(GROUP, VERSION, subscription_api.PLURAL)
_MAX_STEPS: Final = 8
_CONCURRENCY: Final = 8


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SubscriptionController(controller.Controller[SubscriptionRecord]):
    """The operator's view of VideoSubscriptions, their scans and downloads, and a reconcile."""

    def __init__(
        self,
        *,
        settings: Settings,
        kube: Kube,
        events: Kube,
        metrics: Metrics,
        missed_warning: int = transitions.DEFAULT_MISSED_WARNING,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        super().__init__(
            kube=kube,
            resource=VIDEOSUBSCRIPTIONS,
            read=record_of,
            errors=metrics.reconcile_errors,
        )
        self.settings = settings
        self.metrics = metrics
        self.missed_warning = missed_warning
        self.clock = clock
        self.scans: OwnedStore[ScanView] = OwnedStore()
        self.downloads: OwnedStore[DownloadView] = OwnedStore()
        #: Each subscription's ledger, by uid, once read.
        self._ledgers: dict[str, Ledger] = {}
        #: The entries of the scan being taken, by subscription uid.
        self._entries: dict[str, tuple[str, tuple[Entry, ...]]] = {}
        self.poster = EventPoster(
            events, kind=subscription_api.KIND, instance=settings.instance, clock=clock
        )

    # --- the view -------------------------------------------------------------------------

    def observe_subscription(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        key = self.observe(body, deleted=deleted)
        if deleted:
            uid = str((body.get("metadata") or {}).get("uid", ""))
            self._ledgers.pop(uid, None)
            self._entries.pop(uid, None)
        return key

    def _owner_key(self, namespace: str, metadata: Mapping[str, Any]) -> Key | None:
        for ref in metadata.get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == subscription_api.KIND:
                return namespace, str(ref.get("name", ""))
        return None

    def observe_scan(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take a scan into the view; the key of its subscription."""
        view = ScanView.from_object(body)
        self.scans.put(view, deleted=deleted)
        return self._owner_key(view.namespace, body.get("metadata") or {})

    def observe_download(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take a subscription's download into the view; the key of its subscription."""
        view = DownloadView.from_object(body)
        self.downloads.put(view, deleted=deleted)
        return self._owner_key(view.namespace, body.get("metadata") or {})

    # --- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: Key) -> None:
        """Bring one subscription one or more steps closer to where it should be."""
        async with self.locks[key]:
            for _ in range(_MAX_STEPS):
                record = self.objects.get(key)
                if record is None or record.deleting:
                    break
                model = record.model
                if model is None:
                    await self._write_invalid(key, record)
                    break
                seen = await self._ledger(record)
                observation = transitions.Observation(
                    subscription=model,
                    uid=record.uid,
                    generation=record.generation,
                    created=record.created,
                    scans=tuple(self.scans.of(record.uid)),
                    downloads=tuple(self.downloads.of(record.uid)),
                    ledger=seen,
                    entries=self._entries.get(record.uid),
                    now=self.clock(),
                    missed_warning=self.missed_warning,
                    stored_status=record.stored_status,
                )
                plan = transitions.decide(observation)
                if plan.recheck_after is not None and plan.recheck_after > 0:
                    self.queue.add_after(key, plan.recheck_after)
                if plan.empty:
                    break
                await self._execute(key, record, model, observation, plan)

    async def _write_invalid(self, key: Key, record: SubscriptionRecord) -> None:
        model = VideoSubscription.model_construct(
            metadata={"name": record.name, "namespace": record.namespace, "uid": record.uid},
            status=record.status,
        )
        observation = transitions.Observation(
            subscription=model,
            uid=record.uid,
            generation=record.generation,
            created=record.created,
            scans=(),
            downloads=(),
            ledger=Ledger(),
            entries=None,
            now=self.clock(),
        )
        problem = record.problem or "the object cannot be read"
        new = transitions.invalid(observation, problem)
        old = record.status
        if old.phase == new.phase and old.conditions and old.conditions[0].message == problem:
            return
        await self._patch(key, transitions.patch_of(record.stored_status, new))
        self._publish_phases()
        self.poster.post(record, ("Warning", "InvalidSpec", problem))

    async def _patch(self, key: Key, patch: Mapping[str, Any]) -> SubscriptionRecord | None:
        if not patch:
            return self.objects.get(key)
        try:
            return await self.patch_status(key, patch)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    async def _execute(
        self,
        key: Key,
        record: SubscriptionRecord,
        model: VideoSubscription,
        observation: transitions.Observation,
        plan: transitions.Plan,
    ) -> None:
        if plan.read_scan is not None:
            await self._read_scan(record, plan.read_scan)
            return
        if plan.create_downloads:
            scan = observation.entries[0] if observation.entries else ""
            await self._create_downloads(model, plan.create_downloads, scan)
        if plan.record_seen:
            await self._record(model, observation.ledger, plan.record_seen)
        for name in plan.delete_scans:
            await self._delete(VIDEOPLAYLISTS.path(record.namespace, name))
            self.scans.forget((record.namespace, name))
        if plan.create_scan is not None:
            await self._create_scan(model, plan.create_scan)
        if plan.prune:
            await self._prune(record.namespace, plan.prune)
        for _, reason, _ in plan.events:
            if reason in ("MissSchedule", "ScanAlreadyActive"):
                self.metrics.subscription_slots_skipped.labels(reason=reason).inc()
        if plan.status is not None:
            written = await self._write_status(key, record, observation, plan)
            if written is None:
                return
            record = written
        for event in plan.events:
            self.poster.post(record, event)

    async def _write_status(
        self,
        key: Key,
        record: SubscriptionRecord,
        observation: transitions.Observation,
        plan: transitions.Plan,
    ) -> SubscriptionRecord | None:
        assert plan.status is not None
        old = observation.status
        if plan.status.applied_scan_time != old.applied_scan_time:
            failed = any(e[1] == "ScanFailed" for e in plan.events)
            self.metrics.subscription_scans.labels(result="failed" if failed else "succeeded").inc()
            self._entries.pop(record.uid, None)
        written = await self._patch(key, transitions.patch_of(record.stored_status, plan.status))
        if written is not None and plan.status.phase != old.phase:
            self._publish_phases()
        return written

    def _publish_phases(self) -> None:
        phases: dict[str, int] = {}
        for _, record in self.objects.items():
            phase = record.status.phase
            name = phase.value if phase is not None else "Pending"
            phases[name] = phases.get(name, 0) + 1
        self.metrics.set_subscriptions(phases)

    # --- reads and writes -----------------------------------------------------------------

    async def _ledger(self, record: SubscriptionRecord) -> Ledger:
        cached = self._ledgers.get(record.uid)
        if cached is not None:
            return cached
        name = naming.ledger_name(record.name, record.uid)
        try:
            body = await self.kube.request("GET", core_path("configmaps", record.namespace, name))
        except ApiError as exc:
            if not exc.not_found:
                raise
            body = {}
        seen = ledger.decode(body.get("binaryData"))
        self._ledgers[record.uid] = seen
        return seen

    async def _record(self, model: VideoSubscription, seen: Ledger, ids: tuple[str, ...]) -> None:
        """Write the ledger with ``ids`` added (create its ConfigMap, or patch its one key)."""
        updated = seen.copy()
        updated.extend(ids)
        manifest = manifests.ledger_map(model, updated)
        name = manifest["metadata"]["name"]
        query = {"fieldManager": FIELD_MANAGER}
        try:
            await self.kube.request(
                "PATCH",
                core_path("configmaps", model.namespace, name),
                body={"binaryData": manifest["binaryData"]},
                query=query,
                content_type=MERGE_PATCH,
            )
        except ApiError as exc:
            if not exc.not_found:
                raise
            await self.kube.request(
                "POST", core_path("configmaps", model.namespace), body=manifest, query=query
            )
        self._ledgers[model.uid] = updated

    async def _read_scan(self, record: SubscriptionRecord, name: str) -> None:
        """Read the entries the scan ``name`` recorded in its index chunks."""
        scan = self.scans.get((record.namespace, name))
        if scan is None:
            return
        chunks = playlist_naming.chunk_names(name, scan.uid, index.chunk_count(index.HARD_CAP))
        entries: list[Entry] = []
        for chunk_name in chunks:
            try:
                body = await self.kube.request(
                    "GET", core_path("configmaps", record.namespace, chunk_name)
                )
            except ApiError as exc:
                if exc.not_found:
                    continue
                raise
            chunk = index.decode_chunk(body.get("binaryData"))
            if chunk is not None:
                entries.extend(chunk.entries)
        self._entries[record.uid] = (name, tuple(entries))

    async def _create_scan(self, model: VideoSubscription, start: transitions.ScanStart) -> None:
        manifest = manifests.scan(model, start.name, start.slot)
        try:
            created = await self.kube.request(
                "POST",
                VIDEOPLAYLISTS.path(model.namespace),
                body=manifest,
                query={"fieldManager": FIELD_MANAGER},
            )
        except ApiError as exc:
            if not exc.conflict:
                raise
            return  # created before this slot was recorded (an earlier operator process)
        self.scans.put(ScanView.from_object(created))

    async def _create_downloads(
        self, model: VideoSubscription, entries: tuple[Entry, ...], scan: str
    ) -> None:
        semaphore = asyncio.Semaphore(_CONCURRENCY)
        path = VIDEODOWNLOADS.path(model.namespace)

        async def create(entry: Entry) -> None:
            async with semaphore:
                try:
                    created = await self.kube.request(
                        "POST",
                        path,
                        body=manifests.download(model, entry, scan),
                        query={"fieldManager": FIELD_MANAGER},
                    )
                except ApiError as exc:
                    if exc.conflict:
                        return  # created before the ledger recorded it
                    raise
            self.downloads.put(DownloadView.from_object(created))
            self.metrics.subscription_downloads_created.inc()

        await asyncio.gather(*(create(entry) for entry in entries))

    async def _prune(self, namespace: str, names: tuple[str, ...]) -> None:
        for name in names:
            gone = await self._delete(VIDEODOWNLOADS.path(namespace, name))
            view = self.downloads.get((namespace, name))
            if view is not None:
                # Its deletion event may lag: a view marked deleting is not pruned twice.
                self.downloads.put(dataclasses.replace(view, deleting=True))
            if gone:
                self.metrics.subscription_pruned.inc()

    async def _delete(self, path: str) -> bool:
        """Delete in the background; False when it was gone already."""
        try:
            await self.kube.request(
                "DELETE",
                path,
                body={
                    "apiVersion": "v1",
                    "kind": "DeleteOptions",
                    "propagationPolicy": "Background",
                },
            )
        except ApiError as exc:
            if exc.not_found:
                return False
            raise
        return True
