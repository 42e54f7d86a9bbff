"""A subscription's scans and downloads as the operator keeps them: a compact view each.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from videodl.api.playlist import PlaylistPhase
from videodl.api.status import Phase
from videodl.api.subscription import KIND, LABEL_PINNED
from videodl.core.times import parse_time
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.subscription import naming

__all__ = ["DownloadView", "ScanView", "owner_uid"]


def owner_uid(metadata: Mapping[str, Any]) -> str | None:
    """The uid of the VideoSubscription controlling an object, if one does."""
    for ref in metadata.get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == KIND and ref.get("uid"):
            return str(ref["uid"])
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class ScanView:
    """One scan (a dry-run VideoPlaylist), as much as its subscription needs."""

    namespace: str
    name: str
    uid: str
    resource_version: str | None
    owner_uid: str | None
    slot: datetime.datetime | None
    phase: PlaylistPhase | None
    #: The enumeration completed (its entries can be read).
    indexed: bool

    @classmethod
    def from_object(cls, body: Mapping[str, Any]) -> ScanView:
        metadata = body.get("metadata") or {}
        status = body.get("status") or {}
        try:
            phase: PlaylistPhase | None = PlaylistPhase(str(status.get("phase")))
        except ValueError:
            phase = None
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=metadata.get("resourceVersion"),
            owner_uid=owner_uid(metadata),
            slot=parse_time((metadata.get("annotations") or {}).get(naming.ANNOTATION_SLOT)),
            phase=phase,
            indexed=status.get("indexedRun") is not None
            and status.get("indexedRun") == status.get("indexRun"),
        )

    @property
    def succeeded(self) -> bool:
        return self.phase is PlaylistPhase.SUCCEEDED and self.indexed

    @property
    def failed(self) -> bool:
        return self.phase is PlaylistPhase.FAILED

    @property
    def finished(self) -> bool:
        return self.succeeded or self.failed


@dataclasses.dataclass(frozen=True, slots=True)
class DownloadView:
    """One VideoDownload of a subscription, as much as retention and the counts need."""

    namespace: str
    name: str
    uid: str
    resource_version: str | None
    owner_uid: str | None
    video_id: str
    phase: Phase | None
    pinned: bool
    upload_date: str | None
    created: datetime.datetime | None
    completed: datetime.datetime | None
    deleting: bool

    @classmethod
    def from_object(cls, body: Mapping[str, Any]) -> DownloadView:
        metadata = body.get("metadata") or {}
        status = body.get("status") or {}
        labels = metadata.get("labels") or {}
        annotations = metadata.get("annotations") or {}
        try:
            phase: Phase | None = Phase(str(status.get("phase")))
        except ValueError:
            phase = None
        upload = annotations.get(naming.ANNOTATION_UPLOAD_DATE)
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=metadata.get("resourceVersion"),
            owner_uid=owner_uid(metadata),
            video_id=str(annotations.get(playlist_naming.ANNOTATION_VIDEO_ID, "")),
            phase=phase,
            pinned=str(labels.get(LABEL_PINNED, "")).lower() == "true",
            upload_date=str(upload) if upload else None,
            created=parse_time(metadata.get("creationTimestamp")),
            completed=parse_time(status.get("completionTime")),
            deleting=metadata.get("deletionTimestamp") is not None,
        )

    @property
    def finished(self) -> bool:
        return self.phase is not None and self.phase.finished
