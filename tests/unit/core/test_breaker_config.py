"""Tests for videodl.core.breaker_config: the breaker's tunables."""

from __future__ import annotations

import pytest

from videodl.core.breaker_config import BreakerConfig


class TestConfig:
    def test_defaults_match_the_documentation(self) -> None:
        """Threshold 5, 50% of 20 with 10 calls, 60 s doubling to 30 min, one probe."""
        config = BreakerConfig()
        assert (config.failure_threshold, config.window_size, config.min_calls) == (5, 20, 10)
        assert (config.failure_ratio, config.open_base_seconds) == (0.5, 60.0)
        assert (config.open_factor, config.open_max_seconds) == (2.0, 1800.0)
        assert (config.half_open_probes, config.close_after_successes) == (1, 1)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"failure_threshold": 0}, "failure_threshold"),
            ({"window_size": 0}, "window_size"),
            ({"half_open_probes": 0}, "half_open_probes"),
            ({"close_after_successes": 0}, "close_after_successes"),
            ({"min_calls": 21}, "min_calls"),
            ({"failure_ratio": 0}, "failure_ratio"),
            ({"failure_ratio": 1.5}, "failure_ratio"),
            ({"probe_timeout_seconds": 0}, "probe_timeout_seconds"),
            ({"open_base_seconds": 0}, "open_base_seconds"),
            ({"open_max_seconds": 30}, "open_max_seconds"),
            ({"open_factor": 0.5}, "open_factor"),
            ({"open_jitter": 2}, "open_jitter"),
        ],
    )
    def test_bad_values_name_the_field(self, changes: dict[str, float], field: str) -> None:
        """Each invalid setting is rejected with a message naming it."""
        with pytest.raises(ValueError, match=field):
            BreakerConfig(**changes)  # type: ignore[arg-type]
