"""Tests for videodl.workerapi.termination."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from videodl.api.status import FailureClass, ResultFile
from videodl.workerapi.termination import (
    MAX_BYTES,
    FailureMessage,
    InvalidTerminationMessageError,
    SuccessMessage,
    parse,
    render,
)

SHA = "0" * 64


def result_file(path: str, size: int = 1) -> ResultFile:
    return ResultFile(path=path, size_bytes=size, sha256=SHA)


def failure(message: str = "HTTP Error 429", reason: str = "HTTPError429") -> FailureMessage:
    return FailureMessage.create(
        failure_class=FailureClass.THROTTLED,
        reason=reason,
        message=message,
        exit_code=11,
        time=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    )


class TestRender:
    def test_success_uses_the_api_names(self) -> None:
        """A success is the API's DownloadResult in camelCase."""
        message = SuccessMessage(
            video_id="abc",
            extractor="generic",
            title="A video",
            duration_seconds=3.0,
            format_id="mp4",
            files=[result_file("videos/a.mp4", 10)],
        )
        document = json.loads(render(message))
        assert document == {
            "videoId": "abc",
            "extractor": "generic",
            "title": "A video",
            "durationSeconds": 3.0,
            "formatId": "mp4",
            "files": [{"path": "videos/a.mp4", "sizeBytes": 10, "sha256": SHA}],
        }

    def test_skipped_only_when_true(self) -> None:
        """``skipped`` appears when the archive had the video, and only then."""
        assert "skipped" not in json.loads(render(SuccessMessage(video_id="a")))
        assert json.loads(render(SuccessMessage(video_id="a", skipped=True)))["skipped"] is True

    def test_failure_uses_the_api_names(self) -> None:
        """A failure is the API's Failure: class, reason, message, exitCode, time."""
        assert json.loads(render(failure())) == {
            "class": "Throttled",
            "reason": "HTTPError429",
            "message": "HTTP Error 429",
            "exitCode": 11,
            "time": "2026-01-02T03:04:05Z",
        }

    def test_long_failure_message_is_truncated(self) -> None:
        """A huge yt-dlp message is cut to fit, keeping its start and the other fields."""
        text = render(failure("x" * 10_000))
        assert len(text.encode()) <= MAX_BYTES
        parsed = parse(text)
        assert isinstance(parsed, FailureMessage)
        assert parsed.message.startswith("xxxx")
        assert parsed.message.endswith("…")
        assert parsed.reason == "HTTPError429"
        assert parsed.exit_code == 11

    def test_truncation_keeps_as_much_as_fits(self) -> None:
        """The truncated message uses the space there is (within a few bytes)."""
        text = render(failure("y" * 10_000))
        assert len(text.encode()) > MAX_BYTES - 8

    def test_escaped_characters_count_in_bytes(self) -> None:
        """Quotes, control characters and non-ASCII text still fit after JSON escaping."""
        text = render(failure('"\x01ü€' * 3000))
        assert len(text.encode()) <= MAX_BYTES
        assert isinstance(parse(text), FailureMessage)

    def test_many_files_keep_the_media_file(self) -> None:
        """Side files are left out before the media file, and the count says so."""
        files = [result_file(f"dir/{'n' * 200}-{i}.vtt") for i in range(40)]
        message = SuccessMessage(video_id="a", files=[result_file("dir/media.mp4"), *files])
        parsed = parse(render(message))
        assert isinstance(parsed, SuccessMessage)
        assert parsed.files[0].path == "dir/media.mp4"
        assert 1 <= len(parsed.files) < 41
        assert len(parsed.files) + parsed.omitted_files == 41

    @given(
        title=st.text(max_size=5000),
        uploader=st.none() | st.text(max_size=5000),
        video_id=st.text(min_size=1, max_size=3000),
        paths=st.lists(st.text(min_size=1, max_size=2000), max_size=30),
    )
    def test_success_always_fits(
        self, title: str, uploader: str | None, video_id: str, paths: list[str]
    ) -> None:
        """Any result renders to at most 4096 bytes of valid JSON that parses back."""
        message = SuccessMessage(
            video_id=video_id,
            title=title,
            uploader=uploader,
            files=[result_file(p) for p in paths],
        )
        text = render(message)
        assert len(text.encode()) <= MAX_BYTES
        parsed = parse(text)
        assert isinstance(parsed, SuccessMessage)
        assert len(parsed.files) + parsed.omitted_files == len(paths)
        if len(_plain(message).encode()) <= MAX_BYTES:
            assert parsed == message

    @given(
        message=st.text(max_size=20_000),
        reason=st.from_regex(r"[A-Z][A-Za-z0-9]{0,1000}", fullmatch=True),
    )
    def test_failure_always_fits(self, message: str, reason: str) -> None:
        """Any failure renders to at most 4096 bytes and keeps class and exit code."""
        text = render(failure(message, reason))
        assert len(text.encode()) <= MAX_BYTES
        parsed = parse(text)
        assert isinstance(parsed, FailureMessage)
        assert parsed.failure_class == FailureClass.THROTTLED
        assert parsed.exit_code == 11


def _plain(message: SuccessMessage) -> str:
    return message.model_dump_json(by_alias=True, exclude_none=True, exclude_defaults=True)


class TestParse:
    def test_round_trip(self) -> None:
        """What the worker renders, the operator parses to the same model."""
        for message in (failure(), SuccessMessage(video_id="a", files=[result_file("a.mp4")])):
            assert parse(render(message)) == message

    def test_failure_is_told_by_its_class_field(self) -> None:
        """A document with ``class`` is a failure, any other object a success."""
        assert isinstance(parse('{"class": "Permanent", "reason": "HTTPError404"}'), FailureMessage)
        assert isinstance(parse('{"videoId": "x"}'), SuccessMessage)

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "not json",
            "[]",
            '{"class": "Sometimes", "reason": "X"}',
            '{"class": "Permanent", "reason": "not a reason!"}',
            '{"files": [{"path": "a"}]}',
        ],
    )
    def test_garbage_is_rejected_clearly(self, text: str) -> None:
        """Anything else raises one error that says what it expected."""
        with pytest.raises(InvalidTerminationMessageError, match="not a videodl worker"):
            parse(text)
