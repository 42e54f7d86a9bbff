"""The operator's in-memory view of objects, newest version wins.

Objects arrive from two sides: watch events, and the responses to the operator's own
writes. A write's response is newer than the watch event still in flight for an earlier
change, so each entry keeps its ``resourceVersion`` and an older version never replaces a
newer one. Without this, a reconcile could act on a status the operator has already
replaced and write the same transition twice. Pure: no I/O.

``resourceVersion`` values are compared as integers, which is what etcd-backed apiservers
produce; a value that is not an integer is treated as newest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["Store", "newer_or_same"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
