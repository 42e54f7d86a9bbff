"""The chart's README carries the values table generated from values.yaml, up to date."""

from __future__ import annotations

from typing import Any

import yaml

from videodl_devkit import chartdocs

from . import rendering

README = rendering.CHART / "README.md"
VALUES = rendering.CHART / "values.yaml"


def _leaves(values: Any, prefix: str = "") -> list[str]:
    if isinstance(values, dict) and values:
        return [leaf for k, v in values.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    return [prefix.removesuffix(".")]


class TestValuesTable:
    def test_readme_table_is_current(self) -> None:
        """README.md's values table is what the generator makes of values.yaml now."""
        current = README.read_text(encoding="utf-8")
        assert current == chartdocs.with_table(
            current, chartdocs.values_table(VALUES.read_text())
        ), (
            "charts/videodl-operator/README.md is stale: run `make generate` "
            "(python -m videodl_devkit.chartdocs)"
        )

    def test_every_value_has_a_row(self) -> None:
        """Every leaf of values.yaml is a row or lies inside a value documented as a whole."""
        keys = [row.key for row in chartdocs.rows(VALUES.read_text())]
        leaves = _leaves(yaml.safe_load(VALUES.read_text()))
        missing = [
            leaf for leaf in leaves if not any(leaf == k or leaf.startswith(f"{k}.") for k in keys)
        ]
        assert missing == []

    def test_rows_take_only_helm_docs_comments(self) -> None:
        """A "# --" comment makes a row of its key as a whole; section comments make none."""
        text = (
            "# Section.\n"
            "section:\n"
            "  # -- First line,\n"
            "  # second line.\n"
            "  a: {x: 1}\n"
            "  # -- A <placeholder> | pipe.\n"
            "  b: [1]\n"
            "\n"
            "# Not a row: a blank line parts it from the key.\n"
            "\n"
            "c: true\n"
        )
        assert chartdocs.rows(text) == [
            chartdocs.Row("section.a", "object", '{"x":1}', "First line, second line."),
            chartdocs.Row("section.b", "list", "[1]", "A <placeholder> | pipe."),
        ]
        table = chartdocs.values_table(text)
        assert "| A &lt;placeholder&gt; \\| pipe. |" in table

    def test_a_stale_table_is_replaced(self) -> None:
        """The text between the markers is replaced; the rest of the README stays."""
        readme = f"intro\n{chartdocs.BEGIN}\nold\n{chartdocs.END}\noutro\n"
        assert chartdocs.with_table(readme, "new\n") == (
            f"intro\n{chartdocs.BEGIN}\nnew\n{chartdocs.END}\noutro\n"
        )

    def test_readme_links_the_install_guide(self) -> None:
        """The README says what the chart installs and points at docs/install.md."""
        text = README.read_text(encoding="utf-8")
        assert "](../../docs/install.md)" in text
        assert (rendering.REPO / "docs" / "install.md").is_file()
