"""The VideoSubscription's state machine: an observation in, a plan out. Pure: no I/O.

One decision covers, in this order:

1. **Taking a finished scan.** The oldest succeeded scan whose slot is after
   ``status.appliedScanTime`` is read (its entries), and :func:`intake.take` says which
   videos become downloads and which ids the ledger records. The operator creates the
   downloads first (their names are fixed, so a repeat after a crash finds them there),
   then writes the ledger, then the status: a crash anywhere repeats the step, never
   loses or doubles a video. A failed scan is recorded (Event ``ScanFailed``) and passed.
2. **The schedule**, as the CronJob controller: only the most recent of the slots missed
   since the last one handled runs (with a ``TooManyMissedTimes`` warning past the
   threshold); a slot later than ``startingDeadlineSeconds`` is skipped (``MissSchedule``);
   with a scan still running, ``Forbid`` skips the slot (``ScanAlreadyActive``) and
   ``Replace`` deletes the running scan first. Nothing starts while ``spec.suspend``.
3. **Retention**, once every finished scan is taken: finished unpinned downloads beyond
   ``keepLast`` or older than ``deleteOlderThan`` are deleted.
4. **History**: finished scans beyond the history limits are deleted, oldest first.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Final

from videodl.api import schedule as schedules
from videodl.api.status import Phase
from videodl.api.subscription import (
    ConcurrencyPolicy,
    SubscriptionPhase,
    VideoCounts,
    VideoSubscription,
    VideoSubscriptionStatus,
)
from videodl.core import times
from videodl.reconcile.download.patches import merge_diff
from videodl.reconcile.phased import with_phase
from videodl.reconcile.subscription import intake, naming, retention
from videodl.reconcile.subscription.ledger import Ledger
from videodl.reconcile.subscription.views import DownloadView, ScanView
from videodl.workerapi.index import Entry

__all__ = [
    "CONDITION_PHASE",
    "DEFAULT_MISSED_WARNING",
    "Observation",
    "Plan",
    "ScanStart",
    "decide",
    "invalid",
    "patch_of",
    "status_json",
]

#: More missed slots than this (since the last one handled) warns, as a CronJob does.
DEFAULT_MISSED_WARNING: Final = 100

#: The download phase whose conditions a subscription phase shares (core.conditions.POLICY).
CONDITION_PHASE: Final = {
    SubscriptionPhase.PENDING: Phase.PENDING,
    SubscriptionPhase.SCANNING: Phase.SUCCEEDED,
    SubscriptionPhase.SCHEDULED: Phase.SUCCEEDED,
    SubscriptionPhase.SUSPENDED: Phase.SUSPENDED,
    SubscriptionPhase.FAILED: Phase.FAILED,
}

Event = tuple[str, str, str]


@dataclasses.dataclass(frozen=True)
class Observation:
    """What the operator sees of one subscription, now."""

    subscription: VideoSubscription
    uid: str
    generation: int
    created: datetime.datetime
    scans: tuple[ScanView, ...]
    downloads: tuple[DownloadView, ...]
    ledger: Ledger
    #: The entries of a finished scan, once read: (scan name, entries).
    entries: tuple[str, tuple[Entry, ...]] | None
    now: datetime.datetime
    missed_warning: int = DEFAULT_MISSED_WARNING
    #: The status as stored (None: as its model reads it).
    stored_status: Mapping[str, Any] | None = None

    @property
    def status(self) -> VideoSubscriptionStatus:
        return self.subscription.status or VideoSubscriptionStatus()

    @property
    def stored(self) -> Mapping[str, Any]:
        if self.stored_status is not None:
            return self.stored_status
        return status_json(self.status)


@dataclasses.dataclass(frozen=True)
class ScanStart:
    """A scan to create for a slot."""

    name: str
    slot: datetime.datetime


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to write, in order: downloads, ledger, scans, prunes, status, Events."""

    status: VideoSubscriptionStatus | None = None
    #: Read the entries of this finished scan before deciding again.
    read_scan: str | None = None
    create_downloads: tuple[Entry, ...] = ()
    #: Ids to add to the ledger (after the downloads exist).
    record_seen: tuple[str, ...] = ()
    create_scan: ScanStart | None = None
    delete_scans: tuple[str, ...] = ()
    prune: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()
    recheck_after: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.status is None
            and self.read_scan is None
            and not self.create_downloads
            and not self.record_seen
            and self.create_scan is None
            and not self.delete_scans
            and not self.prune
        )


def status_json(status: VideoSubscriptionStatus) -> dict[str, Any]:
    """A status as the apiserver stores it: camelCase, unset fields left out."""
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)


def patch_of(stored: Mapping[str, Any], new: VideoSubscriptionStatus) -> dict[str, Any]:
    """``{"status": <merge diff>}`` from the status as stored, or empty when nothing changed.

    The stored JSON, not its model, is the base: a count the model defaults to 0 is written
    the first time rather than taken as already there.
    """
    diff = merge_diff(stored, status_json(new))
    return {"status": diff} if diff else {}


def _with_phase(
    observation: Observation,
    status: VideoSubscriptionStatus,
    phase: SubscriptionPhase,
    reason: str,
    message: str,
) -> VideoSubscriptionStatus:
    return with_phase(
        status,
        phase=phase,
        shares=CONDITION_PHASE[phase],
        reason=reason,
        message=message,
        generation=observation.generation,
        now=observation.now,
    )


def invalid(observation: Observation, problem: str) -> VideoSubscriptionStatus:
    """The status of a subscription whose spec the models refuse: Failed (Stalled) at once."""
    status = observation.status.model_copy(update={"next_schedule_time": None, "active": None})
    return _with_phase(observation, status, SubscriptionPhase.FAILED, "InvalidSpec", problem)


def _stamp(moment: datetime.datetime) -> str:
    return times.format_time(moment)


def _pending_scans(observation: Observation) -> list[ScanView]:
    """Finished scans not yet taken, oldest slot first."""
    handled = observation.status.applied_scan_time
    return sorted(
        (
            s
            for s in observation.scans
            if s.finished and s.slot is not None and (handled is None or s.slot > handled)
        ),
        key=lambda s: (s.slot, s.name),
    )


def _take(observation: Observation, scan: ScanView, status: VideoSubscriptionStatus) -> Plan:
    """The plan for a finished scan not taken yet."""
    spec = observation.subscription.spec
    if scan.failed:
        message = f"scan {scan.name} failed: see `kubectl describe videoplaylist {scan.name}`"
        new = status.model_copy(update={"applied_scan_time": scan.slot})
        return Plan(status=new, events=(("Warning", "ScanFailed", message),))
    if observation.entries is None or observation.entries[0] != scan.name:
        return Plan(read_scan=scan.name)
    first = status.last_successful_time is None
    taken = intake.take(observation.entries[1], observation.ledger, spec, first=first)
    new = status.model_copy(
        update={"applied_scan_time": scan.slot, "last_successful_time": observation.now}
    )
    events: tuple[Event, ...] = ()
    if taken.create:
        titles = ", ".join((e.title or e.id) for e in taken.create[:3])
        more = f" and {len(taken.create) - 3} more" if len(taken.create) > 3 else ""
        events = (
            (
                "Normal",
                "NewVideos",
                f"scan {scan.name}: {len(taken.create)} new: {titles}{more}",
            ),
        )
    elif first:
        events = (
            (
                "Normal",
                "BacklogSkipped",
                f"first scan {scan.name} recorded {len(taken.record)} existing videos as seen "
                f"(initialBacklog {spec.initial_backlog})",
            ),
        )
    return Plan(status=new, create_downloads=taken.create, record_seen=taken.record, events=events)


def _in_seconds(schedule: schedules.Schedule) -> bool:
    return schedule.every is not None


def _schedule(
    observation: Observation, status: VideoSubscriptionStatus, active: ScanView | None
) -> tuple[VideoSubscriptionStatus, ScanStart | None, tuple[str, ...], list[Event], float | None]:
    """The slot step: the new status, a scan to start, scans to delete, Events, the recheck."""
    spec = observation.subscription.spec
    schedule = spec.parsed_schedule
    zone = schedules.zone(spec.time_zone)
    marks = [observation.created, status.last_schedule_time, status.last_skipped_time]
    after = max(m for m in marks if m is not None)
    due = schedules.due(
        schedule,
        zone,
        anchor=observation.created,
        after=after,
        now=observation.now,
        limit=observation.missed_warning,
    )
    recheck = max((due.next - observation.now).total_seconds(), 0.0) + 0.05
    if spec.suspend:
        return status.model_copy(update={"next_schedule_time": None}), None, (), [], None
    status = status.model_copy(update={"next_schedule_time": due.next})
    if due.latest is None:
        return status, None, (), [], recheck
    events: list[Event] = []
    if due.missed > observation.missed_warning:
        events.append(
            (
                "Warning",
                "TooManyMissedTimes",
                f"more than {observation.missed_warning} slots were missed since "
                f"{_stamp(after)}; only the most recent, {_stamp(due.latest)}, is considered",
            )
        )
    late = (observation.now - due.latest).total_seconds()
    deadline = spec.starting_deadline_seconds
    if deadline is not None and late > deadline:
        events.append(
            (
                "Warning",
                "MissSchedule",
                f"missed the slot at {_stamp(due.latest)} by {late:.0f}s, more than "
                f"spec.startingDeadlineSeconds ({deadline}): skipped",
            )
        )
        return (
            status.model_copy(update={"last_skipped_time": due.latest}),
            None,
            (),
            events,
            recheck,
        )
    deletions: tuple[str, ...] = ()
    if active is not None:
        if spec.concurrency_policy is ConcurrencyPolicy.FORBID:
            events.append(
                (
                    "Normal",
                    "ScanAlreadyActive",
                    f"scan {active.name} still runs: the slot at {_stamp(due.latest)} is "
                    "skipped (concurrencyPolicy Forbid)",
                )
            )
            skipped = status.model_copy(update={"last_skipped_time": due.latest})
            return skipped, None, (), events, recheck
        deletions = (active.name,)
        events.append(
            (
                "Normal",
                "ScanReplaced",
                f"scan {active.name} is deleted for the slot at {_stamp(due.latest)} "
                "(concurrencyPolicy Replace)",
            )
        )
    name = naming.scan_name(
        observation.subscription.name, due.latest, in_seconds=_in_seconds(schedule)
    )
    started = status.model_copy(
        update={
            "last_schedule_time": due.latest,
            "last_scan": name,
            "active": name,
            "scans": status.scans + 1,
        }
    )
    return started, ScanStart(name=name, slot=due.latest), deletions, events, recheck


def _history(observation: Observation, keep: set[str]) -> tuple[str, ...]:
    """Taken scans beyond the history limits, oldest first."""
    spec = observation.subscription.spec
    handled = observation.status.applied_scan_time
    done = [
        s
        for s in observation.scans
        if s.finished
        and s.name not in keep
        and s.slot is not None
        and handled is not None
        and s.slot <= handled
    ]
    done.sort(key=lambda s: (s.slot, s.name), reverse=True)
    succeeded = [s for s in done if s.succeeded]
    failed = [s for s in done if s.failed]
    extra = (
        succeeded[spec.successful_scans_history_limit :] + failed[spec.failed_scans_history_limit :]
    )
    return tuple(s.name for s in sorted(extra, key=lambda s: (s.slot, s.name)))


def _counts(
    observation: Observation, status: VideoSubscriptionStatus, pruned: int, recorded: int
) -> VideoCounts:
    present = [d for d in observation.downloads if not d.deleting]
    return VideoCounts(
        known=len(observation.ledger) + recorded,
        downloads=len(present),
        downloaded=sum(d.phase is Phase.SUCCEEDED for d in present),
        failed=sum(d.phase is Phase.FAILED for d in present),
        pruned=status.videos.pruned + pruned,
    )


def _phase(
    observation: Observation, status: VideoSubscriptionStatus
) -> tuple[SubscriptionPhase, str, str]:
    spec = observation.subscription.spec
    if spec.suspend:
        return SubscriptionPhase.SUSPENDED, "Suspended", "spec.suspend is true: no scan starts"
    if status.active is not None:
        return SubscriptionPhase.SCANNING, "Scanning", f"scan {status.active} runs"
    if status.last_successful_time is None:
        return SubscriptionPhase.PENDING, "Pending", "waiting for the first scan to succeed"
    upcoming = status.next_schedule_time
    when = _stamp(upcoming) if upcoming is not None else "not scheduled"
    return SubscriptionPhase.SCHEDULED, "Scheduled", f"next scan at {when}"


def _active(scans: Sequence[ScanView]) -> ScanView | None:
    running = [s for s in scans if not s.finished]
    return max(running, key=lambda s: (s.slot or datetime.datetime.min, s.name), default=None)


def decide(observation: Observation) -> Plan:
    """The next step for one subscription."""
    active = _active(observation.scans)
    status = observation.status.model_copy(update={"active": active.name if active else None})
    pending = _pending_scans(observation)
    if pending:
        plan = _take(observation, pending[0], status)
        if plan.read_scan is not None:
            return plan
        assert plan.status is not None
        taken = plan.status
        counts = _counts(observation, taken, 0, len(plan.record_seen))
        taken = taken.model_copy(update={"videos": counts})
        return dataclasses.replace(plan, status=_settle(observation, taken), recheck_after=0.0)
    status, start, deletions, events, recheck = _schedule(observation, status, active)
    keep = {s for s in (status.active, start.name if start else None) if s}
    prune = retention.prune(
        observation.downloads, observation.subscription.spec.retention, observation.now
    )
    if prune:
        events.append(
            ("Normal", "Pruned", f"retention deleted {len(prune)}: {', '.join(prune[:5])}")
        )
    counts = _counts(observation, status, len(prune), 0)
    new = _settle(observation, status.model_copy(update={"videos": counts}))
    changed = status_json(new) != observation.stored
    return Plan(
        status=new if changed else None,
        create_scan=start,
        delete_scans=deletions + _history(observation, keep),
        prune=prune,
        events=tuple(events),
        recheck_after=recheck,
    )


def _settle(observation: Observation, status: VideoSubscriptionStatus) -> VideoSubscriptionStatus:
    phase, reason, message = _phase(observation, status)
    return _with_phase(observation, status, phase, reason, message)
