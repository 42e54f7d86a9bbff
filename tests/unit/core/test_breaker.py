"""Tests for videodl.core.breaker: the state machine."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videodl.core import breaker, breaker_config
from videodl.core.breaker import DecisionReason, Outcome, TransitionReason
from videodl.core.breaker_config import BreakerConfig
from videodl.core.breaker_state import SiteState, State

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NO_JITTER = BreakerConfig(open_jitter=0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(
    state: SiteState,
    outcomes: str,
    *,
    config: BreakerConfig = NO_JITTER,
    now: datetime = T0,
) -> tuple[SiteState, list[breaker.Transition]]:
    """Record outcomes given as letters: S success, T throttled, X transient, P permanent."""
    kinds = {"S": Outcome.SUCCESS, "T": Outcome.THROTTLED, "X": Outcome.TRANSIENT}
    kinds["P"] = Outcome.PERMANENT
    transitions = []
    for index, letter in enumerate(outcomes):
        state, transition = breaker.record(
            state,
            kinds[letter],
            now=now,
            probe_id=f"call-{index}",
            rng=random.Random(index),
            config=config,
            detail="HTTP Error 429",
        )
        if transition is not None:
            transitions.append(transition)
    return state, transitions


def tripped(config: BreakerConfig = NO_JITTER, now: datetime = T0) -> SiteState:
    state, transitions = feed(SiteState(), "T" * config.failure_threshold, config=config, now=now)
    assert state.state is State.OPEN, transitions
    return state


def half_open(config: BreakerConfig = NO_JITTER) -> tuple[SiteState, datetime]:
    state = tripped(config)
    assert state.open_until is not None
    return state, state.open_until


class TestClosed:
    def test_trips_at_the_consecutive_threshold(self) -> None:
        """Four counted failures in a row keep it closed; the fifth opens it."""
        state, transitions = feed(SiteState(), "TXTX")
        assert (state.state, state.consecutive_failures, transitions) == (State.CLOSED, 4, [])
        state, transitions = feed(state, "T")
        assert state.state is State.OPEN
        (transition,) = transitions
        assert (transition.from_state, transition.to_state) == (State.CLOSED, State.OPEN)
        assert transition.reason is TransitionReason.TRIPPED
        assert "5 throttled or transient failures in a row" in transition.message
        assert state.trip_count == 1
        assert state.last_failure == "Throttled: HTTP Error 429"

    def test_success_breaks_the_run(self) -> None:
        """A success resets the consecutive count, so 4+4 failures do not trip."""
        state, _ = feed(SiteState(), "TTTTSTTTT")
        assert (state.state, state.consecutive_failures, state.window) == (
            State.CLOSED,
            4,
            "FFFFSFFFF",
        )

    def test_failure_rate_trips_with_enough_calls(self) -> None:
        """Half of ten calls failing trips it even though no five came in a row."""
        state, transitions = feed(SiteState(), "STSTSTSTS")
        assert state.state is State.CLOSED
        state, transitions = feed(state, "T")
        assert state.state is State.OPEN
        assert "5 of the last 10 downloads failed" in transitions[0].message

    def test_failure_rate_needs_min_calls(self) -> None:
        """Below min_calls the rate alone does not trip it."""
        state, _ = feed(SiteState(), "TTTTS" + "TTTT")
        assert state.state is State.CLOSED

    def test_window_slides(self) -> None:
        """Only the last window_size outcomes count toward the rate."""
        config = BreakerConfig(window_size=10, min_calls=10, failure_threshold=100, open_jitter=0)
        state, _ = feed(SiteState(), "TTTTT" + "SSSSS" + "S", config=config)
        assert state.window == "FFFFSSSSSS"
        # Without sliding this would be 6 failures of 12, at the ratio; slid it is 4 of 10.
        state, _ = feed(state, "T", config=config)
        assert (state.state, state.window) == (State.CLOSED, "FFFSSSSSSF")

    def test_permanent_failures_are_not_counted(self) -> None:
        """A run of Permanent failures leaves the state untouched."""
        start, _ = feed(SiteState(), "TTS")
        state, transitions = feed(start, "P" * 50)
        assert (state, transitions) == (start, [])

    def test_closed_admits_without_probing(self) -> None:
        """A closed breaker admits everything and does not change."""
        decision, state = breaker.admit(SiteState(), now=T0, probe_id="a", config=NO_JITTER)
        assert (decision.admitted, decision.probe, decision.reason) == (
            True,
            False,
            DecisionReason.CLOSED,
        )
        assert state == SiteState()


class TestOpen:
    def test_rejects_until_open_until(self) -> None:
        """While open, admission is rejected with when it ends and why."""
        state = tripped()
        assert state.open_until == at(60)
        decision, after = breaker.admit(state, now=at(59), probe_id="a", config=NO_JITTER)
        assert (decision.admitted, decision.reason, decision.until) == (
            False,
            DecisionReason.OPEN,
            at(60),
        )
        assert decision.message.startswith("circuit open until 2026-01-01T00:01:00Z: 5 throttled")
        assert after == state

    def test_moves_to_half_open_lazily_and_admits_one_probe(self) -> None:
        """The first check after openUntil half-opens the breaker and admits a probe."""
        state = tripped()
        decision, state = breaker.admit(state, now=at(60), probe_id="p1", config=NO_JITTER)
        assert (decision.admitted, decision.probe) == (True, True)
        assert decision.transition is not None
        assert decision.transition.reason is TransitionReason.PROBING
        assert state.state is State.HALF_OPEN
        assert [p.id for p in state.probes] == ["p1"]
        assert state.probes[0].expires_at == at(60 + NO_JITTER.probe_timeout_seconds)

    def test_outcomes_of_earlier_downloads_are_ignored(self) -> None:
        """Downloads that were running when it tripped do not move an open breaker."""
        state = tripped()
        after, transitions = feed(state, "SSSSTTTT", now=at(10))
        assert (after, transitions) == (state, [])

    @pytest.mark.parametrize(
        ("trip", "seconds"),
        [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1800), (7, 1800), (40, 1800)],
    )
    def test_open_duration_table(self, trip: int, seconds: float) -> None:
        """60 s doubles per consecutive trip and stops at 30 minutes."""
        assert breaker_config.base_open_duration_seconds(trip, BreakerConfig()) == seconds

    def test_probe_failures_lengthen_the_open_period(self) -> None:
        """Each failed probe re-opens for twice as long, up to the cap."""
        state = tripped()
        durations = []
        for index in range(8):
            assert state.open_until is not None
            assert state.opened_at is not None
            durations.append((state.open_until - state.opened_at).total_seconds())
            now = state.open_until
            probe = f"probe-{index}"
            decision, state = breaker.admit(state, now=now, probe_id=probe, config=NO_JITTER)
            assert decision.probe
            state, transition = breaker.record(
                state,
                Outcome.TRANSIENT,
                now=now + timedelta(seconds=5),
                probe_id=probe,
                rng=random.Random(0),
                config=NO_JITTER,
            )
            assert transition is not None
            assert transition.reason is TransitionReason.PROBE_FAILED
        assert durations == [60, 120, 240, 480, 960, 1800, 1800, 1800]
        assert state.trip_count == 9

    def test_jitter_shortens_within_the_fraction(self) -> None:
        """With 10% jitter the first open period lasts between 54 and 60 seconds."""
        lengths = set()
        for seed in range(30):
            state, _ = breaker.record(
                SiteState(consecutive_failures=4),
                Outcome.THROTTLED,
                now=T0,
                probe_id=None,
                rng=random.Random(seed),
                config=BreakerConfig(open_jitter=0.1),
            )
            assert state.open_until is not None
            lengths.add((state.open_until - T0).total_seconds())
        assert min(lengths) >= 53  # whole seconds: 54 minus the truncation
        assert max(lengths) <= 60
        assert len(lengths) > 1


class TestHalfOpen:
    def test_only_the_configured_number_of_probes(self) -> None:
        """With one probe slot, a second download waits until the probe's timeout."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="p1", config=NO_JITTER)
        decision, state = breaker.admit(state, now=now, probe_id="p2", config=NO_JITTER)
        expires = now + timedelta(seconds=NO_JITTER.probe_timeout_seconds)
        assert (decision.admitted, decision.reason, decision.until) == (
            False,
            DecisionReason.PROBES_BUSY,
            expires,
        )
        assert "p1" in decision.message

    def test_repeated_check_of_a_probe_is_idempotent(self) -> None:
        """Asking again for the same probe admits it without taking a second slot."""
        config = BreakerConfig(half_open_probes=2, open_jitter=0)
        state, now = half_open(config)
        _, state = breaker.admit(state, now=now, probe_id="p1", config=config)
        decision, again = breaker.admit(state, now=now, probe_id="p1", config=config)
        assert (decision.admitted, decision.probe, again) == (True, True, state)

    def test_probe_timeout_frees_the_slot(self) -> None:
        """A probe that never reports stops holding its slot after the timeout."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="lost", config=NO_JITTER)
        later = now + timedelta(seconds=NO_JITTER.probe_timeout_seconds)
        decision, state = breaker.admit(state, now=later, probe_id="next", config=NO_JITTER)
        assert (decision.admitted, decision.probe) == (True, True)
        assert [p.id for p in state.probes] == ["next"]

    def test_late_report_of_an_expired_probe_is_ignored(self) -> None:
        """A probe reporting after its timeout no longer decides anything."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="slow", config=NO_JITTER)
        later = now + timedelta(seconds=NO_JITTER.probe_timeout_seconds + 1)
        after, transition = breaker.record(
            state, "Success", now=later, probe_id="slow", rng=random.Random(0), config=NO_JITTER
        )
        assert transition is None
        assert (after.state, after.probes) == (State.HALF_OPEN, ())

    def test_probe_success_closes_and_resets_trips(self) -> None:
        """One successful probe closes the breaker and clears the trip count."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="p1", config=NO_JITTER)
        state, transition = breaker.record(
            state, Outcome.SUCCESS, now=now, probe_id="p1", rng=random.Random(0), config=NO_JITTER
        )
        assert transition is not None
        assert (transition.from_state, transition.to_state, transition.reason) == (
            State.HALF_OPEN,
            State.CLOSED,
            TransitionReason.RECOVERED,
        )
        assert (state.state, state.trip_count, state.probes, state.window) == (
            State.CLOSED,
            0,
            (),
            "",
        )

    def test_close_after_several_successes(self) -> None:
        """With close_after_successes=2 the first success keeps probing."""
        config = BreakerConfig(close_after_successes=2, open_jitter=0)
        state, now = half_open(config)
        for index, expected in enumerate([State.HALF_OPEN, State.CLOSED]):
            probe = f"p{index}"
            decision, state = breaker.admit(state, now=now, probe_id=probe, config=config)
            assert decision.probe
            state, _ = breaker.record(
                state, Outcome.SUCCESS, now=now, probe_id=probe, rng=random.Random(0), config=config
            )
            assert state.state is expected

    def test_permanent_probe_frees_its_slot_only(self) -> None:
        """A probe that hits a removed video frees its slot and decides nothing."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="gone", config=NO_JITTER)
        after, transition = breaker.record(
            state,
            Outcome.PERMANENT,
            now=now,
            probe_id="gone",
            rng=random.Random(0),
            config=NO_JITTER,
        )
        assert transition is None
        assert after == state.model_copy(update={"probes": ()})

    def test_non_probe_outcomes_are_ignored(self) -> None:
        """Only admitted probes decide a half-open breaker."""
        state, now = half_open()
        _, state = breaker.admit(state, now=now, probe_id="p1", config=NO_JITTER)
        after, transition = breaker.record(
            state,
            Outcome.SUCCESS,
            now=now,
            probe_id="other",
            rng=random.Random(0),
            config=NO_JITTER,
        )
        assert (after, transition) == (state, None)

    def test_probe_still_out_keeps_its_slot_after_reopening(self) -> None:
        """Two probes out, one fails: the other still holds a slot in the next half-open."""
        config = BreakerConfig(half_open_probes=2, open_jitter=0)
        state, now = half_open(config)
        _, state = breaker.admit(state, now=now, probe_id="a", config=config)
        _, state = breaker.admit(state, now=now, probe_id="b", config=config)
        state, _ = breaker.record(
            state, Outcome.THROTTLED, now=now, probe_id="a", rng=random.Random(0), config=config
        )
        assert state.state is State.OPEN
        assert state.open_until is not None
        reopen = state.open_until
        first, state = breaker.admit(state, now=reopen, probe_id="c", config=config)
        second, state = breaker.admit(state, now=reopen, probe_id="d", config=config)
        assert (first.admitted, second.admitted) == (True, False)
        assert {p.id for p in state.probes} == {"b", "c"}


class TestAdmin:
    def test_reset_closes_and_clears(self) -> None:
        """A reset closes an open breaker at once and clears every counter."""
        state = tripped()
        closed, transition = breaker.reset(state, now=at(5), reason="site is back")
        assert closed.state is State.CLOSED
        assert (closed.trip_count, closed.consecutive_failures, closed.last_failure) == (0, 0, "")
        assert (transition.reason, transition.from_state) == (TransitionReason.RESET, State.OPEN)
        assert closed.last_reason == "reset by an administrator: site is back"

    def test_force_open_until_reset(self) -> None:
        """Forced open without an end rejects every download until a reset."""
        state, transition = breaker.force_open(SiteState(), now=T0, until=None, reason="abuse")
        assert (state.state, state.forced, transition.reason) == (
            State.OPEN,
            True,
            TransitionReason.FORCED_OPEN,
        )
        decision, _ = breaker.admit(state, now=at(10**8), probe_id="a", config=NO_JITTER)
        assert (decision.admitted, decision.until) == (False, None)
        assert "until an administrator resets it" in decision.message

    def test_force_open_until_a_time_then_probes(self) -> None:
        """Forced open until a time half-opens after it like any open period."""
        state, _ = breaker.force_open(SiteState(), now=T0, until=at(3600))
        decision, _ = breaker.admit(state, now=at(3599), probe_id="a", config=NO_JITTER)
        assert not decision.admitted
        decision, state = breaker.admit(state, now=at(3600), probe_id="a", config=NO_JITTER)
        assert (decision.probe, state.state, state.forced) == (True, State.HALF_OPEN, False)

    def test_force_open_in_the_past_is_refused(self) -> None:
        """An end time that is not in the future is a mistake, said so."""
        with pytest.raises(ValueError, match="must be after now"):
            breaker.force_open(SiteState(), now=at(10), until=at(10))


class TestInputs:
    def test_naive_now_is_refused(self) -> None:
        """Times without a zone are refused rather than guessed."""
        with pytest.raises(ValueError, match="timezone-aware"):
            breaker.admit(SiteState(), now=datetime(2026, 1, 1), probe_id="a", config=NO_JITTER)

    def test_unknown_outcome_lists_the_choices(self) -> None:
        """An unknown outcome kind names the accepted ones."""
        with pytest.raises(ValueError, match="Success, Throttled, Transient, Permanent"):
            breaker.record(
                SiteState(), "Boom", now=T0, probe_id=None, rng=random.Random(0), config=NO_JITTER
            )

    def test_probe_id_is_required(self) -> None:
        """Admission needs the attempt's id to track probes."""
        with pytest.raises(ValueError, match="probe_id"):
            breaker.admit(SiteState(), now=T0, probe_id="", config=NO_JITTER)


# Property tests over random sequences of admissions, outcomes, time passing and admin commands.

PROBE_IDS = "abcdef"
# Weighted so that sequences often trip, wait out the open period and probe.
OP_KINDS = ["admit"] * 4 + ["record"] * 5 + ["wait"] * 2 + ["reset", "force"]


@st.composite
def operation(draw: st.DrawFn) -> tuple[object, ...]:
    kind = draw(st.sampled_from(OP_KINDS))
    if kind == "admit":
        return (kind, draw(st.sampled_from(PROBE_IDS)))
    if kind == "record":
        reporter = draw(st.one_of(st.none(), st.sampled_from(PROBE_IDS)))
        weighted = [Outcome.THROTTLED, Outcome.TRANSIENT, Outcome.SUCCESS, Outcome.PERMANENT]
        return (kind, reporter, draw(st.sampled_from(weighted * 2 + [Outcome.THROTTLED] * 4)))
    if kind == "wait":
        return (kind, draw(st.integers(min_value=0, max_value=400)))
    if kind == "force":
        return (kind, draw(st.one_of(st.none(), st.integers(1, 600))))
    return (kind,)


ops = st.lists(operation(), min_size=5, max_size=80)
# Without resets and forced opens: sequences that stay in the OPEN/HALF_OPEN cycle.
probing_ops = st.lists(
    operation().filter(lambda op: op[0] not in {"reset", "force"}), min_size=5, max_size=80
)
configs = st.builds(
    BreakerConfig,
    failure_threshold=st.integers(1, 6),
    window_size=st.just(8),
    min_calls=st.integers(1, 8),
    failure_ratio=st.sampled_from([0.25, 0.5, 1.0]),
    open_base_seconds=st.integers(5, 120),
    open_max_seconds=st.just(600),
    open_jitter=st.sampled_from([0.0, 0.1, 0.5]),
    half_open_probes=st.integers(1, 3),
    probe_timeout_seconds=st.integers(10, 300),
    close_after_successes=st.integers(1, 3),
)


@dataclasses.dataclass
class Run:
    """A replay of an operation sequence, checking invariants after every step."""

    config: BreakerConfig
    state: SiteState = dataclasses.field(default_factory=SiteState)
    now: datetime = T0
    # Probes admitted and neither reported nor timed out, by id: the test's own model.
    outstanding: dict[str, datetime] = dataclasses.field(default_factory=dict)
    rng: random.Random = dataclasses.field(default_factory=lambda: random.Random(0))

    def expire(self) -> None:
        timeout = timedelta(seconds=self.config.probe_timeout_seconds)
        self.outstanding = {k: v for k, v in self.outstanding.items() if v + timeout > self.now}

    def step(self, op: tuple[object, ...]) -> None:
        self.expire()
        before = self.state
        if op[0] == "admit":
            probe_id = str(op[1])
            decision, self.state = breaker.admit(
                self.state, now=self.now, probe_id=probe_id, config=self.config
            )
            if decision.admitted and decision.probe:
                self.outstanding.setdefault(probe_id, self.now)
            if self.state.state is not State.CLOSED:
                assert len(self.outstanding) <= self.config.half_open_probes
        elif op[0] == "record":
            reporter = None if op[1] is None else str(op[1])
            outcome = Outcome(str(op[2]))
            self.state, transition = breaker.record(
                self.state,
                outcome,
                now=self.now,
                probe_id=reporter,
                rng=self.rng,
                config=self.config,
            )
            if outcome is Outcome.PERMANENT:
                assert transition is None
                assert_only_probe_released(before, self.state, reporter)
            if transition is not None and transition.to_state is State.OPEN:
                self.check_open_duration(before)
            if reporter is not None:
                self.outstanding.pop(reporter, None)
        elif op[0] == "wait":
            self.now += timedelta(seconds=int(str(op[1])))
        elif op[0] == "reset":
            self.state, _ = breaker.reset(self.state, now=self.now)
        elif op[0] == "force":
            until = None if op[1] is None else self.now + timedelta(seconds=int(str(op[1])))
            self.state, _ = breaker.force_open(self.state, now=self.now, until=until)
        if self.state.state is State.CLOSED:
            self.outstanding.clear()
        self.expire()
        live = {p.id for p in self.state.probes if p.expires_at > self.now}
        assert live == set(self.outstanding)
        assert len(self.state.probes) <= self.config.half_open_probes
        assert SiteState.from_configmap_value(self.state.to_configmap_value()) == self.state

    def check_open_duration(self, before: SiteState) -> None:
        assert self.state.trip_count == before.trip_count + 1
        assert self.state.open_until is not None
        assert self.state.opened_at is not None
        length = (self.state.open_until - self.state.opened_at).total_seconds()
        base = breaker_config.base_open_duration_seconds(self.state.trip_count, self.config)
        assert base <= self.config.open_max_seconds
        assert base * (1 - self.config.open_jitter) - 1 <= length <= base


def assert_only_probe_released(before: SiteState, after: SiteState, probe_id: str | None) -> None:
    assert after.model_dump(exclude={"probes"}) == before.model_dump(exclude={"probes"})
    removed = {p.id for p in before.probes} - {p.id for p in after.probes}
    assert removed <= {probe_id}
    assert set(after.probes) <= set(before.probes)


class TestProperties:
    @settings(max_examples=300)
    @given(config=configs, sequence=ops)
    def test_invariants_hold_for_any_sequence(
        self, config: BreakerConfig, sequence: list[tuple[object, ...]]
    ) -> None:
        """No sequence admits more concurrent probes than configured, and Permanent changes nothing.

        After every step the state also round-trips through its ConfigMap value, and every
        trip opens for the backoff duration of its trip number (within jitter), never above
        the cap.
        """
        run = Run(config)
        for op in sequence:
            run.step(op)

    @settings(max_examples=300)
    @given(config=configs, sequence=probing_ops)
    def test_half_open_never_exceeds_probes(
        self, config: BreakerConfig, sequence: list[tuple[object, ...]]
    ) -> None:
        """Starting from a trip, probing never has more probes out than configured."""
        run = Run(config)
        for _ in range(config.failure_threshold):
            run.step(("record", None, Outcome.THROTTLED))
        assert run.state.open_until is not None
        run.now = run.state.open_until
        for op in sequence:
            run.step(op)

    @given(config=configs, sequence=ops, probe=st.sampled_from("abcdef"))
    def test_permanent_never_changes_a_reachable_state(
        self, config: BreakerConfig, sequence: list[tuple[object, ...]], probe: str
    ) -> None:
        """From any reachable state, Permanent outcomes never change state, counters or times."""
        run = Run(config)
        for op in sequence:
            run.step(op)
        after, transition = breaker.record(
            run.state,
            Outcome.PERMANENT,
            now=run.now,
            probe_id=probe,
            rng=random.Random(0),
            config=config,
        )
        assert transition is None
        assert_only_probe_released(run.state, after, probe)

    @given(trip=st.integers(1, 100), config=configs)
    def test_open_duration_grows_and_is_capped(self, trip: int, config: BreakerConfig) -> None:
        """The open duration never shrinks from one trip to the next and never passes the cap."""
        now = breaker_config.base_open_duration_seconds(trip, config)
        following = breaker_config.base_open_duration_seconds(trip + 1, config)
        assert config.open_base_seconds <= now <= following <= config.open_max_seconds
