"""Tests for videodl.reconcile.playlist.selection: which entries become children."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.api.playlist import VideoPlaylistSpec
from videodl.reconcile.playlist import selection
from videodl.workerapi.index import Entry


def entries(count: int) -> list[Entry]:
    """Episode n: id e<n>, uploaded 2024-01-<n>, n seconds long."""
    return [
        Entry(
            index=n,
            id=f"e{n}",
            url=f"http://media.example/{n}.mp4",
            title=f"Episode {n}",
            duration=float(n),
            upload_date=f"202401{n:02d}",
        )
        for n in range(1, count + 1)
    ]


def spec(**fields: Any) -> VideoPlaylistSpec:
    return VideoPlaylistSpec.model_validate({"url": "http://media.example/feed.rss", **fields})


def ids(chosen: list[Entry]) -> list[str]:
    return [e.id for e in chosen]


class TestParseItems:
    def test_indexes_and_ranges(self) -> None:
        """``1-3,7`` is two inclusive ranges."""
        assert selection.parse_items("1-3,7") == ((1, 3), (7, 7))

    @pytest.mark.parametrize("text", ["0", "3-1", "1,,2", "a", "1-"])
    def test_malformed(self, text: str) -> None:
        """Zero, backwards ranges and junk are refused with the field's name."""
        with pytest.raises(ValueError, match=r"spec\.items"):
            selection.parse_items(text)


class TestSelect:
    def test_max_items_keeps_the_first(self) -> None:
        """25 entries, maxItems 20: the first 20."""
        assert ids(selection.select(entries(25), spec(maxItems=20))) == [
            f"e{n}" for n in range(1, 21)
        ]

    def test_items_then_reverse_then_max_items(self) -> None:
        """items picks by position, reverse turns them round, maxItems cuts last."""
        chosen = selection.select(entries(20), spec(items="2-5,9", reverse=True, maxItems=3))
        assert ids(chosen) == ["e9", "e5", "e4"]

    def test_dates_titles_durations(self) -> None:
        """The filters combine: dates inclusive, title regexes searched, durations inclusive."""
        chosen = selection.select(
            entries(20),
            spec(
                dateAfter="20240103",
                dateBefore="20240115",
                titleRegex="[02468]$",
                excludeTitleRegex="^Episode 1[02]$",
                minDurationSeconds=4,
                maxDurationSeconds=14,
            ),
        )
        assert ids(chosen) == ["e4", "e6", "e8", "e14"]

    def test_unknown_dates_and_durations_pass(self) -> None:
        """An entry without an upload date or a duration passes those filters."""
        bare = Entry(index=1, id="x", url="http://media.example/x.mp4")
        chosen = selection.select([bare], spec(dateAfter="20240101", minDurationSeconds=10))
        assert ids(chosen) == ["x"]

    def test_duplicate_ids_once(self) -> None:
        """A video listed twice gets one child."""
        twice = [*entries(2), entries(1)[0].model_copy(update={"index": 3})]
        assert ids(selection.select(twice, spec())) == ["e1", "e2"]

    @given(
        st.integers(min_value=0, max_value=60),
        st.integers(min_value=1, max_value=70),
        st.booleans(),
        st.lists(st.tuples(st.integers(1, 70), st.integers(0, 10)), max_size=4),
    )
    def test_invariants(
        self, count: int, max_items: int, reverse: bool, ranges: list[tuple[int, int]]
    ) -> None:
        """At most maxItems, no id twice, every chosen entry recorded, in items and wanted."""
        items = ",".join(f"{low}-{low + width}" for low, width in ranges) or None
        playlist = spec(maxItems=max_items, reverse=reverse, items=items, titleRegex="[13579]$")
        recorded = entries(count)
        chosen = selection.select(recorded, playlist)
        assert len(chosen) <= max_items
        assert len({e.id for e in chosen}) == len(chosen)
        assert all(e in recorded and selection.wanted(e, playlist) for e in chosen)
        if items is not None:
            parsed = selection.parse_items(items)
            assert all(any(lo <= e.index <= hi for lo, hi in parsed) for e in chosen)
        positions = [e.index for e in chosen]
        assert positions == sorted(positions, reverse=reverse)
        # Nothing wanted is left out unless maxItems cut it.
        if len(chosen) < max_items:
            pool = selection.select(
                recorded, spec(reverse=reverse, items=items, titleRegex="[13579]$", maxItems=5000)
            )
            assert chosen == pool
