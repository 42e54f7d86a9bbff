"""One live table, redrawn in place as objects change (``get -w`` and the demo use it)."""

from __future__ import annotations

import datetime
import types
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.live import Live

from videodl.cli import render
from videodl.cli.kinds import Kind

__all__ = ["LiveTable"]


class LiveTable:
    """A rich Live display of ``kind``'s table; :meth:`update` redraws it with new objects."""

    def __init__(
        self, kind: Kind, *, console: Console, wide: bool = False, all_namespaces: bool = False
    ) -> None:
        self.kind = kind
        self.console = console
        self._wide = wide
        self._all_namespaces = all_namespaces
        self._objects: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._live = Live(self._table(), console=console, auto_refresh=False)

    def _table(self) -> Any:
        now = datetime.datetime.now(datetime.UTC)
        rows = [self.kind.row(self._objects[key], now) for key in sorted(self._objects)]
        return render.rows_table(
            self.kind, rows, wide=self._wide, all_namespaces=self._all_namespaces
        )

    def update(self, objects: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        """Show ``objects`` (keyed by namespace and name), or redraw the last ones (ages, ETAs)."""
        if objects is not None:
            self._objects = dict(objects)
        self._live.update(self._table(), refresh=True)

    def __enter__(self) -> LiveTable:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: types.TracebackType | None,
    ) -> None:
        self._live.__exit__(kind, error, trace)
