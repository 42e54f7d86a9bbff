"""Rows as rich tables (kubectl's plain layout), objects as JSON or YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import yaml
from rich.table import Table
from rich.text import Text

from videodl.cli import formatting
from videodl.cli.kinds import Kind
from videodl.cli.rows import Row

__all__ = ["BAR_WIDTH", "OUTPUTS", "as_list", "dump", "rows_table", "simple_table"]

OUTPUTS: Final = ("table", "wide", "json", "yaml")
BAR_WIDTH: Final = 16
_STYLES: Final = {
    "Succeeded": "green",
    "Failed": "red",
    "Running": "cyan",
    "BackingOff": "yellow",
    "Blocked": "magenta",
    "Invalid": "red",
}


def simple_table(headers: Sequence[str]) -> Table:
    """A table as kubectl prints one: headers, no borders, two spaces between columns."""
    table = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0), show_edge=False)
    for header in headers:
        table.add_column(header, no_wrap=header != "REASON", overflow="fold")
    return table


def rows_table(kind: Kind, rows: Sequence[Row], *, wide: bool, all_namespaces: bool) -> Table:
    """The ``get`` table of ``rows``."""
    columns = [c for c in kind.columns if wide or not c.wide]
    headers = (["NAMESPACE"] if all_namespaces else []) + ["NAME"] + [c.header for c in columns]
    table = simple_table(headers)
    for row in rows:
        cells: list[str | Text] = [row.namespace] if all_namespaces else []
        cells.append(row.name)
        for column in columns:
            value = row.cells.get(column.key, "")
            if column.bar:
                drawn = formatting.bar(row.percent, BAR_WIDTH)
                cells.append(Text(f"{drawn} {value}".strip(), style="cyan" if drawn else ""))
            elif column.key == "phase":
                cells.append(Text(value, style=_STYLES.get(value, "")))
            else:
                cells.append(value)
        table.add_row(*cells)
    return table


def as_list(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A ``v1 List`` of ``items``, as ``kubectl get -o json`` prints several objects."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {}}


def dump(document: object, output: str) -> str:
    """``document`` as ``json`` (indented) or ``yaml``."""
    if output == "json":
        return json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
