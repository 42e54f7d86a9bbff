"""The whole object: names, parsing raw objects as kopf and the client deliver them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from videodl.api import resource
from videodl.api.errors import InvalidVideoDownloadError
from videodl.api.resource import VideoDownload, parse_spec, parse_status
from videodl.api.status import Phase

RAW = {
    "apiVersion": "videodl.dev/v1alpha1",
    "kind": "VideoDownload",
    "metadata": {"name": "clip", "namespace": "media", "generation": 3, "uid": "u-1"},
    "spec": {"url": "https://example.com/v/1", "retry": {"maxAttempts": 5}},
    "status": {"phase": "Queued", "observedGeneration": 2},
}


class ReadOnlyView(Mapping[str, Any]):
    """A read-only nested mapping, like kopf's Body and Spec views."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return ReadOnlyView(value) if isinstance(value, Mapping) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class TestNames:
    def test_names_match_the_contract(self) -> None:
        """Group, version, kind, plural and short name are the published ones."""
        assert resource.API_VERSION == "videodl.dev/v1alpha1"
        assert (resource.KIND, resource.PLURAL, resource.SHORT_NAME) == (
            "VideoDownload",
            "videodownloads",
            "vdl",
        )
        assert resource.CRD_NAME == "videodownloads.videodl.dev"


class TestFromObject:
    def test_parses_nested_read_only_mappings(self) -> None:
        """A kopf-style body parses into typed spec and status."""
        parsed = VideoDownload.from_object(ReadOnlyView(RAW))
        assert parsed.spec.retry.max_attempts == 5
        assert parsed.status is not None
        assert parsed.status.phase is Phase.QUEUED
        assert (parsed.name, parsed.namespace, parsed.generation) == ("clip", "media", 3)

    def test_to_object_round_trips(self) -> None:
        """to_object gives data from_object reads back unchanged."""
        parsed = VideoDownload.from_object(RAW)
        again = VideoDownload.from_object(parsed.to_object())
        assert again == parsed
        assert again.to_object()["metadata"] == RAW["metadata"]

    def test_problems_name_spec_fields(self) -> None:
        """Spec problems are reported with their full path under spec."""
        bad = {**RAW, "spec": {"url": "ftp://x", "retry": {"maxAttempts": 0}}}
        with pytest.raises(InvalidVideoDownloadError) as caught:
            VideoDownload.from_object(bad)
        assert [p.split(" ")[0] for p in caught.value.problems] == [
            "spec.url",
            "spec.retry.maxAttempts:",
        ]

    def test_wrong_api_version_is_rejected(self) -> None:
        """Objects of another version are not silently read as v1alpha1."""
        with pytest.raises(InvalidVideoDownloadError, match=r"apiVersion must be videodl\.dev/"):
            VideoDownload.from_object({**RAW, "apiVersion": "videodl.dev/v1"})

    def test_missing_metadata_fields_read_as_empty(self) -> None:
        """An object not yet created has no name, namespace or generation."""
        parsed = VideoDownload(spec=parse_spec({"url": "https://example.com/"}))
        assert (parsed.name, parsed.namespace, parsed.generation) == ("", "", None)
        assert parsed.to_object()["apiVersion"] == "videodl.dev/v1alpha1"


class TestParseParts:
    def test_parse_spec_prefixes_spec(self) -> None:
        """parse_spec names fields under spec., as kubectl would."""
        with pytest.raises(InvalidVideoDownloadError, match=r"^spec\.url: required"):
            parse_spec(ReadOnlyView({"priority": "High"}))

    def test_parse_status_prefixes_status(self) -> None:
        """parse_status names fields under status."""
        with pytest.raises(InvalidVideoDownloadError, match=r"^status\.phase: "):
            parse_status({"phase": "Sleeping"})
