"""How the operator keeps a VideoDownload in memory: compact JSON plus a summary.

With thousands of downloads the parsed models would dominate the operator's memory, so a
record keeps the object as compact JSON (only the metadata the operator uses, the spec and
the status) and the few fields the admission loop reads on every pass; the full model is
parsed again when a decision about the download is made. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from typing import Any, Final

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import VideoDownload, parse_status
from videodl.api.spec import DeletionPolicy, Priority
from videodl.api.status import ConditionType, Phase, VideoDownloadStatus
from videodl.core.times import parse_time

__all__ = ["DownloadRecord", "record_of"]

_KEPT_METADATA: Final = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "finalizers",
)
_EPOCH: Final = datetime.datetime.fromtimestamp(0, datetime.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadRecord:
    """One VideoDownload as last seen."""

    #: The kept object as compact JSON.
    document: bytes
    #: Why the models cannot read the object, if they cannot.
    problem: str | None
    namespace: str
    name: str
    uid: str
    resource_version: str | None
    generation: int
    created: datetime.datetime
    deleting: bool
    finalizers: tuple[str, ...]
    phase: Phase | None
    attempts: int
    next_attempt_time: datetime.datetime | None
    completion_time: datetime.datetime | None
    #: When ``Reconciling`` last turned True (the start of the current wait, or earlier).
    reconciling_since: datetime.datetime | None
    priority: Priority
    suspend: bool
    deletion_policy: DeletionPolicy
    ttl_seconds_after_finished: int | None
    url: str

    @property
    def model(self) -> VideoDownload | None:
        """The object parsed (again) with the API models; None when it cannot be read."""
        if self.problem is not None:
            return None
        return VideoDownload.from_object(json.loads(self.document))

    @property
    def status(self) -> VideoDownloadStatus:
        """The status parsed, or an empty one when it cannot be read."""
        raw = json.loads(self.document).get("status") or {}
        try:
            return parse_status(raw)
        except InvalidVideoDownloadError:
            return VideoDownloadStatus()


def _kept(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata the operator needs, and of the annotations only its own.

    Everything else (managedFields, kubectl's last-applied copy of the whole manifest,
    labels) would only cost memory.
    """
    kept = {k: metadata[k] for k in _KEPT_METADATA if k in metadata}
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k.startswith("videodl.dev/")
    }
    if annotations:
        kept["annotations"] = annotations
    return kept


def record_of(body: Mapping[str, Any]) -> DownloadRecord:
    """Read a VideoDownload object as the apiserver returns it."""
    metadata = _kept(body.get("metadata") or {})
    slim = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": metadata,
        "spec": body.get("spec"),
        "status": body.get("status"),
    }
    document = json.dumps(slim, separators=(",", ":")).encode()
    model: VideoDownload | None = None
    problem: str | None = None
    try:
        model = VideoDownload.from_object(slim)
    except InvalidVideoDownloadError as exc:
        problem = str(exc)
    status = (model.status if model else None) or VideoDownloadStatus()
    reconciling = status.condition(ConditionType.RECONCILING.value)
    spec = model.spec if model else None
    generation = metadata.get("generation")
    version = metadata.get("resourceVersion")
    return DownloadRecord(
        document=document,
        problem=problem,
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        uid=str(metadata.get("uid", "")),
        resource_version=str(version) if version is not None else None,
        generation=generation if isinstance(generation, int) else 0,
        created=parse_time(metadata.get("creationTimestamp")) or _EPOCH,
        deleting=metadata.get("deletionTimestamp") is not None,
        finalizers=tuple(str(f) for f in metadata.get("finalizers") or ()),
        phase=status.phase,
        attempts=status.attempts or 0,
        next_attempt_time=status.next_attempt_time,
        completion_time=status.completion_time,
        reconciling_since=reconciling.last_transition_time if reconciling else None,
        priority=spec.priority if spec else Priority.NORMAL,
        suspend=spec.suspend if spec else False,
        deletion_policy=spec.deletion_policy if spec else DeletionPolicy.RETAIN,
        ttl_seconds_after_finished=spec.ttl_seconds_after_finished if spec else None,
        url=spec.url if spec else "",
    )
