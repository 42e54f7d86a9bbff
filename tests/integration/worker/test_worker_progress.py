"""Progress from a real download: monotonic, complete and throttled."""

from __future__ import annotations

import time

from tests.integration.worker.workerharness import RunWorker

from videodl.api.status import Stage
from videodl_devkit.mediaserver import MediaServer


class TestProgress:
    def test_real_download_is_throttled_monotonic_and_complete(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """A ~2.5 s download reports every 0.5 s, never backwards, ending at 100."""
        size = media_server.library.video.stat().st_size
        rate = size // 2 + 1  # the server sends the file in about two seconds
        started = time.monotonic()
        run = run_worker(
            {"url": media_server.url(f"/media/video.mp4?rate={rate}")},
            VIDEODL_PROGRESS_INTERVAL_SECONDS="0.5",
        )
        elapsed = time.monotonic() - started
        assert run.outcome.exit_code == 0, run.outcome
        updates = run.sink.updates
        percents = [u.percent for u in updates]
        assert percents == sorted(percents)
        assert percents[-1] == 100.0
        downloading = [u for u in updates if u.stage == Stage.DOWNLOADING]
        assert len(downloading) >= 3, "expected several updates while the bytes flowed"
        assert any(0 < (u.percent or 0) < 100 for u in downloading)
        assert all(u.total_bytes == size for u in downloading)
        # Stages in order, each reported: Extracting, Downloading, PostProcessing.
        stages = [u.stage for u in updates]
        assert stages[0] == Stage.EXTRACTING
        assert stages.index(Stage.DOWNLOADING) < stages.index(Stage.POST_PROCESSING)
        # Throttled: at most one per interval, plus the three stage changes and the end.
        assert len(updates) <= elapsed / 0.5 + 4

    def test_updates_do_not_follow_every_block(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """With the default 5 s interval a fast download sends only the stage changes."""
        run = run_worker(
            {"url": media_server.url("/media/video.mp4")}, VIDEODL_PROGRESS_INTERVAL_SECONDS="5"
        )
        assert run.outcome.exit_code == 0, run.outcome
        assert [(u.stage, u.percent) for u in run.sink.updates][-1] == (
            Stage.POST_PROCESSING,
            100.0,
        )
        assert len(run.sink.updates) <= 4
