"""The per-site circuit breaker: a pure state machine over immutable states.

One :class:`~videodl.core.breaker_state.SiteState` per site (keyed by
:func:`videodl.core.site_keys.site_key`) moves between three states, tuned by a
:class:`~videodl.core.breaker_config.BreakerConfig`:

``CLOSED``
    Downloads are admitted. Outcomes are counted: only ``Throttled`` and site-wide
    ``Transient`` failures count as failures, a ``Success`` breaks a run of them, and a
    ``Permanent`` failure (one video is gone) says nothing about the site and is ignored. The
    breaker trips to ``OPEN`` when ``failure_threshold`` counted failures come in a row, or
    when at least ``failure_ratio`` of the last ``window_size`` outcomes failed (once the
    window holds ``min_calls``).
``OPEN``
    Nothing is admitted until ``openUntil``. The open duration is ``open_base_seconds``
    doubled for each consecutive trip, capped at ``open_max_seconds``, and shortened by up to
    ``open_jitter`` (see :mod:`videodl.core.backoff`). Once ``openUntil`` has passed, the next
    admission check moves the breaker to ``HALF_OPEN`` (lazily: no timer is needed).
``HALF_OPEN``
    At most ``half_open_probes`` downloads (probes) are admitted at once. A probe holds its
    slot until it reports an outcome or ``probe_timeout_seconds`` pass. ``close_after_successes``
    probe successes close the breaker (and reset the trip count); one probe failure opens it
    again for the next, longer duration.

Outcomes of downloads that were not admitted as probes are ignored while the breaker is not
``CLOSED``: they were started before the trip. A probe that is still out when the breaker
re-opens keeps its slot into the next ``HALF_OPEN`` period, so probes never overlap beyond
the configured number.

Every function takes the current state and returns a new one, plus a :class:`Transition` when
the state changed, so the caller can store the state (a ConfigMap key, encoded by
:mod:`videodl.core.breaker_state`) and emit Events and metrics.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from datetime import datetime, timedelta
from typing import Any

from videodl.core.breaker_config import BreakerConfig, open_duration_seconds
from videodl.core.breaker_state import Probe, SiteState, State, utc_seconds

__all__ = [
    "Decision",
    "DecisionReason",
    "Outcome",
    "Transition",
    "TransitionReason",
    "admit",
    "force_open",
    "record",
    "reset",
]


class Outcome(enum.StrEnum):
    """How a finished download attempt ended, as far as the breaker cares."""

    SUCCESS = "Success"
    THROTTLED = "Throttled"
    TRANSIENT = "Transient"
    PERMANENT = "Permanent"

    @property
    def counted_failure(self) -> bool:
        """Whether this outcome is evidence that the whole site is failing."""
        return self in (Outcome.THROTTLED, Outcome.TRANSIENT)


class TransitionReason(enum.StrEnum):
    """Why the state changed; CamelCase, usable as an Event reason."""

    TRIPPED = "Tripped"
    PROBING = "Probing"
    RECOVERED = "Recovered"
    PROBE_FAILED = "ProbeFailed"
    RESET = "Reset"
    FORCED_OPEN = "ForcedOpen"


class DecisionReason(enum.StrEnum):
    """Why a download was admitted or rejected; CamelCase, usable as a condition reason."""

    CLOSED = "CircuitClosed"
    PROBE = "CircuitProbe"
    OPEN = "CircuitOpen"
    PROBES_BUSY = "CircuitProbesBusy"


@dataclasses.dataclass(frozen=True, slots=True)
class Transition:
    """A change of state, for an Event and a metric."""

    from_state: State
    to_state: State
    reason: TransitionReason
    message: str
    at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """Whether a download may start now; when not, until when (if known) and why."""

    admitted: bool
    probe: bool
    reason: DecisionReason
    message: str
    #: When rejected: when the breaker may admit again (``None``: until reset).
    until: datetime | None = None
    #: The lazy ``OPEN`` -> ``HALF_OPEN`` change made by this check, if any.
    transition: Transition | None = None


def admit(
    state: SiteState, *, now: datetime, probe_id: str, config: BreakerConfig
) -> tuple[Decision, SiteState]:
    """Decide whether the download ``probe_id`` may start now.

    ``probe_id`` names the attempt (for example the download's uid and attempt number); asking
    again with the id of a probe already admitted admits it again without taking another
    slot, so a check repeated after a crash is harmless.
    """
    now = _utc_now(now)
    if not probe_id:
        msg = "probe_id must name the download attempt (for example its uid and attempt number)"
        raise ValueError(msg)
    state = _expire_probes(state, now)
    transition: Transition | None = None
    if state.state is State.CLOSED:
        return Decision(True, False, DecisionReason.CLOSED, "circuit closed"), state
    if state.state is State.OPEN:
        if state.open_until is None or now < state.open_until:
            return _rejected_open(state), state
        message = f"open period ended at {_iso(state.open_until)}; probing with up to " + (
            f"{config.half_open_probes} download(s)"
        )
        state = _evolve(
            state,
            state=State.HALF_OPEN,
            forced=False,
            successes_in_half_open=0,
            last_reason=message,
            last_transition_time=now,
        )
        transition = Transition(State.OPEN, State.HALF_OPEN, TransitionReason.PROBING, message, now)
    if any(p.id == probe_id for p in state.probes):
        message = f"already admitted as probe {probe_id}"
        return Decision(True, True, DecisionReason.PROBE, message, transition=transition), state
    if len(state.probes) >= config.half_open_probes:
        until = min(p.expires_at for p in state.probes)
        held = ", ".join(p.id for p in state.probes)
        message = (
            f"circuit half-open: {len(state.probes)} probe download(s) in flight ({held}); "
            f"next check by {_iso(until)}"
        )
        decision = Decision(False, False, DecisionReason.PROBES_BUSY, message, until, transition)
        return decision, state
    probe = Probe(
        id=probe_id,
        admitted_at=now,
        expires_at=now + timedelta(seconds=config.probe_timeout_seconds),
    )
    state = _evolve(state, probes=(*state.probes, probe))
    message = f"circuit half-open: admitted as probe {probe_id}"
    return Decision(True, True, DecisionReason.PROBE, message, transition=transition), state


def record(
    state: SiteState,
    outcome: Outcome | str,
    *,
    now: datetime,
    probe_id: str | None,
    rng: random.Random,
    config: BreakerConfig,
    detail: str = "",
) -> tuple[SiteState, Transition | None]:
    """Record the outcome of a finished attempt and return the new state.

    ``probe_id`` is the id the attempt was admitted with; ``detail`` (for example the
    failure's reason) goes into ``lastFailure`` and the messages. ``rng`` jitters the open
    duration when this outcome trips the breaker.
    """
    now = _utc_now(now)
    outcome = _outcome(outcome)
    held = probe_id is not None and any(
        p.id == probe_id and p.expires_at > now for p in state.probes
    )
    if outcome is Outcome.PERMANENT:
        # Says nothing about the site; only frees the slot of a probe that hit a gone video.
        return (_release(state, probe_id) if held else state), None
    state = _expire_probes(state, now)
    if state.state is State.CLOSED:
        return _record_closed(state, outcome, now=now, rng=rng, config=config, detail=detail)
    if not held or state.state is State.OPEN:
        # Outcomes of downloads started before the trip are ignored; a probe of an earlier
        # half-open period that finishes late only frees its slot.
        return (_release(state, probe_id) if held else state), None
    return _record_probe(
        _release(state, probe_id), outcome, probe_id, now=now, rng=rng, config=config, detail=detail
    )


def reset(state: SiteState, *, now: datetime, reason: str = "") -> tuple[SiteState, Transition]:
    """Close the breaker and clear every counter (an administrator's reset)."""
    now = _utc_now(now)
    message = "reset by an administrator" + (f": {reason}" if reason else "")
    closed = _evolve(_closed(state, now, message), last_failure="")
    return closed, Transition(state.state, State.CLOSED, TransitionReason.RESET, message, now)


def force_open(
    state: SiteState, *, now: datetime, until: datetime | None, reason: str = ""
) -> tuple[SiteState, Transition]:
    """Open the breaker until ``until`` (``None``: until reset), whatever its counters say.

    After ``until`` it probes like after any open period. Probes still out keep their slots.
    """
    now = _utc_now(now)
    if until is not None and _utc_now(until) <= now:
        msg = f"until ({_iso(until)}) must be after now ({_iso(now)}); omit it to open until reset"
        raise ValueError(msg)
    cause = "forced open by an administrator" + (f": {reason}" if reason else "")
    span = f"until {_iso(until)}" if until is not None else "until reset"
    message = f"{cause}; open {span}"
    opened = _evolve(
        state,
        state=State.OPEN,
        forced=True,
        consecutive_failures=0,
        window="",
        opened_at=now,
        open_until=until,
        successes_in_half_open=0,
        last_reason=cause,
        last_transition_time=now,
    )
    return opened, Transition(state.state, State.OPEN, TransitionReason.FORCED_OPEN, message, now)


def _record_closed(
    state: SiteState,
    outcome: Outcome,
    *,
    now: datetime,
    rng: random.Random,
    config: BreakerConfig,
    detail: str,
) -> tuple[SiteState, Transition | None]:
    failed = outcome.counted_failure
    window = (state.window + ("F" if failed else "S"))[-config.window_size :]
    if not failed:
        return _evolve(state, window=window, consecutive_failures=0), None
    consecutive = state.consecutive_failures + 1
    failure = _describe(outcome, detail)
    state = _evolve(state, window=window, consecutive_failures=consecutive, last_failure=failure)
    failures = window.count("F")
    if consecutive >= config.failure_threshold:
        cause = f"{consecutive} throttled or transient failures in a row"
    elif len(window) >= config.min_calls and failures / len(window) >= config.failure_ratio:
        cause = f"{failures} of the last {len(window)} downloads failed"
    else:
        return state, None
    return _trip(
        state,
        f"{cause} (last: {failure})",
        TransitionReason.TRIPPED,
        now=now,
        rng=rng,
        config=config,
    )


def _record_probe(
    state: SiteState,
    outcome: Outcome,
    probe_id: str | None,
    *,
    now: datetime,
    rng: random.Random,
    config: BreakerConfig,
    detail: str,
) -> tuple[SiteState, Transition | None]:
    if outcome is Outcome.SUCCESS:
        successes = state.successes_in_half_open + 1
        if successes < config.close_after_successes:
            return _evolve(state, successes_in_half_open=successes), None
        message = f"{successes} probe download(s) succeeded; circuit closed"
        transition = Transition(
            State.HALF_OPEN, State.CLOSED, TransitionReason.RECOVERED, message, now
        )
        return _closed(state, now, message), transition
    failure = _describe(outcome, detail)
    return _trip(
        _evolve(state, last_failure=failure),
        f"probe download {probe_id} failed ({failure})",
        TransitionReason.PROBE_FAILED,
        now=now,
        rng=rng,
        config=config,
    )


def _trip(
    state: SiteState,
    cause: str,
    reason: TransitionReason,
    *,
    now: datetime,
    rng: random.Random,
    config: BreakerConfig,
) -> tuple[SiteState, Transition]:
    trip = state.trip_count + 1
    duration = open_duration_seconds(trip, config, rng)
    until = utc_seconds(now + timedelta(seconds=duration))
    reason_text = f"{cause} (trip {trip})"
    message = f"{cause}; open until {_iso(until)} (trip {trip}, {duration:.0f}s)"
    opened = _evolve(
        state,
        state=State.OPEN,
        forced=False,
        consecutive_failures=0,
        window="",
        opened_at=now,
        open_until=until,
        trip_count=trip,
        successes_in_half_open=0,
        last_reason=reason_text,
        last_transition_time=now,
    )
    return opened, Transition(state.state, State.OPEN, reason, message, now)


def _closed(state: SiteState, now: datetime, message: str) -> SiteState:
    return SiteState(
        state=State.CLOSED,
        last_reason=message,
        last_failure=state.last_failure,
        last_transition_time=now,
    )


def _rejected_open(state: SiteState) -> Decision:
    if state.open_until is None:
        span = "until an administrator resets it"
    else:
        span = f"until {_iso(state.open_until)}"
    message = (
        f"circuit open {span}: {state.last_reason}"
        if state.last_reason
        else (f"circuit open {span}")
    )
    return Decision(False, False, DecisionReason.OPEN, message, state.open_until)


def _expire_probes(state: SiteState, now: datetime) -> SiteState:
    live = tuple(p for p in state.probes if p.expires_at > now)
    return state if len(live) == len(state.probes) else _evolve(state, probes=live)


def _release(state: SiteState, probe_id: str | None) -> SiteState:
    return _evolve(state, probes=tuple(p for p in state.probes if p.id != probe_id))


def _evolve(current: SiteState, /, **changes: Any) -> SiteState:
    # Validate (rather than model_copy) so new times are normalised like decoded ones.
    return SiteState.model_validate({**dict(current), **changes})


def _outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in Outcome)
        msg = f"outcome must be one of {allowed}, got {value!r}"
        raise ValueError(msg) from None


def _describe(outcome: Outcome, detail: str) -> str:
    # Bounded so one verbose error message cannot bloat the ConfigMap.
    detail = " ".join(detail.split())[:200]
    return f"{outcome.value}: {detail}" if detail else outcome.value


def _utc_now(now: datetime) -> datetime:
    if now.tzinfo is None:
        msg = "now must be a timezone-aware datetime (for example datetime.now(UTC))"
        raise ValueError(msg)
    return utc_seconds(now)


def _iso(value: datetime) -> str:
    return utc_seconds(value).isoformat().replace("+00:00", "Z")
