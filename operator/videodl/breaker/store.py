"""The breaker's ConfigMap: one key per site, every write conditioned on ``resourceVersion``.

The ConfigMap is the single source of truth shared by every operator process. A change is a
read-modify-write: :meth:`ConfigMapStore.update` hands the latest :class:`Snapshot` to a pure
``mutate`` function, sends what it returns as a merge patch that carries the snapshot's
``metadata.resourceVersion`` (so the apiserver refuses it with 409 Conflict when anyone wrote
in between), and on a conflict reads again and calls ``mutate`` on the fresh snapshot. No
update is ever lost, however many processes write at once.

The store knows nothing of breaker states: values are strings, encoded and decoded by the
callers (see :mod:`videodl.breaker.shared`). Requests go through the one client wrapper,
:class:`videodl.kube.client.Client`; calls block, and async code runs them in a thread.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

from videodl.api.resource import MANAGER
from videodl.breaker.keys import validate_key
from videodl.kube.client import MERGE_PATCH, ApiError, Client, core_path
from videodl.reconcile.download import naming

__all__ = [
    "Change",
    "ConfigMapStore",
    "Snapshot",
    "StoreConflictError",
    "Written",
]

R = TypeVar("R")

LABELS = {
    naming.LABEL_NAME: "videodl",
    naming.LABEL_COMPONENT: "circuit-breaker",
    naming.LABEL_MANAGED_BY: MANAGER,
}


class StoreConflictError(RuntimeError):
    """Raised when an update lost the race ``max_attempts`` times in a row."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The ConfigMap as read at one ``resourceVersion``."""

    resource_version: str
    data: Mapping[str, str]
    annotations: Mapping[str, str]
    uid: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Snapshot:
        """The snapshot of a ConfigMap object as the apiserver returns it (a JSON dict)."""
        meta = obj.get("metadata") or {}
        return cls(
            resource_version=str(meta.get("resourceVersion")),
            data=dict(obj.get("data") or {}),
            annotations=dict(meta.get("annotations") or {}),
            uid=str(meta.get("uid") or ""),
        )


@dataclasses.dataclass(frozen=True)
class Change(Generic[R]):
    """What a ``mutate`` function wants written, and what ``update`` should return.

    ``data`` maps keys to their new values (``None`` deletes the key); ``remove_annotations``
    names annotations to drop (administrator commands, once applied) and ``set_annotations``
    annotations to write (their acknowledgement).
    """

    result: R
    data: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    remove_annotations: Collection[str] = ()
    set_annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def writes_to(self, snapshot: Snapshot) -> bool:
        """Whether applying this change to ``snapshot`` alters anything."""
        if any(snapshot.data.get(k) != v for k, v in self.data.items()):
            return True
        if any(snapshot.annotations.get(k) != v for k, v in self.set_annotations.items()):
            return True
        return any(a in snapshot.annotations for a in self.remove_annotations)


@dataclasses.dataclass(frozen=True)
class Written(Generic[R]):
    """The outcome of :meth:`ConfigMapStore.update`."""

    result: R
    snapshot: Snapshot
    wrote: bool
    conflicts: int


class ConfigMapStore:
    """Reads and conditionally writes one ConfigMap, creating it when missing."""

    def __init__(
        self,
        *,
        client: Client,
        namespace: str,
        name: str,
        max_attempts: int = 100,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._lock = threading.Lock()
        self.conflicts_total = 0
        self.writes_total = 0

    @property
    def path(self) -> str:
        """The ConfigMap's URL path."""
        return core_path("configmaps", self.namespace, self.name)

    def read(self) -> Snapshot:
        """The current ConfigMap, created empty when it does not exist."""
        try:
            obj = self.client.request("GET", self.path)
        except ApiError as exc:
            if not exc.not_found:
                raise
            return self._create()
        return Snapshot.of(obj)

    def _create(self) -> Snapshot:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": self.name, "labels": dict(LABELS)},
            "data": {},
        }
        try:
            obj = self.client.request("POST", core_path("configmaps", self.namespace), body=body)
        except ApiError as exc:
            if not exc.conflict:  # AlreadyExists: another process was first
                raise
            obj = self.client.request("GET", self.path)
        return Snapshot.of(obj)

    def update(
        self, mutate: Callable[[Snapshot], Change[R]], *, start: Snapshot | None = None
    ) -> Written[R]:
        """Apply ``mutate`` to the latest snapshot and write its change, retrying on conflict.

        ``start`` is a snapshot believed current (a cache); a stale one costs a conflict and
        a fresh read, never a lost update. ``mutate`` must be pure: it may run several times.
        """
        snapshot = start if start is not None else self.read()
        for attempt in range(self.max_attempts):
            change = mutate(snapshot)
            if not change.writes_to(snapshot):
                return Written(change.result, snapshot, wrote=False, conflicts=attempt)
            try:
                obj = self._patch(snapshot, change)
            except ApiError as exc:
                if not (exc.conflict or exc.not_found):
                    raise
                with self._lock:
                    self.conflicts_total += 1
                # Many writers on one key would otherwise collide again in lockstep.
                time.sleep(self._rng.uniform(0, 0.005 * min(attempt + 1, 10)))
                snapshot = self.read()
                continue
            with self._lock:
                self.writes_total += 1
            return Written(change.result, Snapshot.of(obj), wrote=True, conflicts=attempt)
        msg = (
            f"ConfigMap {self.namespace}/{self.name}: gave up after {self.max_attempts} "
            "conflicting writes in a row"
        )
        raise StoreConflictError(msg)

    def _patch(self, snapshot: Snapshot, change: Change[Any]) -> dict[str, Any]:
        metadata: dict[str, Any] = {"resourceVersion": snapshot.resource_version}
        annotations: dict[str, str | None] = {
            a: None for a in change.remove_annotations if a in snapshot.annotations
        }
        annotations.update(change.set_annotations)
        if annotations:
            metadata["annotations"] = annotations
        body: dict[str, Any] = {"metadata": metadata}
        if change.data:
            body["data"] = {validate_key(k): v for k, v in change.data.items()}
        return self.client.request("PATCH", self.path, body=body, content_type=MERGE_PATCH)
