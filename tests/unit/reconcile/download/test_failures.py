"""Tests for videodl.reconcile.download.failures: what a failure leads to."""

from __future__ import annotations

from tests.unit.reconcile.download.builders import T0, conditions

from videodl.api.status import ConditionStatus, Phase, VideoDownloadStatus
from videodl.reconcile.download import failures


class TestInvalid:
    def test_unreadable_object_fails(self) -> None:
        """An object the models reject is Failed and Stalled with the problem named."""
        new = failures.decide_invalid(
            VideoDownloadStatus(), generation=2, problem="spec.url: bad", now=T0
        )
        assert new is not None
        assert new.phase == Phase.FAILED
        assert conditions(new)["Stalled"] == ConditionStatus.TRUE
        assert failures.decide_invalid(new, generation=2, problem="spec.url: bad", now=T0) is None
