"""Which entries of a scan become downloads, and which the subscription records as seen.

Newest first: entries with an upload date by that date, newest first, then the others in
the order the site listed them (a channel's or a feed's order is newest first). Only
entries that pass the filters (dates, titles, durations) and were never seen are taken,
at most ``maxItemsPerScan`` a scan; the others wait for the next one. The first scan takes
``initialBacklog`` of what exists: with ``None`` it takes nothing, with a count that many,
and in both cases records every entry found as seen (the backlog is skipped for good, as
MeTube and TubeSync do); with ``All`` it is a scan like any other. Later scans record only
what they take, so a filter widened later still finds the entries it used to drop.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from videodl.api.subscription import BACKLOG_ALL, BACKLOG_NONE, VideoSubscriptionSpec
from videodl.reconcile.playlist import selection
from videodl.reconcile.subscription.ledger import Ledger
from videodl.workerapi.index import Entry

__all__ = ["Intake", "newest_first", "take"]


@dataclasses.dataclass(frozen=True)
class Intake:
    """What one scan adds: downloads to create and ids to record as seen."""

    create: tuple[Entry, ...]
    record: tuple[str, ...]


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """One entry per id, dated ones newest first, then undated ones in listed order."""
    unique: dict[str, Entry] = {}
    for entry in entries:
        unique.setdefault(entry.id, entry)
    dated = sorted(
        (e for e in unique.values() if e.upload_date),
        key=lambda e: str(e.upload_date),
        reverse=True,
    )
    return dated + [e for e in unique.values() if not e.upload_date]


def take(
    entries: Iterable[Entry], seen: Ledger, spec: VideoSubscriptionSpec, *, first: bool
) -> Intake:
    """The downloads a scan's ``entries`` call for, given what was ``seen`` before."""
    ordered = newest_first(entries)
    unseen = [e for e in ordered if e.id not in seen and selection.wanted(e, spec)]
    backlog = spec.initial_backlog
    if first and backlog != BACKLOG_ALL:
        count = 0 if backlog == BACKLOG_NONE else int(backlog)
        create = tuple(unseen[: min(count, spec.max_items_per_scan)])
        return Intake(create=create, record=tuple(e.id for e in ordered if e.id not in seen))
    create = tuple(unseen[: spec.max_items_per_scan])
    return Intake(create=create, record=tuple(e.id for e in create))
