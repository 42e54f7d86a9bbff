"""The operator's in-memory view of objects, newest version wins.

Objects arrive from two sides: watch events, and the responses to the operator's own
writes. A write's response is newer than the watch event still in flight for an earlier
change, so each entry keeps its ``resourceVersion`` and an older version never replaces a
newer one. Without this, a reconcile could act on a status the operator has already
replaced and write the same transition twice. Pure: no I/O.

``resourceVersion`` values are compared as integers, which is what etcd-backed apiservers
produce; a value that is not an integer is treated as newest.

- :class:`Store`: values by key, each with its version;
- :class:`ObjectView`: the objects of one kind, kept as records a reader makes of them,
  with an index of the active ones;
- :class:`OwnedStore`: compact views of the objects they own (Pods), by their owner's uid.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "Key",
    "ObjectView",
    "Owned",
    "OwnedStore",
    "Store",
    "key_of",
    "newer_or_same",
    "version_of",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

Key = tuple[str, str]
"""(namespace, name) of a namespaced object."""


def key_of(body: Mapping[str, Any]) -> Key:
    """The key of an object as the apiserver returns it."""
    metadata = body.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def version_of(body: Mapping[str, Any]) -> str | None:
    """The ``resourceVersion`` of an object as the apiserver returns it."""
    version = (body.get("metadata") or {}).get("resourceVersion")
    return str(version) if version is not None else None


def _version(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)


def newer_or_same(candidate: str | None, current: str | None) -> bool:
    """Whether version ``candidate`` may replace ``current``."""
    new, old = _version(candidate), _version(current)
    if new is None or old is None:
        return True
    return new >= old


@dataclasses.dataclass
class _Entry(Generic[V]):
    version: str | None
    value: V


class Store(Generic[K, V]):
    """Values by key, each replaced only by an equal or newer resourceVersion."""

    def __init__(self) -> None:
        self._entries: dict[K, _Entry[V]] = {}
        # Deleted keys remember their last version: a late event must not resurrect them.
        self._tombstones: dict[K, str | None] = {}

    def put(self, key: K, version: str | None, value: V) -> bool:
        """Store ``value`` unless a newer version is already known; True if stored."""
        current = self._entries.get(key)
        if current is not None and not newer_or_same(version, current.version):
            return False
        tombstone = self._tombstones.get(key)
        if current is None and key in self._tombstones:
            if not newer_or_same(version, tombstone) or version == tombstone:
                return False
            del self._tombstones[key]
        self._entries[key] = _Entry(version, value)
        return True

    def delete(self, key: K, version: str | None = None) -> None:
        """Forget ``key`` (deleted in the cluster at ``version``)."""
        current = self._entries.pop(key, None)
        last = version if version is not None else (current.version if current else None)
        self._tombstones[key] = last
        # Tombstones only need to outlive the events in flight; keep the table bounded.
        if len(self._tombstones) > 4096:
            for old in list(self._tombstones)[:2048]:
                del self._tombstones[old]

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return entry.value if entry else None

    def version(self, key: K) -> str | None:
        entry = self._entries.get(key)
        return entry.version if entry else None

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> Iterator[tuple[K, V]]:
        for key, entry in list(self._entries.items()):
            yield key, entry.value


class ObjectView(Store[Key, R]):
    """The watched objects of one kind, each kept as the record ``read`` makes of its body.

    ``active`` marks the records a frequent reader needs (a download that is not finished,
    for the admission loop): :meth:`active_items` yields those without walking the rest, so
    its cost follows what is in play, not everything kept.
    """

    def __init__(
        self,
        read: Callable[[Mapping[str, Any]], R],
        *,
        active: Callable[[R], bool] | None = None,
    ) -> None:
        super().__init__()
        self._read = read
        self._active = active
        self._active_keys: set[Key] = set()

    def put(self, key: Key, version: str | None, value: R) -> bool:
        stored = super().put(key, version, value)
        if stored and self._active is not None:
            if self._active(value):
                self._active_keys.add(key)
            else:
                self._active_keys.discard(key)
        return stored

    def delete(self, key: Key, version: str | None = None) -> None:
        super().delete(key, version)
        self._active_keys.discard(key)

    def active_items(self) -> list[tuple[Key, R]]:
        """The records ``active`` holds for (every record when there is no ``active``)."""
        if self._active is None:
            return list(self.items())
        return [(key, self._entries[key].value) for key in self._active_keys]

    def observe(self, body: Mapping[str, Any], *, deleted: bool) -> Key:
        """Take a watched object into the view (or out of it, when deleted); its key."""
        key = key_of(body)
        version = version_of(body)
        if deleted:
            self.delete(key, version)
        elif self.version(key) != version or key not in self:
            self.put(key, version, self._read(body))
        return key

    def written(self, body: Mapping[str, Any]) -> R:
        """Take the response of a write into the view; the newest record of the object."""
        key = key_of(body)
        record = self._read(body)
        self.put(key, version_of(body), record)
        return self.get(key) or record


class Owned(Protocol):
    """What :class:`OwnedStore` reads of a view: its key, version and controlling owner."""

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def resource_version(self) -> str | None: ...

    @property
    def owner_uid(self) -> str | None: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


class OwnedStore(Generic[OwnedT]):
    """Views of owned objects by (namespace, name), also found by their owner's uid."""

    def __init__(self) -> None:
        self._views: Store[Key, OwnedT] = Store()
        self._by_owner: dict[str, set[Key]] = collections.defaultdict(set)

    def put(self, view: OwnedT, *, deleted: bool = False) -> None:
        """Keep ``view`` (unless an older version), or forget it when ``deleted``."""
        key = (view.namespace, view.name)
        if deleted:
            self._views.delete(key, view.resource_version)
            if view.owner_uid is not None:
                owned = self._by_owner.get(view.owner_uid)
                if owned is not None:
                    owned.discard(key)
                    if not owned:
                        del self._by_owner[view.owner_uid]
        elif self._views.put(key, view.resource_version, view) and view.owner_uid:
            self._by_owner[view.owner_uid].add(key)

    def get(self, key: Key) -> OwnedT | None:
        return self._views.get(key)

    def known(self) -> list[Key]:
        """Every (namespace, name) kept."""
        return [key for key, _ in self._views.items()]

    def forget(self, key: Key) -> OwnedT | None:
        """Drop the view of ``key`` (its object is gone); the view it was."""
        view = self._views.get(key)
        if view is not None:
            self.put(view, deleted=True)
        return view

    def of(self, owner_uid: str) -> list[OwnedT]:
        """The views owned by the object with ``owner_uid``."""
        views = (self._views.get(k) for k in self._by_owner.get(owner_uid, ()))
        return [v for v in views if v is not None and v.owner_uid == owner_uid]
