"""Tests for videodl.operator.metrics: what each status change counts."""

from __future__ import annotations

import datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from videodl.api.spec import Priority
from videodl.api.status import VideoDownloadStatus
from videodl.operator.metrics import Metrics


def status(**fields: Any) -> VideoDownloadStatus:
    return VideoDownloadStatus.model_validate(fields)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    raise AssertionError(f"{name} {labels} not exposed")


class TestMetrics:
    def test_series_exist_from_the_start(self) -> None:
        """Every result, class and priority series is exposed at zero before any event."""
        metrics = Metrics()
        assert (
            sample(metrics, "videodl_downloads_total", result="failed", failure_class="Permanent")
            == 0
        )
        assert sample(metrics, "videodl_queue_depth", priority="Lowest") == 0
        assert sample(metrics, "videodl_retries_total", failure_class="Throttled") == 0

    def test_success(self) -> None:
        """Succeeding counts once, with the duration and the bytes."""
        metrics = Metrics()
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        queued = status(phase="Queued")
        running = status(phase="Running", attempts=1, startTime=start.isoformat())
        done = status(
            phase="Succeeded",
            attempts=1,
            startTime=start.isoformat(),
            completionTime=(start + datetime.timedelta(seconds=42)).isoformat(),
            result={"files": [{"path": "a", "sizeBytes": 1000, "sha256": "0" * 64}]},
        )
        metrics.record_status(queued, running)
        metrics.record_status(running, done)
        metrics.record_status(done, done)
        assert sample(metrics, "videodl_downloads_total", result="succeeded") == 1
        assert sample(metrics, "videodl_download_duration_seconds_sum", result="succeeded") == 42
        assert sample(metrics, "videodl_download_bytes_sum") == 1000

    def test_retry_and_failure_by_class(self) -> None:
        """BackingOff counts a retry and Failed a failed download, each by failure class."""
        metrics = Metrics()
        running = status(phase="Running", attempts=1)
        failure = {"class": "Throttled", "reason": "HTTPError429"}
        metrics.record_status(running, status(phase="BackingOff", attempts=1, lastFailure=failure))
        metrics.record_status(running, status(phase="Failed", attempts=1, lastFailure=failure))
        assert sample(metrics, "videodl_retries_total", failure_class="Throttled") == 1
        assert (
            sample(metrics, "videodl_downloads_total", result="failed", failure_class="Throttled")
            == 1
        )

    def test_queue_gauges(self) -> None:
        """Queue depth per priority and running workers are set as given."""
        metrics = Metrics()
        metrics.set_queue({Priority.HIGH: 3}, running=2)
        assert sample(metrics, "videodl_queue_depth", priority="High") == 3
        assert sample(metrics, "videodl_queue_depth", priority="Normal") == 0
        assert sample(metrics, "videodl_running_workers") == 2

    def test_replacement_counted(self) -> None:
        """A new run for the same attempt counts as a replacement, not an attempt."""
        metrics = Metrics()
        metrics.record_status(
            status(phase="Running", attempts=1, workerPod="a-r1"),
            status(phase="Running", attempts=1, workerPod="a-r2"),
        )
        assert sample(metrics, "videodl_worker_replacements_total") == 1
        assert sample(metrics, "videodl_attempts_total") == 0
