"""Tests for videodl.reconcile.subscription.retention: which downloads are pruned."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from videodl.api.status import Phase
from videodl.api.subscription import Retention
from videodl.reconcile.subscription import retention
from videodl.reconcile.subscription.views import DownloadView

NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def download(
    n: int,
    *,
    phase: Phase | None = Phase.SUCCEEDED,
    pinned: bool = False,
    finished_days_ago: int | None = None,
    upload_date: str | None = "auto",
) -> DownloadView:
    created = NOW - datetime.timedelta(days=100 - n)
    return DownloadView(
        namespace="n",
        name=f"d{n}",
        uid=f"u{n}",
        resource_version="1",
        owner_uid="s",
        video_id=f"e{n}",
        phase=phase,
        pinned=pinned,
        upload_date=f"202401{n:02d}" if upload_date == "auto" else upload_date,
        created=created,
        completed=NOW - finished_days_ago * DAY if finished_days_ago is not None else created,
        deleting=False,
    )


def test_keep_last_keeps_the_newest() -> None:
    downloads = [download(n) for n in range(1, 6)]
    assert retention.prune(downloads, Retention(keepLast=2), NOW) == ("d1", "d2", "d3")


def test_pinned_downloads_stay_and_do_not_count() -> None:
    downloads = [download(1, pinned=True), *(download(n) for n in range(2, 6))]
    assert retention.prune(downloads, Retention(keepLast=2), NOW) == ("d2", "d3")


def test_unfinished_downloads_are_never_pruned() -> None:
    downloads = [download(1, phase=Phase.RUNNING), download(2, phase=Phase.QUEUED), download(3)]
    assert retention.prune(downloads, Retention(keepLast=1), NOW) == ()


def test_older_than_by_download_time() -> None:
    downloads = [download(1, finished_days_ago=10), download(2, finished_days_ago=2)]
    assert retention.prune(downloads, Retention(deleteOlderThan="7d"), NOW) == ("d1",)


def test_older_than_by_upload_date() -> None:
    downloads = [
        download(1, finished_days_ago=0),
        download(2, finished_days_ago=0, upload_date=None),
    ]
    kept = Retention(deleteOlderThan="30d", ageBasis="Uploaded")
    assert retention.prune(downloads, kept, NOW) == ("d1",)


def test_no_rule_prunes_nothing() -> None:
    assert retention.prune([download(n) for n in range(1, 9)], Retention(), NOW) == ()


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([Phase.SUCCEEDED, Phase.FAILED, Phase.RUNNING])),
        max_size=25,
    ),
    st.integers(min_value=1, max_value=10),
)
def test_keep_last_never_prunes_pinned_running_or_the_newest(
    shape: list[tuple[bool, Phase]], keep: int
) -> None:
    downloads = [
        download(n, pinned=pinned, phase=phase) for n, (pinned, phase) in enumerate(shape, start=1)
    ]
    pruned = set(retention.prune(downloads, Retention(keepLast=keep), NOW))
    by_name = {d.name: d for d in downloads}
    assert all(not by_name[n].pinned and by_name[n].finished for n in pruned)
    newest = retention.newest_first(d for d in downloads if not d.pinned)[:keep]
    assert not pruned & {d.name for d in newest}
    beyond = retention.newest_first(d for d in downloads if not d.pinned)[keep:]
    assert pruned == {d.name for d in beyond if d.finished}
