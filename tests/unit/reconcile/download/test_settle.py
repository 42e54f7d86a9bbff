"""Tests for videodl.reconcile.download.settle: deciding in memory until nothing changes."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.reconcile.download.builders import T0, download, observe

from videodl.api.status import Phase, VideoDownloadStatus
from videodl.reconcile.download import settle
from videodl.reconcile.download.outcome import Succeeded
from videodl.reconcile.download.plan import AttemptOutcome, Event, Observation, Plan
from videodl.reconcile.download.podspec import PodIdentity

_CHAIN = (Phase.QUEUED, Phase.BLOCKED, Phase.BACKING_OFF, Phase.SUSPENDED)


def chain(steps: list[str], *, last: Plan | None = None) -> Callable[[Observation], Plan]:
    """A state machine stepping through ``steps`` (one status write each), then ``last``."""

    def decide(observation: Observation) -> Plan:
        done = observation.status.attempts or 0
        if done < len(steps):
            status = VideoDownloadStatus(phase=_CHAIN[done % len(_CHAIN)], attempts=done + 1)
            return Plan(
                status=status,
                events=(Event("Normal", steps[done], ""),),
                recheck_at=T0 + datetime.timedelta(seconds=100 - done),
            )
        return last or Plan()

    return decide


def test_status_steps_fold_into_one_plan() -> None:
    """Three status-only steps become one plan: the last status, every Event in order, the
    earliest time to decide again."""
    plan = settle.settle(observe(download()), chain(["A", "B", "C"]))
    assert plan.status is not None
    assert plan.status.attempts == 3
    assert [e.reason for e in plan.events] == ["A", "B", "C"]
    assert plan.recheck_at == T0 + datetime.timedelta(seconds=98)


def test_a_step_with_more_than_status_ends_the_fold() -> None:
    """A Pod to create is not folded past: it is the plan's last step, on the folded status."""
    identity = PodIdentity(name="clip", namespace="media", uid="u", run=1, attempt=1)
    plan = settle.settle(observe(download()), chain(["A"], last=Plan(create_pod=identity)))
    assert plan.create_pod == identity
    assert plan.status is not None
    assert plan.status.attempts == 1


def test_nothing_to_do_is_an_empty_plan() -> None:
    assert settle.settle(observe(download()), chain([])).empty


def test_a_machine_that_never_settles_is_cut() -> None:
    plan = settle.settle(observe(download()), chain(["x"] * 50))
    assert plan.status is not None
    assert plan.status.attempts == settle.MAX_STEPS


def test_two_ended_attempts_are_not_folded_together() -> None:
    """The admission gate hears of one attempt per plan."""

    def decide(observation: Observation) -> Plan:
        done = observation.status.attempts or 0
        succeeded = Succeeded(result=None, skipped=False, finished_at=None)
        ended = AttemptOutcome(attempt=done + 1, outcome=succeeded)
        return Plan(
            status=VideoDownloadStatus(phase=Phase.BACKING_OFF, attempts=done + 1),
            attempt_ended=ended,
        )

    plan = settle.settle(observe(download()), decide)
    assert plan.status is not None
    assert plan.status.attempts == 1
    assert plan.attempt_ended is not None
    assert plan.attempt_ended.attempt == 1


@given(st.lists(st.sampled_from("ABCDE"), max_size=12))
def test_folding_equals_writing_each_step(steps: list[str]) -> None:
    """Settling gives the status and Events that writing every step one by one would."""
    decide = chain(steps)
    observation = observe(download())
    current, events = observation, []
    for _ in range(settle.MAX_STEPS):
        plan = decide(current)
        if plan.status is None:
            break
        events.extend(plan.events)
        current = dataclasses.replace(
            current, download=current.download.model_copy(update={"status": plan.status})
        )
    folded = settle.settle(observation, decide)
    assert (folded.status or observation.status) == current.status
    assert list(folded.events) == events
