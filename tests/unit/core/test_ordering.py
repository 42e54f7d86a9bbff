"""Tests for videodl.core.ordering."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.core import ordering as admission
from videodl.core.ordering import Candidate, Limits, WaitReason

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMESPACES = ("alpha", "beta", "gamma")


def make(
    name: str,
    *,
    rank: int = 2,
    created: float = 0,
    queued: float | None = None,
    namespace: str = "alpha",
) -> Candidate:
    return Candidate(
        namespace=namespace,
        name=name,
        uid=f"uid-{namespace}-{name}",
        rank=rank,
        created=T0 + timedelta(seconds=created),
        queued_since=T0 + timedelta(seconds=created if queued is None else queued),
    )


def names(entries: tuple[admission.QueueEntry, ...]) -> list[str]:
    return [e.candidate.name for e in entries]


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    count = draw(st.integers(min_value=0, max_value=25))
    result = []
    for index in range(count):
        created = draw(st.integers(min_value=0, max_value=100))
        result.append(
            make(
                f"d{index}",
                rank=draw(st.integers(min_value=0, max_value=admission.TOP_RANK)),
                created=created,
                queued=created + draw(st.integers(min_value=0, max_value=100)),
                namespace=draw(st.sampled_from(NAMESPACES)),
            )
        )
    return result


@dataclasses.dataclass(frozen=True)
class Scenario:
    queue: list[Candidate]
    running: dict[str, int]
    cluster: int | None
    per_namespace: int | None
    aging: float
    now: datetime

    def plan(self) -> admission.Plan:
        return admission.plan(
            self.queue,
            running=self.running,
            limits=Limits(cluster=self.cluster, per_namespace=self.per_namespace),
            aging_seconds=self.aging,
            now=self.now,
        )


optional_limits = st.one_of(st.none(), st.integers(min_value=0, max_value=8))
running_counts = st.dictionaries(
    st.sampled_from(NAMESPACES), st.integers(min_value=0, max_value=5), max_size=3
)
agings = st.sampled_from([0.0, 10.0, 60.0])
nows = st.integers(min_value=0, max_value=500).map(lambda s: T0 + timedelta(seconds=s))
scenarios = st.builds(
    Scenario,
    queue=candidate_lists(),
    running=running_counts,
    cluster=optional_limits,
    per_namespace=optional_limits,
    aging=agings,
    now=nows,
)


class TestOrdering:
    def test_critical_jumps_the_queue_then_creation_order(self) -> None:
        """With room for one: twenty Normal then one Critical; the Critical starts first."""
        queue = [make(f"normal-{i:02}", created=i) for i in range(20)]
        queue.append(make("critical", rank=4, created=30))
        now = T0 + timedelta(seconds=60)
        decision = admission.plan(
            queue, running={}, limits=Limits(cluster=1), aging_seconds=0, now=now
        )
        assert names(decision.admit) == ["critical"]
        assert names(decision.waiting) == [f"normal-{i:02}" for i in range(20)]
        assert [e.position for e in decision.waiting] == list(range(1, 21))

    def test_ties_break_by_name_for_determinism(self) -> None:
        """Equal rank and creation time fall back to namespace and name."""
        queue = [make("b"), make("a"), make("c", namespace="aa")]
        decision = admission.plan(queue, running={}, limits=Limits(), aging_seconds=0, now=T0)
        assert [(e.candidate.namespace, e.candidate.name) for e in decision.admit] == [
            ("aa", "c"),
            ("alpha", "a"),
            ("alpha", "b"),
        ]

    @given(queue=candidate_lists(), aging=agings, now=nows, seed=st.integers())
    def test_input_order_does_not_matter(
        self, queue: list[Candidate], aging: float, now: datetime, seed: int
    ) -> None:
        """Every operator process computes the same plan whatever order it listed objects in."""
        shuffled = list(queue)
        random.Random(seed).shuffle(shuffled)
        limits = Limits(cluster=3, per_namespace=2)
        first = admission.plan(queue, running={}, limits=limits, aging_seconds=aging, now=now)
        second = admission.plan(shuffled, running={}, limits=limits, aging_seconds=aging, now=now)
        assert first == second

    def test_priority_change_reorders(self) -> None:
        """Raising the rank of a queued download moves it ahead of older ones."""
        queue = [make("old", created=0), make("bumped", created=5)]
        before = admission.queue_order(queue, now=T0, aging_seconds=0)
        assert [c.name for c, _ in before] == ["old", "bumped"]
        queue[1] = dataclasses.replace(queue[1], rank=3)
        after = admission.queue_order(queue, now=T0, aging_seconds=0)
        assert [c.name for c, _ in after] == ["bumped", "old"]


class TestLimits:
    def test_namespace_limit_passes_over_to_other_namespaces(self) -> None:
        """A full namespace does not block a lower rank in another namespace."""
        queue = [
            make("hot-1", rank=4, namespace="alpha"),
            make("hot-2", rank=4, namespace="alpha", created=1),
            make("cold", rank=0, namespace="beta"),
        ]
        decision = admission.plan(
            queue,
            running={"alpha": 1},
            limits=Limits(cluster=10, per_namespace=2),
            aging_seconds=0,
            now=T0,
        )
        assert names(decision.admit) == ["hot-1", "cold"]
        assert [(e.candidate.name, e.waiting_for) for e in decision.waiting] == [
            ("hot-2", WaitReason.NAMESPACE_LIMIT)
        ]

    def test_running_above_a_lowered_limit_admits_nothing(self) -> None:
        """Workers already above the limit leave no room rather than a negative one."""
        decision = admission.plan(
            [make("a")], running={"alpha": 5}, limits=Limits(cluster=2), aging_seconds=0, now=T0
        )
        assert decision.admit == ()
        assert decision.waiting[0].waiting_for is WaitReason.CLUSTER_LIMIT

    def test_zero_cluster_limit_pauses_admission(self) -> None:
        """A cluster limit of 0 admits nothing; no limit admits everything."""
        queue = [make("a"), make("b", created=1)]
        paused = admission.plan(
            queue, running={}, limits=Limits(cluster=0), aging_seconds=0, now=T0
        )
        unlimited = admission.plan(queue, running={}, limits=Limits(), aging_seconds=0, now=T0)
        assert (len(paused.admit), len(unlimited.admit)) == (0, 2)

    @given(scenario=scenarios)
    def test_never_exceeds_limits(self, scenario: Scenario) -> None:
        """Admissions never take the cluster or a namespace past its limit."""
        decision = scenario.plan()
        running, cluster, per_namespace = scenario.running, scenario.cluster, scenario.per_namespace
        admitted = Counter(e.candidate.namespace for e in decision.admit)
        if cluster is not None:
            assert len(decision.admit) <= max(0, cluster - sum(running.values()))
        if per_namespace is not None:
            for namespace, count in admitted.items():
                assert count <= max(0, per_namespace - running.get(namespace, 0))
        assert sorted([e.candidate.uid for e in decision.admit + decision.waiting]) == sorted(
            c.uid for c in scenario.queue
        )

    @given(scenario=scenarios)
    def test_work_conserving_and_priority_respecting(self, scenario: Scenario) -> None:
        """A waiting download's namespace or the cluster is full, and outranked waits are justified.

        A higher effective rank (or an equal rank created earlier) is never left waiting while
        a lower one is admitted, unless its own namespace is at its limit.
        """
        decision = scenario.plan()
        running, cluster, per_namespace = scenario.running, scenario.cluster, scenario.per_namespace
        after = Counter(running) + Counter(e.candidate.namespace for e in decision.admit)
        cluster_full = cluster is not None and sum(running.values()) + len(decision.admit) >= (
            cluster
        )

        def namespace_full(namespace: str) -> bool:
            return per_namespace is not None and after[namespace] >= per_namespace

        for waiter in decision.waiting:
            assert cluster_full or namespace_full(waiter.candidate.namespace)
            for admitted in decision.admit:
                ahead = (waiter.effective_rank, -waiter.candidate.created.timestamp()) > (
                    admitted.effective_rank,
                    -admitted.candidate.created.timestamp(),
                )
                if ahead:
                    assert namespace_full(waiter.candidate.namespace)

    @given(queue=candidate_lists(), cluster=st.integers(min_value=0, max_value=8))
    def test_without_aging_ties_resolve_by_creation_time(
        self, queue: list[Candidate], cluster: int
    ) -> None:
        """Without aging and namespace limits, within a rank every admitted one is older."""
        decision = admission.plan(
            queue, running={}, limits=Limits(cluster=cluster), aging_seconds=0, now=T0
        )
        for waiter in decision.waiting:
            for admitted in decision.admit:
                if admitted.candidate.rank == waiter.candidate.rank:
                    assert admitted.candidate.created <= waiter.candidate.created
                else:
                    assert admitted.candidate.rank > waiter.candidate.rank


class TestAging:
    @pytest.mark.parametrize(
        ("rank", "waited", "expected"),
        [(0, 0, 0), (0, 59, 0), (0, 60, 1), (0, 185, 3), (0, 10_000, 4), (3, 120, 4), (2, -50, 2)],
    )
    def test_effective_rank_table(self, rank: int, waited: int, expected: int) -> None:
        """Each full aging period waited raises the rank by one, up to Critical."""
        candidate = make("a", rank=rank)
        now = T0 + timedelta(seconds=waited)
        assert admission.effective_rank(candidate, now=now, aging_seconds=60) == expected

    def test_zero_disables_aging(self) -> None:
        """An aging period of 0 leaves ranks as declared however long they waited."""
        candidate = make("a", rank=0)
        later = T0 + timedelta(days=365)
        assert admission.effective_rank(candidate, now=later, aging_seconds=0) == 0

    @given(
        aging=st.integers(min_value=1, max_value=600),
        step=st.integers(min_value=1, max_value=120),
        lowest_rank=st.integers(min_value=0, max_value=3),
    )
    def test_aging_admits_a_starving_low_priority(
        self, aging: int, step: int, lowest_rank: int
    ) -> None:
        """With one slot and a new Critical arriving every step, the old low one still starts."""
        starving = make("starving", rank=lowest_rank, created=0)
        queue = [starving]
        # It reaches the top rank after (4 - rank) aging periods, then wins on creation time.
        bound = (admission.TOP_RANK - lowest_rank) * aging // step + 2
        for tick in range(1, bound + 1):
            now = T0 + timedelta(seconds=tick * step)
            queue.append(make(f"critical-{tick}", rank=4, created=tick * step))
            decision = admission.plan(
                queue, running={}, limits=Limits(cluster=1), aging_seconds=aging, now=now
            )
            (started,) = decision.admit
            if started.candidate is starving:
                return
            queue.remove(started.candidate)
        pytest.fail(f"the starving download was not admitted within {bound} steps")

    def test_without_aging_low_priority_starves(self) -> None:
        """The same stream without aging never admits the low one: aging is what fixes it."""
        starving = make("starving", rank=0, created=0)
        queue = [starving]
        for tick in range(1, 200):
            now = T0 + timedelta(seconds=tick * 60)
            queue.append(make(f"critical-{tick}", rank=4, created=tick * 60))
            decision = admission.plan(
                queue, running={}, limits=Limits(cluster=1), aging_seconds=0, now=now
            )
            assert decision.admit[0].candidate is not starving
            queue.remove(decision.admit[0].candidate)


class TestValidation:
    def test_rank_out_of_range(self) -> None:
        """A rank outside 0..4 is rejected with the object's name."""
        with pytest.raises(ValueError, match=r"rank of alpha/x must be between 0"):
            make("x", rank=5)

    def test_naive_datetime(self) -> None:
        """Naive timestamps are rejected: every time is compared in UTC."""
        with pytest.raises(ValueError, match="created of alpha/x must be timezone-aware"):
            Candidate("alpha", "x", "u", 1, datetime(2026, 1, 1), T0)

    def test_duplicate_uid(self) -> None:
        """The same object listed twice is a caller bug, reported by uid."""
        with pytest.raises(ValueError, match="listed twice"):
            admission.plan(
                [make("a"), make("a")], running={}, limits=Limits(), aging_seconds=0, now=T0
            )

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"cluster": -1}, "cluster limit"),
            ({"per_namespace": -2}, "per_namespace limit"),
        ],
    )
    def test_negative_limits(self, kwargs: dict[str, int], match: str) -> None:
        """Negative limits are rejected with the field's name."""
        with pytest.raises(ValueError, match=match):
            Limits(**kwargs)

    @pytest.mark.parametrize("aging", [-1.0, float("nan"), float("inf")])
    def test_bad_aging(self, aging: float) -> None:
        """The aging period must be a finite, non-negative number of seconds."""
        with pytest.raises(ValueError, match="aging_seconds"):
            admission.effective_rank(make("a"), now=T0, aging_seconds=aging)

    def test_negative_running_count(self) -> None:
        """A negative running count is a caller bug named by namespace."""
        with pytest.raises(ValueError, match="'alpha'"):
            admission.plan([], running={"alpha": -1}, limits=Limits(), aging_seconds=0, now=T0)
