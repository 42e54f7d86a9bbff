"""Tests for videodl.worker.paths."""

from __future__ import annotations

import os
import pathlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yt_dlp import YoutubeDL

from videodl.worker.paths import (
    OutputPathRefusedError,
    check_template,
    confine,
    relative_to_volume,
)


class TestCheckTemplate:
    @pytest.mark.parametrize(
        "template",
        [
            "%(title)s [%(id)s].%(ext)s",
            "%(uploader)s/%(title)s.%(ext)s",
            "..%(title)s.%(ext)s",
            "%(title)s...%(ext)s",
            "a/..b/c.%(ext)s",
        ],
    )
    def test_relative_templates_pass(self, template: str) -> None:
        """Relative templates pass, including names that merely contain dots."""
        check_template(template)

    @pytest.mark.parametrize(
        ("template", "hint"),
        [
            ("/etc/%(id)s", "absolute"),
            ("~/%(id)s", "absolute"),
            ("\\\\server\\share\\%(id)s", "absolute"),
            ("C:%(id)s", "absolute"),
            ("../%(id)s", "'..'"),
            ("a/../../%(id)s", "'..'"),
            ("a/..", "'..'"),
            ("a\\..\\%(id)s", "'..'"),
            ("  ", "empty"),
        ],
    )
    def test_escaping_templates_are_refused(self, template: str, hint: str) -> None:
        """Absolute templates and '..' segments are refused, naming the field."""
        with pytest.raises(OutputPathRefusedError, match=r"spec\.output\.template") as caught:
            check_template(template)
        assert hint in str(caught.value)


class TestConfine:
    def test_inside(self, tmp_path: pathlib.Path) -> None:
        """A path inside the output directory comes back relative to it."""
        assert confine(tmp_path / "a" / "b.mp4", tmp_path) == pathlib.Path("a/b.mp4")
        assert confine("a/b.mp4", tmp_path) == pathlib.Path("a/b.mp4")

    @pytest.mark.parametrize("name", ["../x.mp4", "a/../../x.mp4", "/etc/passwd", "."])
    def test_outside(self, tmp_path: pathlib.Path, name: str) -> None:
        """Climbing out, absolute paths and the directory itself are refused."""
        out = tmp_path / "out"
        out.mkdir()
        with pytest.raises(OutputPathRefusedError, match="outside the output directory"):
            confine(out / name if not name.startswith("/") else name, out)

    def test_symlinked_directory(self, tmp_path: pathlib.Path) -> None:
        """A directory symlink in the volume that points elsewhere cannot redirect a write."""
        out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
        out.mkdir()
        elsewhere.mkdir()
        (out / "link").symlink_to(elsewhere)
        with pytest.raises(OutputPathRefusedError, match=str(elsewhere)):
            confine(out / "link" / "video.mp4", out)

    def test_symlinked_file(self, tmp_path: pathlib.Path) -> None:
        """A file symlink planted under the expected name is refused too."""
        out = tmp_path / "out"
        out.mkdir()
        (out / "video.mp4").symlink_to(tmp_path / "victim")
        with pytest.raises(OutputPathRefusedError):
            confine(out / "video.mp4", out)

    def test_symlink_inside_is_fine(self, tmp_path: pathlib.Path) -> None:
        """Links that stay inside the output directory are allowed."""
        (tmp_path / "real").mkdir()
        (tmp_path / "alias").symlink_to(tmp_path / "real")
        assert confine(tmp_path / "alias" / "v.mp4", tmp_path) == pathlib.Path("real/v.mp4")

    @given(st.lists(st.sampled_from(["a", "b", "..", ".", "c.mp4"]), min_size=1, max_size=8))
    def test_accepts_exactly_the_paths_inside(self, parts: list[str]) -> None:
        """A path is accepted if and only if it normalises to somewhere below the directory."""
        root = pathlib.Path("/nonexistent-videodl-root/out")
        candidate = root.joinpath(*parts)
        inside = os.path.normpath(candidate).startswith(f"{root}/")
        try:
            relative = confine(candidate, root)
        except OutputPathRefusedError:
            assert not inside
        else:
            assert inside
            assert ".." not in relative.parts


class TestRelativeToVolume:
    @pytest.mark.parametrize(
        ("sub_path", "expected"),
        [(None, "a/b.mp4"), ("videos", "videos/a/b.mp4"), ("x/./y/", "x/y/a/b.mp4")],
    )
    def test_prefix(self, sub_path: str | None, expected: str) -> None:
        """Paths in the result are relative to the volume, including the subPath."""
        assert relative_to_volume(pathlib.Path("a/b.mp4"), sub_path) == expected


class TestYtDlpSanitizing:
    """What yt-dlp does to hostile field values, and why confine() is still needed."""

    @staticmethod
    def prepared(tmp_path: pathlib.Path, template: str, title: str) -> str:
        params = {"outtmpl": {"default": template}, "paths": {"home": str(tmp_path)}}
        with YoutubeDL(params) as ydl:
            return str(ydl.prepare_filename({"id": "x", "title": title, "ext": "mp4"}))

    @pytest.mark.parametrize("title", ["../../escape", "/etc/passwd", "a/../../b", "..\\..\\c"])
    def test_slashes_in_titles_are_replaced(self, tmp_path: pathlib.Path, title: str) -> None:
        """A title with '/' or '../' stays one file name inside the output directory."""
        name = self.prepared(tmp_path, "%(title)s [%(id)s].%(ext)s", title)
        relative = confine(name, tmp_path)
        assert len(relative.parts) == 1

    def test_a_title_of_dotdot_is_not_sanitized(self, tmp_path: pathlib.Path) -> None:
        """yt-dlp keeps a title of exactly '..'; used as a directory, confine() refuses it."""
        name = self.prepared(tmp_path, "%(title)s/%(id)s.%(ext)s", "..")
        assert pathlib.Path(name).parent.name == ".."
        with pytest.raises(OutputPathRefusedError):
            confine(name, tmp_path)
