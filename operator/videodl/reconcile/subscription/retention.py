"""Which of a subscription's downloads retention deletes. Pure: no I/O.

Newest first means by upload date (``YYYYMMDD``, when the site gave one), then by when
the download was created. ``keepLast`` keeps that many of the newest unpinned downloads;
``deleteOlderThan`` deletes those older than the duration, measured from when the download
finished (``ageBasis: Downloaded``) or from the upload date (``Uploaded``; the finish time
when the site gave no date). A download labelled ``videodl.dev/pinned: "true"`` is never
deleted and not counted; one that has not finished is never deleted (it still counts).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from videodl.api.subscription import AgeBasis, Retention, duration_seconds
from videodl.reconcile.subscription.views import DownloadView

__all__ = ["newest_first", "prune"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _created(download: DownloadView) -> datetime.datetime:
    return download.created or _EPOCH


def _sort_key(download: DownloadView) -> tuple[str, datetime.datetime, str]:
    day = download.upload_date or _created(download).strftime("%Y%m%d")
    return day, _created(download), download.name


def newest_first(downloads: Iterable[DownloadView]) -> list[DownloadView]:
    """Downloads by upload date, then creation, newest first."""
    return sorted(downloads, key=_sort_key, reverse=True)


def _uploaded(download: DownloadView) -> datetime.datetime | None:
    if download.upload_date is None:
        return None
    try:
        day = datetime.datetime.strptime(download.upload_date, "%Y%m%d")
    except ValueError:
        return None
    return day.replace(tzinfo=datetime.UTC)


def _age_origin(download: DownloadView, basis: AgeBasis) -> datetime.datetime:
    finished = download.completed or _created(download)
    if basis is AgeBasis.UPLOADED:
        return _uploaded(download) or finished
    return finished


def prune(
    downloads: Iterable[DownloadView], retention: Retention, now: datetime.datetime
) -> tuple[str, ...]:
    """Names of the downloads to delete now, oldest first."""
    candidates = newest_first(d for d in downloads if not d.pinned and not d.deleting)
    doomed: dict[str, DownloadView] = {}
    if retention.keep_last is not None:
        for download in candidates[retention.keep_last :]:
            if download.finished:
                doomed[download.name] = download
    if retention.delete_older_than is not None:
        limit = datetime.timedelta(seconds=duration_seconds(retention.delete_older_than))
        for download in candidates:
            if download.finished and now - _age_origin(download, retention.age_basis) > limit:
                doomed[download.name] = download
    return tuple(d.name for d in reversed(newest_first(doomed.values())))
