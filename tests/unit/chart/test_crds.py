"""The chart ships the repository's generated CRDs unchanged, and no other."""

from __future__ import annotations

import pathlib

from . import rendering

TOP_LEVEL = rendering.REPO / "crds"
CHART_CRDS = rendering.CHART / "crds"


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


def test_chart_has_no_other_crds() -> None:
    """The chart's crds/ holds nothing the repository's crds/ does not."""
    assert _names(CHART_CRDS) == _names(TOP_LEVEL)
