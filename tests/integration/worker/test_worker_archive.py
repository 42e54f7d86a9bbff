"""The download archive skips videos already downloaded; ``force`` fetches them again."""

from __future__ import annotations

from tests.integration.worker.workerharness import RunWorker, Workspace

from videodl_devkit.mediaserver import MediaServer


class TestArchive:
    def test_skip_then_force(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The second run skips (and says so), a forced run downloads again."""
        spec = {"url": media_server.url("/media/video.mp4")}
        first = run_worker(spec)
        assert first.outcome.exit_code == 0, first.outcome
        assert not first.result.skipped
        archive = workspace.output_dir / ".videodl-archive.txt"
        assert archive.read_text() == "generic video\n"
        assert len(media_server.requests("/media/video.mp4")) == 2  # probe + download

        second = run_worker(spec)
        assert second.outcome.exit_code == 0, second.outcome
        assert second.result.skipped
        assert second.result.video_id == "video"
        # The file that is still there is reported, and only the probe hit the server.
        assert [f.path for f in second.result.files] == ["video [video].mp4"]
        assert second.result.files[0].sha256 == first.result.files[0].sha256
        assert len(media_server.requests("/media/video.mp4")) == 3

        forced = run_worker({**spec, "force": True})
        assert forced.outcome.exit_code == 0, forced.outcome
        assert not forced.result.skipped
        requests = media_server.requests("/media/video.mp4")
        assert len(requests) == 5
        assert requests[-1].body_bytes == media_server.library.video.stat().st_size
        assert archive.read_text() == "generic video\n"

    def test_archive_is_per_output_directory(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """Another output directory (another subPath) keeps its own archive."""
        spec = {"url": media_server.url("/media/video.mp4")}
        assert not run_worker(spec).result.skipped
        other = workspace.volume / "other"
        again = run_worker(spec, VIDEODL_OUTPUT_DIR=str(other))
        assert not again.result.skipped
        assert (other / ".videodl-archive.txt").read_text() == "generic video\n"

    def test_archived_playlist_lists_its_files(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """A playlist whose entries are all archived is skipped and lists their files."""
        spec = {"url": media_server.url("/feed/show.rss?title=Episode&count=2")}
        first = run_worker(spec)
        assert not first.result.skipped
        again = run_worker(spec)
        assert again.result.skipped
        assert [f.path for f in again.result.files] == [f.path for f in first.result.files]
