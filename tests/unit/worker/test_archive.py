"""Tests for videodl.worker.archive."""

from __future__ import annotations

import pathlib

from yt_dlp import YoutubeDL

from videodl.worker.archive import DownloadArchive


class TestDownloadArchive:
    def test_records_in_ytdlps_format(self, tmp_path: pathlib.Path) -> None:
        """Entries are '<extractor> <id>' lines, appended once each."""
        path = tmp_path / "archive.txt"
        archive = DownloadArchive(path)
        archive.add("generic video")
        archive.add("generic video")
        archive.add("youtube abc")
        assert path.read_text() == "generic video\nyoutube abc\n"
        assert len(archive) == 2

    def test_reads_existing_entries_and_remembers_hits(self, tmp_path: pathlib.Path) -> None:
        """A new archive object sees earlier entries and notes which lookups matched."""
        path = tmp_path / "archive.txt"
        path.write_text("generic video\n\n")
        archive = DownloadArchive(path)
        assert "generic video" in archive
        assert "generic other" not in archive
        assert archive.hits == ["generic video"]

    def test_force_ignores_but_still_records(self, tmp_path: pathlib.Path) -> None:
        """With check disabled nothing counts as downloaded, yet downloads are recorded."""
        path = tmp_path / "archive.txt"
        path.write_text("generic video\n")
        archive = DownloadArchive(path, check=False)
        assert "generic video" not in archive
        archive.add("generic new")
        assert archive.hits == []
        assert path.read_text() == "generic video\ngeneric new\n"

    def test_missing_file_is_empty_but_consulted(self, tmp_path: pathlib.Path) -> None:
        """yt-dlp consults the archive even before its file exists."""
        archive = DownloadArchive(tmp_path / "none.txt")
        assert bool(archive)
        assert len(archive) == 0

    def test_ytdlp_uses_it(self, tmp_path: pathlib.Path) -> None:
        """yt-dlp looks videos up in it and records them through it."""
        archive = DownloadArchive(tmp_path / "archive.txt")
        with YoutubeDL({"download_archive": archive, "quiet": True}) as ydl:
            info = {"id": "abc", "extractor_key": "Generic", "extractor": "generic"}
            assert not ydl.in_download_archive(info)
            ydl.record_download_archive(info)
            assert ydl.in_download_archive(info)
        assert (tmp_path / "archive.txt").read_text() == "generic abc\n"
