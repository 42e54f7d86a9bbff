"""What the circuit breaker stores per site, and its encoding as a ConfigMap value.

One :class:`SiteState` per site (see :mod:`videodl.core.site_keys`) is kept under that
site's key in the breaker's ConfigMap, as indented camelCase JSON an administrator can read
with ``kubectl get configmap -o yaml``. Times are kept in whole seconds, UTC. Unknown keys
are ignored, so that processes of an older version keep working on a ConfigMap written by
a newer one during a rolling upgrade. How the state changes is :mod:`videodl.core.breaker`.

Pure: no I/O.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

__all__ = ["BreakerStateError", "Probe", "SiteState", "State", "UtcTime", "utc_seconds"]


class State(enum.StrEnum):
    """The three states of a circuit breaker."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


def utc_seconds(value: datetime) -> datetime:
    """``value`` in whole seconds, UTC: what an administrator reads, and what round-trips."""
    return value.astimezone(UTC).replace(microsecond=0)


UtcTime = Annotated[AwareDatetime, AfterValidator(utc_seconds)]


class _StoredModel(BaseModel):
    # Unknown keys are ignored: see the module docstring.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Probe(_StoredModel):
    """A download admitted as a probe while ``HALF_OPEN``; it holds a slot until it reports."""

    id: str = Field(min_length=1)
    admitted_at: UtcTime
    expires_at: UtcTime


class SiteState(_StoredModel):
    """The breaker of one site, as stored in its ConfigMap key (camelCase JSON)."""

    state: State = State.CLOSED
    #: Counted failures in a row while ``CLOSED``.
    consecutive_failures: int = Field(default=0, ge=0)
    #: Outcomes of the last calls while ``CLOSED``, oldest first: ``S`` success, ``F`` failure.
    window: str = Field(default="", pattern=r"^[SF]*$")
    opened_at: UtcTime | None = None
    #: When ``OPEN`` ends; ``null`` while ``OPEN`` means until an administrator resets it.
    open_until: UtcTime | None = None
    #: Whether an administrator forced the breaker open.
    forced: bool = False
    #: Consecutive trips since the breaker was last ``CLOSED``; sets the open duration.
    trip_count: int = Field(default=0, ge=0)
    #: Why the breaker is in its state (the message of the last transition).
    last_reason: str = ""
    #: The last counted failure, e.g. ``Throttled: HTTP Error 429``.
    last_failure: str = ""
    probes: tuple[Probe, ...] = ()
    successes_in_half_open: int = Field(default=0, ge=0)
    last_transition_time: UtcTime | None = None

    def to_configmap_value(self) -> str:
        """Encode as indented camelCase JSON, readable with ``kubectl get configmap -o yaml``."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2)

    @classmethod
    def from_configmap_value(cls, value: str) -> SiteState:
        """Decode a ConfigMap value; raise :class:`BreakerStateError` naming the bad field."""
        try:
            return cls.model_validate_json(value)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or '(value)'}: {e['msg']}"
                for e in error.errors()
            )
            msg = (
                f"breaker state is not valid ({problems}); fix the value or delete the key "
                "to start again CLOSED"
            )
            raise BreakerStateError(msg) from error


class BreakerStateError(ValueError):
    """A stored breaker state could not be decoded."""
