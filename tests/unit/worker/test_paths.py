"""Tests for videodl.worker.paths."""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from yt_dlp import YoutubeDL
from yt_dlp.utils import write_json_file

from videodl.worker import egress, guard, inputs
from videodl.worker.guarded import GuardedYoutubeDL
from videodl.worker.paths import (
    OutputPathRefusedError,
    check_template,
    confine,
    relative_to_volume,
)
from videodl.workerapi.environment import InvalidEnvironmentError

# Pieces of hostile names: climbing, separators, NUL, look-alikes of '..' (U+2024 ONE DOT
# LEADER, U+FF0E FULLWIDTH FULL STOP, U+2025 TWO DOT LEADER) and names too long to write.
HOSTILE = [
    "..",
    ".",
    "/",
    "\\",
    "\x00",
    "\u2024\u2024",
    "\uff0e\uff0e",
    "\u2025",
    " ",
    "a",
    "x" * 150,
]
TEMPLATE_PIECES = [
    "..", ".", "/", "\x00", "\u2024\u2024", "\uff0e\uff0e", "a", "x" * 150,
    "%(title)s", "%(id)s", "%(playlist_title)s", "%(playlist)s", "%(uploader)s",
]  # fmt: skip
# Every kind of name yt-dlp prepares, the playlist's own files included.
DIR_TYPES = [
    "", "temp", "subtitle", "thumbnail", "infojson", "description",
    "pl_infojson", "pl_description", "pl_thumbnail", "pl_video", "chapter",
]  # fmt: skip
FIELDS = ["%(title)s", "%(id)s", "%(playlist_title)s", "%(playlist)s", "%(uploader)s"]
hostile_names = st.one_of(
    st.just(".."),
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE), min_size=2, max_size=4).map("".join),
)
# A template is path segments, each a field, a hostile literal or a mix of them.
segments = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(TEMPLATE_PIECES),
    st.lists(st.sampled_from(TEMPLATE_PIECES), min_size=2, max_size=3).map("".join),
)
templates = st.lists(segments, min_size=1, max_size=3).map(lambda s: "/".join(s) + ".%(ext)s")


def outside(root: pathlib.Path, out: pathlib.Path) -> list[str]:
    """Everything under ``root`` that is not the output directory or inside it."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p != out and out not in p.parents and p not in out.parents
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


class TestNothingLandsOutside:
    """Hostile titles, ids, playlist titles and templates, through yt-dlp's own naming."""

    @staticmethod
    def write_like_ytdlp(ydl: YoutubeDL, info: dict[str, Any], dir_type: str) -> str | None:
        """Prepare a name and write there as yt-dlp does: directory, JSON, partial file."""
        name: str | None = ydl.prepare_filename(info, dir_type)
        if not name:
            return None
        os.makedirs(os.path.dirname(name), exist_ok=True)  # noqa: PTH103, PTH120
        write_json_file({"title": info["title"]}, name)
        with open(name + ".part", "wb") as handle:  # noqa: PTH123
            handle.write(b"partial")
        return name

    @settings(max_examples=300, deadline=None)
    # The known breach: a playlist titled '..' and its info.json.
    @example("a", "id", "..", "%(playlist_title)s/%(title)s.%(ext)s", "pl_infojson")
    @example("..", "id", "p", "%(title)s/%(id)s.%(ext)s", "")
    @given(
        title=hostile_names,
        video_id=hostile_names,
        playlist_title=hostile_names,
        template=templates,
        dir_type=st.sampled_from(DIR_TYPES),
    )
    def test_every_name_is_refused_or_written_inside(
        self, title: str, video_id: str, playlist_title: str, template: str, dir_type: str
    ) -> None:
        """Whatever the fields and template, a file is written inside or not at all."""
        with tempfile.TemporaryDirectory() as tmp:
            root = pathlib.Path(tmp)
            out = root / "volume" / "out"
            out.mkdir(parents=True)
            try:
                inputs.check_template(template)
                check_template(template)
            except (InvalidEnvironmentError, OutputPathRefusedError):
                assert outside(root, out) == []
                return
            info = {
                "id": video_id,
                "title": title,
                "ext": "mp4",
                "uploader": title,
                "playlist_title": playlist_title,
                "playlist": playlist_title,
                "section_number": 1,
                "section_title": title,
            }
            params = {"outtmpl": {"default": template}, "paths": {"home": str(out)}, "quiet": True}
            attempt = guard.Guard(output_dir=out, policy=egress.Policy())
            name = None
            with (
                contextlib.suppress(OutputPathRefusedError, OSError),
                guard.active(attempt),
                # Without extractors (auto_init): naming needs none, and they are slow to load.
                GuardedYoutubeDL(params, guard=attempt, auto_init=False) as ydl,
            ):
                name = self.write_like_ytdlp(ydl, info, dir_type)
            assert outside(root, out) == []
            if name is not None and not attempt.refusals:
                # Nothing was refused: the files are there, inside.
                assert confine(name, out).parts
                assert pathlib.Path(name).is_file()
                assert pathlib.Path(name + ".part").is_file()

    @pytest.mark.parametrize("title", ["\u2024\u2024", "\uff0e\uff0e", "\u2025", "."])
    def test_playlists_titled_like_dots_stay_inside(
        self, tmp_path: pathlib.Path, title: str
    ) -> None:
        """Look-alikes of '..' are ordinary names: the playlist's info.json stays inside."""
        ydl = GuardedYoutubeDL(self.playlist_params(tmp_path), guard=self.guard(tmp_path))
        name = ydl.prepare_filename({"id": "feed", "title": title}, "pl_infojson")
        assert confine(name, tmp_path).name == "feed.info.json"

    def test_a_playlist_titled_dotdot_is_refused(self, tmp_path: pathlib.Path) -> None:
        """The known breach: a playlist titled '..' may not put its info.json one level up."""
        ydl = GuardedYoutubeDL(self.playlist_params(tmp_path), guard=self.guard(tmp_path))
        with pytest.raises(OutputPathRefusedError, match="outside the output directory"):
            ydl.prepare_filename({"id": "feed", "title": ".."}, "pl_infojson")

    @staticmethod
    def playlist_params(out: pathlib.Path) -> dict[str, Any]:
        return {"outtmpl": {"default": "%(title)s/%(id)s.%(ext)s"}, "paths": {"home": str(out)}}

    @staticmethod
    def guard(out: pathlib.Path) -> guard.Guard:
        return guard.Guard(output_dir=out, policy=egress.Policy())
