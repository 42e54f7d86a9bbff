"""Interrupted downloads resume from the partial file instead of starting over."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

from tests.integration.worker.workerharness import RunWorker, Workspace, process_env, worker_command

from videodl.workerapi import termination
from videodl.workerapi.exitcodes import ExitCode
from videodl_devkit.mediaserver import MediaServer


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TestDroppedConnection:
    def test_resumes_within_the_attempt(
        self, media_server: MediaServer, run_worker: RunWorker, unique: str
    ) -> None:
        """After a connection drops midway, the retry asks for the rest with a Range."""
        path = f"/drop/{unique}/2/video.mp4"
        size = media_server.library.video.stat().st_size
        run = run_worker({"url": media_server.url(path)})
        assert run.outcome.exit_code == 0, run.outcome
        # The first request is yt-dlp's extraction probe; then the download and its retry.
        _probe, dropped, resumed = media_server.requests(path)
        assert dropped.range_start is None
        assert 0 < dropped.body_bytes < size
        # yt-dlp keeps what it wrote before the drop (whole blocks) and asks for the rest.
        assert resumed.status == 206
        assert resumed.range_start is not None
        assert 0 < resumed.range_start <= dropped.body_bytes
        assert resumed.body_bytes == size - resumed.range_start
        assert run.result.files[0].sha256 == digest(media_server.library.video.read_bytes())

    def test_next_attempt_resumes(
        self,
        media_server: MediaServer,
        run_worker: RunWorker,
        workspace: Workspace,
        unique: str,
    ) -> None:
        """An attempt that gives up leaves its partial file; the next one continues it."""
        path = f"/drop/{unique}/1000/video.mp4"
        source = media_server.library.video.read_bytes()
        first = run_worker({"url": media_server.url(path)})
        assert first.outcome.exit_code == ExitCode.TRANSIENT
        assert first.failure.reason == "IncompleteRead"
        (part,) = workspace.output_dir.glob("*.part")
        kept = part.stat().st_size
        assert 0 < kept < len(source)
        assert part.read_bytes() == source[:kept]

        media_server.set_remaining("drop", unique, 0)
        before = len(media_server.requests(path))
        second = run_worker({"url": media_server.url(path)})
        assert second.outcome.exit_code == ExitCode.SUCCEEDED, second.outcome
        _probe, download = media_server.requests(path)[before:]
        assert (download.status, download.range_start) == (206, kept)
        assert download.body_bytes == len(source) - kept
        assert second.result.files[0].sha256 == digest(source)
        assert not list(workspace.output_dir.glob("*.part"))


class TestSigterm:
    def test_sigterm_leaves_a_resumable_part_file(
        self,
        media_server: MediaServer,
        run_worker: RunWorker,
        workspace: Workspace,
    ) -> None:
        """SIGTERM stops a slow download at once, as Transient; the next attempt resumes."""
        source = media_server.library.video.read_bytes()
        slow = media_server.url("/media/video.mp4?rate=10000")
        environ = workspace.environ({"url": slow})
        process = subprocess.Popen(
            worker_command(),
            env=process_env(environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            part = workspace.output_dir / "video [video].mp4.part"
            deadline = time.monotonic() + 30
            while not (part.exists() and part.stat().st_size > 4096):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the download never started"
                time.sleep(0.05)
            signalled = time.monotonic()
            os.kill(process.pid, signal.SIGTERM)
            _stdout, stderr = process.communicate(timeout=30)
            stopped_after = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == ExitCode.TRANSIENT, stderr
        assert stopped_after < 3
        message = termination.parse(workspace.termination_path.read_text())
        assert isinstance(message, termination.FailureMessage)
        assert message.reason == "Terminated"
        kept = part.stat().st_size
        assert 0 < kept < len(source)
        assert part.read_bytes() == source[:kept]

        before = len(media_server.requests("/media/video.mp4"))
        resumed = run_worker({"url": slow.replace("?rate=10000", "")})
        assert resumed.outcome.exit_code == ExitCode.SUCCEEDED, resumed.outcome
        _probe, download = media_server.requests("/media/video.mp4")[before:]
        assert (download.status, download.range_start) == (206, kept)
        assert resumed.result.files[0].sha256 == digest(source)
