"""Tests for videodl.reconcile.download.queueing."""

from __future__ import annotations

import itertools

from tests.unit.cli.objects import at, download

from videodl.api.status import Phase
from videodl.reconcile.download import naming, queueing
from videodl.reconcile.download.record import record_of


class TestQueuedSince:
    def test_latest_of_creation_wait_and_backoff(self) -> None:
        """The aging clock starts at the latest of creation, Reconciling and the backoff's end."""
        queued = record_of(download("a", created=0))
        assert queueing.queued_since(queued) == at(0)
        later = download(
            "b", created=0, phase="BackingOff", status={"nextAttemptTime": "2026-01-01T00:01:00Z"}
        )
        assert queueing.queued_since(record_of(later)) == at(60)

    def test_candidate_carries_rank_and_clock(self) -> None:
        """The candidate has the priority's rank, the creation time and the aging clock."""
        candidate = queueing.candidate_of(record_of(download("a", priority="High", created=5)))
        assert (candidate.rank, candidate.created, candidate.queued_since) == (3, at(5), at(5))


class TestMayStart:
    def test_waiting_phases_only(self) -> None:
        """Queued competes; Running, suspended, deleting and still backing off do not."""
        assert queueing.may_start(record_of(download("a")), at(1))
        assert not queueing.may_start(record_of(download("a", phase="Running")), at(1))
        assert not queueing.may_start(record_of(download("a", spec={"suspend": True})), at(1))
        deleting = download("a", deletionTimestamp="2026-01-01T00:00:00Z")
        assert not queueing.may_start(record_of(deleting), at(1))
        backing = download(
            "a", phase="BackingOff", status={"nextAttemptTime": "2026-01-01T00:01:00Z"}
        )
        assert not queueing.may_start(record_of(backing), at(30))
        assert queueing.may_start(record_of(backing), at(61))

    def test_delete_policy_needs_the_finalizer(self) -> None:
        """With deletionPolicy Delete a download waits for the cleanup finalizer."""
        bare = download("a", spec={"deletionPolicy": "Delete"})
        assert not queueing.may_start(record_of(bare), at(1))
        held = download("a", spec={"deletionPolicy": "Delete"}, finalizers=[naming.FINALIZER])
        assert queueing.may_start(record_of(held), at(1))


class TestConcernsAdmission:
    def test_finished_for_good_and_unreadable_are_left_out(self) -> None:
        """Only a download finished with no TTL to expire, or unreadable, is of no concern."""
        for phase in (None, "Pending", "Queued", "Blocked", "BackingOff", "Running", "Suspended"):
            assert queueing.concerns_admission(record_of(download("a", phase=phase)))
        for phase in ("Succeeded", "Failed"):
            assert not queueing.concerns_admission(record_of(download("a", phase=phase)))
            expiring = download("a", phase=phase, spec={"ttlSecondsAfterFinished": 60})
            assert queueing.concerns_admission(record_of(expiring))
        unreadable = download("a", spec={"priority": "Urgent"})
        assert record_of(unreadable).problem is not None
        assert not queueing.concerns_admission(record_of(unreadable))

    def test_one_left_out_can_never_start(self) -> None:
        """What the admission loop skips could not have started, run or expired anyway."""
        left_out = []
        for phase, ttl, deleting in itertools.product(
            [None, *(p.value for p in Phase)], [None, 60], [False, True]
        ):
            spec = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
            extra = {"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {}
            record = record_of(download("a", phase=phase, spec=spec, **extra))
            if queueing.concerns_admission(record):
                continue
            left_out.append((phase, ttl, deleting))
            assert record.phase != Phase.RUNNING
            for seconds in (0, 1, 10**6):
                assert not queueing.may_start(record, at(seconds))
        assert sorted(left_out, key=str) == sorted(
            itertools.product(["Succeeded", "Failed"], [None], [False, True]), key=str
        )
