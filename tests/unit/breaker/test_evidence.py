"""Which finished attempts count against a site, and the probe id of an attempt."""

from __future__ import annotations

import pytest

from videodl.api.status import Failure, FailureClass
from videodl.breaker import evidence
from videodl.core import breaker
from videodl.reconcile.download import outcome as attempt


def _failed(failure_class: FailureClass, reason: str, message: str = "boom") -> attempt.Failed:
    return attempt.Failed(Failure(failure_class=failure_class, reason=reason, message=message))


class TestEvidenceOf:
    @pytest.mark.parametrize(
        ("result", "expected"),
        [
            (attempt.Succeeded(result=None, skipped=False, finished_at=None), "Success"),
            (attempt.Succeeded(result=None, skipped=True, finished_at=None), "Success"),
            (_failed(FailureClass.THROTTLED, "HTTPError429"), "Throttled"),
            (_failed(FailureClass.THROTTLED, "BotCheck"), "Throttled"),
            (_failed(FailureClass.TRANSIENT, "HTTPError503"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "HTTPError500"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "HTTPError408"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "ConnectionError"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "Timeout"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "TLSError"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "IncompleteRead"), "Transient"),
            (_failed(FailureClass.TRANSIENT, "StorageFull"), "Permanent"),
            (_failed(FailureClass.TRANSIENT, "Terminated"), "Permanent"),
            (_failed(FailureClass.TRANSIENT, "DownloadError"), "Permanent"),
            (_failed(FailureClass.TRANSIENT, "HTTPError5000"), "Permanent"),
            (_failed(FailureClass.PERMANENT, "HTTPError404"), "Permanent"),
            (_failed(FailureClass.PERMANENT, "VideoUnavailable"), "Permanent"),
        ],
    )
    def test_classification(self, result: attempt.Outcome, expected: str) -> None:
        """Only throttling and site-wide transient failures count; the rest is neutral."""
        found = evidence.evidence_of(result)
        assert found is not None
        assert found.outcome is breaker.Outcome(expected)

    def test_interruptions_are_not_recorded(self) -> None:
        """An evicted or preempted attempt says nothing and keeps a probe's slot."""
        assert evidence.evidence_of(attempt.Interrupted("Evicted", "node pressure")) is None

    def test_detail_is_short_and_on_one_line(self) -> None:
        """The detail names the reason and is bounded, for the ConfigMap's lastFailure."""
        message = "HTTP Error 429:\n  Too Many Requests " + "x" * 500
        found = evidence.evidence_of(_failed(FailureClass.THROTTLED, "HTTPError429", message))
        assert found is not None
        assert found.detail.startswith("HTTPError429: HTTP Error 429: Too Many Requests")
        assert "\n" not in found.detail
        assert len(found.detail) <= 160


class TestProbeId:
    def test_names_the_attempt_readably(self) -> None:
        """The id shows namespace, name, attempt and the start of the uid."""
        pid = evidence.probe_id(namespace="videos", name="talk", uid="0123456789abcdef", attempt=3)
        assert pid == "videos/talk#3@01234567"

    def test_differs_per_attempt_and_per_object(self) -> None:
        """Another attempt, or a re-created object of the same name, is another probe."""
        base = {"namespace": "v", "name": "a", "uid": "u1aaaaaaaa", "attempt": 1}
        ids = {
            evidence.probe_id(**base),  # type: ignore[arg-type]
            evidence.probe_id(**{**base, "attempt": 2}),  # type: ignore[arg-type]
            evidence.probe_id(**{**base, "uid": "u2bbbbbbbb"}),  # type: ignore[arg-type]
        }
        assert len(ids) == 3
