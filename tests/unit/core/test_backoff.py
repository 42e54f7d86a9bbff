"""Tests for videodl.core.backoff."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.core import backoff

finite_seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def policies(draw: st.DrawFn) -> backoff.BackoffPolicy:
    initial = draw(finite_seconds)
    extra = draw(finite_seconds)
    return backoff.BackoffPolicy(
        initial_seconds=initial,
        factor=draw(st.floats(min_value=1, max_value=10)),
        max_seconds=initial + extra,
        jitter=draw(st.floats(min_value=0, max_value=1)),
    )


retries = st.integers(min_value=1, max_value=10_000)


class TestBaseDelay:
    @pytest.mark.parametrize(
        ("retry", "expected"),
        [(1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0), (7, 600.0), (50, 600.0), (10**30, 600.0)],
    )
    def test_default_policy_table(self, retry: int, expected: float) -> None:
        """The API's default policy (10 s, x2, 600 s) doubles from 10 s and stops at 600 s."""
        policy = backoff.BackoffPolicy(initial_seconds=10, factor=2, max_seconds=600)
        assert backoff.base_delay_seconds(policy, retry) == expected

    def test_factor_one_is_constant(self) -> None:
        """A factor of 1 waits the initial delay before every retry."""
        policy = backoff.BackoffPolicy(initial_seconds=7, factor=1, max_seconds=100)
        assert [backoff.base_delay_seconds(policy, n) for n in (1, 2, 100)] == [7.0, 7.0, 7.0]

    def test_huge_retry_with_tiny_initial_does_not_overflow(self) -> None:
        """A retry number far past the cap returns the cap instead of raising OverflowError."""
        policy = backoff.BackoffPolicy(initial_seconds=1e-300, factor=10, max_seconds=1e10)
        assert backoff.base_delay_seconds(policy, 400) == 1e10
        assert backoff.base_delay_seconds(policy, 10**400) == 1e10

    @given(policy=policies(), retry=retries)
    def test_within_bounds(self, policy: backoff.BackoffPolicy, retry: int) -> None:
        """The base delay is never below the initial delay nor above the cap."""
        delay = backoff.base_delay_seconds(policy, retry)
        assert policy.initial_seconds <= delay <= policy.max_seconds

    @given(policy=policies(), retry=retries)
    def test_non_decreasing(self, policy: backoff.BackoffPolicy, retry: int) -> None:
        """The base delay never shrinks from one retry to the next."""
        assert backoff.base_delay_seconds(policy, retry) <= backoff.base_delay_seconds(
            policy, retry + 1
        )

    @given(policy=policies())
    def test_first_retry_is_initial(self, policy: backoff.BackoffPolicy) -> None:
        """The first retry waits exactly the initial delay before jitter."""
        assert backoff.base_delay_seconds(policy, 1) == policy.initial_seconds


class TestJitteredDelay:
    @given(policy=policies(), retry=retries, seed=st.integers())
    def test_jitter_only_shortens(
        self, policy: backoff.BackoffPolicy, retry: int, seed: int
    ) -> None:
        """A jittered delay lies in (base * (1 - jitter), base], never above the cap."""
        base = backoff.base_delay_seconds(policy, retry)
        delay = backoff.delay_seconds(policy, retry, random.Random(seed))
        assert 0 <= delay <= base <= policy.max_seconds
        assert delay >= base * (1 - policy.jitter)

    @given(policy=policies(), seed=st.integers())
    def test_first_retry_near_initial(self, policy: backoff.BackoffPolicy, seed: int) -> None:
        """The first jittered retry is within the jitter fraction of the initial delay."""
        delay = backoff.delay_seconds(policy, 1, random.Random(seed))
        assert policy.initial_seconds * (1 - policy.jitter) <= delay <= policy.initial_seconds

    def test_no_jitter_is_exact_and_draws_nothing(self) -> None:
        """Without jitter the delay equals the base and the random source is left untouched."""
        policy = backoff.BackoffPolicy(initial_seconds=10, factor=2, max_seconds=600)
        rng = random.Random(42)
        assert backoff.delay_seconds(policy, 3, rng) == 40.0
        assert rng.random() == random.Random(42).random()

    def test_same_seed_same_delay(self) -> None:
        """The delay is reproducible from the random source's seed."""
        policy = backoff.BackoffPolicy(initial_seconds=10, factor=2, max_seconds=600, jitter=0.5)
        first = backoff.delay_seconds(policy, 4, random.Random(7))
        assert first == backoff.delay_seconds(policy, 4, random.Random(7))
        assert 40.0 <= first <= 80.0

    def test_jitter_spreads_delays(self) -> None:
        """Different draws give different delays, so retries that failed together spread out."""
        policy = backoff.BackoffPolicy(initial_seconds=10, factor=2, max_seconds=600, jitter=0.2)
        rng = random.Random(1)
        delays = {backoff.delay_seconds(policy, 2, rng) for _ in range(50)}
        assert len(delays) > 40
        assert min(delays) >= 16.0
        assert max(delays) <= 20.0


class TestValidation:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"initial_seconds": -1, "factor": 2, "max_seconds": 10}, "initial_seconds"),
            ({"initial_seconds": 1, "factor": 0.5, "max_seconds": 10}, "factor"),
            ({"initial_seconds": 10, "factor": 2, "max_seconds": 5}, "max_seconds"),
            ({"initial_seconds": 1, "factor": 2, "max_seconds": 10, "jitter": 1.5}, "jitter"),
            ({"initial_seconds": 1, "factor": 2, "max_seconds": 10, "jitter": -0.1}, "jitter"),
            ({"initial_seconds": float("nan"), "factor": 2, "max_seconds": 10}, "initial_seconds"),
            ({"initial_seconds": 1, "factor": 2, "max_seconds": float("inf")}, "max_seconds"),
        ],
    )
    def test_bad_policy_names_the_field(self, kwargs: dict[str, float], field: str) -> None:
        """An invalid policy is rejected with a message naming the offending field."""
        with pytest.raises(ValueError, match=field):
            backoff.BackoffPolicy(**kwargs)

    @pytest.mark.parametrize("retry", [0, -3])
    def test_retry_must_be_positive(self, retry: int) -> None:
        """Retry numbers start at 1."""
        policy = backoff.BackoffPolicy(initial_seconds=1, factor=2, max_seconds=10)
        with pytest.raises(ValueError, match="retry must be 1 or more"):
            backoff.delay_seconds(policy, retry, random.Random(0))
