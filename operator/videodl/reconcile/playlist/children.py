"""A playlist's children as the operator keeps them: a compact view each, and the counts.

The operator watches the VideoDownloads labelled ``videodl.dev/playlist`` and keeps only
what the counts need (phase, suspend, bytes of the result files), by the playlist's uid.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from videodl.api.playlist import ChildCounts
from videodl.api.status import Phase

__all__ = ["ChildView", "Summary", "summarize"]

_FIELDS = {
    Phase.PENDING: "pending",
    Phase.QUEUED: "queued",
    Phase.RUNNING: "running",
    Phase.BACKING_OFF: "backing_off",
    Phase.BLOCKED: "blocked",
    Phase.SUSPENDED: "suspended",
    Phase.SUCCEEDED: "succeeded",
    Phase.FAILED: "failed",
}


@dataclasses.dataclass(frozen=True, slots=True)
class ChildView:
    """One child VideoDownload, as much as its playlist needs."""

    namespace: str
    name: str
    uid: str
    resource_version: str | None
    owner_uid: str | None
    phase: Phase | None
    suspend: bool
    bytes: int

    @classmethod
    def from_object(cls, body: Mapping[str, Any]) -> ChildView:
        """Summarise a VideoDownload as the apiserver returns it."""
        metadata = body.get("metadata") or {}
        status = body.get("status") or {}
        owner = next(
            (r for r in metadata.get("ownerReferences") or [] if r.get("controller")), None
        )
        try:
            phase: Phase | None = Phase(str(status.get("phase")))
        except ValueError:
            phase = None
        files = (status.get("result") or {}).get("files") or []
        size = sum(int(f.get("sizeBytes") or 0) for f in files if isinstance(f, Mapping))
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=metadata.get("resourceVersion"),
            owner_uid=str(owner["uid"]) if owner and owner.get("uid") else None,
            phase=phase,
            suspend=bool((body.get("spec") or {}).get("suspend")),
            bytes=size,
        )

    @property
    def finished(self) -> bool:
        return self.phase is not None and self.phase.finished


@dataclasses.dataclass(frozen=True)
class Summary:
    """What the children add up to."""

    counts: ChildCounts
    created: int
    finished: int
    bytes: int


def summarize(children: Iterable[ChildView]) -> Summary:
    """Counts by phase (a child without a phase yet is ``pending``), finished, bytes."""
    tally = dict.fromkeys(_FIELDS.values(), 0)
    created = finished = size = 0
    for child in children:
        created += 1
        tally[_FIELDS.get(child.phase, "pending") if child.phase else "pending"] += 1
        finished += child.finished
        size += child.bytes
    return Summary(counts=ChildCounts(**tally), created=created, finished=finished, bytes=size)
