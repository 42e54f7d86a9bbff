"""``spec.retry``: how often a failed download is tried again, and the wait in between.

The wait itself is computed by :mod:`videodl.core.backoff` from these numbers. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final, Self

from pydantic import ConfigDict, Field, model_validator

from videodl.api import rules
from videodl.api._base import SpecModel
from videodl.api.rules import Rule

__all__ = ["BACKOFF_RULES", "BackoffSpec", "RetrySpec"]

#: The rules of ``spec.retry.backoff`` as a whole.
BACKOFF_RULES: Final[tuple[Rule[BackoffSpec], ...]] = (
    Rule(
        cel="self.maxSeconds >= self.initialSeconds",
        message=(
            "spec.retry.backoff.maxSeconds must not be below "
            "spec.retry.backoff.initialSeconds: raise maxSeconds or lower initialSeconds"
        ),
        error_type="backoff_bounds",
        holds=lambda backoff: backoff.max_seconds >= backoff.initial_seconds,
        field_path=".maxSeconds",
    ),
)


class BackoffSpec(SpecModel):
    """Exponential backoff between attempts: wait `initialSeconds`, then multiply by
    `factor` after each failed attempt, never waiting longer than `maxSeconds`."""

    model_config = ConfigDict(json_schema_extra=rules.schema_extra(*BACKOFF_RULES))

    initial_seconds: int = Field(
        default=10,
        ge=1,
        le=86400,
        description="Wait before the second attempt, in seconds.",
    )
    factor: float = Field(
        default=2.0,
        ge=1,
        le=10,
        description="Multiplier applied to the wait after each further failed attempt.",
    )
    max_seconds: int = Field(
        default=600,
        ge=1,
        le=86400,
        description="Longest wait between attempts, in seconds; not below `initialSeconds`.",
    )

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Self:
        return rules.enforce(BACKOFF_RULES, self)


class RetrySpec(SpecModel):
    """How often a failed download is tried again. Only transient and throttled failures
    are retried; permanent ones (private video, unsupported URL) fail at once."""

    max_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Attempts in total, the first one included (1 means no retry).",
    )
    backoff: BackoffSpec = Field(
        default_factory=BackoffSpec,
        description=(
            "Wait between attempts: `initialSeconds` after the first failure, multiplied "
            "by `factor` after each further one, never more than `maxSeconds`."
        ),
    )
