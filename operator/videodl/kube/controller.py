"""What every controller of a custom resource shares, whatever its kind and its reconcile.

A :class:`Controller` keeps the watched objects of one kind (an
:class:`~videodl.kube.cache.ObjectView` of records), a :class:`~videodl.kube.workqueue.WorkQueue`
of their keys and a lock per object, so that a reconcile and any other write to the same
object (an admission) never interleave. Its workers start only once the view is complete
(:attr:`~Controller.ready`) and this replica may write (:attr:`~Controller.leading`), and
retry a failed reconcile of a key with a growing delay. Its writes go to the kind's path
(a :class:`~videodl.kube.client.Resource`): a merge patch of the status, a patch of the
metadata guarded by the ``resourceVersion`` that was read, and a delete guarded by the uid;
each response goes back into the view, so the next decision sees what was written.

What a reconcile does is the subclass's (:meth:`Controller.reconcile`): e.g.
:class:`videodl.operator.downloads.DownloadController` for VideoDownloads.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

from videodl.kube.cache import Key, ObjectView
from videodl.kube.client import FIELD_MANAGER, MERGE_PATCH, ApiError, Kube, Resource
from videodl.kube.workqueue import WorkQueue

__all__ = ["Controller", "ErrorCount", "KeyedLocks", "retry_delay"]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

#: Seconds before the first retry of a failed reconcile, and the most ever waited.
RETRY_BASE_SECONDS: Final = 0.5
RETRY_MAX_SECONDS: Final = 60.0


class ErrorCount(Protocol):
    """Where failed reconciles are counted (a Prometheus counter fits)."""

    def inc(self, amount: float = 1) -> None: ...


def retry_delay(
    failures: int, *, base: float = RETRY_BASE_SECONDS, maximum: float = RETRY_MAX_SECONDS
) -> float:
    """Seconds before retrying a key that failed ``failures`` times in a row: doubling."""
    return min(base * 2.0 ** (failures - 1), maximum)


class KeyedLocks(Generic[K]):
    """One lock per key, made when first needed."""

    def __init__(self) -> None:
        self._locks: dict[K, asyncio.Lock] = {}

    def __getitem__(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def forget(self, key: K) -> None:
        """Drop the lock of ``key`` (its object is gone)."""
        self._locks.pop(key, None)


class Controller(abc.ABC, Generic[R]):
    """The view, queue, locks, gates, retrying workers and writes of one kind."""

    def __init__(
        self,
        *,
        kube: Kube,
        resource: Resource,
        read: Callable[[Mapping[str, Any]], R],
        active: Callable[[R], bool] | None = None,
        errors: ErrorCount | None = None,
        retry_base: float = RETRY_BASE_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.kube = kube
        self.resource = resource
        #: The watched objects of the kind, as records (``active`` ones also indexed).
        self.objects: ObjectView[R] = ObjectView(read, active=active)
        self.queue: WorkQueue[Key] = WorkQueue()
        self.locks: KeyedLocks[Key] = KeyedLocks()
        #: Set when something changed that may let a waiting object go on (e.g. admission).
        self.changed = asyncio.Event()
        #: Set once every watched object has been listed (the view is complete).
        self.ready = asyncio.Event()
        #: Set while this replica may write (always, unless several replicas elect one).
        self.leading = asyncio.Event()
        self._errors = errors
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._failures: dict[Key, int] = {}

    # --- the view -------------------------------------------------------------------------

    def observe(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        """Take a watched object into the view (or out of it, when deleted); its key."""
        key = self.objects.observe(body, deleted=deleted)
        if deleted:
            self.locks.forget(key)
            self._failures.pop(key, None)
        return key

    # --- reconcile workers ----------------------------------------------------------------

    @abc.abstractmethod
    async def reconcile(self, key: Key) -> None:
        """Bring the object ``key`` closer to where it should be (take :attr:`locks` [key])."""

    async def run_worker(self) -> None:
        """Reconcile queued keys forever, once ready and leading (start several of these)."""
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
                delay = retry_delay(failures, base=self._retry_base, maximum=self._retry_max)
                if self._errors is not None:
                    self._errors.inc()
                logger.exception("reconciling %s/%s failed; retrying in %.1fs", *key, delay)
                self.queue.add_after(key, delay)
            finally:
                self.queue.done(key)

    # --- writes ---------------------------------------------------------------------------

    async def patch_status(self, key: Key, patch: Mapping[str, Any]) -> R:
        """Merge-patch the status subresource; the record of the object afterwards."""
        body = await self.kube.request(
            "PATCH",
            self.resource.path(*key) + "/status",
            body=patch,
            query={"fieldManager": FIELD_MANAGER},
            content_type=MERGE_PATCH,
        )
        return self.objects.written(body)

    async def patch_metadata(
        self, key: Key, metadata: Mapping[str, Any], *, resource_version: str | None
    ) -> R | None:
        """Merge-patch ``metadata`` onto the object as it was at ``resource_version``.

        The record afterwards; None when the object is gone, or changed since it was read
        (then the key is queued again, to decide on the newer object).
        """
        patch = {"metadata": {"resourceVersion": resource_version, **metadata}}
        try:
            body = await self.kube.request(
                "PATCH",
                self.resource.path(*key),
                body=patch,
                query={"fieldManager": FIELD_MANAGER},
                content_type=MERGE_PATCH,
            )
        except ApiError as exc:
            if exc.conflict:
                self.queue.add(key)
                return None
            if exc.not_found:
                return None
            raise
        return self.objects.written(body)

    async def delete(self, key: Key, *, uid: str) -> None:
        """Delete the object if it is still the one with ``uid`` (dependents in background)."""
        await self.kube.request(
            "DELETE",
            self.resource.path(*key),
            body={
                "apiVersion": "v1",
                "kind": "DeleteOptions",
                "preconditions": {"uid": uid},
                "propagationPolicy": "Background",
            },
        )
