"""The worker downloads real media with real yt-dlp and ffmpeg, honouring the spec."""

from __future__ import annotations

import hashlib
import logging
import pathlib
import time

import pytest
from tests.integration.worker.workerharness import RunWorker, Workspace, ffprobe

from videodl_devkit.mediaserver import MediaServer


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestDirectFile:
    def test_lands_at_the_templated_path(
        self,
        media_server: MediaServer,
        run_worker: RunWorker,
        workspace: Workspace,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The mp4 is written where the template says, with its size and SHA-256 in the result
        (taken while it was downloaded)."""
        caplog.set_level(logging.INFO, logger="videodl.worker")
        source = media_server.library.video
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "output": {"subPath": "library", "template": "clips/%(id)s-%(title)s.%(ext)s"},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        written = workspace.output_dir / "clips" / "video-video.mp4"
        assert written.read_bytes() == source.read_bytes()
        (entry,) = run.result.files
        assert entry.path == "library/clips/video-video.mp4"
        assert entry.size_bytes == source.stat().st_size
        assert entry.sha256 == sha256(source)
        assert (run.result.video_id, run.result.extractor) == ("video", "generic")
        assert not run.result.skipped
        assert "1 of 1 files hashed while downloading" in caplog.text

    def test_html_page_with_a_video_tag(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """A page with a <video> tag yields the video it embeds, titled after the page."""
        run = run_worker({"url": media_server.url("/page/video.html")})
        assert run.outcome.exit_code == 0, run.outcome
        assert run.result.title == "Test video page (1)"
        assert run.result.files[0].sha256 == sha256(media_server.library.video)


class TestFormats:
    def test_audio_only_mp3(
        self,
        media_server: MediaServer,
        run_worker: RunWorker,
        workspace: Workspace,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """AudioOnly with mp3 produces an mp3 that ffprobe reads as audio only (a new file,
        hashed once it is written, and its SHA-256 is that of the mp3)."""
        caplog.set_level(logging.INFO, logger="videodl.worker")
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "format": {"preset": "AudioOnly"},
                "audio": {"codec": "mp3"},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        (entry,) = run.result.files
        assert entry.path.endswith(".mp3")
        probe = ffprobe(workspace.output_dir / entry.path)
        assert probe["format"]["format_name"] == "mp3"
        assert [s["codec_type"] for s in probe["streams"]] == ["audio"]
        assert probe["streams"][0]["codec_name"] == "mp3"
        assert float(probe["format"]["duration"]) > 2.5
        assert entry.sha256 == sha256(workspace.output_dir / entry.path)
        assert "0 of 1 files hashed while downloading" in caplog.text

    def test_hls_is_complete(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """An HLS playlist is downloaded segment by segment into one complete file."""
        run = run_worker({"url": media_server.url("/media/hls/playlist.m3u8")})
        assert run.outcome.exit_code == 0, run.outcome
        (entry,) = run.result.files
        probe = ffprobe(workspace.output_dir / entry.path)
        assert abs(float(probe["format"]["duration"]) - 6.0) < 0.5
        assert sorted(s["codec_type"] for s in probe["streams"]) == ["audio", "video"]
        segments = [r.path for r in media_server.requests() if r.path.endswith(".ts")]
        assert sorted(segments) == [f"/media/hls/segment00{i}.ts" for i in range(6)]

    def test_container_remux(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A container other than the source's is reached by remuxing."""
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "format": {"preset": "720p", "container": "mkv"},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        (entry,) = run.result.files
        assert entry.path.endswith(".mkv")
        assert "matroska" in ffprobe(workspace.output_dir / entry.path)["format"]["format_name"]


class TestSideFiles:
    def test_subtitles_thumbnail_and_info_json_are_written(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """Subtitles, thumbnail and info.json land next to the video and in the result."""
        run = run_worker(
            {
                "url": media_server.url("/page/video.html"),
                "subtitles": {"languages": ["en", "de"]},
                "thumbnail": {"write": True},
                "metadata": {"writeInfoJson": True},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        paths = [f.path for f in run.result.files]
        stem = "Test video page (1) [video-1]"
        assert paths[0] == f"{stem}.mp4"
        assert sorted(paths[1:]) == sorted(
            [f"{stem}.info.json", f"{stem}.en.vtt", f"{stem}.de.vtt", f"{stem}.jpg"]
        )
        assert "A test pattern" in (workspace.output_dir / f"{stem}.en.vtt").read_text()
        for entry in run.result.files:
            assert (workspace.output_dir / entry.path).stat().st_size == entry.size_bytes

    def test_embedding(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """Embedded subtitles, thumbnail and metadata end up inside the file, not beside it."""
        run = run_worker(
            {
                "url": media_server.url("/page/video.html"),
                "subtitles": {"languages": ["en", "de"], "embed": True},
                "thumbnail": {"embed": True},
                "metadata": {"embed": True},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        (entry,) = run.result.files
        probe = ffprobe(workspace.output_dir / entry.path)
        subtitles = [s for s in probe["streams"] if s["codec_type"] == "subtitle"]
        assert sorted(s["tags"]["language"] for s in subtitles) == ["deu", "eng"]
        assert any(s.get("disposition", {}).get("attached_pic") for s in probe["streams"])
        assert probe["format"]["tags"]["title"] == "Test video page (1)"
        assert workspace.files() == sorted(
            ["volume/out/.videodl-archive.txt", f"volume/out/{entry.path}"]
        )


class TestNetwork:
    def test_cookies_are_sent_and_the_secret_is_untouched(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """The mounted cookies file reaches the site; the read-only original is not rewritten."""
        cookies = workspace.root / "secret" / "cookies.txt"
        cookies.parent.mkdir()
        content = (
            "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsession\tabc123\n"
        )
        cookies.write_text(content)
        cookies.chmod(0o444)
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "cookies": {"secretRef": {"name": "site-cookies"}},
            },
            VIDEODL_COOKIES_FILE=str(cookies),
        )
        assert run.outcome.exit_code == 0, run.outcome
        sent = [r.cookie for r in media_server.requests("/media/video.mp4")]
        assert sent
        assert all(c is not None and "session=abc123" in c for c in sent)
        assert cookies.read_text() == content

    def test_malformed_cookies_fail_for_good(
        self, media_server: MediaServer, run_worker: RunWorker, workspace: Workspace
    ) -> None:
        """A cookies file that is not in Netscape format is a permanent failure, not retried."""
        cookies = workspace.root / "secret" / "cookies.txt"
        cookies.parent.mkdir()
        cookies.write_text('{"session": "abc123"}\n')
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "cookies": {"secretRef": {"name": "site-cookies"}},
            },
            VIDEODL_COOKIES_FILE=str(cookies),
        )
        assert run.outcome.exit_code == 12, run.outcome
        assert (run.failure.failure_class, run.failure.reason) == ("Permanent", "InvalidCookies")

    def test_rate_limit(self, media_server: MediaServer, run_worker: RunWorker) -> None:
        """rateLimitBytesPerSecond slows the download to about that rate."""
        size = media_server.library.video.stat().st_size
        rate = 20_000
        started = time.monotonic()
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "network": {"rateLimitBytesPerSecond": rate},
            }
        )
        elapsed = time.monotonic() - started
        assert run.outcome.exit_code == 0, run.outcome
        assert elapsed >= 0.75 * size / rate

    def test_sleep_interval(self, media_server: MediaServer, run_worker: RunWorker) -> None:
        """sleepIntervalSeconds pauses before the download."""
        started = time.monotonic()
        run = run_worker(
            {
                "url": media_server.url("/media/video.mp4"),
                "network": {"sleepIntervalSeconds": 2},
            }
        )
        assert run.outcome.exit_code == 0, run.outcome
        assert time.monotonic() - started >= 2.0


class TestPlaylist:
    def test_feed_downloads_every_entry(
        self, media_server: MediaServer, run_worker: RunWorker
    ) -> None:
        """A playlist downloads each entry; progress spans all of them, ending at 100."""
        run = run_worker({"url": media_server.url("/feed/show.rss?title=Episode&count=3")})
        assert run.outcome.exit_code == 0, run.outcome
        assert [f.path for f in run.result.files] == [
            "Episode 1 [show-1].mp4",
            "Episode 2 [show-2].mp4",
            "Episode 3 [show-3].mp4",
        ]
        assert run.result.title == "show"
        percents = [u.percent for u in run.sink.updates]
        assert percents == sorted(percents)
        assert percents[-1] == 100.0
        # With one update per change (interval 0), the first entry ends at a third.
        assert 33.3 in percents
