"""docs/api.md lists every field with its type, default and rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from videodl.api import crd, reference

DOC = reference.render()


def field_paths(node: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for name, sub in (node.get("properties") or {}).items():
        yield path, name
        child = sub.get("items") if sub.get("type") == "array" else sub
        if isinstance(child, dict) and "properties" in child:
            suffix = "[]" if child is not sub else ""
            yield from field_paths(child, f"{path}.{name}{suffix}")


class TestReference:
    def test_every_field_has_a_row_in_its_section(self) -> None:
        """Each field appears as a table row under its object's heading."""
        schema = crd.openapi_schema()
        for top in ("spec", "status"):
            for section, name in field_paths(schema["properties"][top], top):
                heading = f"# {section}\n"
                assert heading in DOC, section
                body = DOC.split(heading, 1)[1].split("\n#", 1)[0]
                assert f"| `{name}` |" in body, f"{section}.{name}"

    def test_defaults_and_rules_are_shown(self) -> None:
        """Defaults and CEL messages appear in the rows."""
        row = next(line for line in DOC.splitlines() if line.startswith("| `maxAttempts` |"))
        assert "1 to 20" in row
        assert "| `3` |" in row
        assert "Rule: spec.url is immutable: create a new VideoDownload" in DOC

    def test_rules_on_list_entries_are_shown_in_the_lists_row(self) -> None:
        """A rule on each entry of a list of strings appears in the list's row."""
        row = next(line for line in DOC.splitlines() if line.startswith("| `languages` |"))
        assert "Rule: spec.subtitles.languages entries may not contain control characters" in row

    def test_printer_columns_are_documented(self) -> None:
        """The kubectl columns table names every column."""
        for column in crd.PRINTER_COLUMNS:
            assert f"| {column['name']} |" in DOC
