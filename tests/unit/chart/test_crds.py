"""The chart ships the repository's generated CRDs unchanged, plus kopf's peering CRDs."""

from __future__ import annotations

import pathlib

import yaml

from . import rendering

TOP_LEVEL = rendering.REPO / "crds"
CHART_CRDS = rendering.CHART / "crds"
PEERING = "kopf.dev_peerings.yaml"


def _names(directory: pathlib.Path) -> set[str]:
    return {path.name for path in directory.glob("*.yaml")}


def test_chart_crds_equal_top_level_crds() -> None:
    """Every CRD in crds/ has a byte-identical copy in the chart's crds/ (re-copy on change)."""
    assert _names(TOP_LEVEL), "crds/ is empty: run `python -m videodl.api.generate`"
    for name in sorted(_names(TOP_LEVEL)):
        copy = CHART_CRDS / name
        fix = f"cp crds/{name} charts/videodl-operator/crds/"
        assert copy.is_file(), f"the chart lacks crds/{name}: {fix}"
        assert copy.read_bytes() == (TOP_LEVEL / name).read_bytes(), (
            f"the chart's crds/{name} differs from crds/{name}: {fix}"
        )


def test_chart_has_no_other_crds_than_peering() -> None:
    """Besides the copies, the chart's crds/ holds only kopf's peering CRDs."""
    assert _names(CHART_CRDS) - _names(TOP_LEVEL) == {PEERING}


def test_peering_crds_match_what_kopf_looks_for() -> None:
    """The peering CRDs declare the group, plurals and scopes kopf's selectors use."""
    from kopf._cogs.structs import references

    docs = list(yaml.safe_load_all((CHART_CRDS / PEERING).read_text()))
    declared = {
        (d["spec"]["group"], d["spec"]["names"]["plural"], d["spec"]["scope"]) for d in docs
    }
    cluster = references.CLUSTER_PEERINGS_K
    namespaced = references.NAMESPACED_PEERINGS_K
    assert declared == {
        (cluster.group, cluster.any_name, "Cluster"),
        (namespaced.group, namespaced.any_name, "Namespaced"),
    }
    for doc in docs:
        status = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
        # kopf keeps each peer's keep-alive under status.<identity>; nothing may prune it.
        assert status["x-kubernetes-preserve-unknown-fields"] is True
        assert doc["spec"]["versions"][0]["name"] == cluster.version
