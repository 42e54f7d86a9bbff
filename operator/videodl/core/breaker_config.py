"""The circuit breaker's tunables, and the open duration they give.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import math
import random

from videodl.core import backoff

__all__ = ["BreakerConfig", "base_open_duration_seconds", "open_duration_seconds"]


@dataclasses.dataclass(frozen=True, slots=True)
class BreakerConfig:
    """The breaker's tunables; the defaults are those of the product documentation."""

    failure_threshold: int = 5
    window_size: int = 20
    failure_ratio: float = 0.5
    min_calls: int = 10
    open_base_seconds: float = 60.0
    open_factor: float = 2.0
    open_max_seconds: float = 1800.0
    open_jitter: float = 0.1
    half_open_probes: int = 1
    # A probe is a whole download; this bounds how long a lost one can hold its slot.
    probe_timeout_seconds: float = 900.0
    close_after_successes: int = 1

    def __post_init__(self) -> None:
        for field in ("failure_threshold", "window_size", "half_open_probes"):
            if getattr(self, field) < 1:
                msg = f"{field} must be 1 or more, got {getattr(self, field)}"
                raise ValueError(msg)
        if self.close_after_successes < 1:
            msg = f"close_after_successes must be 1 or more, got {self.close_after_successes}"
            raise ValueError(msg)
        if not 1 <= self.min_calls <= self.window_size:
            msg = (
                f"min_calls must be between 1 and window_size ({self.window_size}), "
                f"got {self.min_calls}"
            )
            raise ValueError(msg)
        if not 0 < self.failure_ratio <= 1:
            msg = f"failure_ratio must be above 0 and at most 1, got {self.failure_ratio}"
            raise ValueError(msg)
        if not 0 < self.probe_timeout_seconds < math.inf:
            msg = (
                "probe_timeout_seconds must be above 0 and finite, "
                f"got {self.probe_timeout_seconds}"
            )
            raise ValueError(msg)
        if not 0 < self.open_base_seconds <= self.open_max_seconds < math.inf:
            msg = (
                f"open_base_seconds ({self.open_base_seconds}) must be above 0 and at most "
                f"open_max_seconds ({self.open_max_seconds}), which must be finite"
            )
            raise ValueError(msg)
        if not 1 <= self.open_factor < math.inf:
            msg = f"open_factor must be at least 1, got {self.open_factor}"
            raise ValueError(msg)
        if not 0 <= self.open_jitter <= 1:
            msg = f"open_jitter must be a fraction between 0 and 1, got {self.open_jitter}"
            raise ValueError(msg)

    def open_policy(self) -> backoff.BackoffPolicy:
        """The open duration as a backoff policy over consecutive trips."""
        return backoff.BackoffPolicy(
            initial_seconds=self.open_base_seconds,
            factor=self.open_factor,
            max_seconds=self.open_max_seconds,
            jitter=self.open_jitter,
        )


def base_open_duration_seconds(trip: int, config: BreakerConfig) -> float:
    """Return the open duration of the ``trip``-th consecutive trip before jitter."""
    return backoff.base_delay_seconds(config.open_policy(), trip)


def open_duration_seconds(trip: int, config: BreakerConfig, rng: random.Random) -> float:
    """Return the jittered open duration of the ``trip``-th consecutive trip."""
    return backoff.delay_seconds(config.open_policy(), trip, rng)
