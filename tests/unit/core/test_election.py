"""Tests for videodl.core.election: who holds the Lease next."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from videodl.core import election, times

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SECOND = datetime.timedelta(seconds=1)


def held_by(
    holder: str | None, renewed: datetime.datetime, duration: int = 15
) -> dict[str, object]:
    return {
        "holderIdentity": holder,
        "leaseDurationSeconds": duration,
        "renewTime": times.format_micro_time(renewed),
        "leaseTransitions": 2,
    }


class TestDecide:
    def test_missing_lease_is_acquired(self) -> None:
        """Without a Lease the replica takes it."""
        decision = election.decide(None, identity="a", now=T0, duration_seconds=15)
        assert decision.verdict == election.Verdict.ACQUIRE
        assert decision.spec is not None
        assert decision.spec["holderIdentity"] == "a"

    def test_holder_renews(self) -> None:
        """The holder renews before expiry, keeping the transition count."""
        decision = election.decide(
            held_by("a", T0), identity="a", now=T0 + 5 * SECOND, duration_seconds=15
        )
        assert decision.verdict == election.Verdict.RENEW
        assert decision.spec is not None
        assert decision.spec["leaseTransitions"] == 2
        assert times.parse_time(decision.spec["renewTime"]) == T0 + 5 * SECOND

    def test_others_wait_while_it_is_fresh(self) -> None:
        """Another replica stands by while the Lease is fresh."""
        decision = election.decide(
            held_by("a", T0), identity="b", now=T0 + 14 * SECOND, duration_seconds=15
        )
        assert decision.verdict == election.Verdict.STANDBY
        assert decision.spec is None

    def test_expired_lease_is_taken_over(self) -> None:
        """A Lease not renewed for its duration is taken, counting a transition."""
        decision = election.decide(
            held_by("a", T0), identity="b", now=T0 + 15 * SECOND, duration_seconds=15
        )
        assert decision.verdict == election.Verdict.ACQUIRE
        assert decision.spec is not None
        assert decision.spec["leaseTransitions"] == 3

    def test_released_lease_is_taken_at_once(self) -> None:
        """A Lease without holder is free."""
        spec = held_by(None, T0)
        decision = election.decide(spec, identity="b", now=T0 + SECOND, duration_seconds=15)
        assert decision.verdict == election.Verdict.ACQUIRE

    @given(st.integers(min_value=0, max_value=100), st.sampled_from(["a", "b"]))
    def test_at_most_one_fresh_holder(self, seconds: int, other: str) -> None:
        """Whoever asks, a fresh Lease held by a is never acquired by someone else."""
        now = T0 + seconds * SECOND
        decision = election.decide(held_by("a", T0), identity=other, now=now, duration_seconds=15)
        if seconds < 15 and other != "a":
            assert decision.verdict == election.Verdict.STANDBY
        if decision.verdict != election.Verdict.STANDBY:
            assert decision.spec is not None
            assert decision.spec["holderIdentity"] == other
