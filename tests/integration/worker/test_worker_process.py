"""The worker as its Pod runs it: told the URL's extractor or not, and how it ends."""

from __future__ import annotations

import hashlib

from tests.integration.worker.workerharness import RunProcess
from yt_dlp.version import __version__

from videodl.workerapi import environment, termination
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer

TOLD = "extractor Generic, as the operator found it"


class TestExtractorHint:
    def test_a_hint_from_this_yt_dlp_is_used(
        self, media_server: MediaServer, run_worker_process: RunProcess
    ) -> None:
        """Told the extractor by the operator, the worker goes straight to it, and the
        download is the one it makes untold."""
        spec = {"url": media_server.url("/page/video.html"), "force": True}
        untold = run_worker_process(spec)
        told = run_worker_process(spec, **{environment.EXTRACTOR: f"Generic@{__version__}"})
        assert told.returncode == ExitCode.SUCCEEDED, told.stderr[-3000:]
        assert TOLD in told.stderr
        assert TOLD not in untold.stderr
        results = [run.message for run in (untold, told)]
        for result in results:
            assert isinstance(result, termination.SuccessMessage), result
        first, second = (r for r in results if isinstance(r, termination.SuccessMessage))
        assert (second.extractor, second.video_id, second.title) == (
            first.extractor,
            first.video_id,
            "Test video page (1)",
        )
        source = media_server.library.video.read_bytes()
        assert second.files[0].sha256 == hashlib.sha256(source).hexdigest()

    def test_a_hint_from_another_yt_dlp_is_not(
        self, media_server: MediaServer, run_worker_process: RunProcess
    ) -> None:
        """A hint from another yt-dlp version is left aside: yt-dlp searches as usual."""
        url = media_server.url("/media/video.mp4")
        run = run_worker_process({"url": url}, **{environment.EXTRACTOR: "Generic@2000.01.01"})
        assert run.returncode == ExitCode.SUCCEEDED, run.stderr[-3000:]
        assert "as the operator found it" not in run.stderr
        assert isinstance(run.message, termination.SuccessMessage), run.message


class TestEnding:
    def test_everything_is_out_before_the_process_is(
        self, media_server: MediaServer, run_worker_process: RunProcess
    ) -> None:
        """The worker skips the interpreter's teardown, yet its termination message (file
        and stdout), its last log line and its exit code are all there."""
        run = run_worker_process({"url": media_server.url("/media/video.mp4")})
        assert run.returncode == ExitCode.SUCCEEDED, run.stderr[-3000:]
        assert isinstance(run.message, termination.SuccessMessage), run.message
        assert run.stdout.strip().splitlines()[-1] == run.termination_text
        assert run.stderr.rstrip().endswith("download succeeded: video (1 files)")
