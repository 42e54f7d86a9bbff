"""The kinds the command line shows: one table entry per kind.

A kind names its resource, the words a user may type for it, its columns and how an
object becomes a row; ``get`` and ``get -w`` work from this table alone, so showing a new
kind is one more :class:`Kind` in :data:`KINDS`. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any, Final

from videodl.api import playlist, resource, subscription
from videodl.cli import rows
from videodl.cli.rows import Column, Row

__all__ = ["DOWNLOADS", "KINDS", "PLAYLISTS", "SUBSCRIPTIONS", "Kind", "kind_named"]


@dataclasses.dataclass(frozen=True)
class Kind:
    """A custom resource the command line lists and watches."""

    kind: str
    group: str
    version: str
    plural: str
    #: Every word that names the kind on the command line (plural, singular, short name).
    names: tuple[str, ...]
    columns: tuple[Column, ...]
    row: Callable[[Mapping[str, Any], datetime.datetime], Row]

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"


DOWNLOADS: Final = Kind(
    kind=resource.KIND,
    group=resource.GROUP,
    version=resource.VERSION,
    plural=resource.PLURAL,
    names=(resource.PLURAL, resource.SINGULAR, resource.SHORT_NAME, "downloads", "download"),
    columns=(
        Column(header="PHASE", key="phase"),
        Column(header="PROGRESS", key="progress", bar=True),
        Column(header="SPEED", key="speed"),
        Column(header="ETA", key="eta"),
        Column(header="SIZE", key="size", wide=True),
        Column(header="STAGE", key="stage", wide=True),
        Column(header="ATTEMPTS", key="attempts"),
        Column(header="PRIORITY", key="priority", wide=True),
        Column(header="AGE", key="age"),
        Column(header="POD", key="pod", wide=True),
        Column(header="URL", key="url", wide=True),
        Column(header="REASON", key="reason"),
    ),
    row=rows.download_row,
)

PLAYLISTS: Final = Kind(
    kind=playlist.KIND,
    group=resource.GROUP,
    version=resource.VERSION,
    plural=playlist.PLURAL,
    names=(playlist.PLURAL, playlist.SINGULAR, playlist.SHORT_NAME, "playlists", "playlist"),
    columns=(
        Column(header="PHASE", key="phase"),
        Column(header="PROGRESS", key="progress", bar=True),
        Column(header="SUCCEEDED", key="succeeded"),
        Column(header="FAILED", key="failed"),
        Column(header="ENTRIES", key="entries", wide=True),
        Column(header="CREATED", key="created", wide=True),
        Column(header="SIZE", key="size", wide=True),
        Column(header="AGE", key="age"),
        Column(header="REASON", key="reason"),
    ),
    row=rows.playlist_row,
)

SUBSCRIPTIONS: Final = Kind(
    kind=subscription.KIND,
    group=resource.GROUP,
    version=resource.VERSION,
    plural=subscription.PLURAL,
    names=(
        subscription.PLURAL,
        subscription.SINGULAR,
        subscription.SHORT_NAME,
        "subscriptions",
        "subscription",
    ),
    columns=(
        Column(header="SCHEDULE", key="schedule"),
        Column(header="SUSPEND", key="suspend"),
        Column(header="PHASE", key="phase"),
        Column(header="LAST SCHEDULE", key="last_schedule"),
        Column(header="NEXT SCHEDULE", key="next_schedule"),
        Column(header="DOWNLOADED", key="downloaded"),
        Column(header="KNOWN", key="known", wide=True),
        Column(header="PRUNED", key="pruned", wide=True),
        Column(header="AGE", key="age"),
        Column(header="REASON", key="reason"),
    ),
    row=rows.subscription_row,
)

#: Every kind, the first one the default of ``get``.
KINDS: Final[tuple[Kind, ...]] = (DOWNLOADS, PLAYLISTS, SUBSCRIPTIONS)


def kind_named(word: str) -> Kind | None:
    """The kind a user's word names (case-insensitive), or None."""
    lowered = word.lower()
    return next((k for k in KINDS if lowered in k.names), None)
