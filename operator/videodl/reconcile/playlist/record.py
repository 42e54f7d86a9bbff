"""How the operator keeps a VideoPlaylist in memory (see :mod:`videodl.reconcile.kindrecord`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from videodl.api.kind import KindObject
from videodl.api.playlist import VideoPlaylist, VideoPlaylistStatus
from videodl.reconcile.kindrecord import KindRecord

__all__ = ["PlaylistRecord", "record_of"]


@dataclasses.dataclass(frozen=True, slots=True)
class PlaylistRecord(KindRecord[VideoPlaylist, VideoPlaylistStatus]):
    """One VideoPlaylist as last seen."""

    MODEL: ClassVar[type[KindObject]] = VideoPlaylist
    STATUS: ClassVar[type[BaseModel]] = VideoPlaylistStatus


def record_of(body: Mapping[str, Any]) -> PlaylistRecord:
    """The record of a VideoPlaylist as the apiserver (or kopf) delivers it."""
    return PlaylistRecord.of(body)
