"""Exponential backoff with jitter, as a pure function of the retry number.

The wait before retry ``n`` (``n = 1`` is the wait after the first failed attempt) is
``initial_seconds * factor ** (n - 1)``, capped at ``max_seconds``. Jitter then shortens it by
a random fraction of at most ``jitter``: the policy's numbers are upper bounds, so a jittered
delay is never above ``max_seconds`` and the first retry waits between
``initial_seconds * (1 - jitter)`` and ``initial_seconds``. Spreading delays downwards (rather
than around the base) keeps the cap a hard cap while still de-synchronising retries that
failed together.

The same policy computes the open duration of the circuit breaker, with the number of
consecutive trips as the retry number.
"""

from __future__ import annotations

import dataclasses
import math
import random

__all__ = ["BackoffPolicy", "base_delay_seconds", "delay_seconds"]


@dataclasses.dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How long to wait between attempts: ``initial * factor ** (retry - 1)``, capped, jittered."""

    initial_seconds: float
    factor: float
    max_seconds: float
    jitter: float = 0.0

    def __post_init__(self) -> None:
        _require_finite("initial_seconds", self.initial_seconds)
        _require_finite("factor", self.factor)
        _require_finite("max_seconds", self.max_seconds)
        _require_finite("jitter", self.jitter)
        if self.initial_seconds < 0:
            msg = f"initial_seconds must be 0 or more, got {self.initial_seconds}"
            raise ValueError(msg)
        if self.factor < 1:
            msg = f"factor must be at least 1 (delays never shrink), got {self.factor}"
            raise ValueError(msg)
        if self.max_seconds < self.initial_seconds:
            msg = (
                f"max_seconds ({self.max_seconds}) must not be below initial_seconds "
                f"({self.initial_seconds}); raise max_seconds or lower initial_seconds"
            )
            raise ValueError(msg)
        if not 0 <= self.jitter <= 1:
            msg = f"jitter must be a fraction between 0 and 1, got {self.jitter}"
            raise ValueError(msg)


def base_delay_seconds(policy: BackoffPolicy, retry: int) -> float:
    """Return the delay before retry ``retry`` (1-based) without jitter.

    Non-decreasing in ``retry`` and never above ``policy.max_seconds``; it never overflows,
    however large ``retry`` is.
    """
    _require_retry(retry)
    initial, factor, cap = (
        float(policy.initial_seconds),
        float(policy.factor),
        float(policy.max_seconds),
    )
    if retry == 1 or initial == 0 or factor == 1:
        return initial
    try:
        growth: float = factor ** float(retry - 1)
    except OverflowError:
        # Huge retry numbers are simply past the cap.
        return cap
    return min(cap, initial * growth)


def delay_seconds(policy: BackoffPolicy, retry: int, rng: random.Random) -> float:
    """Return the jittered delay before retry ``retry`` (1-based).

    The result lies in ``(base * (1 - jitter), base]`` where ``base`` is
    :func:`base_delay_seconds`; ``rng`` is drawn from once, only when ``jitter`` is not 0.
    """
    base = base_delay_seconds(policy, retry)
    if policy.jitter == 0:
        return base
    return base * (1 - policy.jitter * rng.random())


def _require_retry(retry: int) -> None:
    if retry < 1:
        msg = f"retry must be 1 or more (1 is the first retry), got {retry}"
        raise ValueError(msg)


def _require_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        msg = f"{name} must be a finite number, got {value}"
        raise ValueError(msg)
