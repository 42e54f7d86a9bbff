"""Tests for videodl.workerapi.cleanup and the cleanup program (videodl.cleanup.program)."""

from __future__ import annotations

import json
import pathlib

import pytest

from videodl.cleanup import program as cleanup
from videodl.workerapi import cleanup as contract


class TestRemoval:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("clip.mp4", "clip.mp4"),
            ("a/./b.mp4", "a/b.mp4"),
            ("a//b.mp4", "a/b.mp4"),
            ("/etc/passwd", None),
            ("../x", None),
            ("a/../../x", None),
            ("a/../b", None),
            ("", None),
            (".", None),
            ("a\x00b", None),
        ],
    )
    def test_normalise(self, path: str, expected: str | None) -> None:
        """Only relative paths that never climb out are accepted."""
        assert contract.normalise(path) == expected

    def test_split(self) -> None:
        """Safe paths (without duplicates) and refused ones are told apart."""
        assert contract.split_paths(["a.mp4", "./a.mp4", "/x"]) == (["a.mp4"], ["/x"])


class TestCleanupProgram:
    def test_deletes_listed_files_only(self, tmp_path: pathlib.Path) -> None:
        """Listed files go, other files stay, missing files count as deleted."""
        (tmp_path / "shows").mkdir()
        (tmp_path / "shows" / "a.mp4").write_text("a")
        (tmp_path / "keep.mp4").write_text("k")
        code = cleanup.main(
            {
                contract.PATHS_ENV: json.dumps(["shows/a.mp4", "gone.mp4"]),
                contract.ROOT_ENV: str(tmp_path),
            }
        )
        assert code == 0
        assert not (tmp_path / "shows" / "a.mp4").exists()
        assert (tmp_path / "keep.mp4").exists()

    def test_symlinked_directory_is_not_followed(self, tmp_path: pathlib.Path) -> None:
        """A directory symlink leading out of the volume is refused."""
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "precious").write_text("p")
        root = tmp_path / "volume"
        root.mkdir()
        (root / "link").symlink_to(outside)
        done, problems = cleanup.remove(root, ["link/precious", "../outside/precious"])
        assert done == []
        assert len(problems) == 2
        assert (outside / "precious").exists()

    def test_symlinked_file_is_removed_not_followed(self, tmp_path: pathlib.Path) -> None:
        """A symlink where a file was is removed itself; its target stays."""
        target = tmp_path / "target"
        target.write_text("t")
        root = tmp_path / "volume"
        root.mkdir()
        (root / "clip.mp4").symlink_to(target)
        done, _ = cleanup.remove(root, ["clip.mp4"])
        assert done == ["clip.mp4"]
        assert target.exists()
        assert not (root / "clip.mp4").is_symlink()

    def test_bad_input(self) -> None:
        """Missing or malformed input exits 2."""
        assert cleanup.main({}) == 2
        assert cleanup.main({contract.PATHS_ENV: '{"a": 1}'}) == 2


class TestArchive:
    def test_entries_are_dropped_and_others_kept(self, tmp_path: pathlib.Path) -> None:
        """Only the named archive lines go; other videos stay recorded."""
        (tmp_path / "shows").mkdir()
        archive = tmp_path / "shows" / ".videodl-archive.txt"
        archive.write_text("generic clip\nyoutube abc\ngeneric other\n")
        code = cleanup.main(
            {
                contract.PATHS_ENV: "[]",
                contract.ROOT_ENV: str(tmp_path),
                contract.ARCHIVE_ENV: json.dumps(
                    {"path": "shows/.videodl-archive.txt", "entries": ["generic clip"]}
                ),
            }
        )
        assert code == 0
        assert archive.read_text() == "youtube abc\ngeneric other\n"

    def test_missing_archive_is_fine(self, tmp_path: pathlib.Path) -> None:
        """Nothing recorded, nothing to drop."""
        assert cleanup.forget(tmp_path, ".videodl-archive.txt", ["generic x"]) == 0

    def test_archive_path_outside_is_refused(self, tmp_path: pathlib.Path) -> None:
        """An archive path leaving the volume is never opened."""
        outside = tmp_path / "outside.txt"
        outside.write_text("generic clip\n")
        root = tmp_path / "volume"
        root.mkdir()
        assert cleanup.forget(root, "../outside.txt", ["generic clip"]) == 0
        assert outside.read_text() == "generic clip\n"

    def test_bad_archive_input(self) -> None:
        """A malformed archive instruction exits 2."""
        assert cleanup.main({contract.PATHS_ENV: "[]", contract.ARCHIVE_ENV: "[1]"}) == 2


def test_s3_cleanup_without_a_bucket_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    """With VIDEODL_CLEANUP_S3 the bucket must be named; nothing is contacted otherwise."""
    environ = {contract.PATHS_ENV: '["s3://videos/a.mp4"]', contract.S3_ENV: "true"}
    assert cleanup.main(environ) == 2
    assert "VIDEODL_OUTPUT_S3_BUCKET" in capsys.readouterr().err
