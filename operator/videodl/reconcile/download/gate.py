"""The admission gate: a seam where policies veto starting a download, per candidate.

The admission loop asks the gate about each download it is about to start, in admission
order, and tells it how every attempt ended. The operator's gate is the per-site circuit
breaker (:mod:`videodl.breaker.gate`), which denies downloads for a site that is failing
and learns from outcomes; tests bring their own. A denied download is shown as phase
``Blocked`` with the verdict's reason and message, and is asked about again on the next
admission pass.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from videodl.api.spec import Priority
from videodl.reconcile.download.outcome import Outcome

__all__ = ["AdmissionGate", "Candidate", "Verdict"]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A download the admission loop wants to start (or whose attempt just ended)."""

    namespace: str
    name: str
    uid: str
    url: str
    priority: Priority
    #: Number of the attempt about to start, or of the one that ended.
    attempt: int


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The gate's answer: allowed, or denied with a CamelCase reason and a message."""

    allowed: bool
    reason: str = ""
    message: str = ""

    @classmethod
    def allow(cls) -> Verdict:
        return cls(allowed=True)

    @classmethod
    def deny(cls, reason: str, message: str) -> Verdict:
        return cls(allowed=False, reason=reason, message=message)


class AdmissionGate(Protocol):
    """What the admission loop consults before it starts a download."""

    async def consider(self, candidate: Candidate) -> Verdict:
        """Whether ``candidate`` may start now."""
        ...

    async def attempt_finished(self, candidate: Candidate, outcome: Outcome) -> None:
        """Learn how an attempt of ``candidate`` ended (called once per observed outcome)."""
        ...
