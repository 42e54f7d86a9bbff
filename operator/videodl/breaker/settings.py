"""Where the circuit breaker keeps its state, and the state machine's tunables. Pure: no I/O.

The tunables are :class:`videodl.core.breaker_config.BreakerConfig` itself, embedded rather than
copied, so the rules that tie them together (``min_calls`` within the window, the first
open period within the longest) are checked in one place: its constructor.
"""

from __future__ import annotations

import dataclasses

from videodl.core import breaker_config

__all__ = ["BreakerSettings"]


@dataclasses.dataclass(frozen=True)
class BreakerSettings:
    """Where the per-site circuit breaker keeps its state, and when it trips and recovers."""

    configmap_name: str = "videodl-breaker"
    configmap_namespace: str = "videodl-system"
    config: breaker_config.BreakerConfig = dataclasses.field(
        default_factory=breaker_config.BreakerConfig
    )
