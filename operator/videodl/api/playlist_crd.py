"""The VideoPlaylist CustomResourceDefinition, built from the models.

Pure: no I/O. ``generate`` writes the result to ``crds/`` beside the VideoDownload's.
"""

from __future__ import annotations

from typing import Any, Final

from videodl.api import crd, playlist, resource, schema

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
    spec = crd.explained(schema.model_schema(playlist.VideoPlaylistSpec))
    status = crd.explained(schema.strip_defaults(schema.model_schema(playlist.VideoPlaylistStatus)))
    base = crd.openapi_schema()
    return {
        "description": (
            "A VideoPlaylist turns a playlist, a channel or a list of URLs into one "
            "VideoDownload per selected video. An indexer Pod enumerates the entries; the "
            "operator selects them, creates the children in batches and counts them in status."
        ),
        "type": "object",
        "properties": {
            "apiVersion": base["properties"]["apiVersion"],
            "kind": base["properties"]["kind"],
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    }


def crd_manifest() -> dict[str, Any]:
    """The CustomResourceDefinition manifest."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": resource.GROUP,
            "names": {
                "kind": playlist.KIND,
                "listKind": playlist.LIST_KIND,
                "plural": playlist.PLURAL,
                "singular": playlist.SINGULAR,
                "shortNames": [playlist.SHORT_NAME],
                "categories": list(resource.CATEGORIES),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": resource.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in PRINTER_COLUMNS],
                    "schema": {"openAPIV3Schema": openapi_schema()},
                }
            ],
        },
    }
