"""Tests for videodl.cli.queueview: the queue as the operator's admission pass computes it."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.cli.objects import at, download

from videodl.cli import queueview
from videodl.core import ordering
from videodl.core.breaker_state import SiteState, State
from videodl.reconcile.download.queueing import candidate_of
from videodl.reconcile.download.record import record_of

PRIORITIES = ("Lowest", "Low", "Normal", "High", "Critical")


def queue(objects: list[dict], **kwargs: object) -> list[queueview.QueueLine]:
    records = [record_of(o) for o in objects]
    options: dict = {
        "limits": ordering.Limits(cluster=1),
        "aging_seconds": 300.0,
        "now": at(100),
        "sites": {r.uid: "media.example" for r in records},
        "breakers": {},
    }
    options.update(kwargs)
    return queueview.lines(records, **options)


class TestOrder:
    def test_priority_then_age_then_limits(self) -> None:
        """Higher priority first, older first on a tie; the slot is taken, so all wait."""
        lines = queue(
            [
                download("running", phase="Running", status={"attempts": 1}),
                download("normal-old", created=0),
                download("high", priority="High", created=10),
                download("normal-new", created=20),
            ]
        )
        assert [(line.position, line.name, line.waits_for) for line in lines] == [
            (1, "high", "ClusterLimit"),
            (2, "normal-old", "ClusterLimit"),
            (3, "normal-new", "ClusterLimit"),
        ]

    def test_aging_raises_a_long_wait(self) -> None:
        """A Lowest download waiting four aging periods competes as Critical, on age."""
        lines = queue(
            [
                download("aged", priority="Lowest", created=0),
                download("crit", priority="Critical", created=90),
            ],
            aging_seconds=20.0,
            limits=ordering.Limits(cluster=0),
        )
        assert [line.name for line in lines] == ["aged", "crit"]
        assert lines[0].effective_priority.value == "Critical"
        assert lines[0].priority.value == "Lowest"

    def test_free_slot_starts_next(self) -> None:
        """With a free slot the first download starts on the next pass; the rest wait."""
        lines = queue([download("a", created=0), download("b", created=1)])
        assert [(line.name, line.waits_for) for line in lines] == [
            ("a", "Slot"),
            ("b", "ClusterLimit"),
        ]

    def test_namespace_limit_passes_over(self) -> None:
        """A download whose namespace is full keeps its place while another namespace starts."""
        lines = queue(
            [
                download("busy", namespace="a", phase="Running", status={"attempts": 1}),
                download("first", namespace="a", created=0),
                download("second", namespace="b", created=5),
            ],
            limits=ordering.Limits(cluster=5, per_namespace=1),
        )
        assert [(line.name, line.waits_for) for line in lines] == [
            ("second", "Slot"),
            ("first", "NamespaceLimit"),
        ]


class TestBreakerAndLater:
    def test_open_site_gives_its_slot_away(self) -> None:
        """A download of an open site is held and the next one in line takes the slot."""
        objects = [download("held", priority="High", created=0), download("other", created=1)]
        records = [record_of(o) for o in objects]
        sites = {records[0].uid: "bad.example", records[1].uid: "good.example"}
        open_state = SiteState(state=State.OPEN, open_until=at(1000), opened_at=at(0))
        lines = queue(objects, sites=sites, breakers={"bad.example": open_state})
        assert [(line.name, line.waits_for) for line in lines] == [
            ("other", "Slot"),
            ("held", "Breaker"),
        ]
        assert "bad.example" in lines[1].detail

    def test_backoff_suspended_follow_without_position(self) -> None:
        """Backing-off and suspended downloads follow, soonest first, with no position."""
        lines = queue(
            [
                download("waiting", created=0),
                download(
                    "later",
                    phase="BackingOff",
                    status={"attempts": 1, "nextAttemptTime": "2026-01-01T00:10:00Z"},
                ),
                download("paused", phase="Suspended", spec={"suspend": True}),
                download("done", phase="Succeeded", status={"attempts": 1}),
            ]
        )
        assert [(line.name, line.position, line.waits_for) for line in lines] == [
            ("waiting", 1, "Slot"),
            ("paused", None, "Suspended"),
            ("later", None, "Backoff"),
        ]
        assert lines[2].detail.startswith("until 2026-01-01T00:10:00Z")


@st.composite
def populations(draw: st.DrawFn) -> list[dict]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [
        download(
            f"d{i}",
            namespace=draw(st.sampled_from(("a", "b"))),
            priority=draw(st.sampled_from(PRIORITIES)),
            created=draw(st.integers(min_value=0, max_value=90)),
        )
        for i in range(count)
    ]


class TestSameAsTheOperator:
    @settings(max_examples=60, deadline=None)
    @given(
        populations(), st.integers(min_value=0, max_value=4), st.floats(min_value=1, max_value=100)
    )
    def test_order_is_the_ordering_modules(
        self, objects: list[dict], slots: int, aging: float
    ) -> None:
        """Without breakers, the queue's positions are ordering.plan's admit then waiting order."""
        records = [record_of(o) for o in objects]
        limits = ordering.Limits(cluster=slots)
        lines = queue(
            objects, limits=limits, aging_seconds=aging, now=at(100) + timedelta(seconds=1)
        )
        plan = ordering.plan(
            [candidate_of(r) for r in records],
            running={},
            limits=limits,
            aging_seconds=aging,
            now=at(100) + timedelta(seconds=1),
        )
        expected = [e.candidate.name for e in (*plan.admit, *plan.waiting)]
        assert [line.name for line in lines] == expected
        assert [line.position for line in lines] == list(range(1, len(expected) + 1))
