"""The admission loop: one task that decides which waiting downloads start, in order.

Admissions are serialised here so the limits hold: the loop takes every waiting download
from the controller's view, orders them with :mod:`videodl.core.ordering` (priority, aging,
creation time, cluster-wide and per-namespace limits), asks the admission gate about each
one it would start, and has the controller record the run and create the Pod. It wakes on
every relevant change and at least every ``interval_seconds`` (for aging, backoff expiry and
``ttlSecondsAfterFinished``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import logging
import time
from collections.abc import Coroutine
from typing import Any

from videodl.api.spec import Priority
from videodl.api.status import Phase
from videodl.core import ordering as rules
from videodl.kube.cache import Key
from videodl.operator.downloads import DownloadController
from videodl.operator.settings import AdmissionSettings
from videodl.reconcile.download import phases
from videodl.reconcile.download.gate import AdmissionGate, Candidate, Verdict
from videodl.reconcile.download.queueing import candidate_of, may_start, queued_since
from videodl.reconcile.download.record import DownloadRecord

__all__ = ["Scheduler", "candidate_of", "queued_since"]

logger = logging.getLogger(__name__)

#: Admissions (status write plus Pod creation) in flight at once.
_CONCURRENT_ADMISSIONS = 32
#: The phases of a download that waits for a run (a new one has no phase yet).
_QUEUED_PHASES = frozenset({Phase.QUEUED, Phase.BLOCKED, Phase.BACKING_OFF})
#: Longest pause between two passes, so a burst of changes costs few passes. The pause
#: is the last pass's own duration up to this: at rest a new download starts at once,
#: under load passes take at most about half of the loop's time.
_COALESCE_SECONDS = 0.05


class Scheduler:
    """Runs admission passes until cancelled."""

    def __init__(
        self, controller: DownloadController, settings: AdmissionSettings, gate: AdmissionGate
    ) -> None:
        self._controller = controller
        self._settings = settings
        self._gate = gate
        self._limits = rules.Limits(
            cluster=settings.max_running, per_namespace=settings.max_running_per_namespace
        )
        self._semaphore = asyncio.Semaphore(_CONCURRENT_ADMISSIONS)
        #: Monotonic time of the last finished pass, for the health endpoint.
        self.last_pass = time.monotonic()
        self.passes = 0

    def healthy(self, now: float | None = None) -> bool:
        """Whether passes keep happening (the loop is neither stuck nor dead)."""
        limit = max(30.0, 10 * self._settings.interval_seconds)
        return ((now or time.monotonic()) - self.last_pass) < limit

    async def run(self) -> None:
        controller = self._controller
        sleep = self._settings.interval_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(controller.changed.wait(), timeout=sleep)
            controller.changed.clear()
            sleep = self._settings.interval_seconds
            began = time.monotonic()
            if controller.ready.is_set() and controller.leading.is_set():
                try:
                    sleep = min(sleep, await self.run_pass())
                except asyncio.CancelledError:
                    raise
                except Exception:
                    controller.metrics.reconcile_errors.inc()
                    logger.exception("admission pass failed")
            self.last_pass = time.monotonic()
            self.passes += 1
            await asyncio.sleep(min(_COALESCE_SECONDS, self.last_pass - began))

    async def run_pass(self) -> float:
        """One admission pass; returns seconds until something is due (capped by interval)."""
        controller = self._controller
        now = controller.clock()
        # Only the downloads in play: a pass costs what waits and runs, not what exists.
        records = controller.objects.active_items()
        running: collections.Counter[str] = collections.Counter()
        waiting: dict[str, tuple[Key, DownloadRecord]] = {}
        depth: collections.Counter[Priority] = collections.Counter()
        due = now + datetime.timedelta(seconds=self._settings.interval_seconds)
        for key, record in records:
            if record.phase == Phase.RUNNING:
                running[key[0]] += 1
            elif phases.is_new(record.phase) or record.phase in _QUEUED_PHASES:
                depth[record.priority] += 1
                if record.next_attempt_time is not None and record.next_attempt_time > now:
                    due = min(due, record.next_attempt_time)
            if self._may_start(record, now):
                waiting[record.uid] = (key, record)
            expiry = self._ttl_expiry(record)
            if expiry is not None:
                if expiry <= now:
                    controller.queue.add(key)
                else:
                    due = min(due, expiry)
        controller.metrics.set_queue(depth, sum(running.values()))
        if waiting:
            await self._admit(waiting, running, now)
        return max((due - now).total_seconds(), _COALESCE_SECONDS)

    @staticmethod
    def _may_start(record: DownloadRecord, now: datetime.datetime) -> bool:
        return may_start(record, now)

    @staticmethod
    def _ttl_expiry(record: DownloadRecord) -> datetime.datetime | None:
        ttl = record.ttl_seconds_after_finished
        if ttl is None or record.phase is None or not record.phase.finished:
            return None
        if record.completion_time is None:
            return None
        return record.completion_time + datetime.timedelta(seconds=ttl)

    async def _admit(
        self,
        waiting: dict[str, tuple[Key, DownloadRecord]],
        running: collections.Counter[str],
        now: datetime.datetime,
    ) -> None:
        candidates = {uid: candidate_of(record) for uid, (_, record) in waiting.items()}
        counts = collections.Counter(running)
        verdicts: dict[str, Verdict] = {}
        chosen: list[Key] = []
        # Plan, ask the gate about the chosen ones, and plan again without the denied ones
        # (their slots go to the next in line) until every chosen download is allowed.
        while candidates:
            order = rules.plan(
                candidates.values(),
                running=counts,
                limits=self._limits,
                aging_seconds=self._settings.aging_seconds,
                now=now,
            )
            if not order.admit:
                break
            denied = False
            for entry in order.admit:
                uid = entry.candidate.uid
                key, record = waiting[uid]
                if self._controller.outcome_pending(uid):
                    # Its last outcome is still on its way to the gate, which may trip on
                    # it: ask on the pass that follows (the controller wakes it).
                    del candidates[uid]
                    denied = True
                    continue
                verdict = await self._gate.consider(self._gate_candidate(record))
                verdicts[uid] = verdict
                del candidates[uid]
                if verdict.allowed:
                    chosen.append(key)
                    counts[key[0]] += 1
                else:
                    denied = True
            if not denied:
                break
        blocked = [(waiting[uid][0], v) for uid, v in verdicts.items() if not v.allowed]
        # New downloads that wait are recorded as Queued; those admitted go straight to
        # Running, in the same single write.
        held = [
            key
            for uid, (key, record) in waiting.items()
            if uid not in verdicts and phases.is_new(record.phase)
        ]
        await asyncio.gather(
            *(self._guarded(self._controller.admit(key)) for key in chosen),
            *(self._guarded(self._controller.block(key, verdict)) for key, verdict in blocked),
            *(self._guarded(self._controller.hold(key)) for key in held),
        )

    def _gate_candidate(self, record: DownloadRecord) -> Candidate:
        return Candidate(
            namespace=record.namespace,
            name=record.name,
            uid=record.uid,
            url=record.url,
            priority=record.priority,
            attempt=record.attempts + 1,
        )

    async def _guarded(self, work: Coroutine[Any, Any, object]) -> None:
        async with self._semaphore:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                self._controller.metrics.reconcile_errors.inc()
                logger.exception("admission failed")
