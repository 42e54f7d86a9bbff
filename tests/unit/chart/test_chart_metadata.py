"""Chart.yaml's Artifact Hub annotations parse and agree with the CRD and the examples."""

from __future__ import annotations

from typing import Any

import yaml

from . import rendering

CHART_YAML = rendering.CHART / "Chart.yaml"
EXAMPLES = rendering.REPO / "docs" / "examples"
CRD = rendering.CHART / "crds" / "videodl.dev_videodownloads.yaml"

# Artifact Hub's values (artifacthub.io/docs/topics/annotations/helm/).
CATEGORIES = {
    "ai-machine-learning", "database", "integration-delivery", "monitoring-logging",
    "networking", "security", "storage", "streaming-messaging",
}  # fmt: skip
CAPABILITIES = {
    "Basic Install",
    "Seamless Upgrades",
    "Full Lifecycle",
    "Deep Insights",
    "Auto Pilot",
}


def _annotations() -> dict[str, str]:
    annotations: dict[str, str] = yaml.safe_load(CHART_YAML.read_text())["annotations"]
    return annotations


def _nested(key: str) -> Any:
    """An annotation whose value is YAML itself, parsed."""
    return yaml.safe_load(_annotations()[f"artifacthub.io/{key}"])


class TestArtifactHub:
    def test_annotation_values_are_strings(self) -> None:
        """Every annotation is a string, as Chart.yaml requires (booleans quoted)."""
        assert all(isinstance(v, str) for v in _annotations().values())

    def test_scalar_annotations(self) -> None:
        """License, category, prerelease, operator and capabilities have Artifact Hub values."""
        annotations = _annotations()
        assert annotations["artifacthub.io/license"] == "Apache-2.0"
        assert annotations["artifacthub.io/category"] in CATEGORIES
        assert annotations["artifacthub.io/prerelease"] in {"true", "false"}
        assert annotations["artifacthub.io/operator"] == "true"
        assert annotations["artifacthub.io/operatorCapabilities"] in CAPABILITIES

    def test_links_parse(self) -> None:
        """Links are a list of names and https URLs."""
        links = _nested("links")
        assert links
        assert all(set(link) == {"name", "url"} for link in links)
        assert all(link["url"].startswith("https://") for link in links)

    def test_crds_match_the_chart_crd(self) -> None:
        """The crds annotation names the chart CRD's kind and served storage version."""
        crd = yaml.safe_load(CRD.read_text())
        storage = next(v["name"] for v in crd["spec"]["versions"] if v["storage"])
        [entry] = _nested("crds")
        assert entry["kind"] == crd["spec"]["names"]["kind"]
        assert entry["version"] == storage
        assert entry["name"] == crd["metadata"]["name"]
        assert entry["displayName"]
        assert entry["description"]

    def test_crds_examples_is_the_minimal_example(self) -> None:
        """crdsExamples holds exactly docs/examples/minimal.yaml."""
        minimal = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
        assert _nested("crdsExamples") == [minimal]
