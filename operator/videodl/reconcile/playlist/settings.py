"""How the operator runs playlists: the indexer Pod's command and the pace of writes.

Read from the operator's flags (:mod:`videodl.operator.settings`), passed down as a plain
value. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import sys

__all__ = ["IndexerSettings"]


@dataclasses.dataclass(frozen=True)
class IndexerSettings:
    """How indexer Pods are built and how fast children are created and counted."""

    #: Command of the indexer container (the worker image's indexer program).
    command: tuple[str, ...] = (sys.executable, "-m", "videodl.worker.indexer")
    active_deadline_seconds: int = 1800
    #: Children created per reconcile step before the next batch.
    batch_size: int = 50
    #: Least seconds between two status writes that change only counts.
    status_interval_seconds: float = 3.0
