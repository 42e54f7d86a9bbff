"""The admission queue as the operator computes it, one line per waiting download.

The same steps as the operator's admission pass (:mod:`videodl.operator.admission`), on
the same functions: :mod:`videodl.reconcile.download.queueing` picks the downloads that
compete for a slot and their aging clocks, :func:`videodl.core.ordering.plan` orders them
under the limits, and :func:`videodl.core.breaker.admit` decides, per site, on the breaker
states of the ConfigMap, a denied download giving its slot to the next in line. Then the
downloads that do not compete yet (backing off, suspended) follow, soonest first. Pure:
no I/O.
"""

from __future__ import annotations

import collections
import datetime
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from videodl.api.spec import Priority
from videodl.api.status import Phase
from videodl.breaker import evidence
from videodl.cli import formatting
from videodl.core import breaker, ordering
from videodl.core.breaker_config import BreakerConfig
from videodl.core.breaker_state import SiteState
from videodl.core.times import format_time
from videodl.reconcile.download import naming, queueing
from videodl.reconcile.download.record import DownloadRecord

__all__ = ["QueueLine", "lines"]


class QueueLine(BaseModel):
    """One download in the queue."""

    model_config = ConfigDict(frozen=True)

    #: 1-based place among the downloads that compete for a slot; None when it does not yet.
    position: int | None
    namespace: str
    name: str
    priority: Priority
    effective_priority: Priority
    waiting_since: datetime.datetime
    #: ``Slot`` (starts on the next pass), ``ClusterLimit``, ``NamespaceLimit``, ``Breaker``,
    #: ``Backoff``, ``Suspended`` or ``Finalizer``.
    waits_for: str
    detail: str
    site: str | None = None


def _effective(rank: int) -> Priority:
    return list(Priority)[rank]


def _details(reason: ordering.WaitReason, limits: ordering.Limits, namespace: str) -> str:
    if reason == ordering.WaitReason.CLUSTER_LIMIT:
        return f"all {limits.cluster} worker slots of the cluster are taken"
    return f"namespace {namespace} runs its limit of {limits.per_namespace} worker(s)"


def lines(
    records: Iterable[DownloadRecord],
    *,
    limits: ordering.Limits,
    aging_seconds: float,
    now: datetime.datetime,
    sites: Mapping[str, str | None],
    breakers: Mapping[str, SiteState],
    breaker_config: BreakerConfig | None = None,
) -> list[QueueLine]:
    """The queue of ``records`` (every download the operator sees), first to start first.

    ``sites`` maps a download's uid to its breaker site (None: no site, never held), and
    ``breakers`` a site to its state as stored in the ConfigMap.
    """
    config = breaker_config or BreakerConfig()
    readable = [r for r in records if r.problem is None]
    running: collections.Counter[str] = collections.Counter(
        r.namespace for r in readable if r.phase == Phase.RUNNING
    )
    waiting = {r.uid: r for r in readable if queueing.may_start(r, now)}
    candidates = {uid: queueing.candidate_of(r) for uid, r in waiting.items()}
    states = dict(breakers)
    counts = collections.Counter(running)
    starting: list[ordering.QueueEntry] = []
    held: list[tuple[ordering.QueueEntry, str]] = []
    while candidates:
        order = ordering.plan(
            candidates.values(), running=counts, limits=limits, aging_seconds=aging_seconds, now=now
        )
        if not order.admit:
            break
        denied = False
        for entry in order.admit:
            record = waiting[entry.candidate.uid]
            del candidates[entry.candidate.uid]
            site = sites.get(record.uid)
            refusal = None if site is None else _breaker_refusal(record, site, states, now, config)
            if refusal is None:
                starting.append(entry)
                counts[record.namespace] += 1
            else:
                held.append((entry, refusal))
                denied = True
        if not denied:
            break
    rest = ordering.plan(
        candidates.values(), running=counts, limits=limits, aging_seconds=aging_seconds, now=now
    )
    result: list[QueueLine] = []

    def add(entry: ordering.QueueEntry, waits_for: str, detail: str) -> None:
        record = waiting[entry.candidate.uid]
        result.append(
            QueueLine(
                position=len(result) + 1,
                namespace=record.namespace,
                name=record.name,
                priority=record.priority,
                effective_priority=_effective(entry.effective_rank),
                waiting_since=entry.candidate.queued_since,
                waits_for=waits_for,
                detail=detail,
                site=sites.get(record.uid),
            )
        )

    for entry in starting:
        add(entry, "Slot", "a slot is free: starts on the operator's next admission pass")
    for entry in rest.waiting:
        reason = entry.waiting_for or ordering.WaitReason.CLUSTER_LIMIT
        add(entry, reason.value, _details(reason, limits, entry.candidate.namespace))
    for entry, refusal in held:
        add(entry, "Breaker", refusal)
    result.extend(_not_competing(readable, waiting, now=now, aging_seconds=aging_seconds))
    return result


def _breaker_refusal(
    record: DownloadRecord,
    site: str,
    states: dict[str, SiteState],
    now: datetime.datetime,
    config: BreakerConfig,
) -> str | None:
    probe = evidence.probe_id(
        namespace=record.namespace, name=record.name, uid=record.uid, attempt=record.attempts + 1
    )
    decision, after = breaker.admit(
        states.get(site, SiteState()), now=now, probe_id=probe, config=config
    )
    states[site] = after
    if decision.admitted:
        return None
    return f"site {site}: {decision.message}"


def _not_competing(
    records: list[DownloadRecord],
    waiting: Mapping[str, DownloadRecord],
    *,
    now: datetime.datetime,
    aging_seconds: float,
) -> list[QueueLine]:
    later: list[tuple[datetime.datetime, QueueLine]] = []
    for record in records:
        if record.uid in waiting or record.deleting:
            continue
        if record.phase not in (Phase.QUEUED, Phase.BLOCKED, Phase.BACKING_OFF, Phase.SUSPENDED):
            continue
        since = queueing.queued_since(record)
        if record.suspend or record.phase == Phase.SUSPENDED:
            waits_for, detail, due = "Suspended", "spec.suspend is true", since
        elif record.next_attempt_time is not None and record.next_attempt_time > now:
            left = formatting.duration((record.next_attempt_time - now).total_seconds())
            waits_for = "Backoff"
            detail = f"until {format_time(record.next_attempt_time)} (in {left})"
            due = record.next_attempt_time
        elif naming.FINALIZER not in record.finalizers:
            waits_for, detail, due = "Finalizer", f"the operator adds {naming.FINALIZER}", since
        else:
            continue
        candidate = queueing.candidate_of(record)
        rank = ordering.effective_rank(candidate, now=now, aging_seconds=aging_seconds)
        line = QueueLine(
            position=None,
            namespace=record.namespace,
            name=record.name,
            priority=record.priority,
            effective_priority=_effective(rank),
            waiting_since=since,
            waits_for=waits_for,
            detail=detail,
        )
        later.append((due, line))
    later.sort(key=lambda item: (item[0], item[1].namespace, item[1].name))
    return [line for _, line in later]
