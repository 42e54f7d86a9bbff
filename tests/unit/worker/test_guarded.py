"""Tests for videodl.worker.guarded: yt-dlp's YoutubeDL with the worker's guard built in."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from yt_dlp.networking._urllib import UrllibRH
from yt_dlp.networking.common import RequestHandler

from videodl.worker import egress, guard
from videodl.worker.egress import EgressRefusedError
from videodl.worker.guarded import SOCKET_HANDLERS, GuardedYoutubeDL
from videodl.worker.paths import OutputPathRefusedError


class NativeRH(RequestHandler):  # type: ignore[misc]
    """A stand-in for a handler that connects from native code (as curl_cffi does)."""

    def _send(self, request: Any) -> Any:
        raise NotImplementedError


def guarded(out: pathlib.Path, template: str = "%(title)s/%(id)s.%(ext)s") -> GuardedYoutubeDL:
    params = {"outtmpl": {"default": template}, "paths": {"home": str(out)}, "quiet": True}
    attempt = guard.Guard(output_dir=out, policy=egress.Policy())
    return GuardedYoutubeDL(params, guard=attempt, auto_init=False)


class TestNames:
    @pytest.mark.parametrize(
        "dir_type", ["", "temp", "infojson", "thumbnail", "subtitle", "pl_infojson", "pl_video"]
    )
    def test_a_name_climbing_out_is_refused_as_it_is_made(
        self, tmp_path: pathlib.Path, dir_type: str
    ) -> None:
        """Whatever kind of name, one that resolves outside is refused and recorded."""
        ydl = guarded(tmp_path)
        with pytest.raises(OutputPathRefusedError, match="outside the output directory"):
            ydl.prepare_filename({"id": "x", "title": "..", "ext": "mp4"}, dir_type)
        assert len(ydl.videodl_guard.refusals) == 1

    def test_names_inside_come_back_unchanged(self, tmp_path: pathlib.Path) -> None:
        """A harmless name is yt-dlp's own, untouched."""
        ydl = guarded(tmp_path)
        name = ydl.prepare_filename({"id": "x", "title": "clip", "ext": "mp4"}, "infojson")
        assert name == str(tmp_path / "clip" / "x.info.json")

    def test_a_download_after_a_refusal_does_not_start(self, tmp_path: pathlib.Path) -> None:
        """Once something was refused, dl() raises that refusal instead of downloading."""
        ydl = guarded(tmp_path)
        refused = EgressRefusedError("refusing to connect to 169.254.169.254 port 80")
        ydl.videodl_guard.refusals.append(refused)
        with pytest.raises(EgressRefusedError) as caught:
            ydl.dl(str(tmp_path / "v.mp4"), {"url": "http://example.com/v.mp4"})
        assert caught.value is refused


class TestRequestHandlers:
    def test_only_socket_based_handlers_are_used(self, tmp_path: pathlib.Path) -> None:
        """A handler whose connections the guard cannot see is left out of the director."""
        director = guarded(tmp_path).build_request_director([UrllibRH, NativeRH])
        assert set(director.handlers) == {"Urllib"}
        assert "Native" not in SOCKET_HANDLERS
