"""Manifests a VideoSubscription owns: its scans, its downloads and its ledger. Pure.

Everything carries a controller owner reference to the subscription (deleting it deletes
them all; the downloads' files follow their ``deletionPolicy``) and the label
``videodl.dev/subscription``. A scan is a VideoPlaylist in dry-run mode: the playlist's
indexer, retries and circuit breaker enumerate the source, and the subscription takes the
entries.
"""

from __future__ import annotations

import datetime
from typing import Any

from videodl.api.playlist import KIND as PLAYLIST_KIND
from videodl.api.playlist import MAX_ITEMS_CAP
from videodl.api.resource import API_VERSION, MANAGER
from videodl.api.subscription import KIND, VideoSubscription
from videodl.core.times import format_time
from videodl.reconcile.download import naming as download_naming
from videodl.reconcile.playlist import naming as playlist_naming
from videodl.reconcile.subscription import ledger, naming
from videodl.workerapi.index import Entry

__all__ = ["download", "ledger_map", "owner_reference", "scan"]

_FILTERS = (
    "dateAfter",
    "dateBefore",
    "titleRegex",
    "excludeTitleRegex",
    "minDurationSeconds",
    "maxDurationSeconds",
)


def owner_reference(subscription: VideoSubscription) -> dict[str, Any]:
    """The controller owner reference to ``subscription``."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": subscription.name,
        "uid": subscription.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _labels(subscription: VideoSubscription) -> dict[str, str]:
    return {
        download_naming.LABEL_MANAGED_BY: MANAGER,
        naming.LABEL_SUBSCRIPTION: naming.subscription_label(subscription.name, subscription.uid),
    }


def scan(subscription: VideoSubscription, name: str, slot: datetime.datetime) -> dict[str, Any]:
    """The scan of ``slot``: a dry-run VideoPlaylist of the subscription's source."""
    spec = subscription.spec
    document = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    playlist_spec: dict[str, Any] = {k: document[k] for k in _FILTERS if k in document}
    playlist_spec |= {
        "url": spec.url,
        "template": document.get("template", {}),
        "maxItems": MAX_ITEMS_CAP,
        "dryRun": True,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": PLAYLIST_KIND,
        "metadata": {
            "name": name,
            "namespace": subscription.namespace,
            "labels": _labels(subscription),
            "annotations": {naming.ANNOTATION_SLOT: format_time(slot)},
            "ownerReferences": [owner_reference(subscription)],
        },
        "spec": playlist_spec,
    }


def download(subscription: VideoSubscription, entry: Entry, scan_name: str) -> dict[str, Any]:
    """The VideoDownload of a new video."""
    spec = subscription.spec.download_spec(entry.url)
    annotations = {playlist_naming.ANNOTATION_VIDEO_ID: entry.id, "videodl.dev/scan": scan_name}
    if entry.upload_date:
        annotations[naming.ANNOTATION_UPLOAD_DATE] = entry.upload_date
    return {
        "apiVersion": API_VERSION,
        "kind": "VideoDownload",
        "metadata": {
            "name": naming.download_name(subscription.name, entry.id),
            "namespace": subscription.namespace,
            "labels": {
                **_labels(subscription),
                playlist_naming.LABEL_VIDEO: playlist_naming.video_label(entry.id),
            },
            "annotations": annotations,
            "ownerReferences": [owner_reference(subscription)],
        },
        "spec": spec.model_dump(by_alias=True, exclude_none=True, mode="json"),
    }


def ledger_map(subscription: VideoSubscription, seen: ledger.Ledger) -> dict[str, Any]:
    """The ConfigMap that holds the ledger."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": naming.ledger_name(subscription.name, subscription.uid),
            "namespace": subscription.namespace,
            "labels": _labels(subscription),
            "ownerReferences": [owner_reference(subscription)],
        },
        "binaryData": ledger.encode(seen),
    }
