"""Tests for the body of videodl.worker.kube's status patch."""

from __future__ import annotations

import datetime

from videodl.api.status import Progress, Stage
from videodl.worker.kube import progress_patch


class TestProgressPatch:
    def test_merge_patch_of_status_progress(self) -> None:
        """The body sets status.progress in camelCase and nulls unknown fields to clear them."""
        progress = Progress(
            percent=12.5,
            downloaded_bytes=125,
            total_bytes=1000,
            stage=Stage.DOWNLOADING,
            update_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        )
        assert progress_patch(progress) == {
            "status": {
                "progress": {
                    "percent": 12.5,
                    "downloadedBytes": 125,
                    "totalBytes": 1000,
                    "speedBytesPerSecond": None,
                    "etaSeconds": None,
                    "stage": "Downloading",
                    "updateTime": "2026-01-01T00:00:00Z",
                }
            }
        }
