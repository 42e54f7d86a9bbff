"""Reconciling one playlist: observe, decide (pure), then write in a safe order.

:class:`PlaylistController` is the :class:`videodl.kube.controller.Controller` of
VideoPlaylists. Besides the playlists it keeps the indexer Pods and the children
(VideoDownloads labelled ``videodl.dev/playlist``) by their owner's uid, and the entries
of each playlist's last enumeration, read from its index chunks once and kept while the
playlist exists. A reconcile turns these into an
:class:`~videodl.reconcile.playlist.transitions.Observation`, asks
:func:`~videodl.reconcile.playlist.transitions.decide` for a plan and carries it out: the
status first (the indexer attempt's write-ahead record), then the index chunks and the
indexer Pod, then a batch of children, then suspends, then one Event per phase change.

Status writes that change only counts are held back to one per
``status_interval_seconds`` per playlist, however many children change meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from videodl.api import playlist as playlist_api
from videodl.api.playlist import VideoPlaylist, VideoPlaylistStatus
from videodl.api.resource import GROUP, VERSION
from videodl.breaker import sites
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
from videodl.operator.posting import EventPoster
from videodl.operator.settings import Settings
from videodl.reconcile.download.gate import AdmissionGate, Candidate
from videodl.reconcile.download.podview import PodView
from videodl.reconcile.playlist import naming, podspec, transitions
from videodl.reconcile.playlist.children import ChildView
from videodl.reconcile.playlist.record import PlaylistRecord, record_of
from videodl.reconcile.playlist.settings import IndexerSettings
from videodl.workerapi import index
from videodl.workerapi.index import Entry

__all__ = ["VIDEOPLAYLISTS", "PlaylistController"]

logger = logging.getLogger(__name__)

#: Where VideoPlaylists are written.
VIDEOPLAYLISTS: Final = Resource(GROUP, VERSION, playlist_api.PLURAL)
_MAX_STEPS: Final = 8
#: Concurrent creates of one batch of children.
_CREATE_CONCURRENCY: Final = 8
_BLOCKED_RETRY_SECONDS: Final = 10.0


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class PlaylistController(controller.Controller[PlaylistRecord]):
    """The operator's view of VideoPlaylists, their indexers and children, and a reconcile."""

    def __init__(
        self,
        *,
        settings: Settings,
        kube: Kube,
        events: Kube,
        metrics: Metrics,
        gate: AdmissionGate,
        indexer: IndexerSettings,
        clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        super().__init__(
            kube=kube, resource=VIDEOPLAYLISTS, read=record_of, errors=metrics.reconcile_errors
        )
        self.settings = settings
        self.metrics = metrics
        self.gate = gate
        self.indexer = indexer
        self.clock = clock
        self.pods: OwnedStore[PodView] = OwnedStore()
        self.children: OwnedStore[ChildView] = OwnedStore()
        #: Entries of each playlist's last enumeration: uid → (run, found, entries).
        self._entries: dict[str, tuple[int, int, tuple[Entry, ...]]] = {}
        #: When each playlist's status was last written (monotonic seconds).
        self._written: dict[Key, float] = {}
        self.poster = EventPoster(
            events, kind=playlist_api.KIND, instance=settings.instance, clock=clock
        )

    # --- the view -------------------------------------------------------------------------

    def observe_playlist(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        key = self.observe(body, deleted=deleted)
        if deleted:
            uid = str((body.get("metadata") or {}).get("uid", ""))
            self._entries.pop(uid, None)
            self._written.pop(key, None)
        return key

    def observe_pod(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take an indexer Pod into the view; the key of the playlist owning it."""
        view = PodView.from_pod(body)
        self.pods.put(view, deleted=deleted)
        return None if view.owner_name is None else (view.namespace, view.owner_name)

    def observe_child(self, body: Mapping[str, Any], *, deleted: bool) -> Key | None:
        """Take a child VideoDownload into the view; the key of its playlist."""
        view = ChildView.from_object(body)
        self.children.put(view, deleted=deleted)
        owner = next(
            (
                r
                for r in (body.get("metadata") or {}).get("ownerReferences") or []
                if r.get("controller") and r.get("kind") == playlist_api.KIND
            ),
            None,
        )
        return None if owner is None else (view.namespace, str(owner.get("name", "")))

    # --- reconcile ------------------------------------------------------------------------

    def _observation(self, record: PlaylistRecord, model: VideoPlaylist) -> transitions.Observation:
        status = model.status or VideoPlaylistStatus()
        cached = self._entries.get(record.uid)
        entries: tuple[Entry, ...] | None = None
        found: int | None = None
        if cached is not None and cached[0] == status.indexed_run:
            _, found, entries = cached
        return transitions.Observation(
            playlist=model,
            uid=record.uid,
            generation=record.generation,
            annotations=record.annotations,
            pods=tuple(self.pods.of(record.uid)),
            children=tuple(self.children.of(record.uid)),
            entries=entries,
            found=found,
            now=self.clock(),
            settings=self.indexer,
            jitter=self.settings.admission.backoff_jitter,
        )

    async def reconcile(self, key: Key) -> None:
        """Bring one playlist one or more steps closer to where it should be."""
        async with self.locks[key]:
            for _ in range(_MAX_STEPS):
                record = self.objects.get(key)
                if record is None or record.deleting:
                    break
                model = record.model
                if model is None:
                    await self._write_invalid(key, record)
                    break
                observation = self._observation(record, model)
                plan = transitions.decide(observation)
                if plan.recheck_after is not None:
                    self.queue.add_after(key, max(plan.recheck_after, 0.1))
                if plan.empty or not await self._execute(key, record, observation, plan):
                    break

    async def _write_invalid(self, key: Key, record: PlaylistRecord) -> None:
        model = VideoPlaylist.model_construct(
            metadata={"name": record.name, "namespace": record.namespace},
            status=record.status,
        )
        observation = transitions.Observation(
            playlist=model,
            uid=record.uid,
            generation=record.generation,
            annotations={},
            pods=(),
            children=(),
            entries=None,
            found=None,
            now=self.clock(),
        )
        problem = record.problem or "the object cannot be read"
        new = transitions.invalid(observation, problem)
        old = record.status
        if old.phase == new.phase and old.conditions and old.conditions[0].message == problem:
            return
        await self._patch(key, transitions.patch_of(old, new))
        self.poster.post(record, ("Warning", "InvalidSpec", problem))

    async def _patch(self, key: Key, patch: Mapping[str, Any]) -> PlaylistRecord | None:
        if not patch:
            return self.objects.get(key)
        try:
            written = await self.patch_status(key, patch)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise
        self._written[key] = time.monotonic()
        return written

    async def _execute(
        self,
        key: Key,
        record: PlaylistRecord,
        observation: transitions.Observation,
        plan: transitions.Plan,
    ) -> bool:
        """Carry out ``plan``; True when deciding again may take another step."""
        wrote = False
        current = record
        if plan.status is not None:
            patch = transitions.patch_of(observation.status, plan.status)
            phase_changes = plan.status.phase != observation.status.phase
            since = time.monotonic() - self._written.get(key, 0.0)
            interval = self.indexer.status_interval_seconds
            if patch and not phase_changes and not plan.read_chunks and since < interval:
                # Only counts changed: write them once the interval has passed.
                self.queue.add_after(key, interval - since)
            elif patch:
                written = await self._patch(key, patch)
                if written is None:
                    return False
                current, wrote = written, True
                if phase_changes:
                    self._publish_phases()
        if plan.index_ended is not None:
            await self._tell_gate(current, observation, plan.index_ended)
        if plan.read_chunks:
            await self._read_chunks(current)
            wrote = True
        if plan.start_index is not None:
            wrote = await self._start_index(key, current, observation, plan.start_index) or wrote
        if plan.resume_index is not None:
            await self._create_indexer(current, observation.playlist, plan.resume_index)
            wrote = True
        if plan.create_children:
            await self._create_children(current, observation.playlist, plan.create_children)
            wrote = True
        if plan.suspend_children:
            await self._suspend_children(key[0], plan.suspend_children, suspend=plan.suspend)
            wrote = True
        if plan.event is not None and plan.status is not None and wrote:
            self.poster.post(current, plan.event)
        return wrote

    def _publish_phases(self) -> None:
        phases: dict[str, int] = {}
        for _, record in self.objects.items():
            phase = record.status.phase
            name = phase.value if phase is not None else "Pending"
            phases[name] = phases.get(name, 0) + 1
        self.metrics.set_playlists(phases)

    # --- indexing -------------------------------------------------------------------------

    def _candidate(self, record: PlaylistRecord, model: VideoPlaylist, attempt: int) -> Candidate:
        return Candidate(
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            url=model.spec.sources[0],
            priority=model.spec.template.priority,
            attempt=attempt,
        )

    async def _start_index(
        self,
        key: Key,
        record: PlaylistRecord,
        observation: transitions.Observation,
        start: transitions.IndexStart,
    ) -> bool:
        model = observation.playlist
        verdict = await self.gate.consider(self._candidate(record, model, start.attempt))
        if not verdict.allowed:
            new = transitions.blocked(observation, start, verdict.reason, verdict.message)
            await self._patch(key, transitions.patch_of(observation.status, new))
            if observation.status.phase != new.phase:
                self.poster.post(record, ("Normal", verdict.reason, verdict.message))
            self.queue.add_after(key, _BLOCKED_RETRY_SECONDS)
            return False
        new = transitions.started(observation, start)
        written = await self._patch(key, transitions.patch_of(observation.status, new))
        if written is None:
            return False
        if observation.status.phase != new.phase:
            self.poster.post(written, ("Normal", "Indexing", new.conditions[0].message))
        await self._create_indexer(written, model, start)
        return True

    async def _create_indexer(
        self, record: PlaylistRecord, model: VideoPlaylist, start: transitions.IndexStart
    ) -> None:
        """Make the chunks empty and writable by the new Pod, then create the Pod."""
        namespace = record.namespace
        for name in start.chunks:
            manifest = podspec.chunk(
                model, record.uid, name, writer=start.pod_name, instance=self.settings.instance
            )
            try:
                await self.kube.request(
                    "POST",
                    core_path("configmaps", namespace),
                    body=manifest,
                    query={"fieldManager": FIELD_MANAGER},
                )
            except ApiError as exc:
                if not exc.conflict:
                    raise
                await self.kube.request(
                    "PATCH",
                    core_path("configmaps", namespace, name),
                    body={
                        "metadata": {"annotations": {index.ANNOTATION_WRITER: start.pod_name}},
                        "binaryData": None,
                    },
                    query={"fieldManager": FIELD_MANAGER},
                    content_type=MERGE_PATCH,
                )
        # A list of URLs holds up to MAX_URLS sources, each up to a millisecond of matching:
        # not on the loop.
        extractors = await asyncio.to_thread(
            lambda: [sites.extractor_hint(source) for source in model.spec.sources]
        )
        pod = podspec.indexer_pod(
            model,
            record.uid,
            name=start.pod_name,
            run=start.run,
            attempt=start.attempt,
            chunks=start.chunks,
            worker=self.settings.worker,
            indexer=self.indexer,
            instance=self.settings.instance,
            extractors=extractors,
        )
        try:
            created = await self.kube.create_pod(namespace, pod)
        except ApiError as exc:
            if exc.conflict:
                return
            raise
        self.pods.put(PodView.from_pod(created))

    async def _read_chunks(self, record: PlaylistRecord) -> None:
        """Read the entries of the enumeration the status says is complete."""
        status = record.status
        run = status.indexed_run
        if run is None:
            return
        names = naming.chunk_names(record.name, record.uid, index.chunk_count(index.HARD_CAP))
        entries: list[Entry] = []
        found = 0
        for name in names:
            try:
                body = await self.kube.request(
                    "GET", core_path("configmaps", record.namespace, name)
                )
            except ApiError as exc:
                if exc.not_found:
                    continue
                raise
            chunk = index.decode_chunk(body.get("binaryData"))
            if chunk is None:
                continue
            found = max(found, chunk.found)
            entries.extend(chunk.entries)
        self._entries[record.uid] = (run, found, tuple(entries))

    async def _tell_gate(
        self, record: PlaylistRecord, observation: transitions.Observation, ended: Any
    ) -> None:
        attempt = observation.status.index_attempts or 1
        try:
            await self.gate.attempt_finished(
                self._candidate(record, observation.playlist, attempt), ended
            )
        except Exception:
            logger.exception("the admission gate failed to record the index of %s", record.name)

    # --- children -------------------------------------------------------------------------

    async def _create_children(
        self, record: PlaylistRecord, model: VideoPlaylist, entries: tuple[Entry, ...]
    ) -> None:
        semaphore = asyncio.Semaphore(_CREATE_CONCURRENCY)
        path = VIDEODOWNLOADS.path(record.namespace)

        async def create(entry: Entry) -> None:
            manifest = podspec.child(model, record.uid, entry)
            async with semaphore:
                try:
                    created = await self.kube.request(
                        "POST", path, body=manifest, query={"fieldManager": FIELD_MANAGER}
                    )
                except ApiError as exc:
                    if exc.conflict:
                        return  # created before (by an earlier operator process)
                    raise
            self.children.put(ChildView.from_object(created))
            self.metrics.playlist_children_created.inc()

        await asyncio.gather(*(create(entry) for entry in entries))

    async def _suspend_children(
        self, namespace: str, names: tuple[str, ...], *, suspend: bool
    ) -> None:
        semaphore = asyncio.Semaphore(_CREATE_CONCURRENCY)

        async def patch(name: str) -> None:
            async with semaphore:
                try:
                    body = await self.kube.request(
                        "PATCH",
                        VIDEODOWNLOADS.path(namespace, name),
                        body={"spec": {"suspend": suspend}},
                        query={"fieldManager": FIELD_MANAGER},
                        content_type=MERGE_PATCH,
                    )
                except ApiError as exc:
                    if exc.not_found:
                        return
                    raise
            self.children.put(ChildView.from_object(body))

        await asyncio.gather(*(patch(name) for name in names))
