"""Names, labels and annotations of what a VideoSubscription owns. Pure: no I/O.

A scan's name is a pure function of the subscription's name and its slot, as the CronJob
controller names its Jobs (``<subscription>-<slot in Unix minutes>``; seconds for
``@every`` schedules, whose slots need not fall on whole minutes), so a restarted operator
never starts one slot twice. A download's name is ``<subscription>-<10 hex of the video
id's hash>``: a video can have one download per subscription.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Final

from videodl.reconcile.playlist import naming as playlist_naming

__all__ = [
    "ANNOTATION_SLOT",
    "ANNOTATION_UPLOAD_DATE",
    "LABEL_SUBSCRIPTION",
    "download_name",
    "ledger_name",
    "scan_name",
    "subscription_label",
]

#: Scans and downloads carry the subscription's name (or uid, when too long) here.
LABEL_SUBSCRIPTION: Final = "videodl.dev/subscription"
#: A scan's slot, RFC 3339.
ANNOTATION_SLOT: Final = "videodl.dev/scheduled-at"
#: A download's upload date as the site gave it, ``YYYYMMDD``.
ANNOTATION_UPLOAD_DATE: Final = "videodl.dev/upload-date"

_NAME_MAX: Final = 63


def scan_name(subscription: str, slot: datetime.datetime, *, in_seconds: bool) -> str:
    """The scan of ``slot``: ``<subscription>-<Unix minutes>`` (or seconds)."""
    stamp = int(slot.timestamp())
    return playlist_naming.joined(
        subscription, str(stamp if in_seconds else stamp // 60), _NAME_MAX
    )


def download_name(subscription: str, video_id: str) -> str:
    """The download of ``video_id``; the same scheme as a playlist's children."""
    return playlist_naming.child_name(subscription, video_id)


def ledger_name(subscription: str, uid: str) -> str:
    """The ConfigMap that remembers the videos seen: ``<subscription>-<hash of uid>-seen``."""
    tail = hashlib.sha256(uid.encode()).hexdigest()[:6]
    return playlist_naming.joined(subscription, f"{tail}-seen", 253)


def subscription_label(name: str, uid: str) -> str:
    """Value of ``videodl.dev/subscription``: the name, or the uid when it is too long."""
    return playlist_naming.playlist_label(name, uid)
