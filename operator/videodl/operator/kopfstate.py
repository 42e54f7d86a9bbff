"""kopf state storages for an operator that only watches.

kopf computes, on every watch event, a deep copy of the object (its "essence") to diff it
against the last handled state, and strips its own progress records from it. Both exist
for ``@kopf.on.create``/``update`` handlers, which this operator does not use: it only
indexes and watches. These storages keep and compute nothing, which removes most of
kopf's cost per event (measured: about two thirds of the event loop's time with a
thousand downloads) and guarantees kopf never writes its own state onto VideoDownloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kopf

__all__ = ["NoDiffBase", "NoProgress"]


class NoDiffBase(kopf.DiffBaseStorage):
    """No last-handled state: every object's essence is empty and never stored."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


class NoProgress(kopf.ProgressStorage):
    """No handler progress: nothing to fetch, store, purge or strip."""

    def fetch(self, *, key: Any, body: kopf.Body) -> kopf.ProgressRecord | None:
        return None

    def store(
        self, *, key: Any, record: kopf.ProgressRecord, body: kopf.Body, patch: kopf.Patch
    ) -> None:
        return None

    def purge(self, *, key: Any, body: kopf.Body, patch: kopf.Patch) -> None:
        return None

    def touch(self, *, body: kopf.Body, patch: kopf.Patch, value: str | None) -> None:
        return None

    def clear(self, *, essence: kopf.BodyEssence) -> kopf.BodyEssence:
        return essence
