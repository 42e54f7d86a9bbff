"""Table rows: one per object, cells as text, the progress as a number for the bar.

Pure: no I/O. A row never fails: an object the models cannot read still gets a row,
whose reason says what is wrong with it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.playlist import ChildCounts, VideoPlaylist, VideoPlaylistStatus
from videodl.api.resource import VideoDownload
from videodl.api.status import ConditionType, Phase, VideoDownloadStatus
from videodl.api.subscription import (
    SubscriptionPhase,
    VideoSubscription,
    VideoSubscriptionStatus,
)
from videodl.cli import formatting, waiting
from videodl.core.times import parse_time

__all__ = ["Column", "Row", "download_row", "playlist_row", "subscription_row"]


class Column(BaseModel):
    """A table column: its header, the cell key it shows, and when it is shown."""

    model_config = ConfigDict(frozen=True)

    header: str
    key: str
    #: Only with ``-o wide``.
    wide: bool = False
    #: The cell is drawn as a progress bar of the row's ``percent``.
    bar: bool = False


class Row(BaseModel):
    """One object as a table shows it."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    cells: dict[str, str]
    #: The progress (0 to 100) when known, for the bar.
    percent: float | None = None
    #: Whether nothing more will happen to the object on its own.
    finished: bool = False


def download_row(obj: Mapping[str, Any], now: datetime.datetime) -> Row:
    """The row of a VideoDownload object as the apiserver returns it."""
    metadata = obj.get("metadata") or {}
    namespace = str(metadata.get("namespace", ""))
    name = str(metadata.get("name", ""))
    created = formatting.age(parse_time(metadata.get("creationTimestamp")), now)
    try:
        download = VideoDownload.from_object(obj)
    except InvalidVideoDownloadError as exc:
        cells = {"phase": "Invalid", "reason": str(exc), "age": created}
        return Row(namespace=namespace, name=name, cells=cells, finished=True)
    status = download.status or VideoDownloadStatus()
    progress = status.progress if status.phase == Phase.RUNNING else None
    percent = progress.percent if progress else None
    if status.phase == Phase.SUCCEEDED:
        percent = 100.0
    result = status.result
    cells = {
        "phase": status.phase.value if status.phase else "",
        "progress": formatting.percent_text(percent),
        "speed": formatting.speed_text(progress.speed_bytes_per_second if progress else None),
        "eta": formatting.duration(progress.eta_seconds if progress else None),
        "size": formatting.bytes_text(
            (progress.total_bytes or progress.downloaded_bytes) if progress else None
        )
        or formatting.bytes_text(sum(f.size_bytes for f in result.files) if result else None),
        "stage": progress.stage.value if progress and progress.stage else "",
        "attempts": f"{status.attempts or 0}/{download.spec.retry.max_attempts}",
        "priority": download.spec.priority.value,
        "reason": waiting.reason(
            download.spec,
            status,
            deleting=metadata.get("deletionTimestamp") is not None,
            now=now,
        ),
        "pod": status.worker_pod or "",
        "title": (result.title or "") if result else "",
        "url": download.spec.url,
        "age": created,
    }
    finished = status.phase is not None and status.phase.finished
    return Row(namespace=namespace, name=name, cells=cells, percent=percent, finished=finished)


def playlist_row(obj: Mapping[str, Any], now: datetime.datetime) -> Row:
    """The row of a VideoPlaylist object as the apiserver returns it: counts, never children."""
    metadata = obj.get("metadata") or {}
    namespace = str(metadata.get("namespace", ""))
    name = str(metadata.get("name", ""))
    created = formatting.age(parse_time(metadata.get("creationTimestamp")), now)
    try:
        found = VideoPlaylist.from_object(obj)
    except InvalidVideoDownloadError as exc:
        cells = {"phase": "Invalid", "reason": str(exc), "age": created}
        return Row(namespace=namespace, name=name, cells=cells, finished=True)
    status = found.status or VideoPlaylistStatus()
    counts = status.children or ChildCounts()
    progress = status.progress
    ready = next((c for c in status.conditions if c.type == ConditionType.READY.value), None)
    phase = status.phase.value if status.phase else ""
    cells = {
        "phase": phase,
        "progress": progress.text if progress else "",
        "succeeded": str(counts.succeeded),
        "failed": str(counts.failed),
        "entries": "" if status.entries is None else str(status.entries),
        "created": "" if status.created is None else str(status.created),
        "size": formatting.bytes_text(status.bytes),
        "age": created,
        "reason": ready.reason if ready and ready.status != "True" else "",
    }
    return Row(
        namespace=namespace,
        name=name,
        cells=cells,
        percent=progress.percent if progress else None,
        finished=phase in ("Succeeded", "Failed"),
    )


def subscription_row(obj: Mapping[str, Any], now: datetime.datetime) -> Row:
    """The row of a VideoSubscription object: its schedule, slots and video counts."""
    metadata = obj.get("metadata") or {}
    namespace = str(metadata.get("namespace", ""))
    name = str(metadata.get("name", ""))
    created = formatting.age(parse_time(metadata.get("creationTimestamp")), now)
    try:
        found = VideoSubscription.from_object(obj)
    except InvalidVideoDownloadError as exc:
        cells = {"phase": "Invalid", "reason": str(exc), "age": created}
        return Row(namespace=namespace, name=name, cells=cells, finished=True)
    status = found.status or VideoSubscriptionStatus()
    upcoming = status.next_schedule_time
    stalled = next((c for c in status.conditions if c.type == ConditionType.STALLED.value), None)
    cells = {
        "schedule": found.spec.schedule,
        "suspend": str(found.spec.suspend).lower(),
        "phase": status.phase.value if status.phase else "",
        "last_schedule": formatting.age(status.last_schedule_time, now),
        "next_schedule": (
            f"in {formatting.duration(max((upcoming - now).total_seconds(), 0))}"
            if upcoming
            else ""
        ),
        "downloaded": str(status.videos.downloaded),
        "known": str(status.videos.known),
        "pruned": str(status.videos.pruned),
        "age": created,
        "reason": stalled.message if stalled and stalled.status == "True" else "",
    }
    return Row(
        namespace=namespace,
        name=name,
        cells=cells,
        finished=status.phase is SubscriptionPhase.FAILED,
    )
