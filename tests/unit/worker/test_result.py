"""Tests for videodl.worker.result."""

from __future__ import annotations

import hashlib
import pathlib

import pytest

from videodl.worker import result
from videodl.worker.paths import OutputPathRefusedError


def write(path: pathlib.Path, content: bytes) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


class TestCollect:
    def test_media_and_side_files_from_info(self) -> None:
        """Final media paths, then info JSON, subtitles and thumbnails, from the info dict."""
        info = {
            "requested_downloads": [
                {"filepath": "/d/v.mp4", "infojson_filename": "/d/v.info.json"}
            ],
            "requested_subtitles": {"en": {"filepath": "/d/v.en.vtt"}, "de": {}},
            "thumbnails": [{"url": "http://x/t.jpg"}, {"filepath": "/d/v.jpg"}],
        }
        assert result.media_files(info) == ["/d/v.mp4"]
        assert result.side_files(info) == ["/d/v.info.json", "/d/v.en.vtt", "/d/v.jpg"]

    def test_playlist_entries(self) -> None:
        """A playlist's files are those of its entries, in order."""
        info = {
            "entries": [
                {"requested_downloads": [{"filepath": "/d/1.mp4"}]},
                None,
                {"requested_downloads": [{"filepath": "/d/2.mp4"}]},
            ]
        }
        assert result.media_files(info) == ["/d/1.mp4", "/d/2.mp4"]


class TestBuild:
    def test_sizes_hashes_and_volume_paths(self, tmp_path: pathlib.Path) -> None:
        """Each existing file is listed once with size, SHA-256 and its path in the volume."""
        media = write(tmp_path / "show" / "v.mp4", b"video" * 1000)
        subs = write(tmp_path / "show" / "v.en.vtt", b"WEBVTT\n")
        info = {
            "id": "v",
            "extractor": "generic",
            "title": "A title",
            "uploader": "someone",
            "duration": 3,
            "format_id": "mp4",
            "width": 320,
            "height": 240,
        }
        candidates = [str(media), str(media), str(subs), str(tmp_path / "gone.jpg")]
        message = result.build(info, candidates, output_dir=tmp_path, sub_path="library")
        assert [f.path for f in message.files] == ["library/show/v.mp4", "library/show/v.en.vtt"]
        assert message.files[0].size_bytes == 5000
        assert message.files[0].sha256 == hashlib.sha256(b"video" * 1000).hexdigest()
        assert (message.video_id, message.extractor, message.title) == ("v", "generic", "A title")
        assert (message.uploader, message.duration_seconds) == ("someone", 3.0)
        assert (message.format_id, message.resolution) == ("mp4", "320x240")
        assert not message.skipped

    def test_audio_only_resolution(self, tmp_path: pathlib.Path) -> None:
        """An audio-only result says so instead of a resolution."""
        info = {"id": "a", "vcodec": "none", "acodec": "mp3"}
        assert result.build(info, [], output_dir=tmp_path, sub_path=None).resolution == "audio only"

    def test_file_outside_is_refused(self, tmp_path: pathlib.Path) -> None:
        """A reported file that resolves outside the output directory is never listed."""
        out = tmp_path / "out"
        out.mkdir()
        write(tmp_path / "secret", b"x")
        (out / "v.mp4").symlink_to(tmp_path / "secret")
        with pytest.raises(OutputPathRefusedError):
            result.build({"id": "v"}, [str(out / "v.mp4")], output_dir=out, sub_path=None)
