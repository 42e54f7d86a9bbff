"""Which recorded entries become children, as yt-dlp's own selection options would pick.

The order of the steps is yt-dlp's: ``items`` keeps entries by their 1-based position in
the enumeration, ``reverse`` turns the order round, then the filters (upload dates,
title patterns, durations) drop entries, and ``maxItems`` keeps the first of what is left.
An entry whose upload date or duration is unknown passes the date or duration filter:
the site did not say, and dropping it would make the filter a guess. Entries whose video
id was seen before are dropped (one child per video). Title patterns are searched with
Python's ``re`` (unanchored, like yt-dlp's ``--match-title``).

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from videodl.api.playlist import ITEMS_PATTERN, EntryFilters, VideoPlaylistSpec
from videodl.workerapi.index import Entry

__all__ = ["parse_items", "select", "wanted"]

_ITEMS = re.compile(ITEMS_PATTERN)


def parse_items(items: str) -> tuple[tuple[int, int], ...]:
    """``1-10,15`` as inclusive ranges ``((1, 10), (15, 15))``; ValueError when malformed."""
    if not _ITEMS.fullmatch(items):
        msg = f"spec.items {items!r} must be indexes and ranges such as 1-10,15"
        raise ValueError(msg)
    ranges: list[tuple[int, int]] = []
    for part in items.split(","):
        start, _, end = part.partition("-")
        low, high = int(start), int(end or start)
        if high < low:
            msg = f"spec.items range {part!r} ends before it starts: write {high}-{low}"
            raise ValueError(msg)
        ranges.append((low, high))
    return tuple(ranges)


def _in_items(position: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(low <= position <= high for low, high in ranges)


def _within(value: str | float | None, low: str | float | None, high: str | float | None) -> bool:
    # An unknown value passes: the site did not say, and dropping it would be a guess.
    if value is None:
        return True
    return (low is None or value >= low) and (high is None or value <= high)  # type: ignore[operator]


def wanted(entry: Entry, spec: EntryFilters) -> bool:
    """Whether ``entry`` passes the filters of ``spec`` (dates, titles, durations)."""
    title = entry.title or ""
    return (
        _within(entry.upload_date, spec.date_after, spec.date_before)
        and _within(entry.duration, spec.min_duration_seconds, spec.max_duration_seconds)
        and (spec.title_regex is None or re.search(spec.title_regex, title) is not None)
        and (spec.exclude_title_regex is None or re.search(spec.exclude_title_regex, title) is None)
    )


def select(entries: Iterable[Entry], spec: VideoPlaylistSpec) -> list[Entry]:
    """The entries to create children for, in creation order, at most ``spec.maxItems``."""
    chosen = list(entries)
    if spec.items is not None:
        ranges = parse_items(spec.items)
        chosen = [e for e in chosen if _in_items(e.index, ranges)]
    if spec.reverse:
        chosen.reverse()
    seen: set[str] = set()
    selected: list[Entry] = []
    for entry in chosen:
        if entry.id in seen or not wanted(entry, spec):
            continue
        seen.add(entry.id)
        selected.append(entry)
        if len(selected) >= spec.max_items:
            break
    return selected
