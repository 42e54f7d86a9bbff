"""How the operator keeps a VideoPlaylist in memory: compact JSON and a few fields. Pure.

The model is parsed again for each decision; a playlist the models refuse keeps the
problem, which the reconcile reports as ``Failed`` with reason ``InvalidSpec``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Final

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.playlist import VideoPlaylist, VideoPlaylistStatus

__all__ = ["PlaylistRecord", "record_of"]

_KEPT_METADATA: Final = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "annotations",
)


@dataclasses.dataclass(frozen=True, slots=True)
class PlaylistRecord:
    """One VideoPlaylist as last seen."""

    document: bytes
    problem: str | None
    namespace: str
    name: str
    uid: str
    resource_version: str | None
    generation: int
    deleting: bool

    @property
    def model(self) -> VideoPlaylist | None:
        """The object parsed with the API models; None when it cannot be read."""
        if self.problem is not None:
            return None
        return VideoPlaylist.from_object(json.loads(self.document))

    @property
    def annotations(self) -> Mapping[str, str]:
        raw = (json.loads(self.document).get("metadata") or {}).get("annotations") or {}
        return {str(k): str(v) for k, v in raw.items()}

    @property
    def status(self) -> VideoPlaylistStatus:
        """The status parsed, or an empty one when it cannot be read."""
        raw = json.loads(self.document).get("status") or {}
        try:
            return VideoPlaylistStatus.model_validate(raw)
        except ValueError:
            return VideoPlaylistStatus()


def record_of(body: Mapping[str, Any]) -> PlaylistRecord:
    """The record of a VideoPlaylist as the apiserver (or kopf) delivers it."""
    metadata = body.get("metadata") or {}
    kept = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {k: metadata[k] for k in _KEPT_METADATA if k in metadata},
        "spec": body.get("spec") or {},
        "status": body.get("status") or {},
    }
    document = json.dumps(kept, separators=(",", ":"), default=str).encode()
    problem = None
    try:
        VideoPlaylist.from_object(kept)
    except InvalidVideoDownloadError as exc:
        problem = str(exc)
    generation = metadata.get("generation")
    return PlaylistRecord(
        document=document,
        problem=problem,
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        uid=str(metadata.get("uid", "")),
        resource_version=metadata.get("resourceVersion"),
        generation=generation if isinstance(generation, int) else 0,
        deleting=metadata.get("deletionTimestamp") is not None,
    )
