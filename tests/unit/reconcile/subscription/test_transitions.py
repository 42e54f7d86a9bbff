"""Tests for videodl.reconcile.subscription.transitions: the subscription's state machine."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from videodl.api.playlist import PlaylistPhase
from videodl.api.status import Phase
from videodl.api.subscription import SubscriptionPhase, VideoSubscription
from videodl.reconcile.subscription import transitions
from videodl.reconcile.subscription.ledger import Ledger
from videodl.reconcile.subscription.views import DownloadView, ScanView
from videodl.workerapi.index import Entry

CREATED = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)
UID = "sub-uid"


def subscription(status: dict[str, Any] | None = None, **spec: Any) -> VideoSubscription:
    return VideoSubscription.from_object(
        {
            "metadata": {"name": "chan", "namespace": "n", "uid": UID, "generation": 1},
            "spec": {"url": "http://media.example/feed.rss", "schedule": "@every 10s", **spec},
            "status": status or {},
        }
    )


def scan(
    slot_s: int, phase: PlaylistPhase | None, *, indexed: bool = True, name: str | None = None
) -> ScanView:
    slot = CREATED + slot_s * SECOND
    return ScanView(
        namespace="n",
        name=name or f"chan-{int(slot.timestamp())}",
        uid=f"scan-{slot_s}",
        resource_version="1",
        owner_uid=UID,
        slot=slot,
        phase=phase,
        indexed=indexed,
    )


def dl(n: int, phase: Phase = Phase.SUCCEEDED, *, pinned: bool = False) -> DownloadView:
    return DownloadView(
        namespace="n",
        name=f"chan-{n}",
        uid=f"d{n}",
        resource_version="1",
        owner_uid=UID,
        video_id=f"e{n}",
        phase=phase,
        pinned=pinned,
        upload_date=f"202401{n:02d}",
        created=CREATED,
        completed=CREATED,
        deleting=False,
    )


def feed(count: int) -> tuple[Entry, ...]:
    return tuple(
        Entry(index=i, id=f"e{n}", url=f"http://m/{n}.mp4", upload_date=f"202401{n:02d}")
        for i, n in enumerate(range(count, 0, -1), start=1)
    )


def observe(
    sub: VideoSubscription,
    *,
    at_s: float,
    scans: tuple[ScanView, ...] = (),
    downloads: tuple[DownloadView, ...] = (),
    seen: tuple[str, ...] = (),
    entries: tuple[str, tuple[Entry, ...]] | None = None,
    missed_warning: int = 100,
) -> transitions.Observation:
    return transitions.Observation(
        subscription=sub,
        uid=UID,
        generation=1,
        created=CREATED,
        scans=scans,
        downloads=downloads,
        ledger=Ledger(seen),
        entries=entries,
        now=CREATED + at_s * SECOND,
        missed_warning=missed_warning,
    )


def stamp(seconds: int) -> str:
    return (CREATED + seconds * SECOND).isoformat().replace("+00:00", "Z")


def reasons(plan: transitions.Plan) -> list[str]:
    return [reason for _, reason, _ in plan.events]


class TestSchedule:
    def test_before_the_first_slot_it_waits(self) -> None:
        plan = transitions.decide(observe(subscription(), at_s=3))
        assert plan.create_scan is None
        assert plan.status is not None
        assert plan.status.phase is SubscriptionPhase.PENDING
        assert plan.status.next_schedule_time == CREATED + 10 * SECOND
        assert plan.recheck_after is not None
        assert 6.9 < plan.recheck_after < 7.2

    def test_a_due_slot_starts_one_scan_named_after_it(self) -> None:
        plan = transitions.decide(observe(subscription(), at_s=10.5))
        assert plan.create_scan is not None
        assert plan.create_scan.slot == CREATED + 10 * SECOND
        assert plan.create_scan.name == f"chan-{int((CREATED + 10 * SECOND).timestamp())}"
        assert plan.status is not None
        assert plan.status.last_schedule_time == CREATED + 10 * SECOND
        assert plan.status.active == plan.create_scan.name
        assert plan.status.scans == 1
        assert plan.events == ()

    def test_cron_scans_are_named_in_unix_minutes(self) -> None:
        plan = transitions.decide(observe(subscription(schedule="*/5 * * * *"), at_s=301))
        assert plan.create_scan is not None
        minutes = int((CREATED + 300 * SECOND).timestamp()) // 60
        assert plan.create_scan.name == f"chan-{minutes}"

    def test_after_downtime_only_the_latest_slot_runs_with_a_warning(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)})
        plan = transitions.decide(observe(sub, at_s=75, missed_warning=3))
        assert plan.create_scan is not None
        assert plan.create_scan.slot == CREATED + 70 * SECOND
        assert reasons(plan) == ["TooManyMissedTimes"]
        quiet = transitions.decide(observe(sub, at_s=45, missed_warning=3))
        assert quiet.create_scan is not None
        assert reasons(quiet) == []

    def test_a_late_slot_is_skipped_past_the_deadline(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)}, startingDeadlineSeconds=2)
        plan = transitions.decide(observe(sub, at_s=25))
        assert plan.create_scan is None
        assert reasons(plan) == ["MissSchedule"]
        assert plan.status is not None
        assert plan.status.last_skipped_time == CREATED + 20 * SECOND
        on_time = transitions.decide(observe(sub, at_s=21))
        assert on_time.create_scan is not None

    def test_a_skipped_slot_is_not_reported_twice(self) -> None:
        sub = subscription(
            {"lastScheduleTime": stamp(10), "lastSkippedTime": stamp(20)},
            startingDeadlineSeconds=2,
        )
        plan = transitions.decide(observe(sub, at_s=25))
        assert plan.create_scan is None
        assert reasons(plan) == []

    def test_forbid_skips_while_a_scan_runs(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)})
        running = scan(10, PlaylistPhase.INDEXING, indexed=False)
        plan = transitions.decide(observe(sub, at_s=21, scans=(running,)))
        assert plan.create_scan is None
        assert reasons(plan) == ["ScanAlreadyActive"]
        assert plan.status is not None
        assert plan.status.active == running.name
        assert plan.status.phase is SubscriptionPhase.SCANNING

    def test_replace_deletes_the_running_scan(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)}, concurrencyPolicy="Replace")
        running = scan(10, PlaylistPhase.INDEXING, indexed=False)
        plan = transitions.decide(observe(sub, at_s=21, scans=(running,)))
        assert plan.create_scan is not None
        assert plan.delete_scans == (running.name,)
        assert reasons(plan) == ["ScanReplaced"]

    def test_suspend_starts_nothing(self) -> None:
        plan = transitions.decide(observe(subscription(suspend=True), at_s=55))
        assert plan.create_scan is None
        assert plan.status is not None
        assert plan.status.phase is SubscriptionPhase.SUSPENDED
        assert plan.status.next_schedule_time is None
        assert plan.status.conditions[0].type == "Ready"
        assert plan.status.conditions[0].status == "True"


class TestTaking:
    def test_a_finished_scan_is_read_first(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10), "active": "x"})
        done = scan(10, PlaylistPhase.SUCCEEDED)
        plan = transitions.decide(observe(sub, at_s=12, scans=(done,)))
        assert plan.read_scan == done.name
        assert plan.create_scan is None

    def test_the_first_scan_records_the_backlog_and_takes_none(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)})
        done = scan(10, PlaylistPhase.SUCCEEDED)
        plan = transitions.decide(
            observe(sub, at_s=12, scans=(done,), entries=(done.name, feed(4)))
        )
        assert plan.create_downloads == ()
        assert set(plan.record_seen) == {"e1", "e2", "e3", "e4"}
        assert plan.status is not None
        assert plan.status.applied_scan_time == done.slot
        assert plan.status.last_successful_time == CREATED + 12 * SECOND
        assert plan.status.videos.known == 4
        assert plan.status.phase is SubscriptionPhase.SCHEDULED
        assert reasons(plan) == ["BacklogSkipped"]

    def test_a_later_scan_takes_only_the_new_video(self) -> None:
        sub = subscription(
            {
                "lastScheduleTime": stamp(20),
                "appliedScanTime": stamp(10),
                "lastSuccessfulTime": stamp(12),
            }
        )
        done = scan(20, PlaylistPhase.SUCCEEDED)
        plan = transitions.decide(
            observe(
                sub,
                at_s=22,
                scans=(scan(10, PlaylistPhase.SUCCEEDED), done),
                seen=("e1", "e2", "e3", "e4"),
                entries=(done.name, feed(5)),
            )
        )
        assert [e.id for e in plan.create_downloads] == ["e5"]
        assert plan.record_seen == ("e5",)
        assert reasons(plan) == ["NewVideos"]

    def test_a_failed_scan_is_reported_and_passed(self) -> None:
        sub = subscription({"lastScheduleTime": stamp(10)})
        failed = scan(10, PlaylistPhase.FAILED, indexed=False)
        plan = transitions.decide(observe(sub, at_s=12, scans=(failed,)))
        assert reasons(plan) == ["ScanFailed"]
        assert plan.status is not None
        assert plan.status.applied_scan_time == failed.slot
        assert plan.status.last_successful_time is None
        assert plan.status.phase is SubscriptionPhase.PENDING


class TestRetentionAndHistory:
    def applied(self, **spec: Any) -> VideoSubscription:
        return subscription(
            {
                "lastScheduleTime": stamp(40),
                "appliedScanTime": stamp(40),
                "lastSuccessfulTime": stamp(41),
            },
            **spec,
        )

    def test_keep_last_prunes_the_oldest_and_counts_them(self) -> None:
        sub = self.applied(retention={"keepLast": 2})
        downloads = (dl(1, pinned=True), dl(2), dl(3), dl(4), dl(5, Phase.RUNNING))
        plan = transitions.decide(observe(sub, at_s=42, downloads=downloads))
        assert plan.prune == ("chan-2", "chan-3")
        assert reasons(plan) == ["Pruned"]
        assert plan.status is not None
        assert plan.status.videos.pruned == 2

    def test_no_prune_while_a_finished_scan_waits_to_be_taken(self) -> None:
        sub = self.applied(retention={"keepLast": 1})
        waiting = scan(50, PlaylistPhase.SUCCEEDED)
        plan = transitions.decide(observe(sub, at_s=52, scans=(waiting,), downloads=(dl(1), dl(2))))
        assert plan.prune == ()
        assert plan.read_scan == waiting.name

    def test_history_limits_delete_the_oldest_taken_scans(self) -> None:
        sub = self.applied(successfulScansHistoryLimit=2, failedScansHistoryLimit=0)
        scans = (
            scan(10, PlaylistPhase.SUCCEEDED),
            scan(20, PlaylistPhase.FAILED),
            scan(30, PlaylistPhase.SUCCEEDED),
            scan(40, PlaylistPhase.SUCCEEDED),
        )
        plan = transitions.decide(observe(sub, at_s=45, scans=scans))
        assert set(plan.delete_scans) == {scans[0].name, scans[1].name}

    def test_counts_the_stored_status_lacks_are_written(self) -> None:
        sub = self.applied()
        stored = transitions.status_json(sub.status)
        del stored["videos"]
        observed = dataclasses.replace(observe(sub, at_s=45), stored_status=stored)
        plan = transitions.decide(observed)
        assert plan.status is not None
        patch = transitions.patch_of(stored, plan.status)
        assert patch["status"]["videos"]["downloads"] == 0

    def test_a_settled_subscription_writes_nothing(self) -> None:
        sub = self.applied()
        first = transitions.decide(observe(sub, at_s=45))
        assert first.status is not None
        settled = subscription(transitions.status_json(first.status), **{})
        again = transitions.decide(observe(settled, at_s=46))
        assert again.status is None
        assert again.empty


def test_an_invalid_spec_is_stalled() -> None:
    sub = subscription()
    status = transitions.invalid(observe(sub, at_s=1), "spec.timeZone 'Mars/Base' is not ...")
    assert status.phase is SubscriptionPhase.FAILED
    stalled = next(c for c in status.conditions if c.type == "Stalled")
    assert stalled.status == "True"
    assert "spec.timeZone" in stalled.message
