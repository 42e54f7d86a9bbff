"""The admission queue: which queued downloads start now, and in what order the rest wait.

Queued downloads are ordered by effective rank (highest first), then by creation time (oldest
first), then by namespace, name and uid so that the order is total and the same in every
operator process. The effective rank is the priority rank (0 for ``Lowest`` up to 4 for
``Critical``) raised by one for every ``aging_seconds`` a download has waited, capped at the
top rank, so a low priority cannot starve behind a stream of higher ones: once aged to the
top it competes on creation time, where it is older than every newcomer.

Candidates are admitted greedily in that order while the cluster-wide limit has room; a
candidate whose namespace is at its limit is passed over (it keeps its place) and the next one
is considered. So a higher effective rank is never left waiting while a lower one is admitted,
unless its own namespace is full.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

__all__ = [
    "TOP_RANK",
    "Candidate",
    "Limits",
    "Plan",
    "QueueEntry",
    "WaitReason",
    "effective_rank",
    "plan",
    "queue_order",
]

# The rank of ``Critical``; ``Lowest`` is 0.
TOP_RANK = 4


@dataclasses.dataclass(frozen=True, slots=True)
class Candidate:
    """A queued download, as much of it as admission needs."""

    namespace: str
    name: str
    uid: str
    rank: int
    created: datetime
    queued_since: datetime

    def __post_init__(self) -> None:
        if not 0 <= self.rank <= TOP_RANK:
            msg = (
                f"rank of {self.namespace}/{self.name} must be between 0 (Lowest) and "
                f"{TOP_RANK} (Critical), got {self.rank}"
            )
            raise ValueError(msg)
        for field in ("created", "queued_since"):
            if getattr(self, field).tzinfo is None:
                msg = f"{field} of {self.namespace}/{self.name} must be timezone-aware"
                raise ValueError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """How many workers may run at once; ``None`` means no limit, 0 admits nothing."""

    cluster: int | None = None
    per_namespace: int | None = None

    def __post_init__(self) -> None:
        for field in ("cluster", "per_namespace"):
            value = getattr(self, field)
            if value is not None and value < 0:
                msg = f"{field} limit must be 0 or more (or unset for no limit), got {value}"
                raise ValueError(msg)


class WaitReason(enum.StrEnum):
    """Why a candidate was not admitted."""

    CLUSTER_LIMIT = "ClusterLimit"
    NAMESPACE_LIMIT = "NamespaceLimit"


@dataclasses.dataclass(frozen=True, slots=True)
class QueueEntry:
    """A candidate with its effective rank and 1-based position in its list."""

    candidate: Candidate
    effective_rank: int
    position: int
    waiting_for: WaitReason | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """The admission decision: who starts now (in order) and the queue of the rest."""

    admit: tuple[QueueEntry, ...]
    waiting: tuple[QueueEntry, ...]


def effective_rank(candidate: Candidate, *, now: datetime, aging_seconds: float) -> int:
    """Return the candidate's rank raised by one per ``aging_seconds`` waited, capped at the top.

    ``aging_seconds`` of 0 disables aging. Time before ``queued_since`` (a clock skew between
    operator processes) counts as no wait.
    """
    _require_aging(aging_seconds)
    if aging_seconds == 0:
        return candidate.rank
    waited = max(0.0, (now - candidate.queued_since).total_seconds())
    return min(TOP_RANK, candidate.rank + math.floor(waited / aging_seconds))


def queue_order(
    candidates: Iterable[Candidate], *, now: datetime, aging_seconds: float
) -> list[tuple[Candidate, int]]:
    """Return the candidates with their effective ranks, in admission order."""
    ranked = [(c, effective_rank(c, now=now, aging_seconds=aging_seconds)) for c in candidates]
    ranked.sort(key=lambda item: (-item[1], item[0].created, *_identity(item[0])))
    return ranked


def plan(
    candidates: Iterable[Candidate],
    *,
    running: Mapping[str, int],
    limits: Limits,
    aging_seconds: float,
    now: datetime,
) -> Plan:
    """Decide which candidates start now and the queue order of the rest.

    ``running`` counts the workers already running per namespace; their sum counts against
    the cluster-wide limit. Running counts already above a limit (after the limit was
    lowered) simply leave no room.
    """
    candidates = list(candidates)
    _require_unique(candidates)
    for namespace, count in running.items():
        if count < 0:
            msg = f"running count of namespace {namespace!r} must be 0 or more, got {count}"
            raise ValueError(msg)
    per_namespace = Counter(running)
    total = sum(running.values())
    admit: list[QueueEntry] = []
    waiting: list[QueueEntry] = []
    for candidate, rank in queue_order(candidates, now=now, aging_seconds=aging_seconds):
        reason: WaitReason | None = None
        if limits.cluster is not None and total >= limits.cluster:
            reason = WaitReason.CLUSTER_LIMIT
        elif (
            limits.per_namespace is not None
            and per_namespace[candidate.namespace] >= limits.per_namespace
        ):
            reason = WaitReason.NAMESPACE_LIMIT
        if reason is None:
            admit.append(QueueEntry(candidate, rank, len(admit) + 1))
            per_namespace[candidate.namespace] += 1
            total += 1
        else:
            waiting.append(QueueEntry(candidate, rank, len(waiting) + 1, reason))
    return Plan(admit=tuple(admit), waiting=tuple(waiting))


def _identity(candidate: Candidate) -> tuple[str, str, str]:
    return candidate.namespace, candidate.name, candidate.uid


def _require_unique(candidates: list[Candidate]) -> None:
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.uid in seen:
            msg = (
                f"candidate uid {candidate.uid!r} ({candidate.namespace}/{candidate.name}) "
                "is listed twice"
            )
            raise ValueError(msg)
        seen.add(candidate.uid)


def _require_aging(aging_seconds: float) -> None:
    if not math.isfinite(aging_seconds) or aging_seconds < 0:
        msg = f"aging_seconds must be a finite number, 0 (no aging) or more, got {aging_seconds}"
        raise ValueError(msg)
