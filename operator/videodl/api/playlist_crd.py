"""The VideoPlaylist CustomResourceDefinition, built from the models.

Pure: no I/O. ``generate`` writes the result to ``crds/`` beside the VideoDownload's.
"""

from __future__ import annotations

from typing import Any, Final

from videodl.api import kind_crd, playlist, resource

__all__ = ["CRD_NAME", "PRINTER_COLUMNS", "crd_manifest", "openapi_schema"]

CRD_NAME: Final = f"{playlist.PLURAL}.{resource.GROUP}"

#: ``kubectl get vpl`` columns.
PRINTER_COLUMNS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "Phase",
        "type": "string",
        "jsonPath": ".status.phase",
        "description": "Where the playlist is in its life cycle.",
    },
    {
        "name": "Progress",
        "type": "string",
        "jsonPath": ".status.progressText",
        "description": "Children finished out of entries selected.",
    },
    {
        "name": "Succeeded",
        "type": "integer",
        "jsonPath": ".status.children.succeeded",
        "description": "Children that succeeded.",
    },
    {
        "name": "Failed",
        "type": "integer",
        "jsonPath": ".status.children.failed",
        "description": "Children that failed for good.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Entries",
        "type": "integer",
        "jsonPath": ".status.entries",
        "description": "Entries found.",
        "priority": 1,
    },
)


def openapi_schema() -> dict[str, Any]:
    """``openAPIV3Schema`` of the whole object, bounds and defaults in the descriptions."""
    return kind_crd.openapi_schema(
        playlist.VideoPlaylistSpec,
        playlist.VideoPlaylistStatus,
        "A VideoPlaylist turns a playlist, a channel or a list of URLs into one "
        "VideoDownload per selected video. An indexer Pod enumerates the entries; the "
        "operator selects them, creates the children in batches and counts them in status.",
    )


def crd_manifest() -> dict[str, Any]:
    """The CustomResourceDefinition manifest."""
    return kind_crd.crd_manifest(
        kind=playlist.KIND,
        list_kind=playlist.LIST_KIND,
        plural=playlist.PLURAL,
        singular=playlist.SINGULAR,
        short_name=playlist.SHORT_NAME,
        columns=PRINTER_COLUMNS,
        openapi=openapi_schema(),
    )
