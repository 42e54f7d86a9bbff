"""The VideoSubscription CustomResourceDefinition, built from the models.

Pure: no I/O. ``generate`` writes the result to ``crds/`` beside the others.
"""

from __future__ import annotations

from typing import Any, Final

from videodl.api import kind_crd, resource, subscription

__all__ = ["CRD_NAME", "PRINTER_COLUMNS", "crd_manifest", "openapi_schema"]

CRD_NAME: Final = f"{subscription.PLURAL}.{resource.GROUP}"

#: ``kubectl get vsub`` columns.
PRINTER_COLUMNS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "Schedule",
        "type": "string",
        "jsonPath": ".spec.schedule",
        "description": "When the source is scanned.",
    },
    {
        "name": "Suspend",
        "type": "boolean",
        "jsonPath": ".spec.suspend",
        "description": "Whether scans are held.",
    },
    {
        "name": "Phase",
        "type": "string",
        "jsonPath": ".status.phase",
        "description": "Where the subscription is.",
    },
    {
        "name": "Last Schedule",
        "type": "date",
        "jsonPath": ".status.lastScheduleTime",
        "description": "Slot of the last scan started.",
    },
    {
        "name": "Downloaded",
        "type": "integer",
        "jsonPath": ".status.videos.downloaded",
        "description": "Downloads that succeeded.",
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {
        "name": "Known",
        "type": "integer",
        "jsonPath": ".status.videos.known",
        "description": "Videos seen by a scan.",
        "priority": 1,
    },
    {
        "name": "Pruned",
        "type": "integer",
        "jsonPath": ".status.videos.pruned",
        "description": "Downloads deleted by retention.",
        "priority": 1,
    },
)


def openapi_schema() -> dict[str, Any]:
    """``openAPIV3Schema`` of the whole object, bounds and defaults in the descriptions."""
    return kind_crd.openapi_schema(
        subscription.VideoSubscriptionSpec,
        subscription.VideoSubscriptionStatus,
        "A VideoSubscription follows a channel, playlist or feed: each slot of its schedule "
        "starts a scan, every video the subscription has not seen becomes a VideoDownload, "
        "and retention prunes the downloads beyond what it keeps.",
    )


def crd_manifest() -> dict[str, Any]:
    """The CustomResourceDefinition manifest."""
    return kind_crd.crd_manifest(
        kind=subscription.KIND,
        list_kind=subscription.LIST_KIND,
        plural=subscription.PLURAL,
        singular=subscription.SINGULAR,
        short_name=subscription.SHORT_NAME,
        columns=PRINTER_COLUMNS,
        openapi=openapi_schema(),
    )
