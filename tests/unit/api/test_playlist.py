"""Tests for videodl.api.playlist: the VideoPlaylist models and their CRD."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from videodl.api import playlist_crd
from videodl.api.playlist import MAX_ITEMS_CAP, VideoPlaylist, VideoPlaylistSpec
from videodl.api.spec import DeletionPolicy, Priority


def parse(**fields: Any) -> VideoPlaylistSpec:
    return VideoPlaylistSpec.model_validate(fields)


class TestSpec:
    def test_url_or_urls(self) -> None:
        """Exactly one of url and urls; the message names both fields."""
        parse(url="https://example.com/list")
        parse(urls=["https://example.com/a", "https://example.com/b"])
        for bad in ({}, {"url": "https://e.com/l", "urls": ["https://e.com/a"]}):
            with pytest.raises(ValidationError, match=r"spec\.url and spec\.urls"):
                parse(**bad)

    def test_max_items_cap(self) -> None:
        """maxItems defaults to 500 and may not exceed the hard cap."""
        assert parse(url="https://e.com/l").max_items == 500
        with pytest.raises(ValidationError, match="maxItems"):
            parse(url="https://e.com/l", maxItems=MAX_ITEMS_CAP + 1)

    @pytest.mark.parametrize("field", ["titleRegex", "excludeTitleRegex"])
    def test_invalid_regex(self, field: str) -> None:
        """A pattern Python cannot compile is refused, naming the field."""
        with pytest.raises(ValidationError, match=rf"spec\.{field} is not a valid"):
            parse(url="https://e.com/l", **{field: "(["})

    def test_urls_follow_the_url_rules(self) -> None:
        """Every entry of urls obeys spec.url's rules, named as spec.urls[*]."""
        with pytest.raises(ValidationError, match=r"spec\.urls\[\*\] may not contain a user"):
            parse(urls=["https://user:pw@e.com/a"])

    def test_ranges(self) -> None:
        """dateBefore not before dateAfter; maxDuration not below minDuration."""
        with pytest.raises(ValidationError, match="dateBefore"):
            parse(url="https://e.com/l", dateAfter="20240201", dateBefore="20240101")
        with pytest.raises(ValidationError, match="maxDurationSeconds"):
            parse(url="https://e.com/l", minDurationSeconds=10, maxDurationSeconds=5)

    def test_template_has_no_url(self) -> None:
        """The template is a VideoDownload spec without url; unknown fields are refused."""
        with pytest.raises(ValidationError, match="url"):
            parse(url="https://e.com/l", template={"url": "https://e.com/v"})

    def test_child_spec(self) -> None:
        """A child gets the template, its URL, the parent's suspend and deletionPolicy."""
        playlist = parse(
            url="https://e.com/l",
            suspend=True,
            deletionPolicy="Delete",
            template={"priority": "High", "output": {"subPath": "shows"}},
        )
        child = playlist.child_spec("https://e.com/v1", suspend=playlist.suspend)
        assert child.url == "https://e.com/v1"
        assert child.priority is Priority.HIGH
        assert child.output.sub_path == "shows"
        assert child.suspend is True
        assert child.deletion_policy is DeletionPolicy.DELETE


class TestResource:
    def test_from_object(self) -> None:
        """A whole object parses, and a bad one names the field."""
        obj = {
            "apiVersion": "videodl.dev/v1alpha1",
            "kind": "VideoPlaylist",
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"url": "https://e.com/l"},
        }
        assert VideoPlaylist.from_object(obj).name == "p"
        with pytest.raises(ValueError, match="maxItems"):
            VideoPlaylist.from_object({**obj, "spec": {"url": "https://e.com/l", "maxItems": 0}})


class TestCrd:
    def test_names_and_columns(self) -> None:
        """Short name vpl, the videodl category, a status subresource and the columns."""
        manifest = playlist_crd.crd_manifest()
        names = manifest["spec"]["names"]
        assert names["shortNames"] == ["vpl"]
        assert names["categories"] == ["videodl"]
        (version,) = manifest["spec"]["versions"]
        assert version["subresources"] == {"status": {}}
        columns = [c["name"] for c in version["additionalPrinterColumns"]]
        assert columns[:5] == ["Phase", "Progress", "Succeeded", "Failed", "Age"]

    def test_cel_rules_present(self) -> None:
        """The apiserver checks url/urls, the date range and the title regexes."""
        spec = playlist_crd.openapi_schema()["properties"]["spec"]
        rules = [r["rule"] for r in spec["x-kubernetes-validations"]]
        assert "has(self.url) != has(self.urls)" in rules
        assert spec["properties"]["maxItems"]["maximum"] == MAX_ITEMS_CAP
        assert spec["properties"]["titleRegex"]["x-kubernetes-validations"]


class TestItems:
    def test_backwards_range_is_refused(self) -> None:
        """A range that ends before it starts is refused at once, naming spec.items."""
        with pytest.raises(ValidationError, match=r"spec\.items range '5-2'"):
            parse(url="https://e.com/l", items="1,5-2")
