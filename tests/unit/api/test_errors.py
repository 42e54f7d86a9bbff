"""Validation errors become one line per problem, each starting with the field path."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from videodl.api.errors import InvalidVideoDownloadError, describe_errors, field_path
from videodl.api.spec import VideoDownloadSpec


class TestFieldPath:
    @pytest.mark.parametrize(
        ("loc", "prefix", "expected"),
        [
            (("retry", "backoff", "factor"), "spec", "spec.retry.backoff.factor"),
            (("subtitles", "languages", 2), "spec", "spec.subtitles.languages[2]"),
            (("url",), "", "url"),
            ((), "spec", "spec"),
        ],
    )
    def test_paths_read_like_manifest_paths(
        self, loc: tuple[int | str, ...], prefix: str, expected: str
    ) -> None:
        """Locations join with dots, list indexes in brackets."""
        assert field_path(loc, prefix) == expected


class TestDescribeErrors:
    def test_each_problem_is_reported(self) -> None:
        """Several problems give several lines, in field order."""
        with pytest.raises(ValidationError) as caught:
            VideoDownloadSpec.model_validate(
                {"priority": "Urgent", "subtitles": {"languages": ["en", ""]}}
            )
        lines = describe_errors(caught.value, prefix="spec")
        assert lines[0] == "spec.url: required field is missing"
        assert lines[1].startswith("spec.priority: Input should be 'Lowest'")
        assert lines[2].startswith("spec.subtitles.languages[1]: ")
        assert len(lines) == 3

    def test_error_carries_problems(self) -> None:
        """The exception keeps the lines and joins them in its message."""
        error = InvalidVideoDownloadError(["spec.url: a", "spec.force: b"])
        assert error.problems == ("spec.url: a", "spec.force: b")
        assert str(error) == "spec.url: a; spec.force: b"
