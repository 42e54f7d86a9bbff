"""Tests for videodl.reconcile.subscription.intake: what a scan takes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from videodl.api.subscription import VideoSubscriptionSpec
from videodl.reconcile.subscription import intake
from videodl.reconcile.subscription.ledger import Ledger
from videodl.workerapi.index import Entry


def spec(**fields: Any) -> VideoSubscriptionSpec:
    return VideoSubscriptionSpec.model_validate(
        {"url": "http://media.example/feed.rss", "schedule": "@hourly", **fields}
    )


def feed(count: int) -> list[Entry]:
    """A feed listed newest first: episode n uploaded on 2024-01-n."""
    return [
        Entry(index=i, id=f"e{n}", url=f"http://m/{n}.mp4", upload_date=f"202401{n:02d}")
        for i, n in enumerate(range(count, 0, -1), start=1)
    ]


def test_none_takes_nothing_and_records_everything() -> None:
    taken = intake.take(feed(5), Ledger(), spec(), first=True)
    assert taken.create == ()
    assert set(taken.record) == {f"e{n}" for n in range(1, 6)}


def test_a_count_takes_the_newest() -> None:
    taken = intake.take(feed(5), Ledger(), spec(initialBacklog=3), first=True)
    assert [e.id for e in taken.create] == ["e5", "e4", "e3"]
    assert set(taken.record) == {f"e{n}" for n in range(1, 6)}


def test_date_after_limits_the_backlog() -> None:
    taken = intake.take(feed(5), Ledger(), spec(initialBacklog=3, dateAfter="20240104"), first=True)
    assert [e.id for e in taken.create] == ["e5", "e4"]


def test_all_is_a_scan_like_any_other() -> None:
    taken = intake.take(
        feed(5), Ledger(), spec(initialBacklog="All", maxItemsPerScan=2), first=True
    )
    assert [e.id for e in taken.create] == ["e5", "e4"]
    assert taken.record == ("e5", "e4")


def test_later_scans_take_only_unseen_videos() -> None:
    seen = Ledger(f"e{n}" for n in range(1, 6))
    taken = intake.take(feed(7), seen, spec(), first=False)
    assert [e.id for e in taken.create] == ["e7", "e6"]
    assert taken.record == ("e7", "e6")


def test_filtered_entries_are_not_recorded_after_the_first_scan() -> None:
    taken = intake.take(feed(3), Ledger(), spec(titleRegex="^never"), first=False)
    assert taken.create == ()
    assert taken.record == ()


def test_undated_entries_follow_in_listed_order() -> None:
    entries = [
        Entry(index=1, id="x", url="http://m/x"),
        Entry(index=2, id="d", url="http://m/d", upload_date="20240101"),
        Entry(index=3, id="y", url="http://m/y"),
    ]
    assert [e.id for e in intake.newest_first(entries)] == ["d", "x", "y"]


@given(
    st.integers(min_value=0, max_value=30),
    st.sets(st.integers(min_value=1, max_value=30)),
    st.integers(min_value=1, max_value=10),
    st.booleans(),
)
def test_never_takes_a_seen_video_nor_more_than_a_scan_may(
    count: int, seen_numbers: set[int], per_scan: int, first: bool
) -> None:
    seen = Ledger(f"e{n}" for n in seen_numbers)
    taken = intake.take(
        feed(count), seen, spec(maxItemsPerScan=per_scan, initialBacklog="All"), first=first
    )
    ids = [e.id for e in taken.create]
    assert not any(i in seen for i in ids)
    assert len(ids) == len(set(ids)) <= per_scan
    assert set(ids) <= set(taken.record)
    unseen = [e.id for e in intake.newest_first(feed(count)) if e.id not in seen]
    assert ids == unseen[:per_scan]
