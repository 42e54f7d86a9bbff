"""Tests for videodl.reconcile.download.queueing."""

from __future__ import annotations

from tests.unit.cli.objects import at, download

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
