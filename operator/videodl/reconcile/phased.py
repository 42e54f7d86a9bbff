"""A phase and its kstatus conditions written into the status of any of the group's kinds.

Each kind names, per phase, the VideoDownload phase whose conditions it shares (see
:data:`videodl.core.conditions.POLICY`). Pure: no I/O.
"""

from __future__ import annotations

import datetime
from typing import Any, Protocol, Self, TypeVar

from videodl.api.status import Condition, Phase
from videodl.core import conditions

__all__ = ["with_phase"]


class _Phased(Protocol):
    @property
    def conditions(self) -> list[Condition]: ...

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self: ...


S = TypeVar("S", bound=_Phased)


def with_phase(
    status: S,
    *,
    phase: object,
    shares: Phase,
    reason: str,
    message: str,
    generation: int,
    now: datetime.datetime,
) -> S:
    """``status`` in ``phase``, with the conditions of the download phase it ``shares``."""
    previous = [c.model_dump(mode="json", by_alias=True) for c in status.conditions]
    computed = conditions.compute(
        phase=shares,
        reason=reason,
        message=message,
        generation=generation,
        now=now,
        previous=previous,
    )
    return status.model_copy(
        update={
            "phase": phase,
            "observed_generation": generation,
            "conditions": [Condition.model_validate(c) for c in computed],
        }
    )
