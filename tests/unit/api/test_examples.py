"""The example manifests in docs/examples/ parse with the models and are self-contained."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from videodl.api.playlist import VideoPlaylist
from videodl.api.resource import KIND, VideoDownload
from videodl.api.subscription import BACKLOG_NONE, VideoSubscription

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "docs" / "examples"
REQUIRED = [
    "minimal.yaml",
    "audio-only.yaml",
    "720p-subtitles.yaml",
    "high-priority.yaml",
    "with-cookies.yaml",
    "custom-retry.yaml",
    "s3.yaml",
]


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]


def downloads(name: str) -> list[VideoDownload]:
    return [VideoDownload.from_object(d) for d in documents(name) if d["kind"] == KIND]


class TestExamples:
    @pytest.mark.parametrize("name", REQUIRED)
    def test_example_parses(self, name: str) -> None:
        """Each required example holds a VideoDownload the models accept."""
        (download,) = downloads(name)
        assert download.name

    def test_minimal_has_only_a_url(self) -> None:
        """The minimal example sets nothing but spec.url."""
        (doc,) = documents("minimal.yaml")
        assert list(doc["spec"]) == ["url"]

    def test_cookie_secret_is_in_the_same_file(self) -> None:
        """with-cookies.yaml carries the Secret and key its VideoDownload references."""
        (download,) = downloads("with-cookies.yaml")
        assert download.spec.cookies is not None
        ref = download.spec.cookies.secret_ref
        (secret,) = [d for d in documents("with-cookies.yaml") if d["kind"] == "Secret"]
        assert secret["metadata"]["name"] == ref.name
        content = secret["stringData"][ref.key]
        assert content.startswith("# Netscape HTTP Cookie File")
        assert all(len(line.split("\t")) == 7 for line in content.splitlines()[1:])

    def test_claims_exist_in_volume_example(self) -> None:
        """Every claim the examples name is the one volume.yaml creates."""
        (pvc,) = documents("volume.yaml")
        claims = {
            d.spec.output.persistent_volume_claim.claim_name
            for name in REQUIRED
            for d in downloads(name)
            if d.spec.output.persistent_volume_claim is not None
        }
        assert claims == {pvc["metadata"]["name"]}

    def test_s3_example_carries_its_credentials_secret(self) -> None:
        """s3.yaml's VideoDownload uploads into a bucket with the Secret beside it."""
        (download,) = downloads("s3.yaml")
        target = download.spec.output.s3
        assert target is not None
        assert download.spec.output.persistent_volume_claim is None
        assert target.credentials_secret_ref is not None
        (secret,) = [d for d in documents("s3.yaml") if d["kind"] == "Secret"]
        assert secret["metadata"]["name"] == target.credentials_secret_ref.name
        assert set(secret["stringData"]) == {"accessKeyId", "secretAccessKey"}

    def test_every_example_file_is_listed(self) -> None:
        """No example is left out of the tests."""
        assert {p.name for p in EXAMPLES.glob("*.yaml")} == {
            *REQUIRED,
            "volume.yaml",
            "playlist.yaml",
            "subscription.yaml",
        }

    def test_playlist_example_parses(self) -> None:
        """The playlist example holds VideoPlaylists the models accept."""
        found = [VideoPlaylist.from_object(d) for d in documents("playlist.yaml")]
        assert [p.name for p in found] == ["talks-2025", "two-clips"]

    def test_subscription_example_parses(self) -> None:
        """The subscription example holds a VideoSubscription the models accept."""
        (found,) = [VideoSubscription.from_object(d) for d in documents("subscription.yaml")]
        assert found.name == "example-channel"
        assert found.spec.initial_backlog != BACKLOG_NONE
        assert found.spec.retention.keep_last is not None
        assert found.spec.template.output.persistent_volume_claim is not None
